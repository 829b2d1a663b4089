"""The run core: one training run from a :class:`~mads_zoo.train.spec.RunSpec`.

Every caller goes through here and differs only in what it does with the result:

- :func:`fit` builds the spec's architecture (seeded) and trains it on prepared folds:
  ``mads-zoo train``, every bench trial and the ``benchmarks/`` scripts;
- :func:`train_and_save` adds what ``mads-zoo train`` keeps: the folds from the spec, a
  checkpoint and ``metrics.json`` (a :class:`TrainRecord`);
- :func:`evaluate_checkpoint` scores a saved model on its own data's test (or validation)
  fold: ``mads-zoo evaluate``; :func:`load_model` gives ``predict`` the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from torch import nn

from mads_zoo import codec
from mads_zoo.data.folds import Folds, prepare_folds
from mads_zoo.data.splits import left_out_classes
from mads_zoo.fileio import write_text
from mads_zoo.fusion import FeatureInputs
from mads_zoo.metrics import Metrics
from mads_zoo.models import build_model
from mads_zoo.registry import get_registry
from mads_zoo.specs import Architecture
from mads_zoo.train.checkpoint import (
    Checkpoint,
    CheckpointMeta,
    load_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
)
from mads_zoo.train.engine import EpochCallback, StepCallback, Trainer, evaluate
from mads_zoo.train.result import RunResult
from mads_zoo.train.runtime import seed_everything
from mads_zoo.train.spec import FoldName, RunSpec

#: Sees the built model before any training and may raise to refuse it (the bench's cap).
Admit = Callable[[nn.Module], None]


def build_run_model(
    spec: RunSpec, input_shape: tuple[int, ...], num_classes: int, num_features: int = 0
) -> nn.Module:
    """The spec's architecture built for ``input_shape``, ``num_classes`` and features, seeded.

    Two calls with the same spec give the same initial weights (what :func:`fit` trains).
    With ``num_features`` the model takes ``(x, features)`` (:mod:`mads_zoo.fusion`).
    """
    arch = get_registry().architecture(spec.architecture)
    seed_everything(spec.training.seed)
    return build_model(
        arch,
        spec.config,
        num_classes=num_classes,
        input_shape=input_shape,
        num_features=num_features,
    )


def fit(
    spec: RunSpec,
    folds: Folds,
    *,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
    admit: Admit | None = None,
) -> tuple[nn.Module, RunResult]:
    """Build ``spec``'s model and train it on ``folds``' training fold, validating on its val.

    ``folds`` must be the folds of ``spec.data``. Returns the model (holding the best
    validation weights) and what the run did. A run whose loss or weights become NaN or
    infinite raises :class:`~mads_zoo.errors.DivergedError` (never a score).
    """
    if folds.spec != spec.data:
        raise ValueError(f"folds of {folds.spec} given for a run on {spec.data}")
    features = len(folds.signature.features)
    model = build_run_model(spec, folds.input_shape, len(folds.classes), features)
    if isinstance(model, FeatureInputs):
        model.standardise_with(folds.train.feature_array)
    if admit is not None:
        admit(model)
    result = Trainer(spec.training).fit(
        model,
        folds.train,
        folds.val,
        folds.classes,
        n_train_original=folds.train_size_before,
        left_out=left_out_classes(spec.data.split, folds.classes),
        on_epoch=on_epoch,
        on_step=on_step,
    )
    return model, result


@dataclass(frozen=True)
class TrainRecord:
    """``metrics.json`` of ``mads-zoo train``: the spec and what the run did."""

    spec: RunSpec
    result: RunResult


@dataclass(frozen=True)
class TrainOutcome:
    """A finished ``mads-zoo train`` run: its model, its record and where its files went."""

    model: nn.Module
    record: TrainRecord
    checkpoint: Path
    metrics_file: Path


def train_and_save(
    spec: RunSpec,
    out_dir: Path,
    *,
    data_dir: Path | None = None,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
) -> TrainOutcome:
    """Prepare ``spec``'s folds, train, and save the checkpoint and ``metrics.json``.

    Nothing is written unless training succeeds; the checkpoint is written first.
    """
    arch = get_registry().architecture(spec.architecture)
    folds = prepare_folds(spec.data, arch.layout, data_dir)
    model, result = fit(spec, folds, on_epoch=on_epoch, on_step=on_step)
    meta = CheckpointMeta(
        architecture=arch.name,
        config=spec.config,
        data=spec.data,
        layout=arch.layout,
        signature=folds.signature,
        classes=folds.classes,
        fold_sizes=result.fold_sizes,
        validation=result.best,
        precision=result.precision,
        steps=result.steps,
        seed=spec.training.seed,
    )
    checkpoint = save_checkpoint(out_dir / "model.pt", model, meta)
    record = TrainRecord(spec, result)
    metrics_file = out_dir / "metrics.json"
    write_text(metrics_file, codec.dumps(record))
    return TrainOutcome(model, record, checkpoint, metrics_file)


def load_model(path: Path) -> tuple[Checkpoint, Architecture, nn.Module]:
    """The checkpoint at ``path``, its architecture and its model (eval mode, weights loaded)."""
    checkpoint = load_checkpoint(path)
    arch, model = model_from_checkpoint(checkpoint)
    return checkpoint, arch, model


def evaluate_checkpoint(
    path: Path, fold: FoldName = FoldName.TEST, data_dir: Path | None = None
) -> tuple[Checkpoint, Metrics]:
    """The metrics of the model saved at ``path`` on its own data's ``fold``.

    The folds are rebuilt from the checkpoint's data spec (the test fold does not depend on
    the sampler, so none is applied); the model runs in its training precision where the
    CPU has it.
    """
    checkpoint, arch, model = load_model(path)
    meta = checkpoint.meta
    folds = prepare_folds(replace(meta.data, sampler="none"), arch.layout, data_dir)
    chosen = folds.final_test() if fold is FoldName.TEST else folds.val
    left_out = left_out_classes(meta.data.split, meta.classes)
    metrics = evaluate(
        model, chosen, meta.classes, precision=checkpoint.inference_precision(), left_out=left_out
    )
    return checkpoint, metrics
