"""Successive halving across combos, decided synchronously: the bench's schedule.

The planner decides what to train and never trains anything itself: it hands batches of
:class:`~mads_zoo.bench.results.TrialSpec` to an ``execute`` callable (Ray in the harness, a
plain function in tests) that returns one record per spec, in the same order. Every decision
waits until all runs it depends on are in and breaks ties by combo order, then trial index,
so the outcome never depends on which run finished first, how many ran at once, or the
clock.

1. **Rung 0.** Every combo's searcher (Ray Tune's ``HyperOptSearch``, same seed for every
   combo, the architecture's defaults as its first point) is asked ``suggest_batch`` configs
   at a time; each batch of every combo runs together, and each searcher is told its
   results in trial order before it is asked again.
2. **Rungs 1..** The best ``1/reduction_factor`` of the combos still in (by their last
   score) train their best rung-0 config ``reduction_factor`` times longer. A combo whose
   score is at or below ``baseline`` ("always N" on validation) is not cut on it: it trains
   on too (deferred), so no combo is cut on a score that says nothing.
3. **Final.** The best ``finalists`` combos train their best config with ``final_seeds``
   seeds (seed ``k`` is the same seed for every finalist: :func:`final_seed`), and each
   final model is tested once. The selected model of the run is the finalist
   with the best mean validation score; test numbers are reported, never used to choose.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.results import Combo, ComboResult, Outcome, Stage, TrialRecord, TrialSpec
from mads_zoo.bench.search import tune_space
from mads_zoo.errors import PluginError, one_line
from mads_zoo.registry import get_registry
from mads_zoo.stats import Summary

Execute = Callable[[str, Sequence[TrialSpec]], list[TrialRecord]]


class Searcher(Protocol):
    """What the planner asks of a combo's searcher (Ray Tune's ``Searcher`` interface)."""

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """The next config to try."""

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """The score of a config it suggested (or that its run failed)."""


SearcherFactory = Callable[[Combo, Budget], Searcher | None]


def derive_seed(*parts: Any) -> int:
    """A stable 31-bit seed from ``parts`` (the same on every machine and Python run)."""
    text = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFFFFFF


def final_seed(bench_seed: int, index: int) -> int:
    """The model seed of final run ``index``, the same for every finalist.

    So the finalists can be compared seed by seed (paired), not only by their means.
    """
    return derive_seed(bench_seed, Stage.FINAL.value, index)


def final_sampler_seed(bench_seed: int, index: int) -> int:
    """The sampler's seed of final run ``index`` (the same for every finalist).

    Each final seed resamples the training fold anew, so the finalists' seed spread covers
    the sampler's randomness too, not only the model's.
    """
    return derive_seed(bench_seed, "final-sampler", index)


def _plain(value: Any) -> Any:
    """A searcher's numpy scalar as a plain Python value (JSON- and TOML-able)."""
    return value.item() if hasattr(value, "item") else value


def make_searcher(combo: Combo, budget: Budget) -> Searcher | None:
    """The HyperOpt searcher of ``combo``, or ``None`` when its architecture searches nothing.

    A search space that cannot be searched raises :class:`PluginError` naming the
    architecture (and the key, when one dimension has no translation).
    """
    from ray.tune.search.hyperopt import HyperOptSearch  # Ray is heavy: only benches need it

    arch = get_registry().architecture(combo.architecture)
    space = tune_space(arch.search_space, arch.name)
    if not space:
        return None
    defaults = None
    if set(arch.search_space) <= set(arch.defaults):
        defaults = [{key: arch.defaults[key] for key in arch.search_space}]
    try:
        searcher: Searcher = HyperOptSearch(
            space=HyperOptSearch.convert_search_space(space),
            metric="score",
            mode="max",
            points_to_evaluate=defaults,
            n_initial_points=budget.n_initial_points,
            random_state_seed=budget.searcher_seed,
        )
    except Exception as error:
        raise PluginError(f"architecture {arch.name!r} search space: {one_line(error)}") from error
    return searcher


def _ranked(combos: Sequence[Combo], scores: Mapping[Combo, float | None]) -> list[Combo]:
    """``combos`` best first; a missing score ranks last; ties keep the given order."""
    order = {c: i for i, c in enumerate(combos)}

    return sorted(combos, key=lambda c: (-_score(scores.get(c)), order[c]))


def _score(score: float | None) -> float:
    """A score for ordering: a missing one below every real one (0.0 included)."""
    return -math.inf if score is None else score


def _best_trial(records: list[TrialRecord]) -> TrialRecord | None:
    scored = [(r.score, -r.spec.index, r) for r in records if r.score is not None]
    return max(scored, key=lambda item: item[:2])[2] if scored else None


def tuning_rungs(budget: Budget, combos: int) -> list[int]:
    """Combos trained in each tuning rung; the best ``finalists`` of the last go to the final."""
    keep = budget.finalists or combos
    sizes = [combos]
    while math.ceil(sizes[-1] / budget.reduction_factor) > keep:
        sizes.append(math.ceil(sizes[-1] / budget.reduction_factor))
    return sizes


class Planner:
    """Runs the schedule for ``combos`` under ``budget`` through ``execute``."""

    def __init__(
        self,
        combos: Sequence[Combo],
        budget: Budget,
        seed: int,
        execute: Execute,
        searcher_factory: SearcherFactory = make_searcher,
        baseline: float | None = None,
    ) -> None:
        self.combos = list(combos)
        self.baseline = baseline
        self.budget = budget
        self.seed = seed
        self.execute = execute
        self.searcher_factory = searcher_factory
        self.records: dict[Combo, list[TrialRecord]] = {c: [] for c in self.combos}
        self.errors: dict[Combo, str] = {}

    def _spec(
        self, combo: Combo, stage: Stage, rung: int, index: int, config: Mapping[str, Any]
    ) -> TrialSpec:
        final = stage is Stage.FINAL
        beats = self.budget.final_beats if final else self.budget.rung_beats_at(rung)
        seed = final_seed(self.seed, index) if final else derive_seed(
            self.seed, combo.key, stage.value, rung, index
        )
        return TrialSpec(combo, stage, rung, index, dict(config), seed, beats)

    def _run(self, name: str, specs: list[TrialSpec]) -> list[TrialRecord]:
        records = self.execute(name, specs)
        for record in records:
            self.records[record.spec.combo].append(record)
        return records

    def _searchers(self) -> tuple[dict[Combo, Searcher | None], dict[Combo, int]]:
        """Each combo's searcher and how many configs it tries; a combo that fails is out."""
        searchers: dict[Combo, Searcher | None] = {}
        wanted: dict[Combo, int] = {}
        for combo in self.combos:
            try:
                searchers[combo] = self.searcher_factory(combo, self.budget)
            except Exception as error:  # a combo that cannot be set up fails alone
                self.errors[combo] = one_line(error)
                wanted[combo] = 0
                continue
            wanted[combo] = self.budget.trials if searchers[combo] is not None else 1
        return searchers, wanted

    def rung_zero(self) -> dict[Combo, TrialRecord]:
        """Tune every combo with its searcher; return each combo's best trial (if one scored)."""
        searchers, wanted = self._searchers()
        issued = dict.fromkeys(self.combos, 0)
        waves = math.ceil(self.budget.trials / self.budget.suggest_batch)
        for wave in range(waves):
            batch: list[TrialSpec] = []
            for combo in self.combos:
                for _ in range(min(self.budget.suggest_batch, wanted[combo] - issued[combo])):
                    config = self._suggest(searchers.get(combo), f"{combo.key}-{issued[combo]}")
                    batch.append(self._spec(combo, Stage.TUNE, 0, issued[combo], config))
                    issued[combo] += 1
            if not batch:
                break
            for record in self._run(f"rung 0, wave {wave + 1}/{waves}", batch):
                searcher = searchers.get(record.spec.combo)
                if searcher is not None:
                    trial_id = f"{record.spec.combo.key}-{record.spec.index}"
                    if record.score is None:
                        searcher.on_trial_complete(trial_id, error=True)
                    else:
                        searcher.on_trial_complete(trial_id, result={"score": record.score})
        best = {c: _best_trial(self.records[c]) for c in self.combos}
        return {c: record for c, record in best.items() if record is not None}

    def _undecided(self, score: float | None) -> bool:
        """Whether ``score`` is at or below the baseline: too weak a signal to cut a combo on.

        Such a combo is not cut at a tuning rung: it trains on at the next rung's length
        (deferred), and is judged there. Only the last decision (who reaches the final) may
        stop it; a failed run (no score) is not deferred.
        """
        return self.baseline is not None and score is not None and score <= self.baseline

    @staticmethod
    def _suggest(searcher: Searcher | None, trial_id: str) -> dict[str, Any]:
        if searcher is None:
            return {}
        suggested = searcher.suggest(trial_id) or {}
        return {k: _plain(v) for k, v in sorted(suggested.items())}

    def run(self) -> list[ComboResult]:
        """The whole schedule; one result per combo, in the combos' order."""
        best = self.rung_zero()
        scores: dict[Combo, float | None] = {c: best[c].score for c in best}
        alive = _ranked([c for c in self.combos if c in best], scores)
        reached = dict.fromkeys(alive, 0)
        sizes = tuning_rungs(self.budget, len(alive)) if alive else [0]
        for rung, size in enumerate(sizes[1:], start=1):
            order = _ranked(alive, scores)
            alive = order[:size] + [c for c in order[size:] if self._undecided(scores.get(c))]
            specs = [self._spec(c, Stage.TUNE, rung, 0, best[c].spec.config) for c in alive]
            for record in self._run(f"rung {rung}", specs):
                scores[record.spec.combo] = record.score
                reached[record.spec.combo] = rung
                if record.failed:
                    self.errors[record.spec.combo] = f"rung {rung}: {record.error}"
        final_rung = len(sizes)
        finalists = _ranked(alive, scores)[: self.budget.finalists or len(alive)]
        specs = [
            self._spec(c, Stage.FINAL, final_rung, k, best[c].spec.config)
            for c in finalists
            for k in range(self.budget.final_seeds)
        ]
        self._run("final", specs)
        results = {c: self._final_result(c, final_rung, best[c]) for c in finalists}
        for c in self.combos:
            if c not in results:
                results[c] = self._stopped_result(c, reached.get(c, 0), scores.get(c), best.get(c))
        chosen = [results[c] for c in finalists if results[c].outcome is Outcome.FINALIST]
        if chosen:
            # the first of equals wins
            max(chosen, key=lambda r: _score(r.score)).outcome = Outcome.SELECTED
        return [results[c] for c in self.combos]

    def _result(
        self, combo: Combo, best: TrialRecord | None, outcome: Outcome, rung: int,
        score: float | None, error: str | None = None,
    ) -> ComboResult:  # fmt: skip
        records = self.records[combo]
        return ComboResult(
            combo=combo,
            outcome=outcome,
            rung=rung,
            score=score,
            config=best.spec.config if best else None,
            resolved_config=best.resolved_config if best else {},
            trials=len(records),
            failed_trials=sum(r.failed for r in records),
            error=error,
            params=best.params if best else None,
        )

    def _stopped_result(
        self, combo: Combo, rung: int, score: float | None, best: TrialRecord | None
    ) -> ComboResult:
        if best is None:
            errors = sorted({r.error or "no score" for r in self.records[combo]})
            why = self.errors.get(combo) or "; ".join(errors)[:500] or "no trial ran"
            return self._result(combo, None, Outcome.FAILED, 0, None, why)
        error = self.errors.get(combo) if score is None else None
        return self._result(combo, best, Outcome.STOPPED, rung, score, error)

    def _final_result(self, combo: Combo, rung: int, best: TrialRecord) -> ComboResult:
        runs = [r for r in self.records[combo] if r.spec.stage is Stage.FINAL]
        done = [r for r in runs if r.score is not None and r.test is not None]
        if not done:
            errors = sorted({r.error or "no score" for r in runs})
            error = "every final run failed: " + "; ".join(errors)[:400]
            return self._result(combo, best, Outcome.FAILED, rung, None, error)
        val = Summary.of(r.score for r in done if r.score is not None)
        result = self._result(combo, best, Outcome.FINALIST, rung, val.mean)
        result.val = val
        result.test = tuple(r.test for r in done if r.test is not None)
        result.final_seeds = tuple(r.spec.index for r in done)
        return result
