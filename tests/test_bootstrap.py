"""Test-sampling intervals: resampling patients (inter) or beats (intra) around the seeds' mean."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from bench_fakes import stored_run

from mads_zoo.bench.bootstrap import pack_labels, sampling_ci, unpack_labels
from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.results import Combo, HeldOutBeats, Stage
from mads_zoo.metrics import Metrics

CLASSES = ("N", "S", "V")


def noisy(y: np.ndarray, right: np.ndarray, seed: int) -> np.ndarray:
    """``y`` where ``right`` holds, another class elsewhere."""
    wrong = (y + np.random.default_rng(seed).integers(1, 3, len(y))) % 3
    return np.where(right, y, wrong)


def test_labels_pack_one_character_each_and_back():
    labels = np.array([0, 1, 2, 9, 10, 35, 0])
    packed = pack_labels(labels)
    assert packed == "0129az0" and np.array_equal(unpack_labels(packed), labels)
    assert pack_labels(np.array([36])) == ""  # too many classes: no predictions kept
    assert len(unpack_labels("")) == 0


def test_the_interval_holds_the_seeds_mean_and_patients_widen_it():
    rng = np.random.default_rng(0)
    n = 6_000
    y = rng.choice(3, n, p=[0.8, 0.1, 0.1])
    record = rng.integers(0, 20, n)
    accuracy = 0.55 + 0.4 * record / 19  # patients differ: some are much harder
    seeds = [noisy(y, rng.random(n) < accuracy, s) for s in range(3)]
    mean = np.mean([Metrics.of_labels(y, p, CLASSES).accuracy for p in seeds])
    by_record = sampling_ci(y, seeds, CLASSES, groups=record.astype(str), draws=400)
    by_beat = sampling_ci(y, seeds, CLASSES, draws=400)
    assert (by_record.unit, by_record.units, by_record.seeds) == ("record", 20, 3)
    assert (by_beat.unit, by_beat.units) == ("beat", n)
    for ci in (by_record, by_beat):
        assert ci.low["accuracy"] < mean < ci.high["accuracy"]
        assert ci.low["S.recall"] < ci.high["S.recall"]
    width = {ci.unit: ci.high["accuracy"] - ci.low["accuracy"] for ci in (by_record, by_beat)}
    assert width["record"] > 3 * width["beat"]  # beats of one patient are not independent
    again = sampling_ci(y, seeds, CLASSES, groups=record.astype(str), draws=400)
    assert again == by_record  # a pure function of its inputs and seed


def test_identical_patients_give_an_interval_of_zero_width():
    y = np.tile([0, 0, 0, 1, 2], 8)
    predicted = np.tile([0, 0, 1, 1, 2], 8)  # every record: the same 5 beats, same errors
    records = np.repeat([str(r) for r in range(8)], 5)
    ci = sampling_ci(y, [predicted], CLASSES, groups=records, draws=200)
    assert ci.low["accuracy"] == pytest.approx(0.8) == ci.high["accuracy"]
    assert ci.interval("N.recall") == "0.667-0.667" and ci.seeds == 1


def test_a_figure_undefined_in_many_draws_has_no_interval():
    y = np.array([0] * 50 + [1])
    predicted = np.array([0] * 50 + [1])  # S is one beat: most resamples hold none or miss it
    ci = sampling_ci(y, [predicted], ("N", "S"), draws=300)
    assert ci.interval("S.precision") == "-" and ci.interval("N.recall") == "1.000-1.000"


def test_every_seed_needs_a_prediction_per_test_beat():
    with pytest.raises(ValueError, match="each of the 3 test beats"):
        sampling_ci(np.array([0, 1, 1]), [np.array([0, 1])], ("N", "S"))


def test_the_report_gives_each_finalist_its_test_sampling_intervals(tmp_path):
    from bench_fakes import fake_record

    from mads_zoo.bench.report import render_report

    y = np.array([0] * 10 + [1] * 10)
    records = np.array(["100", "101"] * 10)
    predicted = y.copy()
    predicted[[0, 12]] = [1, 0]  # one N called S, one S called N

    def record(trial):
        found = fake_record(trial)
        if trial.stage is not Stage.FINAL:
            return found
        test = Metrics.of_labels(y, predicted, ("N", "S"))
        return replace(found, test=test, test_predicted=pack_labels(predicted))

    budget = get_budget("smoke")
    store = stored_run(tmp_path, [Combo(n, "none") for n in "ab"], budget, record, "inter")
    render_report(store)
    page = (tmp_path / "leaderboard.md").read_text()
    assert "AAMI tables add test-sampling intervals (a bootstrap over the test records)" in page
    assert "Se, 95% over records" not in page  # this run stored no test fold: no interval
    store.save_test_fold(HeldOutBeats(y, records))
    render_report(store)
    page = (tmp_path / "leaderboard.md").read_text()
    head = "| class | beats | Se | +P | FPR | F1 | Se, 95% over records | +P, 95% over records |"
    assert head in page
    assert "| N | 10 | 0.9000 ± 0.0000 |" in page  # seed spread: identical seeds
    assert "percentile bootstrap over the 2 test records, 2,000 draws" in page
    assert "Cells: mean ± seed spread." in page


def test_an_intra_report_adds_ec57_gross_statistics_and_figures_without_paced_records(tmp_path):
    from bench_fakes import fake_record

    from mads_zoo.bench.report import render_report

    aami = ("N", "S", "V", "F", "Q")
    y = np.array([0] * 8 + [1, 2, 3, 4, 4, 4])
    records = np.array(["100"] * 11 + ["102"] * 3)  # the three Q beats are paced
    predicted = y.copy()
    predicted[[11, 12]] = [2, 0]  # a paced beat called V, one called N

    def record(trial):
        found = fake_record(trial)
        if trial.stage is not Stage.FINAL:
            return found
        test = Metrics.of_labels(y, predicted, aami)
        return replace(found, test=test, test_predicted=pack_labels(predicted))

    store = stored_run(tmp_path, [Combo(n, "none") for n in "ab"], get_budget("smoke"), record)
    store.save_test_fold(HeldOutBeats(y, records))
    render_report(store)
    page = (tmp_path / "leaderboard.md").read_text()
    paced = "Without the paced records 102, 104, 107, 217 (EC57 excludes them; 3 test beats, "
    assert paced in page
    assert "3 of them Q), Q left out of the averages: accuracy 1.0000 ± 0.0000" in page
    assert "AAMI EC57 gross statistics" in page
    assert "VEB Se 1.0000 ± 0.0000, +P 1.0000 ± 0.0000, FPR 0.0000 ± 0.0000" in page  # Qv spared
    assert "| V (VEB) | 1 | 1.0000 ± 0.0000 | 0.5000 ± 0.0000 |" in page  # one-vs-rest
