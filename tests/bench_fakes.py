"""Fake searchers and trial records: the bench's planner, records and reports without training."""

from __future__ import annotations

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.plan import Planner, derive_seed, final_seed
from mads_zoo.bench.results import (
    DataSource,
    RunRecord,
    RunStore,
    Stage,
    TrialRecord,
    TrialSpec,
)
from mads_zoo.data.folds import FoldCounts
from mads_zoo.metrics import Metrics
from mads_zoo.train.result import RunStatus

TWO_CLASSES = ("N", "S")
#: Beats per class of a fake test fold.
BEATS = 1_000
COUNTS = FoldCounts(train={"N": 90, "S": 10}, val={"N": 9, "S": 1}, test={"N": BEATS, "S": BEATS})


def spec(combo, beats=1_000, stage=Stage.TUNE, rung=0, index=0, config=None) -> TrialSpec:
    """The trial spec the planner would make for these coordinates (bench seed 0)."""
    if stage is Stage.FINAL:
        seed = final_seed(0, index)
    else:
        seed = derive_seed(0, combo.key, stage.value, rung, index)
    return TrialSpec(combo, stage, rung, index, config or {}, seed, beats)


class FakeSearcher:
    """Suggests x = 0, 1, 2, ... and logs every call, to check the planner's protocol."""

    def __init__(self, log):
        self.log, self.count = log, 0

    def suggest(self, trial_id):
        self.log.append(("suggest", trial_id))
        self.count += 1
        return {"x": self.count - 1}

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.log.append(("complete", trial_id, None if error else result["score"]))


BASE = {"a": 0.5, "b": 0.8, "c": 0.3, "d": 0.7, "e": 0.6, "f": 0.1}


def accuracy_matrix(accuracy: float, extra_right: int = 0) -> Metrics:
    """Two classes of :data:`BEATS` beats, each ``accuracy`` right (plus ``extra_right`` N)."""
    right = round(accuracy * BEATS)
    return Metrics.of_matrix(
        [[right + extra_right, BEATS - right - extra_right], [BEATS - right, right]], TWO_CLASSES
    )


def fake_record(spec: TrialSpec) -> TrialRecord:
    """Validation score from combo, config and beats; test numbers *inverted* on purpose."""
    if spec.combo.architecture == "f" and spec.config.get("x") == 0:
        return TrialRecord(spec, RunStatus.FAILED, error="RuntimeError: boom")
    if spec.combo.architecture == "e" and spec.rung == 1:
        return TrialRecord(spec, RunStatus.FAILED, error="RuntimeError: rung boom")
    score = BASE[spec.combo.architecture] + 0.01 * spec.config.get("x", 0) + spec.beats * 1e-7
    final = spec.stage is Stage.FINAL
    score += 0.001 * (spec.seed % 7) if final else 0
    test = accuracy_matrix(1 - score) if final else None
    return TrialRecord(spec, RunStatus.COMPLETED, score=score, test=test, params=10)


def plan(budget: Budget, combos, log=None, batches=None, baseline=None):
    """The planner's results for ``combos`` under ``budget``, every run a fake record."""
    log = [] if log is None else log

    def execute(name, specs):
        if batches is not None:
            batches.append((name, list(specs)))
        return [fake_record(s) for s in specs]

    searchers = lambda c, b: FakeSearcher(log)  # noqa: E731
    return Planner(combos, budget, 0, execute, searchers, baseline=baseline).run()


def run_record(combos, budget: Budget, split: str = "intra") -> RunRecord:
    """A run record of the synthetic dataset with the fake class counts."""
    data = DataSource("synthetic", split, None, "x", 100)
    return RunRecord(data, 0, budget, tuple(combos), "0", COUNTS)


def stored_run(root, combos, budget: Budget, record=fake_record, split="intra") -> RunStore:
    """A run folder holding the fake planner's results, as the harness would write it."""
    store = RunStore(root)
    store.save_run(run_record(combos, budget, split), with_environment=False)

    def execute(name, specs):
        records = [record(s) for s in specs]
        for r in records:
            store.save_trial(r)
        return records

    for result in Planner(combos, budget, 0, execute, lambda c, b: FakeSearcher([])).run():
        store.save_result(result, budget.metric)
    return store
