"""Train / validation / test rows of a dataset, by protocol (``intra`` or ``inter``).

The validation rows are always carved from the training part, before any resampling, and
never from the test part. Everything is seeded: the same beats, split and seed give the same
rows on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from mads_zoo.data.beats import Beats
from mads_zoo.data.records import DS1, DS2
from mads_zoo.errors import ConfigError, DataError, UnknownNameError

#: The split protocols, with one line each for help texts.
SPLITS: Mapping[str, str] = MappingProxyType(
    {
        "intra": "beats stratified by class, seeded 80/20 (or the dataset's own train/test files)",
        "inter": "de Chazal 2004: DS1 records train, DS2 records test, paced records left out",
    }
)

#: How many random record orders the record-wise validation carve-out searches.
RECORD_TRIES = 5000
#: Validation beats per class the record-wise carve-out aims for (where the records allow).
MIN_VAL_BEATS = 50
#: Record-wise validation aims to hold each class from this many records (patients)...
MIN_VAL_RECORDS = 3
#: ... each giving at least this many beats of it.
MIN_RECORD_BEATS = 5
#: Share of each class's beats that record-wise validation must leave for training.
MIN_TRAIN_SHARE = 0.5
#: Record-wise validation may take up to this many times ``val_fraction`` of the beats...
MAX_VAL_FRACTIONS = 2.0
#: ... and, to hold every class from several patients, at least this share of them.
SPREAD_SHARE = 0.2


@dataclass(frozen=True, eq=False)
class SplitRows:
    """Row indices into a :class:`~mads_zoo.data.Beats` for each fold, sorted and disjoint."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    val_strategy: str


#: Classes each split leaves out of the averages it reports (the AAMI convention: DS2 holds
#: only 7 Q beats, so de Chazal 2004 and its successors report N, S, V, F).
LEFT_OUT: Mapping[str, tuple[str, ...]] = MappingProxyType({"inter": ("Q",)})


def left_out_classes(split: str, classes: tuple[str, ...]) -> tuple[str, ...]:
    """Classes of ``classes`` that ``split``'s reported averages leave out."""
    return tuple(c for c in LEFT_OUT.get(split, ()) if c in classes)


def check_split(name: str) -> str:
    """``name`` if it is a known split; an :class:`UnknownNameError` otherwise."""
    if name not in SPLITS:
        raise UnknownNameError("split", name, SPLITS)
    return name


def check_fraction(name: str, value: float, high: float = 0.5) -> float:
    """``value`` if it is a fraction in ``(0, high]``; a :class:`ConfigError` otherwise."""
    if not 0.0 < value <= high:
        raise ConfigError(f"{name} must be a fraction above 0 and at most {high}, got {value}")
    return value


def stratified(
    rows: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` into ``(kept, taken)`` with ``taken`` holding ``fraction`` of each class."""
    taken = []
    for label in np.unique(y[rows]):
        members = rows[y[rows] == label]
        count = int(np.floor(fraction * len(members) + 0.5))
        taken.append(rng.permutation(members)[:count])
    picked = np.sort(np.concatenate(taken)) if taken else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(rows, picked), picked


def record_wise(
    beats: Beats, rows: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """Hold out whole records from ``rows`` as validation: ``(kept, taken)``, or ``None``.

    The aim is a validation fold that can select: every class from several patients and
    :data:`MIN_VAL_BEATS` beats of every class, where the records allow. Among the record
    subsets searched (every prefix of :data:`RECORD_TRIES` seeded random record orders) that
    keep at least :data:`MIN_TRAIN_SHARE` of every class for training and take at most
    ``max(MAX_VAL_FRACTIONS * fraction, SPREAD_SHARE)`` of the beats (patients matter more
    than beats: a small ``fraction`` still gets several), the one whose classes come from the most
    records (per class, the records giving :data:`MIN_RECORD_BEATS` beats of it, counted up
    to :data:`MIN_VAL_RECORDS`) wins, then the one with the most validation beats per class
    (each counted up to :data:`MIN_VAL_BEATS`); ties go to the subset whose share of the
    beats is closest to ``fraction``. ``None`` when no subset qualifies.
    """
    records, inverse = np.unique(beats.records[rows], return_inverse=True)
    labels = beats.y[rows]
    per_record = np.zeros((len(records), int(labels.max()) + 1))
    np.add.at(per_record, (inverse, labels), 1)
    totals = per_record.sum(axis=0)
    present = totals > 0
    best_score, best = np.inf, None
    for _ in range(RECORD_TRIES):
        order = rng.permutation(len(records))
        ordered = per_record[order][:, present]
        prefix = np.cumsum(ordered, axis=0)
        patients = np.cumsum(ordered >= MIN_RECORD_BEATS, axis=0)
        share = prefix.sum(axis=1) / totals.sum()
        keeps = (prefix <= (1 - MIN_TRAIN_SHARE) * totals[present]).all(axis=1)
        allowed = keeps & (share <= max(MAX_VAL_FRACTIONS * fraction, SPREAD_SHARE))
        coverage = np.minimum(prefix, MIN_VAL_BEATS).sum(axis=1)
        spread = np.minimum(patients, MIN_VAL_RECORDS).sum(axis=1)
        # whole records lead, then whole beats, then the share (below 1)
        score = np.abs(share - fraction) - coverage - spread * (MIN_VAL_BEATS * len(totals) + 1)
        score[~allowed] = np.inf
        k = int(np.argmin(score))
        if score[k] < best_score:
            best_score, best = score[k], order[: k + 1]
    if best is None:
        return None
    taken = np.isin(inverse, best)
    return rows[~taken], rows[taken]


def _intra(beats: Beats, seed: int, val_fraction: float, test_fraction: float) -> SplitRows:
    every = np.arange(len(beats))
    val_rng = np.random.default_rng([seed, 1])
    if beats.fold is None:
        pool, test = stratified(every, beats.y, test_fraction, np.random.default_rng([seed, 0]))
        pool, val = stratified(pool, beats.y, val_fraction, val_rng)
        return SplitRows(pool, val, test, f"stratified {val_fraction:g} of the training part")
    pool = every[beats.fold == "train"]
    test = every[beats.fold == "test"]
    val = every[beats.fold == "val"]
    if not len(pool) or not len(test):
        raise DataError("the dataset's own fold has no 'train' or no 'test' rows")
    if len(val):
        return SplitRows(pool, val, test, "the dataset's own validation rows")
    pool, val = stratified(pool, beats.y, val_fraction, val_rng)
    return SplitRows(pool, val, test, f"stratified {val_fraction:g} of the dataset's train file")


def _inter(beats: Beats, seed: int, val_fraction: float) -> SplitRows:
    if not beats.has_records:
        raise DataError(
            "split 'inter' needs the MIT-BIH record id of every beat and this dataset has none; "
            "use --split intra"
        )
    every = np.arange(len(beats))
    left_out = [beats.classes.index(c) for c in left_out_classes("inter", beats.classes)]
    trained = ~np.isin(beats.y, left_out)
    pool = every[np.isin(beats.records, DS1) & trained]
    test = every[np.isin(beats.records, DS2)]
    if not len(pool) or not len(test):
        raise DataError("split 'inter' found no beats from the DS1 or DS2 records")
    rng = np.random.default_rng([seed, 1])
    carved = record_wise(beats, pool, val_fraction, rng)
    if carved is not None:
        pool, val = carved
        held = ", ".join(np.unique(beats.records[val]))
        return SplitRows(pool, val, test, f"record-wise: DS1 records {held}")
    pool, val = stratified(pool, beats.y, val_fraction, rng)
    strategy = (
        f"stratified {val_fraction:g} of the DS1 beats (no set of whole DS1 records left "
        "every class on both sides)"
    )
    return SplitRows(pool, val, test, strategy)


def split_rows(
    beats: Beats,
    split: str = "intra",
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> SplitRows:
    """The train / validation / test rows of ``beats`` under ``split``.

    ``intra``: if the dataset fixes its own folds (:attr:`Beats.fold`) those are kept, else a
    class-stratified ``test_fraction`` of the beats is the test part. ``inter``: DS2 records are
    the test part, DS1 records the training part, every other record (the paced ones) is left
    out; the classes ``inter`` reports apart (:data:`LEFT_OUT`: Q, 8 DS1 beats) leave the
    training and validation folds (the test fold keeps them, reported apart). Validation:
    ``val_fraction`` of the training part, stratified (intra) or as whole DS1 records when
    every class survives on both sides (inter); see ``SplitRows.val_strategy``.
    """
    check_split(split)
    check_fraction("val_fraction", val_fraction)
    check_fraction("test_fraction", test_fraction)
    if split == "inter":
        rows = _inter(beats, seed, val_fraction)
    else:
        rows = _intra(beats, seed, val_fraction, test_fraction)
    return _none_empty(rows, len(beats), val_fraction)


def _none_empty(rows: SplitRows, total: int, val_fraction: float) -> SplitRows:
    """``rows`` if every fold has beats; a one-line :class:`DataError` otherwise."""
    part = len(rows.train) + len(rows.val)
    if not len(rows.test):
        raise DataError(f"the test fold is empty: {total:,} beats are too few to hold any out")
    if not len(rows.val):
        raise DataError(
            f"the validation fold is empty: the training part has too few beats ({part:,}) "
            f"to carve val_fraction {val_fraction:g} of any class from; use more data or a "
            "larger val_fraction"
        )
    if not len(rows.train):
        raise DataError(
            f"the training fold is empty: validation took all {part:,} beats of the training "
            f"part; use more data or a smaller val_fraction than {val_fraction:g}"
        )
    return rows
