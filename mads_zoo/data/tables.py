"""Beats from tables of rows (187 values and a label), shared by the file-based datasets.

Each file is checked on its own so that an error names the file and the row: wrong width,
text where numbers belong, missing or NaN values, labels that are not 0..4, values outside
[0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mads_zoo.data.beats import BEAT_LENGTH, Beats, check_values
from mads_zoo.errors import DataError
from mads_zoo.specs import AAMI_CLASSES


@dataclass(frozen=True, eq=False)
class TablePart:
    """The rows read from one file, and the fold the file stands for."""

    path: Path
    fold: str
    values: np.ndarray  # (n, 187) float
    labels: np.ndarray  # (n,) float
    first_row: int = 0  # number of the first data row in messages
    unit: str = "row"  # what messages call a row ("line" for text files)


def _check(part: TablePart, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    name, values, labels = part.path.name, part.values, part.labels
    if values.ndim != 2 or values.shape[1] != BEAT_LENGTH:
        width = values.shape[1] if values.ndim == 2 else 0
        raise DataError(
            f"{name} has {width} beat values per row, expected {BEAT_LENGTH} "
            f"(187 values + the label); is it the right file?"
        )
    if len(values) == 0:
        raise DataError(f"{name} has no rows")
    bad = ~np.isfinite(values)
    bad_labels = ~np.isfinite(labels)
    if bad.any() or bad_labels.any():
        rows = np.flatnonzero(bad.any(axis=1) | bad_labels)
        raise DataError(
            f"{name} has {len(rows)} rows with missing or NaN values "
            f"(first: {part.unit} {rows[0] + part.first_row}); drop or repair them"
        )
    as_int = np.rint(labels)
    wrong = (as_int != labels) | (as_int < 0) | (as_int >= len(classes))
    if wrong.any():
        row = int(np.argmax(wrong))
        where = f"{part.unit} {row + part.first_row}"
        raise DataError(
            f"{name}: label {labels[row]:g} in {where} is not an integer in "
            f"0..{len(classes) - 1} ({' '.join(classes)})"
        )
    check_values(values, name, part.unit, part.first_row)
    return values.astype(np.float32), as_int.astype(np.int64)


def beats_from_tables(parts: list[TablePart], classes: tuple[str, ...] = AAMI_CLASSES) -> Beats:
    """Join checked file parts into one :class:`Beats`, each row remembering its file's fold.

    Provenance: ``sample`` is the row number in the file; ``record`` and ``symbol`` are unknown
    (``""``), so record-wise splits (``inter``) are not available.
    """
    checked = [_check(part, classes) for part in parts]
    n = [len(y) for _, y in checked]
    return Beats(
        x=np.concatenate([x for x, _ in checked]),
        y=np.concatenate([y for _, y in checked]),
        sample=np.concatenate([np.arange(k) + p.first_row for k, p in zip(n, parts, strict=True)]),
        fold=np.concatenate([np.full(k, p.fold) for k, p in zip(n, parts, strict=True)]),
        classes=classes,
        meta={"files": {p.fold: str(p.path) for p in parts}},
    )
