"""Building models from registered architectures (the construction side of the registry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mads_zoo.config import resolve_config, split_engine_keys
from mads_zoo.errors import MadsZooError, PluginError
from mads_zoo.specs import Architecture

if TYPE_CHECKING:
    import torch


def _short(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items()) or "no options"


def build_model(
    arch: Architecture,
    config: Mapping[str, Any],
    *,
    num_classes: int = 5,
    input_shape: tuple[int, ...] | None = None,
) -> torch.nn.Module:
    """Call ``arch.build`` with the model part of ``config``; check it returned a Module."""
    import torch

    model_config, _ = split_engine_keys(config)
    shape = tuple(input_shape or arch.input_shape)
    try:
        model = arch.build(model_config, shape, num_classes)
    except MadsZooError:
        raise
    except Exception as error:
        raise PluginError(
            f"architecture {arch.name!r} failed to build with {_short(model_config)}: "
            f"{type(error).__name__}: {error}"
        ) from error
    if not isinstance(model, torch.nn.Module):
        raise PluginError(
            f"architecture {arch.name!r}: build returned a {type(model).__name__}, "
            "expected a torch.nn.Module"
        )
    return model


def create_model(
    name: str,
    *,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    num_classes: int = 5,
) -> torch.nn.Module:
    """Build the registered architecture ``name`` (like ``timm.create_model``)."""
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(name)
    config = resolve_config(arch, preset=preset, overrides=overrides)
    return build_model(arch, config, num_classes=num_classes)


def count_parameters(model: torch.nn.Module) -> int:
    """The number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
