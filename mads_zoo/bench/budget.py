"""The shared tuning budget: identical for every combo of a bench run.

A budget is a named preset plus optional overrides (``--budget-set key=value``). Everything
that decides how much compute a combo gets lives here, so that no combo can buy more than
another: trials, optimizer steps per trial, how often a trial is evaluated, the ASHA
schedule, the HyperOpt searcher's seed and random start, and the final retraining. No
wall-clock limit: what a combo gets is counted in training beats, never in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mads_zoo.errors import ConfigError, UnknownNameError


@dataclass(frozen=True)
class Budget:
    """How much tuning and training each (architecture x sampler) combo gets.

    Attributes:
        name: The preset this budget came from.
        trials: HyperOpt samples per combo.
        n_initial_points: Random trials before HyperOpt's TPE model takes over.
        searcher_seed: HyperOpt's seed, the same for every combo.
        epoch_beats: Training beats between two validation reports (an "epoch" for ASHA),
            the same for every combo whatever its batch size; ``0`` means a full pass over
            the un-resampled training fold.
        max_epochs: Reports per trial at most (ASHA's ``max_t``).
        grace_period: Epochs every trial gets before ASHA may stop it.
        reduction_factor: ASHA's reduction factor.
        early_stopping: Epochs without validation improvement that end a trial (0: off).
        final_seeds: Seeds the best config of each combo is retrained with before testing.
        final_epochs: Epochs of the final retraining (with early stopping).
        cpus_per_trial: CPU cores (and torch threads) per trial; concurrency follows.
        val_fraction: Share of the training part held out for validation.
        precision: Engine precision for every trial (fp32, bf16 or auto).
    """

    name: str
    trials: int
    n_initial_points: int
    searcher_seed: int
    epoch_beats: int
    max_epochs: int
    grace_period: int
    reduction_factor: int
    early_stopping: int
    final_seeds: int
    final_epochs: int
    cpus_per_trial: int
    val_fraction: float = 0.1
    precision: str = "auto"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (not isinstance(value, int) or isinstance(value, bool)):
                raise ConfigError(f"budget {f.name} must be an integer, got {value!r}")
        positive = (
            "trials",
            "max_epochs",
            "grace_period",
            "final_seeds",
            "final_epochs",
            "cpus_per_trial",
        )
        for key in positive:
            if getattr(self, key) < 1:
                raise ConfigError(f"budget {key} must be at least 1, got {getattr(self, key)}")
        if self.reduction_factor < 2:
            raise ConfigError(f"budget reduction_factor must be >= 2, got {self.reduction_factor}")
        if self.grace_period > self.max_epochs:
            raise ConfigError("budget grace_period cannot exceed max_epochs")
        if not 0 < self.val_fraction < 0.5:
            raise ConfigError(f"budget val_fraction must be in (0, 0.5), got {self.val_fraction}")

    def with_overrides(self, overrides: dict[str, Any]) -> Budget:
        """A copy with ``overrides`` applied (unknown keys are refused with a suggestion)."""
        known = {f.name for f in fields(self)} - {"name"}
        for key in overrides:
            if key not in known:
                raise UnknownNameError("budget key", key, known)
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, stored with every run."""
        return asdict(self)


PRESETS: dict[str, Budget] = {
    "smoke": Budget(
        name="smoke",
        trials=2,
        n_initial_points=2,
        searcher_seed=0,
        epoch_beats=160,
        max_epochs=2,
        grace_period=1,
        reduction_factor=2,
        early_stopping=0,
        final_seeds=1,
        final_epochs=1,
        cpus_per_trial=1,
    ),
    "quick": Budget(
        name="quick",
        trials=2,
        n_initial_points=2,
        searcher_seed=0,
        epoch_beats=2_560,
        max_epochs=2,
        grace_period=1,
        reduction_factor=2,
        early_stopping=0,
        final_seeds=1,
        final_epochs=3,
        cpus_per_trial=1,
        val_fraction=0.05,
    ),
    "full": Budget(
        name="full",
        trials=20,
        n_initial_points=5,
        searcher_seed=0,
        epoch_beats=0,
        max_epochs=40,
        grace_period=5,
        reduction_factor=2,
        early_stopping=6,
        final_seeds=3,
        final_epochs=40,
        cpus_per_trial=1,
    ),
}


def get_budget(name: str, overrides: dict[str, Any] | None = None) -> Budget:
    """The preset ``name`` with ``overrides`` applied."""
    if name not in PRESETS:
        raise UnknownNameError("budget", name, PRESETS)
    return PRESETS[name].with_overrides(overrides or {})
