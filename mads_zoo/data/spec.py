"""Which data a run reads (:class:`DataSpec`) and what one example is (:class:`InputSignature`).

Frozen and validated; no numpy, no readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from mads_zoo.checks import check_int, check_number
from mads_zoo.errors import ConfigError
from mads_zoo.specs import layout_shape

#: The split each dataset name defaults to when a run names none: the de Chazal
#: inter-patient split reads the rhythm-aware beats (``docs/data.md``).
DEFAULT_DATASETS = {"intra": "mitbih", "inter": "mitbih-rhythm"}


def default_dataset(split: str) -> str:
    """The dataset a run on ``split`` reads when it names none."""
    return DEFAULT_DATASETS.get(split, "mitbih")


@dataclass(frozen=True)
class InputSignature:
    """What one example of a dataset is: ``channels`` x ``length`` samples plus named features.

    A checkpoint records its model's signature; ``predict`` refuses input of another.
    """

    channels: int = 1
    length: int = 187
    features: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_int("channels", self.channels, minimum=1)
        check_int("length", self.length, minimum=1)
        object.__setattr__(self, "features", tuple(self.features))

    def shape(self, layout: str) -> tuple[int, ...]:
        """The model's input shape (without the batch) in ``layout``."""
        return layout_shape(layout, self.channels, self.length)

    def describe(self) -> str:
        """E.g. ``2 channels x 88 samples + 10 features (rr_pre, ...)``."""
        text = f"{self.channels} channel{'s' * (self.channels != 1)} x {self.length} samples"
        if not self.features:
            return f"{text}, no features"
        return f"{text} + {len(self.features)} features ({', '.join(self.features)})"


@dataclass(frozen=True)
class DataSpec:
    """Which folds a run trains and validates on: dataset, split, sampler and seed.

    The seed decides the split, the validation carve-out and (unless ``sampler_seed`` is
    given) the sampler; ``val_fraction`` is the share of the training part held out for
    validation (before resampling). A bench's final runs give each final seed its own
    ``sampler_seed``, so their spread covers the resampling too. Where the files are is not
    part of it: the same spec on another machine is the same data.
    """

    dataset: str = "mitbih"
    split: str = "intra"
    sampler: str = "none"
    seed: int = 0
    val_fraction: float = 0.1
    sampler_seed: int | None = None

    @property
    def resample_seed(self) -> int:
        """The seed the sampler is built with: ``sampler_seed``, else ``seed``."""
        return self.seed if self.sampler_seed is None else self.sampler_seed

    def __post_init__(self) -> None:
        for name in ("dataset", "split", "sampler"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a name (a string), got {value!r}")
        check_int("seed", self.seed, minimum=0)
        if self.sampler_seed is not None:
            check_int("sampler_seed", self.sampler_seed, minimum=0)
        check_number("val_fraction", self.val_fraction, 0, 0.5, low_open=True)
