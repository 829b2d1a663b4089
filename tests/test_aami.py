"""AAMI / de Chazal reporting against scikit-learn, and the baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics

from mads_zoo.aami import aami_report, always_majority, prior_guess
from mads_zoo.train.metrics import confusion_matrix

CLASSES = ("N", "S", "V", "F", "Q")


def _predictions(seed=0, n=3_000):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(5, size=n, p=[0.8, 0.05, 0.08, 0.02, 0.05])
    noisy = rng.random(n) < 0.3
    y_pred = np.where(noisy, rng.integers(0, 5, size=n), y_true)
    return y_true, y_pred


def test_per_class_se_ppv_f1_fpr_and_accuracy_match_scikit_learn():
    y_true, y_pred = _predictions()
    report = aami_report(confusion_matrix(y_true, y_pred, 5), CLASSES)
    labels = list(range(5))
    se = metrics.recall_score(y_true, y_pred, labels=labels, average=None)
    ppv = metrics.precision_score(y_true, y_pred, labels=labels, average=None)
    f1 = metrics.f1_score(y_true, y_pred, labels=labels, average=None)
    (tn, fp, _, _) = (
        metrics.multilabel_confusion_matrix(y_true, y_pred, labels=labels).reshape(5, 4).T
    )
    for i, name in enumerate(CLASSES):
        got = report.per_class[name]
        assert got.se == pytest.approx(se[i]) and got.ppv == pytest.approx(ppv[i])
        assert got.f1 == pytest.approx(f1[i]) and got.fpr == pytest.approx(fp[i] / (fp[i] + tn[i]))
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert report.average("se") == pytest.approx(
        metrics.recall_score(y_true, y_pred, average="macro")
    )


def test_the_inter_convention_leaves_q_out_of_the_averages_only():
    y_true, y_pred = _predictions(seed=1)
    cm = confusion_matrix(y_true, y_pred, 5)
    report = aami_report(cm, CLASSES, left_out=("Q",))
    four = [0, 1, 2, 3]
    assert report.average("se") == pytest.approx(
        metrics.recall_score(y_true, y_pred, labels=four, average="macro")
    )
    assert report.average("ppv") == pytest.approx(
        metrics.precision_score(y_true, y_pred, labels=four, average="macro")
    )
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))  # all beats
    assert report.to_dict()["left_out"] == ["Q"]
    with pytest.raises(ValueError, match="unknown classes"):
        aami_report(cm, CLASSES, left_out=("X",))


def test_a_class_never_predicted_has_no_positive_predictivity():
    cm = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 0, 0, 2]), 3)
    report = aami_report(cm, ("N", "S", "V"))
    assert math.isnan(report.per_class["S"].ppv) and math.isnan(report.per_class["S"].f1)
    assert report.per_class["S"].se == 0.0
    assert report.average("ppv") == pytest.approx((2 / 3 + 0 + 1) / 3)  # S counts 0
    y_true, y_pred = [0, 0, 1, 2], [0, 0, 0, 2]
    expected = metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert report.average("f1") == pytest.approx(expected)


def test_baselines_always_n_and_class_prior_guess():
    counts = [18_117, 556, 1_447, 161, 1_608]  # the intra test fold
    n = sum(counts)
    always_n = aami_report(always_majority(counts), CLASSES)
    assert always_n.accuracy == pytest.approx(counts[0] / n)
    assert always_n.per_class["N"].se == 1.0 and always_n.average("se") == pytest.approx(0.2)
    n_f1 = 2 * counts[0] / (n + counts[0])  # the only class it ever predicts
    assert always_n.average("f1") == pytest.approx(n_f1 / 5)  # the others score 0, not "-"
    prior = [c / n for c in counts]
    guess = aami_report(prior_guess(counts, prior), CLASSES)
    assert guess.accuracy == pytest.approx(
        sum(c * p for c, p in zip(counts, prior, strict=True)) / n
    )
    assert guess.average("se") == pytest.approx(0.2)  # Se of each class is its prior
    assert guess.per_class["V"].ppv == pytest.approx(counts[2] / n)  # +P is the class's share
    with pytest.raises(ValueError, match="prior"):
        prior_guess(counts, [0, 0, 0, 0, 0])
