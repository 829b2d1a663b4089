"""The one codec: every record round-trips, and a stored record of another shape is refused."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mads_zoo import codec
from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.results import (
    Combo,
    ComboResult,
    DataSource,
    Outcome,
    RunRecord,
    Stage,
    TrialRecord,
    TrialSpec,
)
from mads_zoo.data.folds import FoldCounts
from mads_zoo.data.spec import DataSpec
from mads_zoo.metrics import MetricName, Metrics
from mads_zoo.stats import Summary
from mads_zoo.train.result import RunStatus
from mads_zoo.train.spec import Recipe, RunSpec, Training

CLASSES = ("N", "S", "V", "F", "Q")


def _metrics(seed: int = 0) -> Metrics:
    rng = np.random.default_rng(seed)
    return Metrics.of_labels(rng.integers(0, 5, 200), rng.integers(0, 5, 200), CLASSES, loss=0.5)


def _trial() -> TrialRecord:
    spec = TrialSpec(Combo("2dcnn", "smote"), Stage.FINAL, 3, 1, {"hidden": 64}, 12345, 512)
    return TrialRecord(
        spec, RunStatus.COMPLETED, score=0.5, val=_metrics(1), test=_metrics(2), curve=[0.1, 0.5]
    )


RECORDS = [
    RunSpec(
        "2dcnn",
        {"hidden": 64, "lr": 1e-3},
        Training(Recipe(lr=1e-3), beats=512),
        DataSpec(sampler="smote"),
    ),
    _trial(),
    ComboResult(
        Combo("a", "none"),
        Outcome.SELECTED,
        2,
        0.5,
        {"hidden": 3},
        val=Summary.of([0.4, 0.6]),
        test=(_metrics(3), _metrics(4)),
    ),
    RunRecord(
        DataSource("mitbih", "inter", None, "ab12", 100),
        0,
        get_budget("smoke", {"metric": "macro_recall"}),
        (Combo("a", "none"),),
        "0.1",
        FoldCounts({"N": 9}, {"N": 1}, {"N": 2}),
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_round_trips_through_json(record):
    text = codec.dumps(record)
    again = codec.loads(type(record), text)
    assert again == record
    assert codec.dumps(again) == text


def test_enums_and_tuples_come_back_typed():
    trial = codec.loads(TrialRecord, codec.dumps(_trial()))
    assert trial.spec.stage is Stage.FINAL and trial.status is RunStatus.COMPLETED
    run = codec.loads(RunRecord, codec.dumps(RECORDS[3]))
    assert run.budget.metric is MetricName.MACRO_RECALL and isinstance(run.combos, tuple)


def test_derived_figures_are_written_for_readers_and_ignored_when_read():
    metrics = _metrics()
    plain = codec.encode(metrics)
    assert plain["accuracy"] == metrics.accuracy and plain["n"] == 200
    assert plain["per_class"]["N"]["recall"] == metrics.per_class["N"].recall
    assert codec.decode(Metrics, plain) == metrics


def test_an_integer_stays_an_integer_where_a_number_is_expected():
    plain = codec.encode(_metrics())
    assert all(isinstance(v, int) for row in plain["confusion"] for v in row)
    assert json.loads(json.dumps(plain))["confusion"] == plain["confusion"]


@dataclass(frozen=True)
class Inner:
    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class Outer:
    inner: Inner
    items: tuple[Inner, ...]
    where: Path | None = None


A = {"name": "a", "weight": 1.0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"items": [], "where": None}, "missing key 'inner'"),
        ({"inner": {"name": "a"}, "items": [], "where": None}, "missing key 'weight' at inner"),
        ({"inner": A, "items": [], "where": None, "extra": 1}, "unknown key 'extra'"),
        ({"inner": {**A, "name": 3}, "items": [], "where": None}, "expected a str at inner.name"),
        (
            {"inner": A, "items": [{**A, "weight": "x"}], "where": None},
            "expected a number at items[0].weight, found 'x'",
        ),
        ({"inner": {**A, "weight": True}, "items": [], "where": None}, "expected a number"),
        ({"inner": A, "items": {}, "where": None}, "expected a list at items"),
        ({"inner": [], "items": [], "where": None}, "expected a Inner (a mapping) at inner"),
        ({"inner": A, "items": [], "where": 3}, "expected a path (a string) at where, found 3"),
    ],
)
def test_a_record_of_another_shape_is_one_error_naming_where(data, message):
    with pytest.raises(codec.CodecError) as caught:
        codec.decode(Outer, data)
    assert message in str(caught.value)


def test_a_records_own_checks_become_codec_errors():
    plain = codec.encode(RECORDS[0])
    plain["training"]["recipe"]["lr"] = -1
    with pytest.raises(codec.CodecError, match=r"lr must be a number in \(0, 10\)"):
        codec.decode(RunSpec, plain)


def test_paths_and_nan_survive():
    outer = Outer(Inner("a", math.nan), (), Path("/tmp/x"))
    again = codec.loads(Outer, codec.dumps(outer))
    assert again.where == Path("/tmp/x") and math.isnan(again.inner.weight)
