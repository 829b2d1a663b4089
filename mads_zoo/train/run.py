"""One training run from names: the fit path shared by ``mads-zoo train`` and every bench run.

``fit_architecture`` trains a registered architecture on prepared folds;
``TrainRequest`` + ``run_training`` add everything a single CLI run needs around it (config
resolution, data preparation, checkpoint and metrics files).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mads_zoo.config import resolve_config, split_engine_keys
from mads_zoo.errors import ConfigError, DivergedError
from mads_zoo.models import build_model, count_parameters
from mads_zoo.specs import Architecture
from mads_zoo.train.engine import EpochCallback, FitResult, StepCallback, Trainer, TrainSettings
from mads_zoo.train.runtime import seed_everything

if TYPE_CHECKING:
    from torch import nn

    from mads_zoo.data import Fold


class TrainingFolds(Protocol):
    """What training reads of a fold set.

    :class:`~mads_zoo.data.Folds`, or a bench run's :class:`~mads_zoo.bench.trial.TrialData`
    (which never carries the test fold to a tuning trial).
    """

    train: Fold
    val: Fold
    classes: tuple[str, ...]
    train_size_before: int
    input_shape: tuple[int, ...]


def fit_architecture(
    arch: Architecture,
    config: Mapping[str, Any],
    folds: TrainingFolds,
    settings: TrainSettings,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
    admit: Callable[[nn.Module], None] | None = None,
) -> tuple[nn.Module, FitResult]:
    """Build ``arch`` with ``config`` (seeded) and train it on ``folds``' train/val folds.

    ``admit`` sees the built model before any training and may raise to refuse it (the bench
    refuses models over its compute budget).
    """
    seed_everything(settings.seed)
    model = build_model(arch, config, num_classes=len(folds.classes), input_shape=folds.input_shape)
    if admit is not None:
        admit(model)
    return model, fit_on_folds(model, folds, settings, on_epoch, on_step)


def fit_on_folds(
    model: nn.Module,
    folds: TrainingFolds,
    settings: TrainSettings,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
) -> FitResult:
    """Train an already built ``model`` on ``folds``' training fold, validating on its val fold.

    The steps per epoch count the training fold before resampling. A run whose loss or weights
    become NaN or infinite raises :class:`~mads_zoo.errors.DivergedError` (never a score).
    """
    fit = Trainer(settings).fit(
        model,
        folds.train.x,
        folds.train.y,
        folds.val.x,
        folds.val.y,
        class_names=folds.classes,
        n_train_original=folds.train_size_before,
        on_epoch=on_epoch,
        on_step=on_step,
    )
    if fit.status == "diverged":
        raise DivergedError(fit.message)
    return fit


#: The keys a run config file may hold: their types and how an error names them.
CONFIG_FILE_KEYS: dict[str, tuple[type, str]] = {
    "architecture": (str, "a name (a string)"),
    "sampler": (str, "a name (a string)"),
    "preset": (str, "a name (a string)"),
    "split": (str, "a name (a string)"),
    "dataset": (str, "a name (a string)"),
    "config": (dict, "a table ([config])"),
    "metrics": (dict, "a table ([metrics])"),
}


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a run config TOML.

    Optional ``architecture``/``sampler``/``preset``/``split``/``dataset`` keys, and a
    ``[config]`` table of architecture and engine keys.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    unknown = set(data) - set(CONFIG_FILE_KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown keys {sorted(unknown)}; use {sorted(CONFIG_FILE_KEYS)}"
        )
    for key, (kind, expected) in CONFIG_FILE_KEYS.items():
        if key in data and not isinstance(data[key], kind):
            raise ConfigError(f"config file {path}: {key} must be {expected}, got {data[key]!r}")
    return data


@dataclass
class TrainRequest:
    """Everything ``mads-zoo train`` was asked for, by name."""

    architecture: str
    sampler: str = "none"
    preset: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str = "mitbih"
    split: str = "intra"
    seed: int = 0
    epochs: int | None = None
    beats: int | None = None
    precision: str = "auto"
    device: str = "auto"
    max_steps: int | None = None
    data_dir: Path | None = None


@dataclass
class TrainOutcome:
    """A finished run: the model, its fit result and where its files went."""

    model: Any
    fit: FitResult
    config: dict[str, Any]
    folds: Any
    parameters: int
    checkpoint: Path
    metrics_file: Path


def run_training(
    request: TrainRequest,
    out_dir: Path,
    on_epoch: EpochCallback | None = None,
    on_step: StepCallback | None = None,
) -> TrainOutcome:
    """Resolve the config, prepare the folds, train, and save checkpoint + metrics JSON."""
    from mads_zoo.data import prepare_folds
    from mads_zoo.registry import get_registry
    from mads_zoo.train.checkpoint import save_checkpoint

    arch = get_registry().architecture(request.architecture)
    config = resolve_config(arch, preset=request.preset, overrides=request.overrides)
    _, engine = split_engine_keys(config)
    settings = TrainSettings.from_config(
        engine,
        epochs=request.epochs,
        beats=request.beats,
        seed=request.seed,
        precision=request.precision,
        device=request.device,
        max_steps=request.max_steps,
    )
    folds = prepare_folds(
        request.dataset,
        request.split,
        request.sampler,
        seed=request.seed,
        layout=arch.layout,
        data_dir=request.data_dir,
    )
    model, fit = fit_architecture(arch, config, folds, settings, on_epoch, on_step)
    data_key = {
        "dataset": request.dataset,
        "split": request.split,
        "sampler": request.sampler,
        "seed": request.seed,
        "layout": arch.layout,
        "train_size": folds.train_size_before,
        "train_size_resampled": len(folds.train),
        "val_size": len(folds.val),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = save_checkpoint(
        out_dir / "model.pt",
        model,
        architecture=arch.name,
        config=config,
        data=data_key,
        metrics={k: v for k, v in fit.best_metrics.items() if k != "confusion"},
        classes=folds.classes,
        training={"precision": fit.precision, "steps": fit.steps, "seed": request.seed},
    )
    metrics_file = out_dir / "metrics.json"
    metrics_file.write_text(
        json.dumps(
            {
                "architecture": arch.name,
                "config": config,
                "settings": settings.to_dict(),
                "data": data_key,
                "status": fit.status,
                "message": fit.message,
                "epochs": fit.epochs,
                "steps": fit.steps,
                "best_epoch": fit.best_epoch,
                "seconds": fit.seconds,
                "beats_per_second": fit.beats_per_second,
                "parameters": count_parameters(model),
                "validation": fit.best_metrics,
                "history": fit.history,
            },
            indent=2,
        )
    )
    return TrainOutcome(
        model, fit, config, folds, count_parameters(model), checkpoint, metrics_file
    )
