"""Checkpoints: weights plus everything needed to rebuild and trust the model.

A checkpoint is one ``torch.save`` file holding the state dict and a :class:`CheckpointMeta`
in its plain (codec) form, only tensors and plain Python values, so it loads with
``torch.load(weights_only=True)`` (no pickled code runs on load). It is written atomically: a
crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import pickle
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy
import torch
from torch import nn

from mads_zoo import codec
from mads_zoo.__about__ import __version__
from mads_zoo.data.spec import DataSpec, InputSignature
from mads_zoo.errors import CheckpointError, DivergedError, one_line
from mads_zoo.fileio import atomic_file
from mads_zoo.metrics import Metrics
from mads_zoo.models import build_model
from mads_zoo.registry import get_registry
from mads_zoo.specs import Architecture
from mads_zoo.train.result import FoldSizes
from mads_zoo.train.runtime import inference_precision

FORMAT = "mads-zoo-checkpoint/3"
#: Earlier formats this version still reads: /2 had no input signature (its models all
#: took MIT-BIH's Kaggle-compatible beat, 1 x 187 and no features).
READABLE_FORMATS = ("mads-zoo-checkpoint/2", FORMAT)


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's numbers."""
    return {
        "mads-zoo": __version__,
        "torch": str(torch.__version__),
        "numpy": str(numpy.__version__),
        "python": platform.python_version(),
    }


@dataclass(frozen=True)
class CheckpointMeta:
    """What a checkpoint says about its model, besides the weights.

    Attributes:
        architecture: The registered architecture that rebuilds it.
        config: Its resolved config (model and engine keys).
        data: The folds it was trained and validated on.
        layout: The input layout it takes (the architecture's).
        signature: What one input example is: channels, length and feature names.
        classes: Class names, in the order of its logits.
        fold_sizes: Beats it trained (before and after resampling) and validated on.
        validation: Its best validation metrics (the epoch whose weights these are).
        precision: The precision it trained in; inference runs bf16 only if it was bf16.
        steps: Optimizer steps it trained for.
        seed: The model seed (initialisation and batch order).
        versions: Versions of the packages that made it.
    """

    architecture: str
    config: Mapping[str, Any]
    data: DataSpec
    layout: str
    classes: tuple[str, ...]
    fold_sizes: FoldSizes
    validation: Metrics
    precision: str
    steps: int
    seed: int
    versions: Mapping[str, str] = field(default_factory=package_versions)
    signature: InputSignature = field(default_factory=InputSignature)

    def __post_init__(self) -> None:
        if len(self.classes) < 2:
            raise ValueError(f"expected two or more class names, found {list(self.classes)!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the state dict, its metadata and where it was read."""

    state_dict: dict[str, torch.Tensor]
    meta: CheckpointMeta
    path: Path

    def inference_precision(self) -> str:
        """The precision to run this model in on the CPU: bf16 only if it trained in bf16."""
        return inference_precision(self.meta.precision, torch.device("cpu"))


def non_finite_tensor(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor of ``state_dict`` holding NaN or inf."""
    for name, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name
    return None


def save_checkpoint(path: Path, model: nn.Module, meta: CheckpointMeta) -> Path:
    """Write ``model``'s weights and ``meta`` to ``path`` atomically; return ``path``.

    Weights holding NaN or inf are refused (:class:`DivergedError`): nothing is written.
    """
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    bad = non_finite_tensor(state_dict)
    if bad is not None:
        raise DivergedError(
            f"not saving {path}: the model holds non-finite weights in {bad!r} (a diverged run?)"
        )
    payload = {"format": FORMAT, "state_dict": state_dict, "meta": codec.encode(meta)}
    with atomic_file(Path(path), suffix=".pt") as temp:
        torch.save(payload, temp)
    return Path(path)


def _state_dict(payload: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The payload's state dict, checked to hold tensors only."""
    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict):
        raise ValueError("lacks its weights ('state_dict')")
    wrong = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if wrong:
        raise ValueError(f"has a non-tensor {wrong[0]!r} in its state_dict")
    return state_dict


def load_checkpoint(path: Path) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    A file that is missing, unreadable, not a checkpoint of this format, has metadata that
    does not fit :class:`CheckpointMeta`, or holds NaN/inf weights is a one-line
    :class:`CheckpointError` naming it and the problem.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; give its model.pt")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): not a checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        problem = _load_problem(error)
        raise CheckpointError(f"{path} is not a readable checkpoint: {problem}") from None
    if not isinstance(payload, dict) or payload.get("format") not in READABLE_FORMATS:
        raise CheckpointError(f"{path} is not a mads-zoo checkpoint ({FORMAT})")
    try:
        state_dict = _state_dict(payload)
        meta = codec.decode(CheckpointMeta, _upgraded(payload))
    except ValueError as error:  # codec errors included
        raise CheckpointError(f"checkpoint {path} {_phrase(error)}") from None
    bad = non_finite_tensor(state_dict)
    if bad is not None:
        raise CheckpointError(
            f"checkpoint {path} holds non-finite weights in {bad!r} (a diverged run?)"
        )
    return Checkpoint(state_dict, meta, path)


def _load_problem(error: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, in our words.

    PyTorch's own messages advise loading with ``weights_only=False`` (which would run any
    code the file holds) or are pages long; a checkpoint of ours never needs either.
    """
    text = str(error)
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in text:
        found = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", text)
        what = f" ({found.group(1)})" if found else ""
        return f"it holds Python objects{what} beyond weights and plain data; refused, not run"
    if "zip archive" in text or "central directory" in text:
        return "not a PyTorch file, or a truncated or corrupted one"
    if isinstance(error, EOFError):
        return "the file ends too early (truncated)"
    return one_line(error)


def _upgraded(payload: dict[str, Any]) -> Any:
    """The payload's metadata in today's form.

    Format /2 gains the Kaggle beat's signature; a data spec written before the sampler had
    a seed of its own gains ``sampler_seed = None`` (the sampler used the data seed).
    """
    meta = payload.get("meta")
    if payload.get("format") == READABLE_FORMATS[0] and isinstance(meta, dict):
        meta = {"signature": codec.encode(InputSignature()), **meta}
    if isinstance(meta, dict) and isinstance(meta.get("data"), dict):
        meta = {**meta, "data": {"sampler_seed": None, **meta["data"]}}
    return meta


def _phrase(error: ValueError) -> str:
    """A problem as the rest of "checkpoint PATH ...": "lacks ..." as is, else "metadata: ..."."""
    text = str(error)
    return text if text.startswith(("lacks", "has")) else f"metadata: {text}"


def _state_dict_problem(
    expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor]
) -> str:
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


def model_from_checkpoint(checkpoint: Checkpoint) -> tuple[Architecture, nn.Module]:
    """Rebuild the checkpoint's architecture from the registry and load its weights.

    Weights that do not match the rebuilt model (missing or extra keys, other shapes) are a
    one-line :class:`CheckpointError`.
    """
    meta = checkpoint.meta
    arch = get_registry().architecture(meta.architecture)
    model = build_model(
        arch,
        meta.config,
        num_classes=len(meta.classes),
        input_shape=meta.signature.shape(meta.layout),
        num_features=len(meta.signature.features),
    )
    problem = _state_dict_problem(model.state_dict(), checkpoint.state_dict)
    if problem:
        raise CheckpointError(
            f"checkpoint {checkpoint.path} {problem}: "
            f"its weights do not fit architecture {arch.name!r} with its config"
        )
    model.load_state_dict(checkpoint.state_dict)
    model.eval()
    return arch, model
