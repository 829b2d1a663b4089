"""``TrainSettings``: the training recipe's engine keys plus a run's own settings, validated.

Every value is checked where it enters, so a bad config value is one line naming the key and
what it must be (the CLI prints it as ``error: ...``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from mads_zoo.errors import ConfigError
from mads_zoo.train.recipe import OPTIMIZERS, SCHEDULES

MONITORS = ("macro_f1", "macro_recall", "accuracy")


def _check_int(
    settings: Any, names: tuple[str, ...], *, minimum: int, optional: bool = False
) -> None:
    for name in names:
        value = getattr(settings, name)
        if value is None and optional:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            kind = "a positive" if minimum == 1 else "a non-negative"
            raise ConfigError(f"{name} must be {kind} integer, got {value!r}")


def _check_number(
    settings: Any,
    name: str,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
) -> None:
    value = getattr(settings, name)
    if value is None and optional:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bounds = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ConfigError(f"{name} must be a number in {bounds}, got {value!r}")


def _check_choice(settings: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(settings, name)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


#: Inference (and validation) batch size, chosen by measurement
#: (``benchmarks/inference_speed.py``, ``docs/engine.md``): on this 2-core AVX512-BF16 CPU,
#: batches of 512 in bf16 run the seed architectures 1.6-3.5x faster than batches of 4,096,
#: whose activations outgrow the cache (timm-resnet alone prefers 1,024).
INFERENCE_BATCH = 512


@dataclass
class TrainSettings:
    """How to train: the recipe's engine keys plus the run's own settings.

    The run's length is ``beats`` training beats when set, else ``epochs`` passes over the
    un-resampled training fold; ``max_steps`` caps it. The schedule (``mads_zoo.train.recipe``)
    is defined over that length. The validation score ``monitor`` picks the weights kept
    (and drives ``plateau``); ``early_stopping`` evaluations without improvement end the run.
    """

    epochs: int = 5
    beats: int | None = None
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
    early_stopping: int = 6
    precision: str = "auto"
    device: str = "auto"
    seed: int = 0
    monitor: str = "macro_f1"
    max_steps: int | None = None
    epoch_steps: int | None = None
    eval_batch_size: int = INFERENCE_BATCH

    def __post_init__(self) -> None:
        _check_int(self, ("epochs", "batch_size", "eval_batch_size"), minimum=1)
        _check_int(self, ("patience", "early_stopping"), minimum=0)
        _check_int(self, ("beats", "max_steps", "epoch_steps"), minimum=1, optional=True)
        _check_number(self, "lr", 0, 10, low_open=True, high_open=True)
        _check_number(self, "factor", 0, 1, low_open=True, high_open=True)
        _check_number(self, "weight_decay", 0, math.inf)
        _check_number(self, "momentum", 0, 1, high_open=True)
        _check_number(self, "label_smoothing", 0, 1, high_open=True)
        _check_number(self, "grad_clip", 0, math.inf, optional=True)
        _check_number(self, "warmup", 0, 1, high_open=True, optional=True)
        _check_choice(self, "optimizer", OPTIMIZERS)
        _check_choice(self, "schedule", SCHEDULES)
        _check_choice(self, "monitor", MONITORS)

    @classmethod
    def from_config(cls, engine_config: Mapping[str, Any], **settings: Any) -> TrainSettings:
        """Build settings from a config's engine keys plus explicit run settings."""
        known = {f.name for f in fields(cls)}
        merged = {k: v for k, v in engine_config.items() if k in known}
        merged.update({k: v for k, v in settings.items() if v is not None})
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for checkpoints and result files)."""
        return asdict(self)
