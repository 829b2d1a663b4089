"""Checkpoints: weights plus everything needed to rebuild and trust the model.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python values, so it
loads with ``torch.load(weights_only=True)`` (no pickled code runs on load). It is written
atomically: a crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mads_zoo.__about__ import __version__
from mads_zoo.data.cache import atomic_file
from mads_zoo.errors import CheckpointError, DivergedError

FORMAT = "mads-zoo-checkpoint/1"


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's numbers."""
    import numpy

    return {
        "mads-zoo": __version__,
        "torch": str(torch.__version__),
        "numpy": str(numpy.__version__),
        "python": platform.python_version(),
    }


#: The payload keys every checkpoint holds, and the type each must have.
PAYLOAD: dict[str, type] = {
    "state_dict": dict,
    "architecture": str,
    "config": dict,
    "data": dict,
    "metrics": dict,
    "classes": list,
    "versions": dict,
}

#: The ``data`` keys that say which folds a checkpoint's model was trained on.
DATA_KEYS = ("dataset", "split", "sampler", "seed")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the state dict and its metadata (``path``: where it was read)."""

    state_dict: dict[str, torch.Tensor]
    architecture: str
    config: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    versions: dict[str, str]
    classes: tuple[str, ...]
    training: dict[str, Any]
    path: Path | None = None

    def inference_precision(self) -> str:
        """The precision to run this model in on the CPU: bf16 only if it trained in bf16."""
        from mads_zoo.train.runtime import inference_precision

        return inference_precision(self.training.get("precision"), torch.device("cpu"))


def non_finite_tensor(state_dict: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor of ``state_dict`` holding NaN or inf."""
    for name, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name
    return None


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    *,
    architecture: str,
    config: dict[str, Any],
    data: dict[str, Any],
    metrics: dict[str, Any],
    classes: tuple[str, ...],
    training: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights and metadata to ``path`` atomically; return ``path``.

    ``training`` records how the model was trained (its precision decides inference's).
    Weights holding NaN or inf are refused (:class:`DivergedError`): nothing is written.
    """
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    bad = non_finite_tensor(state_dict)
    if bad is not None:
        raise DivergedError(
            f"not saving {path}: the model holds non-finite weights in {bad!r} (a diverged run?)"
        )
    payload = {
        "format": FORMAT,
        "state_dict": state_dict,
        "architecture": architecture,
        "config": dict(config),
        "data": dict(data),
        "metrics": dict(metrics),
        "classes": list(classes),
        "training": dict(training or {}),
        "versions": package_versions(),
    }
    path = Path(path)
    with atomic_file(path, suffix=".pt") as temp:
        torch.save(payload, temp)
    return path


def _payload_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with a checkpoint payload's keys and types, or ``None``."""
    missing = [key for key in PAYLOAD if key not in payload]
    if missing:
        return f"lacks {', '.join(repr(key) for key in missing)}"
    for key, kind in PAYLOAD.items():
        if not isinstance(payload[key], kind):
            return f"has a {type(payload[key]).__name__} for {key!r}, expected a {kind.__name__}"
    wrong = [k for k, v in payload["state_dict"].items() if not isinstance(v, torch.Tensor)]
    if wrong:
        return f"has a non-tensor {wrong[0]!r} in its state_dict"
    classes = payload["classes"]
    if not classes or not all(isinstance(name, str) for name in classes):
        return f"has classes {classes!r}, expected a list of class names"
    missing = [key for key in DATA_KEYS if key not in payload["data"]]
    if missing:
        return f"lacks {', '.join(repr(key) for key in missing)} in its data"
    return None


def load_checkpoint(path: Path) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    A file that is missing, unreadable, not a checkpoint, lacks a key, or holds NaN/inf
    weights is a one-line :class:`CheckpointError` naming it and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(f"{path} is not a readable checkpoint ({first_line})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a mads-zoo checkpoint ({FORMAT})")
    problem = _payload_problem(payload)
    if problem is not None:
        raise CheckpointError(f"checkpoint {path} {problem}")
    bad = non_finite_tensor(payload["state_dict"])
    if bad is not None:
        raise CheckpointError(
            f"checkpoint {path} holds non-finite weights in {bad!r} (a diverged run?)"
        )
    return Checkpoint(
        state_dict=payload["state_dict"],
        architecture=payload["architecture"],
        config=payload["config"],
        data=payload["data"],
        metrics=payload["metrics"],
        versions=payload["versions"],
        classes=tuple(payload["classes"]),
        training=dict(payload.get("training", {})),
        path=path,
    )


def _state_dict_problem(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    """How ``found`` (a checkpoint's weights) differs from ``expected`` (the model's); "" if not."""
    missing = [k for k in expected if k not in found]
    if missing:
        return f"lacks {len(missing)} of the model's weights (first {missing[0]!r})"
    unexpected = [k for k in found if k not in expected]
    if unexpected:
        return f"has {len(unexpected)} weights the model lacks (first {unexpected[0]!r})"
    for key, tensor in expected.items():
        if found[key].shape != tensor.shape:
            return (
                f"has {key!r} of shape {tuple(found[key].shape)}, the model {tuple(tensor.shape)}"
            )
    return ""


def model_from_checkpoint(checkpoint: Checkpoint) -> tuple[Any, torch.nn.Module]:
    """Rebuild the checkpoint's architecture from the registry and load its weights.

    Weights that do not match the rebuilt model (missing or extra keys, other shapes) are a
    one-line :class:`CheckpointError`.
    """
    from mads_zoo.models import build_model
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(checkpoint.architecture)
    model = build_model(arch, checkpoint.config, num_classes=len(checkpoint.classes))
    problem = _state_dict_problem(model.state_dict(), checkpoint.state_dict)
    if problem:
        raise CheckpointError(
            f"checkpoint {checkpoint.path or checkpoint.architecture} {problem}: "
            f"its weights do not fit architecture {arch.name!r} with its config"
        )
    model.load_state_dict(checkpoint.state_dict)
    model.eval()
    return arch, model
