"""Classification metrics over a whole split (never averaged per batch).

"Macro recall" is the seed report's ``recallmacro``: the unweighted mean of per-class recall,
the headline number for an imbalanced task where accuracy is dominated by class N.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


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


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro recall/precision/F1, per-class recall/precision/F1 and the confusion matrix.

    Classes absent from ``y_true`` are left out of the macro averages (their recall is
    undefined); a class never predicted has precision 0.
    """
    num_classes = len(class_names)
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    hits = np.diag(cm)
    recall = _safe_divide(hits, support)
    precision = _safe_divide(hits, predicted)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    present = support > 0
    total = int(cm.sum())
    return {
        "n": total,
        "accuracy": float(hits.sum() / total) if total else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "recall": dict(zip(class_names, map(float, recall), strict=True)),
        "precision": dict(zip(class_names, map(float, precision), strict=True)),
        "f1": dict(zip(class_names, map(float, f1), strict=True)),
        "support": dict(zip(class_names, map(int, support), strict=True)),
        "confusion": cm.tolist(),
    }
