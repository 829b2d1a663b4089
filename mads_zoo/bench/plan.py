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
   score) train their best rung-0 config ``reduction_factor`` times longer.
3. **Final.** The best ``finalists`` combos train their best config with ``final_seeds``
   seeds, and each final model is tested once. The selected model of the run is the finalist
   with the best mean validation score; test numbers are reported, never used to choose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.failures import one_line
from mads_zoo.bench.results import Combo, ComboResult, TrialRecord, TrialSpec
from mads_zoo.bench.trial import derive_seed, summary
from mads_zoo.errors import PluginError

Execute = Callable[[str, Sequence[TrialSpec]], list[TrialRecord]]
#: Test metrics summarised over a finalist's seeds.
TEST_METRICS = ("accuracy", "macro_f1", "macro_recall", "macro_precision")


def _plain(value: Any) -> Any:
    """A searcher's numpy scalar as a plain Python value (JSON- and TOML-able)."""
    return value.item() if hasattr(value, "item") else value


def make_searcher(combo: Combo, budget: Budget) -> Any:
    """The HyperOpt searcher of ``combo``, or ``None`` when its architecture searches nothing.

    A search space that cannot be searched raises :class:`PluginError` naming the
    architecture (and the key, when one dimension has no translation).
    """
    from mads_zoo.bench.search import tune_space
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(combo.architecture)
    space = tune_space(arch.search_space, arch.name)
    if not space:
        return None
    from ray.tune.search.hyperopt import HyperOptSearch

    defaults = None
    if set(arch.search_space) <= set(arch.defaults):
        defaults = [{key: arch.defaults[key] for key in arch.search_space}]
    try:
        return HyperOptSearch(
            space=HyperOptSearch.convert_search_space(space),
            metric="score",
            mode="max",
            points_to_evaluate=defaults,
            n_initial_points=budget.n_initial_points,
            random_state_seed=budget.searcher_seed,
        )
    except Exception as error:
        raise PluginError(f"architecture {arch.name!r} search space: {one_line(error)}") from error


def _ranked(combos: Sequence[Combo], scores: dict[Combo, float | None]) -> list[Combo]:
    """``combos`` best first; a missing score ranks last; ties keep the given order."""
    order = {c: i for i, c in enumerate(combos)}
    return sorted(combos, key=lambda c: (-(scores.get(c) or -math.inf), order[c]))


def _best_trial(records: list[TrialRecord]) -> TrialRecord | None:
    scored = [r for r in records if not r.failed]
    return max(scored, key=lambda r: (r.score, -r.spec.index)) if scored else None


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
        searcher_factory: Callable[[Combo, Budget], Any] = make_searcher,
    ) -> None:
        self.combos = list(combos)
        self.budget = budget
        self.seed = seed
        self.execute = execute
        self.searcher_factory = searcher_factory
        self.records: dict[Combo, list[TrialRecord]] = {c: [] for c in self.combos}
        self.errors: dict[Combo, str] = {}

    def _spec(self, combo: Combo, stage: str, rung: int, index: int, config: dict) -> TrialSpec:
        beats = self.budget.final_beats if stage == "final" else self.budget.rung_beats_at(rung)
        seed = derive_seed(self.seed, combo.key, stage, rung, index)
        return TrialSpec(combo, stage, rung, index, dict(config), seed, beats)

    def _run(self, name: str, specs: list[TrialSpec]) -> list[TrialRecord]:
        records = self.execute(name, specs)
        for record in records:
            self.records[record.spec.combo].append(record)
        return records

    def rung_zero(self) -> dict[Combo, TrialRecord | None]:
        """Tune every combo with its searcher; return each combo's best trial."""
        searchers: dict[Combo, Any] = {}
        wanted: dict[Combo, int] = {}
        for combo in self.combos:
            try:
                searchers[combo] = self.searcher_factory(combo, self.budget)
            except Exception as error:  # a combo that cannot be set up fails alone
                self.errors[combo] = one_line(error)
                wanted[combo] = 0
                continue
            wanted[combo] = self.budget.trials if searchers[combo] is not None else 1
        issued = dict.fromkeys(self.combos, 0)
        waves = math.ceil(self.budget.trials / self.budget.suggest_batch)
        for wave in range(waves):
            batch: list[TrialSpec] = []
            for combo in self.combos:
                for _ in range(min(self.budget.suggest_batch, wanted[combo] - issued[combo])):
                    index = issued[combo]
                    searcher = searchers.get(combo)
                    config = {}
                    if searcher is not None:
                        suggested = searcher.suggest(f"{combo.key}-{index}")
                        config = {k: _plain(v) for k, v in sorted(suggested.items())}
                    batch.append(self._spec(combo, "tune", 0, index, config))
                    issued[combo] += 1
            if not batch:
                break
            for record in self._run(f"rung 0, wave {wave + 1}/{waves}", batch):
                searcher = searchers.get(record.spec.combo)
                if searcher is not None:
                    trial_id = f"{record.spec.combo.key}-{record.spec.index}"
                    if record.failed:
                        searcher.on_trial_complete(trial_id, error=True)
                    else:
                        searcher.on_trial_complete(trial_id, result={"score": record.score})
        return {c: _best_trial(self.records[c]) for c in self.combos}

    def run(self) -> list[ComboResult]:
        """The whole schedule; one result per combo, in the combos' order."""
        best = self.rung_zero()
        alive = _ranked([c for c in self.combos if best[c] is not None], {
            c: best[c].score for c in self.combos if best[c] is not None  # type: ignore[union-attr]
        })  # fmt: skip
        scores: dict[Combo, float | None] = {c: best[c].score for c in alive}  # type: ignore[union-attr]
        reached = dict.fromkeys(alive, 0)
        sizes = tuning_rungs(self.budget, len(alive)) if alive else [0]
        for rung, size in enumerate(sizes[1:], start=1):
            alive = _ranked(alive, scores)[:size]
            specs = [self._spec(c, "tune", rung, 0, best[c].spec.config) for c in alive]  # type: ignore[union-attr]
            for record in self._run(f"rung {rung}", specs):
                scores[record.spec.combo] = record.score
                reached[record.spec.combo] = rung
                if record.failed:
                    self.errors[record.spec.combo] = f"rung {rung}: {record.error}"
        final_rung = len(sizes)
        finalists = _ranked(alive, scores)[: self.budget.finalists or len(alive)]
        specs = [
            self._spec(c, "final", final_rung, k, best[c].spec.config)  # type: ignore[union-attr]
            for c in finalists
            for k in range(self.budget.final_seeds)
        ]
        self._run("final", specs)
        results = {c: self._final_result(c, final_rung, best[c]) for c in finalists}
        for c in self.combos:
            if c not in results:
                results[c] = self._stopped_result(c, reached.get(c, 0), scores.get(c), best[c])
        chosen = [results[c] for c in finalists if results[c].outcome == "finalist"]
        if chosen:
            max(chosen, key=lambda r: r.score).outcome = "selected"  # first of equals wins
        return [results[c] for c in self.combos]

    def _common(self, combo: Combo, best: TrialRecord | None) -> dict[str, Any]:
        records = self.records[combo]
        return {
            "combo": combo,
            "config": best.spec.config if best else None,
            "resolved_config": best.resolved_config if best else {},
            "trials": len(records),
            "failed_trials": sum(r.failed for r in records),
            "params": best.params if best else None,
        }

    def _stopped_result(
        self, combo: Combo, rung: int, score: float | None, best: TrialRecord | None
    ) -> ComboResult:
        if best is None:
            errors = sorted({r.error or "no score" for r in self.records[combo]})
            error = self.errors.get(combo) or "; ".join(errors)[:500] or "no trial ran"
            return ComboResult(outcome="failed", rung=0, score=None, error=error,
                               **self._common(combo, None))  # fmt: skip
        error = self.errors.get(combo) if score is None else None
        return ComboResult(
            outcome="stopped", rung=rung, score=score, error=error, **self._common(combo, best)
        )

    def _final_result(self, combo: Combo, rung: int, best: TrialRecord | None) -> ComboResult:
        runs = [r for r in self.records[combo] if r.spec.stage == "final"]
        done = [r for r in runs if not r.failed and r.test is not None]
        if not done:
            errors = sorted({r.error or "no score" for r in runs})
            return ComboResult(outcome="failed", rung=rung, score=None,
                               error="every final run failed: " + "; ".join(errors)[:400],
                               **self._common(combo, best))  # fmt: skip
        metric = self.budget.metric
        val = summary([r.score for r in done])  # type: ignore[misc]
        test = {k: summary([r.test[k] for r in done]) for k in TEST_METRICS}  # type: ignore[index]
        classes = list(done[0].test["recall"])  # type: ignore[index]
        recall = {c: summary([r.test["recall"][c] for r in done])["mean"] for c in classes}  # type: ignore[index]
        size = len(classes)
        confusion = [
            [sum(r.test["confusion"][i][j] for r in done) for j in range(size)]  # type: ignore[index]
            for i in range(size)
        ]
        return ComboResult(
            outcome="finalist",
            rung=rung,
            score=val["mean"],
            val={metric: val},
            test=test,
            recall=recall,
            confusion=confusion,
            classes=classes,
            **self._common(combo, best),
        )
