"""The one metric engine: every figure comes from one confusion matrix, AAMI EC57 style.

A :class:`Metrics` holds a ``[true, predicted]`` confusion matrix over a **whole** split (never
averaged per batch) and derives everything else from it. For each class (:class:`ClassMetrics`):
``recall`` (AAMI's sensitivity, Se) ``= TP / (TP + FN)``, ``precision`` (positive
predictivity, +P) ``= TP / (TP + FP)``, the false-positive rate ``FPR = FP / (FP + TN)`` and
``f1``, their harmonic mean. Overall: ``accuracy`` over every beat, and the macro averages
``macro_recall``, ``macro_precision`` and ``macro_f1`` over the classes present in the truth
and not ``left_out`` (on the inter-patient split Q is left out by convention: DS2 holds 7 Q
beats). A figure whose denominator is zero is ``nan`` (a class never predicted has no
precision, shown as "-"); the averages count it as 0, as scikit-learn's ``zero_division=0``
does, so a model that never predicts a class cannot look good on the average.

The metric a run monitors, the bench tunes and selects on, and the reports show are the same
properties of this class, named by :class:`MetricName`. Baselines on the same fold:
:func:`always_majority` (predict N for every beat) and :func:`prior_guess` (the expected
confusion matrix of guessing from the training fold's class shares).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import ClassVar

import numpy as np


class MetricName(StrEnum):
    """A metric a run can monitor and a bench can tune and select on (its one spelling)."""

    ACCURACY = "accuracy"
    MACRO_F1 = "macro_f1"
    MACRO_RECALL = "macro_recall"
    MACRO_PRECISION = "macro_precision"


#: Per-class figures, in report order, with the titles AAMI EC57 gives them.
CLASS_FIGURES: dict[str, str] = {"recall": "Se", "precision": "+P", "fpr": "FPR", "f1": "F1"}
#: The AAMI names of the five classes, for reports.
AAMI_NAMES = {"N": "N", "S": "S (SVEB)", "V": "V (VEB)", "F": "F", "Q": "Q"}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` as an int64 ``(num_classes, num_classes)`` array.

    Labels outside ``0..num_classes-1`` are a :class:`ValueError`, never a count in a wrong cell.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        outside = (labels < 0) | (labels >= num_classes)
        if outside.any():  # it would land in another class's cell
            raise ValueError(
                f"{name} holds {int(labels[outside][0])}, outside the {num_classes} classes"
            )
    flat = y_true * num_classes + y_pred
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


@dataclass(frozen=True)
class ClassMetrics:
    """One class's recall (Se), precision (+P), FPR and F1 (``nan`` where undefined)."""

    recall: float
    precision: float
    fpr: float
    f1: float
    support: float
    predicted: float

    def figure(self, name: str) -> float:
        """The figure ``name`` (a key of :data:`CLASS_FIGURES`)."""
        value: float = getattr(self, name)
        return value


def _class_metrics(cm: np.ndarray, i: int, total: float) -> ClassMetrics:
    tp = float(cm[i, i])
    support, predicted = float(cm[i].sum()), float(cm[:, i].sum())
    fn, fp = support - tp, predicted - tp
    tn = total - tp - fn - fp
    recall, precision = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
    if math.isnan(recall) or math.isnan(precision):
        f1 = math.nan
    else:
        f1 = _ratio(2 * recall * precision, recall + precision) if recall + precision else 0.0
    return ClassMetrics(recall, precision, _ratio(fp, fp + tn), f1, support, predicted)


@dataclass(frozen=True)
class Metrics:
    """Classification metrics of one whole split, all derived from its confusion matrix.

    Attributes:
        classes: Class names, in label order.
        confusion: ``[true][predicted]`` counts (or, for summed or expected matrices, sums
            and expectations).
        left_out: Classes left out of the macro averages (Q on the inter-patient split).
        loss: Mean cross-entropy over the split, when the metrics come from a model's logits.
    """

    classes: tuple[str, ...]
    confusion: tuple[tuple[float, ...], ...]
    left_out: tuple[str, ...] = ()
    loss: float | None = None

    #: Derived figures written beside the fields for readers of the JSON form.
    DERIVED: ClassVar[tuple[str, ...]] = (
        "n",
        "accuracy",
        "macro_f1",
        "macro_recall",
        "macro_precision",
        "per_class",
    )

    def __post_init__(self) -> None:
        k = len(self.classes)
        if k < 2 or any(len(row) != k for row in self.confusion) or len(self.confusion) != k:
            raise ValueError(f"the confusion matrix does not match the {k} classes {self.classes}")
        unknown = sorted(set(self.left_out) - set(self.classes))
        if unknown:
            raise ValueError(
                f"left_out names unknown classes {unknown}; classes are {self.classes}"
            )

    @classmethod
    def of_matrix(
        cls,
        confusion: np.ndarray | Sequence[Sequence[float]],
        classes: Sequence[str],
        *,
        left_out: Sequence[str] = (),
        loss: float | None = None,
    ) -> Metrics:
        """The metrics of ``confusion`` (rows true class, columns predicted)."""
        rows = tuple(tuple(_plain_number(v) for v in row) for row in np.asarray(confusion))
        return cls(tuple(classes), rows, tuple(left_out), loss)

    @classmethod
    def of_labels(
        cls,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        classes: Sequence[str],
        *,
        left_out: Sequence[str] = (),
        loss: float | None = None,
    ) -> Metrics:
        """The metrics of predictions ``y_pred`` against labels ``y_true`` (class indices)."""
        cm = confusion_matrix(y_true, y_pred, len(classes))
        return cls.of_matrix(cm, classes, left_out=left_out, loss=loss)

    @cached_property
    def matrix(self) -> np.ndarray:
        """The confusion matrix as a float64 array."""
        return np.asarray(self.confusion, dtype=np.float64)

    @property
    def n(self) -> int:
        """Beats in the split."""
        return round(float(self.matrix.sum()))

    @cached_property
    def per_class(self) -> dict[str, ClassMetrics]:
        """Each class's figures, by class name."""
        total = float(self.matrix.sum())
        return {name: _class_metrics(self.matrix, i, total) for i, name in enumerate(self.classes)}

    @property
    def accuracy(self) -> float:
        """Share of beats predicted right (``nan`` for an empty split)."""
        return _ratio(float(np.trace(self.matrix)), float(self.matrix.sum()))

    def macro(self, figure: str) -> float:
        """Mean of the per-class ``figure`` over the classes present and not left out.

        An undefined value counts as 0; ``nan`` when no class is counted.
        """
        counted = [c for c in self.classes if c not in self.left_out and self.per_class[c].support]
        values = [self.per_class[c].figure(figure) for c in counted]
        return float(np.mean(np.nan_to_num(values, nan=0.0))) if values else math.nan

    @property
    def macro_recall(self) -> float:
        """Mean recall (Se) over the classes counted: the seed report's ``recallmacro``."""
        return self.macro("recall")

    @property
    def macro_precision(self) -> float:
        """Mean precision (+P) over the classes counted."""
        return self.macro("precision")

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the classes counted: the bench's default selection metric."""
        return self.macro("f1")

    def value(self, name: MetricName) -> float:
        """The metric ``name``: what a run monitors and a bench tunes and selects on."""
        figure: float = getattr(self, MetricName(name).value)
        return figure


def _plain_number(value: float) -> float:
    """A matrix cell as a plain int when it is a whole count, else a float."""
    number = float(value)
    return int(number) if number.is_integer() else number


def summed(metrics: Sequence[Metrics]) -> Metrics:
    """The metrics of the cell-wise sum of several same-class matrices (e.g. over seeds)."""
    first = metrics[0]
    total = np.sum([m.matrix for m in metrics], axis=0)
    return Metrics.of_matrix(total, first.classes, left_out=first.left_out)


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


#: EC57's exceptions to one-vs-rest counting, as PhysioNet's reference comparator ``bxb``
#: (G. Moody, WFDB; ``print_results``) implements ANSI/AAMI EC57:1998's gross statistics: the
#: true classes whose beats, when called the event class, are **not** false positives. F and Q
#: beats called V are not VEB false positives; Q beats called S are not SVEB false positives.
EC57_NOT_FALSE_POSITIVE: dict[str, tuple[str, ...]] = {"V": ("F", "Q"), "S": ("Q",)}


@dataclass(frozen=True)
class GrossStatistics:
    """One event class's EC57 gross statistics (VEB: ``V``, SVEB: ``S``).

    ``se = TP / (TP + FN)`` as one-vs-rest; ``ppv = TP / (TP + FP)`` and
    ``fpr = FP / (TN + FP)`` with the false positives of :data:`EC57_NOT_FALSE_POSITIVE`
    left out, and TN every beat of another class not called the event (``bxb``'s ``VTN``).
    """

    event: str
    se: float
    ppv: float
    fpr: float


def ec57_gross(metrics: Metrics) -> dict[str, GrossStatistics]:
    """The VEB and SVEB gross statistics of ``metrics``; empty unless its classes are AAMI's."""
    if set(metrics.classes) != set(AAMI_NAMES):
        return {}
    cm, index = metrics.matrix, {c: i for i, c in enumerate(metrics.classes)}
    found = {}
    for event, exempt in EC57_NOT_FALSE_POSITIVE.items():
        e = index[event]
        others = [i for c, i in index.items() if c != event]
        counted = [index[c] for c in index if c != event and c not in exempt]
        tp, support = float(cm[e, e]), float(cm[e].sum())
        fp = float(cm[counted, e].sum())
        tn = float(cm[np.ix_(others, others)].sum())
        found[event] = GrossStatistics(
            event, _ratio(tp, support), _ratio(tp, tp + fp), _ratio(fp, tn + fp)
        )
    return found
