"""The shared tuning budget: identical for every combo of a bench run.

A budget is a named preset plus optional overrides (``--budget-set key=value``). Everything
that decides how much compute a combo gets lives here, so that no combo can buy more than
another. Every amount of training is counted in **training beats** (samples seen), never in
optimizer steps or seconds: a batch-16 and a batch-256 config, an oversampled and an
undersampled fold all get the same beats.

The schedule is successive halving across combos (:mod:`mads_zoo.bench.plan`):

- rung 0: every combo trains ``trials`` configs (HyperOpt suggestions, asked
  ``suggest_batch`` at a time) for ``rung_beats`` beats each;
- rung r: the best ``1/reduction_factor`` of the combos still in (at least ``finalists``)
  train their best config for ``rung_beats * reduction_factor**r`` beats;
- final: the ``finalists`` combos train their best config with ``final_seeds`` seeds for
  ``final_beats`` beats each; only these models ever see the test fold.

One pre-declared validation ``metric`` (macro F1 by default) tunes, ranks the rungs and
selects the run's model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from mads_zoo.checks import check_choice, check_int, check_number, is_number
from mads_zoo.errors import ConfigError, UnknownNameError
from mads_zoo.metrics import MetricName
from mads_zoo.train.spec import PRECISIONS


@dataclass(frozen=True)
class Budget:
    """How much tuning and training each (architecture x sampler) combo gets.

    Attributes:
        name: The preset this budget came from.
        metric: The one validation metric that tunes, ranks rungs and selects the model.
        trials: Configs per combo in rung 0 (the architecture's defaults first).
        suggest_batch: Configs asked of each combo's searcher at a time; the searcher sees
            every result of one batch, in trial order, before it is asked for the next.
        n_initial_points: Random configs (after the defaults) before HyperOpt's TPE.
        searcher_seed: HyperOpt's seed, the same for every combo.
        rung_beats: Training beats of each rung-0 trial.
        reduction_factor: Each rung keeps ``1/reduction_factor`` of the combos and trains
            them ``reduction_factor`` times longer.
        finalists: Combos that reach the final rung (``0``: every combo).
        final_seeds: Seeds each finalist's best config is trained with, then tested.
        final_beats: Training beats of each final run.
        eval_beats: Training beats between validations (``0``: once per pass over the
            un-resampled training fold, and at the end of the run).
        early_stopping: Validations without improvement that end a run (``0``: off).
        cpus_per_trial: CPU cores Ray reserves for each trial (fractions allowed).
        gpus_per_trial: GPUs per trial (fractions allowed); ``"auto"``: one per trial when
            the cluster has GPUs, none otherwise.
        threads: Torch threads in each trial (``0``: ``cpus_per_trial`` rounded down, >= 1).
        precision: Training precision of every trial (``auto`` is resolved once, when the
            run starts, and stored resolved).
        val_fraction: Share of the training part held out for validation.
        max_mflops: Compute cap per beat (``0``: none): a config whose model needs more
            forward MFLOPs per beat (``torch.utils.flop_counter``) is refused before it
            trains, so that equal beats stay affordable on small machines.
        run_time_limit: Seconds one run may take before it is stopped and fails with that
            reason (``0``: none). A guard against a hanging plugin, the one place the clock
            acts: set far above any run's time, so it never chooses between scores.
    """

    #: A record of an earlier version (without the newer keys) reads with their defaults.
    PARTIAL: ClassVar[bool] = True

    name: str
    trials: int
    suggest_batch: int
    n_initial_points: int
    rung_beats: int
    reduction_factor: int
    finalists: int
    final_seeds: int
    final_beats: int
    metric: MetricName = MetricName.MACRO_F1
    searcher_seed: int = 0
    eval_beats: int = 0
    early_stopping: int = 0
    cpus_per_trial: float = 1
    gpus_per_trial: float | str = "auto"
    threads: int = 0
    precision: str = "auto"
    val_fraction: float = 0.1
    max_mflops: int = 0
    run_time_limit: int = 6 * 3600

    def __post_init__(self) -> None:
        for key in ("trials", "suggest_batch", "rung_beats", "final_seeds", "final_beats"):
            check_int(f"budget {key}", getattr(self, key), minimum=1)
        for key in ("n_initial_points", "finalists", "eval_beats", "early_stopping", "threads",
                    "max_mflops", "searcher_seed", "run_time_limit"):  # fmt: skip
            check_int(f"budget {key}", getattr(self, key), minimum=0)
        check_int("budget reduction_factor", self.reduction_factor, minimum=2)
        check_choice("budget metric", self.metric, [m.value for m in MetricName])
        check_choice("budget precision", self.precision, PRECISIONS)
        check_number("budget cpus_per_trial", self.cpus_per_trial, 0, math.inf, low_open=True)
        if self.gpus_per_trial != "auto" and not (
            is_number(self.gpus_per_trial) and self.gpus_per_trial >= 0
        ):
            raise ConfigError(
                f"budget gpus_per_trial must be 'auto' or a number >= 0, "
                f"got {self.gpus_per_trial!r}"
            )
        check_number("budget val_fraction", self.val_fraction, 0, 0.5, low_open=True,
                     high_open=True)  # fmt: skip
        if not isinstance(self.name, str):
            raise ConfigError(f"budget name must be a string, got {self.name!r}")
        object.__setattr__(self, "metric", MetricName(self.metric))

    @property
    def informed_trials(self) -> int:
        """Rung-0 configs per combo that HyperOpt chose from the combo's own earlier scores.

        The defaults come first and then ``n_initial_points`` counts them: the first
        ``max(n_initial_points, 2)`` configs are the defaults and seeded random draws (TPE needs
        two scored configs to tell good from bad; with fewer initial points its second
        suggestion is a fixed perturbation of the defaults, whatever their score, as
        ``tests/test_bench.py`` shows). A budget with none informed screens, it does not tune.
        """
        return max(0, self.trials - max(self.n_initial_points, 2))

    @property
    def trial_threads(self) -> int:
        """Torch threads each trial uses."""
        return self.threads or max(1, int(self.cpus_per_trial))

    def rung_beats_at(self, rung: int) -> int:
        """Training beats of one run in tuning rung ``rung``."""
        return int(self.rung_beats * self.reduction_factor**rung)

    def with_overrides(self, overrides: dict[str, Any]) -> Budget:
        """A copy with ``overrides`` applied (unknown keys are refused with a suggestion)."""
        known = {f.name for f in fields(self)} - {"name"}
        for key in overrides:
            if key not in known:
                raise UnknownNameError("budget key", key, known)
        return replace(self, **overrides)


PRESETS: dict[str, Budget] = {
    # a few seconds of training per combo: for tests and for trying a plugin
    "smoke": Budget(
        name="smoke",
        trials=2,
        suggest_batch=1,
        n_initial_points=1,
        rung_beats=256,
        reduction_factor=2,
        finalists=1,
        final_seeds=2,
        final_beats=512,
        run_time_limit=1800,
    ),
    # a screen, not a tuning (docs/protocol.md): each combo's defaults trained long enough to
    # beat "always N" (9,000 beats), the best quarter kept 4x longer twice, one finalist with
    # 3 seeds; final_beats from a learning curve on validation (benchmarks/calibrate_final_beats.py)
    "quick": Budget(
        name="quick",
        trials=1,
        suggest_batch=1,
        n_initial_points=0,
        rung_beats=9_000,
        reduction_factor=4,
        finalists=1,
        final_seeds=3,
        final_beats=250_000,
        val_fraction=0.05,
        max_mflops=100,
    ),
    # the seed report's protocol: every combo tuned with 20 trials and trained to the same
    # budget (about 30 passes over the training fold), 5 final seeds each
    "full": Budget(
        name="full",
        trials=20,
        suggest_batch=4,
        n_initial_points=5,
        rung_beats=250_000,
        reduction_factor=2,
        finalists=0,
        final_seeds=5,
        final_beats=2_500_000,
        early_stopping=6,
    ),
}


def get_budget(name: str, overrides: dict[str, Any] | None = None) -> Budget:
    """The preset ``name`` with ``overrides`` applied."""
    if name not in PRESETS:
        raise UnknownNameError("budget", name, PRESETS)
    return PRESETS[name].with_overrides(overrides or {})
