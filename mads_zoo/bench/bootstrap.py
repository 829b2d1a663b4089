"""Test-sampling intervals: how much a finalist's test figures depend on the test beats drawn.

The seed spread of a finalist (mean ± t-interval over its final seeds) measures training
randomness only: every seed is scored on the same test fold. A different set of patients, or
of beats, would give other figures; the percentile bootstrap below estimates by how much.

- **Unit.** On the inter-patient split the patient is the unit (DS2's 22 records are drawn
  with replacement: beats of one patient are not independent); on ``intra`` the beat is.
- **Seeds.** Each draw resamples the units once and scores every seed's predictions on that
  same resample, then averages over the seeds, so the interval is around the seeds' mean.
- **Figures.** Accuracy, the macro averages and every class's Se and +P, all from
  :class:`~mads_zoo.metrics.Metrics` of the resampled confusion matrices (one metric engine).

Beats are resampled through their *patterns* (true class and each seed's prediction): drawing
``n`` beats with replacement is a multinomial draw over the patterns weighted by their counts,
which is exact and needs no per-beat loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mads_zoo.metrics import Metrics

#: What the bootstrap resamples, by split (the unit a reader should generalise over).
UNITS = {"inter": "record", "intra": "beat"}
#: Draws of the bootstrap (the 2.5th/97.5th percentiles of 2,000 draws are stable to ~0.002).
DRAWS = 2000
#: The characters that pack one predicted class per beat (36 classes at most).
_SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: The overall figures an interval is given for (properties of Metrics).
OVERALL = ("accuracy", "macro_f1", "macro_recall", "macro_precision")
#: The per-class figures an interval is given for (keys of ``ClassMetrics``).
PER_CLASS = ("recall", "precision")


def pack_labels(labels: np.ndarray) -> str:
    """Class indices as a string of one character each; ``""`` beyond 36 classes."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= len(_SYMBOLS)):
        return ""
    table = np.frombuffer(_SYMBOLS.encode(), dtype=np.uint8)
    packed: str = table[labels].tobytes().decode()
    return packed


def unpack_labels(text: str) -> np.ndarray:
    """The class indices :func:`pack_labels` packed."""
    codes = np.frombuffer(text.encode(), dtype=np.uint8).astype(np.int64)
    digits = codes - ord("0")
    return np.where(codes >= ord("a"), codes - ord("a") + 10, digits)


@dataclass(frozen=True)
class SamplingCI:
    """Percentile-bootstrap 95% intervals of a finalist's test figures (mean over its seeds).

    Attributes:
        unit: What was resampled: ``"record"`` (patients) or ``"beat"``.
        units: How many of them the test fold holds.
        seeds: Final seeds averaged in every draw.
        draws: Bootstrap draws.
        low: Each figure's 2.5th percentile: ``"accuracy"``, ``"macro_f1"``, ...,
            ``"S.recall"``, ``"S.precision"``, ...
        high: Each figure's 97.5th percentile.
    """

    unit: str
    units: int
    seeds: int
    draws: int
    low: dict[str, float]
    high: dict[str, float]

    def interval(self, figure: str, digits: int = 3) -> str:
        """``"0.871-0.925"``, or ``"-"`` when the figure is undefined in too many draws."""
        low, high = self.low.get(figure, math.nan), self.high.get(figure, math.nan)
        if math.isnan(low) or math.isnan(high):
            return "-"
        return f"{low:.{digits}f}-{high:.{digits}f}"


def _units(
    y: np.ndarray, predictions: Sequence[np.ndarray], groups: np.ndarray | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(weights, matrices)``: each unit's share and its per-seed confusion matrices.

    ``groups`` given: one unit per group (equal weights). ``None``: one unit per pattern of
    (true class, each seed's prediction), weighted by how many beats share it.
    """
    seeds = len(predictions)
    flat = np.stack([y * k + p for p in predictions])  # (seeds, n): cell of each beat per seed
    if groups is not None:
        names, unit = np.unique(groups, return_inverse=True)
        weights = np.full(len(names), 1.0 / len(names))
    else:
        patterns, unit = np.unique(flat, axis=1, return_inverse=True)
        weights = np.bincount(unit.ravel(), minlength=patterns.shape[1]) / len(y)
    unit = unit.ravel()
    matrices = np.zeros((len(weights), seeds, k * k))
    for s in range(seeds):
        np.add.at(matrices[:, s], (unit, flat[s]), 1.0)
    if groups is None:  # a pattern's matrix is that of one beat; the draw counts the beats
        matrices /= np.maximum(matrices.sum(axis=2, keepdims=True), 1.0)
    return weights, matrices.reshape(len(weights), seeds, k, k)


def _figures(
    matrix: np.ndarray, classes: tuple[str, ...], left_out: tuple[str, ...]
) -> dict[str, float]:
    metrics = Metrics.of_matrix(matrix, classes, left_out=left_out)
    figures = {name: float(getattr(metrics, name)) for name in OVERALL}
    for c in classes:
        for name in PER_CLASS:
            figures[f"{c}.{name}"] = metrics.per_class[c].figure(name)
    return figures


def sampling_ci(
    y: np.ndarray,
    predictions: Sequence[np.ndarray],
    classes: Sequence[str],
    *,
    groups: np.ndarray | None = None,
    left_out: Sequence[str] = (),
    draws: int = DRAWS,
    seed: int = 0,
) -> SamplingCI:
    """95% intervals of the seeds' mean test figures under resampling of the test units.

    Args:
        y: True class of every test beat.
        predictions: Each final seed's predicted class of every test beat (same order).
        classes: Class names, in label order.
        groups: The record of every beat, to resample patients; ``None`` resamples beats.
        left_out: Classes the macro averages leave out (Q on ``inter``).
        draws: Bootstrap draws.
        seed: The bootstrap's own seed (the interval is a pure function of the inputs).
    """
    y = np.asarray(y, dtype=np.int64)
    if not predictions or any(len(p) != len(y) for p in predictions):
        raise ValueError(f"every seed needs a prediction for each of the {len(y)} test beats")
    k, names, skip = len(classes), tuple(classes), tuple(left_out)
    weights, matrices = _units(y, [np.asarray(p, np.int64) for p in predictions], groups, k)
    total = len(weights) if groups is not None else len(y)
    counts = np.random.default_rng(seed).multinomial(total, weights, size=draws)
    resampled = np.einsum("du,uskl->dskl", counts.astype(np.float64), matrices)
    table: dict[str, list[float]] = {}
    for draw in resampled:
        per_seed = [_figures(matrix, names, skip) for matrix in draw]
        for name in per_seed[0]:
            table.setdefault(name, []).append(float(np.mean([f[name] for f in per_seed])))
    low, high = {}, {}
    for name, values in table.items():
        finite = np.asarray(values)[np.isfinite(values)]
        defined = len(finite) >= 0.95 * draws  # e.g. +P of a class some draws never predict
        low[name] = float(np.percentile(finite, 2.5)) if defined else math.nan
        high[name] = float(np.percentile(finite, 97.5)) if defined else math.nan
    unit = "record" if groups is not None else "beat"
    return SamplingCI(unit, total, len(predictions), draws, low, high)
