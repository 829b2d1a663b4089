"""Which data a run reads: :class:`DataSpec`, frozen and validated (no numpy, no readers)."""

from __future__ import annotations

from dataclasses import dataclass

from mads_zoo.checks import check_int, check_number
from mads_zoo.errors import ConfigError


@dataclass(frozen=True)
class DataSpec:
    """Which folds a run trains and validates on: dataset, split, sampler and seed.

    The seed decides the split, the validation carve-out and the sampler; ``val_fraction`` is
    the share of the training part held out for validation (before resampling). Where the
    files are is not part of it: the same spec on another machine is the same data.
    """

    dataset: str = "mitbih"
    split: str = "intra"
    sampler: str = "none"
    seed: int = 0
    val_fraction: float = 0.1

    def __post_init__(self) -> None:
        for name in ("dataset", "split", "sampler"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a name (a string), got {value!r}")
        check_int("seed", self.seed, minimum=0)
        check_number("val_fraction", self.val_fraction, 0, 0.5, low_open=True)
