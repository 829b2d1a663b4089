"""What one training run is: :class:`RunSpec`, frozen and validated, and its parts.

A run spec names everything a run's numbers depend on: the architecture and its resolved
config, the training (:class:`Recipe` plus the run's length, seed, monitor and precision)
and the data (:class:`DataSpec`). It is built by one resolver,
:func:`mads_zoo.config.resolve_run`, for every caller (``mads-zoo train``, bench trials,
``benchmarks/``), and consumed by :func:`mads_zoo.train.run.fit`. This module imports no
torch: specs are made and checked before anything heavy is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mads_zoo.checks import check_choice, check_int, check_number
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import ConfigError
from mads_zoo.metrics import MetricName

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("onecycle", "cosine", "plateau", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
#: The losses of :mod:`mads_zoo.train.losses` (named here: this module imports no torch).
LOSS_NAMES = ("ce", "weighted-ce", "focal")

#: Inference (and validation) batch size, chosen by measurement
#: (``benchmarks/inference_speed.py``, ``docs/engine.md``): on this 2-core AVX512-BF16 CPU,
#: batches of 512 in bf16 run the seed architectures 1.6-3.5x faster than batches of 4,096,
#: whose activations outgrow the cache (timm-resnet alone prefers 1,024).
INFERENCE_BATCH = 512


@dataclass(frozen=True)
class Recipe:
    """The training recipe: the engine keys an architecture's config may set.

    Its fields are :data:`ENGINE_KEYS`, the config keys the engine consumes itself and never
    passes to an architecture's ``build``; ``docs/engine.md`` documents each. ``epochs``
    passes over the un-resampled training fold are the run's length unless the run sets
    ``beats``.
    """

    epochs: int = 5
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.01
    optimizer: str = "adamw"
    schedule: str = "onecycle"
    warmup: float | None = None
    momentum: float = 0.9
    label_smoothing: float = 0.0
    grad_clip: float | None = 5.0
    factor: float = 0.2
    patience: int = 2
    loss: str = "ce"
    focal_gamma: float = 2.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("patience", self.patience, minimum=0)
        check_number("lr", self.lr, 0, 10, low_open=True, high_open=True)
        check_number("factor", self.factor, 0, 1, low_open=True, high_open=True)
        check_number("weight_decay", self.weight_decay, 0, math.inf)
        check_number("momentum", self.momentum, 0, 1, high_open=True)
        check_number("label_smoothing", self.label_smoothing, 0, 1, high_open=True)
        check_number("grad_clip", self.grad_clip, 0, math.inf, optional=True)
        check_number("warmup", self.warmup, 0, 1, high_open=True, optional=True)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("loss", self.loss, LOSS_NAMES)
        check_number("focal_gamma", self.focal_gamma, 0, 10)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Recipe:
        """The recipe set by ``config``'s engine keys (the other keys are the model's)."""
        return cls(**{k: v for k, v in config.items() if k in ENGINE_KEYS})


#: Config keys the engine consumes itself: the fields of :class:`Recipe`.
ENGINE_KEYS: frozenset[str] = frozenset(f.name for f in fields(Recipe))


@dataclass(frozen=True)
class Training:
    """How one run trains: the recipe, the run's length and its own settings.

    The length is ``beats`` training beats when set, else ``recipe.epochs`` passes over the
    un-resampled training fold; ``max_steps`` caps it. Validation runs every ``eval_beats``
    training beats (``None``: once per pass) and at the end; the validation score
    ``monitor`` picks the weights kept (and drives ``plateau``), and ``early_stopping``
    validations without improvement end the run (``0``: never).
    """

    recipe: Recipe = field(default_factory=Recipe)
    beats: int | None = None
    max_steps: int | None = None
    eval_beats: int | None = None
    early_stopping: int = 6
    monitor: MetricName = MetricName.MACRO_F1
    precision: str = "auto"
    device: str = "auto"
    seed: int = 0
    eval_batch_size: int = INFERENCE_BATCH

    def __post_init__(self) -> None:
        for name in ("beats", "max_steps", "eval_beats"):
            check_int(name, getattr(self, name), minimum=1, optional=True)
        check_int("early_stopping", self.early_stopping, minimum=0)
        check_int("seed", self.seed, minimum=0)
        check_int("eval_batch_size", self.eval_batch_size, minimum=1)
        check_choice("monitor", self.monitor, [m.value for m in MetricName])
        check_choice("precision", self.precision, PRECISIONS)
        if not isinstance(self.device, str):
            raise ConfigError(f"device must be auto, cpu or cuda[:N], got {self.device!r}")
        object.__setattr__(self, "monitor", MetricName(self.monitor))


@dataclass(frozen=True)
class RunSpec:
    """One training run, fully specified: what to build, how to train it, on which data.

    Attributes:
        architecture: A registered architecture's name.
        config: Its resolved config: model keys (for ``build``) and engine keys.
        training: The recipe (from ``config``'s engine keys) and the run's settings.
        data: The folds it trains and validates on.
    """

    architecture: str
    config: Mapping[str, Any]
    training: Training
    data: DataSpec

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def model_config(self) -> dict[str, Any]:
        """The config keys for the architecture's ``build`` (the engine keys removed)."""
        return model_keys(self.config)


class FoldName(StrEnum):
    """A fold a saved model can be scored on: the test fold (the final evaluation) or val."""

    TEST = "test"
    VAL = "val"


def model_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``config`` an architecture's ``build`` gets: all but :data:`ENGINE_KEYS`."""
    return {k: v for k, v in config.items() if k not in ENGINE_KEYS}
