"""The one metric engine (AAMI / de Chazal rules) against scikit-learn, and the baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics

from mads_zoo.metrics import (
    MetricName,
    Metrics,
    always_majority,
    confusion_matrix,
    prior_guess,
)

CLASSES = ("N", "S", "V", "F", "Q")


def _predictions(seed=0, n=3_000):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(5, size=n, p=[0.8, 0.05, 0.08, 0.02, 0.05])
    noisy = rng.random(n) < 0.3
    y_pred = np.where(noisy, rng.integers(0, 5, size=n), y_true)
    return y_true, y_pred


def test_per_class_se_ppv_f1_fpr_and_accuracy_match_scikit_learn():
    y_true, y_pred = _predictions()
    report = Metrics.of_labels(y_true, y_pred, CLASSES)
    labels = list(range(5))
    se = metrics.recall_score(y_true, y_pred, labels=labels, average=None)
    ppv = metrics.precision_score(y_true, y_pred, labels=labels, average=None)
    f1 = metrics.f1_score(y_true, y_pred, labels=labels, average=None)
    (tn, fp, _, _) = (
        metrics.multilabel_confusion_matrix(y_true, y_pred, labels=labels).reshape(5, 4).T
    )
    for i, name in enumerate(CLASSES):
        got = report.per_class[name]
        assert got.recall == pytest.approx(se[i]) and got.precision == pytest.approx(ppv[i])
        assert got.f1 == pytest.approx(f1[i]) and got.fpr == pytest.approx(fp[i] / (fp[i] + tn[i]))
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert report.macro_recall == pytest.approx(
        metrics.recall_score(y_true, y_pred, average="macro")
    )
    assert report.macro_f1 == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro"))
    assert report.value(MetricName.MACRO_F1) == report.macro_f1


def test_the_inter_convention_leaves_q_out_of_the_averages_only():
    y_true, y_pred = _predictions(seed=1)
    cm = confusion_matrix(y_true, y_pred, 5)
    report = Metrics.of_matrix(cm, CLASSES, left_out=("Q",))
    four = [0, 1, 2, 3]
    assert report.macro_recall == pytest.approx(
        metrics.recall_score(y_true, y_pred, labels=four, average="macro")
    )
    assert report.macro_precision == pytest.approx(
        metrics.precision_score(y_true, y_pred, labels=four, average="macro")
    )
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))  # all beats
    assert report.left_out == ("Q",)
    assert Metrics.of_matrix(cm, CLASSES).macro_recall == pytest.approx(
        metrics.recall_score(y_true, y_pred, average="macro")
    )
    with pytest.raises(ValueError, match="unknown classes"):
        Metrics.of_matrix(cm, CLASSES, left_out=("X",))


def test_a_class_never_predicted_has_no_positive_predictivity():
    cm = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 0, 0, 2]), 3)
    report = Metrics.of_matrix(cm, ("N", "S", "V"))
    assert math.isnan(report.per_class["S"].precision) and math.isnan(report.per_class["S"].f1)
    assert report.per_class["S"].recall == 0.0
    assert report.macro_precision == pytest.approx((2 / 3 + 0 + 1) / 3)  # S counts 0
    y_true, y_pred = [0, 0, 1, 2], [0, 0, 0, 2]
    expected = metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert report.macro_f1 == pytest.approx(expected)


def test_baselines_always_n_and_class_prior_guess():
    counts = [18_117, 556, 1_447, 161, 1_608]  # the intra test fold
    n = sum(counts)
    always_n = Metrics.of_matrix(always_majority(counts), CLASSES)
    assert always_n.accuracy == pytest.approx(counts[0] / n)
    assert always_n.per_class["N"].recall == 1.0 and always_n.macro_recall == pytest.approx(0.2)
    n_f1 = 2 * counts[0] / (n + counts[0])  # the only class it ever predicts
    assert always_n.macro_f1 == pytest.approx(n_f1 / 5)  # the others score 0, not "-"
    prior = [c / n for c in counts]
    guess = Metrics.of_matrix(prior_guess(counts, prior), CLASSES)
    assert guess.accuracy == pytest.approx(
        sum(c * p for c, p in zip(counts, prior, strict=True)) / n
    )
    assert guess.macro_recall == pytest.approx(0.2)  # Se of each class is its prior
    assert guess.per_class["V"].precision == pytest.approx(counts[2] / n)  # +P: the class share
    with pytest.raises(ValueError, match="prior"):
        prior_guess(counts, [0, 0, 0, 0, 0])


def test_metrics_by_hand_and_classes_absent_from_the_truth_are_left_out():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 4])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 2, 2, 3, 0])
    m = Metrics.of_labels(y_true, y_pred, CLASSES)
    assert m.accuracy == pytest.approx(7 / 10) and m.n == 10
    recall = {c: m.per_class[c].recall for c in CLASSES}
    assert recall == pytest.approx({"N": 0.75, "S": 0.5, "V": 1.0, "F": 1.0, "Q": 0.0})
    assert m.per_class["N"].precision == pytest.approx(3 / 5)
    assert m.macro_recall == pytest.approx((0.75 + 0.5 + 1 + 1 + 0) / 5)
    assert m.confusion[4] == (1, 0, 0, 0, 0) and m.per_class["N"].support == 4
    absent = Metrics.of_labels(np.array([0, 0, 1]), np.array([0, 0, 1]), CLASSES)
    assert absent.macro_recall == 1.0 and math.isnan(absent.per_class["Q"].recall)


def test_labels_outside_the_classes_are_an_error_not_a_count():
    with pytest.raises(ValueError, match="holds 7, outside the 5 classes"):
        confusion_matrix(np.array([0, 1]), np.array([0, 7]), 5)


def test_ec57_gross_statistics_spare_fusion_and_unknown_beats_called_ectopic():
    from mads_zoo.metrics import ec57_gross

    cm = np.zeros((5, 5))
    cm[0, 0], cm[1, 1], cm[2, 2] = 100, 10, 20  # N S V right
    cm[3, 2], cm[4, 2], cm[0, 2] = 5, 1, 2  # F, Q and N beats called V
    cm[4, 1], cm[0, 1] = 3, 4  # Q and N beats called S
    metrics = Metrics.of_matrix(cm, ("N", "S", "V", "F", "Q"))
    gross = ec57_gross(metrics)
    veb, sveb = gross["V"], gross["S"]
    assert metrics.per_class["V"].precision == pytest.approx(20 / 28)  # one-vs-rest
    assert veb.ppv == pytest.approx(20 / 22) and veb.se == 1.0  # Fv and Qv are not FPs
    assert veb.fpr == pytest.approx(2 / (117 + 2))  # TN: other rows, not called V (bxb's VTN)
    assert metrics.per_class["S"].precision == pytest.approx(10 / 17)
    assert sveb.ppv == pytest.approx(10 / 14)  # Qs is not an SVEB false positive
    assert ec57_gross(Metrics.of_matrix([[1, 0], [0, 1]], ("N", "S"))) == {}
