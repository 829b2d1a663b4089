"""AAMI EC57 / de Chazal reporting of a confusion matrix, and the baselines beside it.

For each class: sensitivity ``Se = TP / (TP + FN)``, positive predictivity
``+P = TP / (TP + FP)``, false-positive rate ``FPR = FP / (FP + TN)`` and ``F1`` (the harmonic
mean of Se and +P), read from one ``[true, predicted]`` confusion matrix; overall accuracy
over every beat. The averages (macro Se, +P, F1) run over the classes not ``left_out``: on
the inter-patient split (de Chazal 2004), Q is left out by convention, as DS2 holds only 7 Q
beats. A quantity whose denominator is zero (a class never predicted has no +P) is ``nan``,
shown as "-"; the averages count it as 0 and skip classes absent from the truth, as the
engine's macro metrics and scikit-learn (``zero_division=0``) do.

Baselines, on the same test fold: **always N** predicts the majority class for every beat;
**class-prior guess** draws each prediction from the training fold's class frequencies. Its
confusion matrix is the expected one, ``n_true[i] * prior[j]``, so it needs no random draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: The AAMI names of the five classes, for reports.
AAMI_NAMES = {"N": "N", "S": "S (SVEB)", "V": "V (VEB)", "F": "F", "Q": "Q"}
#: Per-class quantities, in report order.
QUANTITIES = ("se", "ppv", "fpr", "f1")


@dataclass(frozen=True)
class ClassReport:
    """Se, +P, FPR and F1 of one class (``nan`` where undefined) and its beat counts."""

    se: float
    ppv: float
    fpr: float
    f1: float
    support: float
    predicted: float


@dataclass(frozen=True)
class AamiReport:
    """Per-class reports, overall accuracy and the averages over the classes not left out."""

    classes: tuple[str, ...]
    per_class: dict[str, ClassReport]
    accuracy: float
    left_out: tuple[str, ...]

    def average(self, quantity: str) -> float:
        """Mean of ``quantity`` over the classes present in the truth and not left out.

        An undefined value counts as 0 (scikit-learn's ``zero_division=0``): a class the model
        never predicts scores no +P and no F1, so "always N" cannot look good on the average.
        """
        counted = [c for c in self.classes if c not in self.left_out and self.per_class[c].support]
        values = [getattr(self.per_class[c], quantity) for c in counted]
        return float(np.mean(np.nan_to_num(values, nan=0.0))) if values else math.nan

    def to_dict(self) -> dict[str, object]:
        """JSON form: ``{"accuracy", "macro_se", "macro_ppv", "macro_f1", "classes": {...}}``."""
        return {
            "accuracy": self.accuracy,
            "macro_se": self.average("se"),
            "macro_ppv": self.average("ppv"),
            "macro_f1": self.average("f1"),
            "left_out": list(self.left_out),
            "classes": {c: asdict(r) for c, r in self.per_class.items()},
        }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def aami_report(
    confusion: Sequence[Sequence[float]] | np.ndarray,
    classes: Sequence[str],
    *,
    left_out: Sequence[str] = (),
) -> AamiReport:
    """The AAMI report of ``confusion``: rows true class, columns predicted (counts or means)."""
    cm = np.asarray(confusion, dtype=np.float64)
    if cm.shape != (len(classes), len(classes)):
        raise ValueError(f"confusion matrix {cm.shape} does not match {len(classes)} classes")
    unknown = sorted(set(left_out) - set(classes))
    if unknown:
        raise ValueError(f"left_out names unknown classes {unknown}; classes are {list(classes)}")
    total = cm.sum()
    per_class = {}
    for i, name in enumerate(classes):
        tp = cm[i, i]
        support, predicted = cm[i].sum(), cm[:, i].sum()
        fn, fp = support - tp, predicted - tp
        tn = total - tp - fn - fp
        se, ppv = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
        if math.isnan(se) or math.isnan(ppv):
            f1 = math.nan
        else:
            f1 = _ratio(2 * se * ppv, se + ppv) if se + ppv else 0.0
        per_class[name] = ClassReport(
            se=se, ppv=ppv, fpr=_ratio(fp, fp + tn), f1=f1,
            support=float(support), predicted=float(predicted),
        )  # fmt: skip
    accuracy = _ratio(float(np.trace(cm)), float(total))
    return AamiReport(tuple(classes), per_class, accuracy, tuple(left_out))


def always_majority(class_counts: Sequence[float], majority: int = 0) -> np.ndarray:
    """The confusion matrix of predicting class ``majority`` (N) for every beat."""
    counts = np.asarray(class_counts, dtype=np.float64)
    cm = np.zeros((len(counts), len(counts)))
    cm[:, majority] = counts
    return cm


def prior_guess(class_counts: Sequence[float], prior: Sequence[float]) -> np.ndarray:
    """The expected confusion matrix of guessing each beat's class from ``prior``."""
    counts = np.asarray(class_counts, dtype=np.float64)
    weights = np.asarray(prior, dtype=np.float64)
    if weights.shape != counts.shape or weights.sum() <= 0:
        raise ValueError("prior must give one non-negative weight per class, not all zero")
    return np.outer(counts, weights / weights.sum())
