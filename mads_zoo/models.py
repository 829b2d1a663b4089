"""Building models from registered architectures (the construction side of the registry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mads_zoo.errors import MadsZooError, PluginError, one_line
from mads_zoo.registry import get_registry
from mads_zoo.specs import Architecture
from mads_zoo.train.spec import model_keys

if TYPE_CHECKING:
    import torch


def _short(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items()) or "no options"


def _label(arch: Architecture) -> str:
    """``architecture 'name'``, plus the plugin that registered it when the registry knows."""
    try:
        entry = get_registry().entries["architectures"].get(arch.name)
    except MadsZooError:  # strict plugin loading: the registry itself cannot load
        entry = None
    if entry is None or entry.spec is not arch:
        return f"architecture {arch.name!r}"
    plugin = entry.plugin
    return f"architecture {arch.name!r} (plugin {plugin.name} from {plugin.distribution})"


def check_output(
    arch: Architecture, model: torch.nn.Module, input_shape: tuple[int, ...], num_classes: int
) -> None:
    """Forward passes of two zero beats, then one: logits of shape ``(batch, num_classes)``.

    The batch of one is what the last batch of a validation or a prediction may hold (a model
    that squeezes its batch away fails there, after minutes of training). Runs in eval mode
    without gradients (no batch-norm statistics move, no random numbers are drawn) and
    restores the model's mode; a failure is a one-line :class:`PluginError`. A
    :class:`~mads_zoo.fusion.FeatureInputs` also gets rows of zero features.
    """
    import torch

    from mads_zoo.fusion import call_with_zero_features

    training = model.training
    model.eval()
    try:
        for batch in (2, 1):
            expected = (batch, num_classes)
            try:
                with torch.no_grad():
                    out = call_with_zero_features(model, torch.zeros(batch, *input_shape))
            except Exception as error:
                raise PluginError(
                    f"{_label(arch)} failed a forward pass on a batch of shape "
                    f"{(batch, *input_shape)}: {one_line(error)}"
                ) from error
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            if got != expected:
                raise PluginError(
                    f"{_label(arch)} returned logits of shape {got}; expected {expected}"
                )
    finally:
        model.train(training)


def build_model(
    arch: Architecture,
    config: Mapping[str, Any],
    *,
    num_classes: int = 5,
    input_shape: tuple[int, ...] | None = None,
    num_features: int = 0,
    check: bool = True,
) -> torch.nn.Module:
    """Call ``arch.build`` with the model part of ``config``; check what it returned.

    It must be a Module whose logits have shape ``(batch, num_classes)`` (:func:`check_output`,
    skipped with ``check=False`` by callers that run stricter checks of their own). With
    ``num_features`` per-example features, or an architecture that ``takes_features``, the
    model is wrapped in a :class:`~mads_zoo.fusion.FeatureInputs` (``forward(x, features)``).
    """
    import torch

    from mads_zoo.fusion import EMBEDDING, FeatureInputs

    model_config = model_keys(config)
    shape = tuple(input_shape or arch.input_shape)
    fuse = num_features > 0 and not arch.takes_features
    extra = {"num_features": num_features} if arch.takes_features else {}
    try:
        model = arch.build(model_config, shape, EMBEDDING if fuse else num_classes, **extra)
    except MadsZooError:
        raise
    except Exception as error:
        raise PluginError(
            f"{_label(arch)} failed to build with {_short(model_config)}: {one_line(error)}"
        ) from error
    if not isinstance(model, torch.nn.Module):
        raise PluginError(
            f"{_label(arch)}: build returned a {type(model).__name__}, expected a torch.nn.Module"
        )
    built: torch.nn.Module = model
    if fuse or arch.takes_features:
        built = FeatureInputs(model, num_features, num_classes, fuse=fuse)
    if check:
        check_output(arch, built, shape, num_classes)
        if not count_parameters(built):
            raise PluginError(f"{_label(arch)} built a model with no trainable parameters")
    return built


def count_parameters(model: torch.nn.Module) -> int:
    """The number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
