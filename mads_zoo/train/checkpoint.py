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
from mads_zoo.errors import MadsZooError

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


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the state dict and its metadata."""

    state_dict: dict[str, torch.Tensor]
    architecture: str
    config: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    versions: dict[str, str]
    classes: tuple[str, ...]
    training: dict[str, Any]

    def inference_precision(self) -> str:
        """The precision to run this model in on the CPU: bf16 only if it trained in bf16."""
        from mads_zoo.train.runtime import inference_precision

        return inference_precision(self.training.get("precision"), torch.device("cpu"))


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
    """
    payload = {
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
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


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise MadsZooError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise MadsZooError(f"{path} is not a readable checkpoint ({first_line})") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise MadsZooError(f"{path} is not a mads-zoo checkpoint ({FORMAT})")
    return Checkpoint(
        state_dict=payload["state_dict"],
        architecture=payload["architecture"],
        config=payload["config"],
        data=payload["data"],
        metrics=payload["metrics"],
        versions=payload["versions"],
        classes=tuple(payload["classes"]),
        training=dict(payload.get("training", {})),
    )


def model_from_checkpoint(checkpoint: Checkpoint) -> tuple[Any, torch.nn.Module]:
    """Rebuild the checkpoint's architecture from the registry and load its weights."""
    from mads_zoo.models import build_model
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(checkpoint.architecture)
    model = build_model(arch, checkpoint.config, num_classes=len(checkpoint.classes))
    model.load_state_dict(checkpoint.state_dict)
    model.eval()
    return arch, model
