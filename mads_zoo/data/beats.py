"""The value every dataset plugin returns: :class:`Beats`, labelled examples of one shape.

An example is a signal of ``C`` channels x ``L`` samples (any ``C`` and ``L`` the dataset
declares by the arrays it returns) plus, optionally, ``k`` named per-example features (e.g.
RR intervals). A dataset's ``load(data_dir)`` builds one ``Beats``; construction validates
it, so a plugin that returns malformed data fails inside its own ``load`` with one sentence
naming the problem.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from mads_zoo.data.spec import InputSignature
from mads_zoo.errors import DataError
from mads_zoo.specs import AAMI_CLASSES

#: Samples per beat of the Kaggle-compatible beats: the Kachuee et al. (2018) window
#: zero-padded to 187 at 125 Hz.
BEAT_LENGTH = 187

#: Values of :attr:`Beats.fold` a dataset may use to pin rows to a fold it ships itself.
FOLD_NAMES: tuple[str, ...] = ("train", "val", "test")

_ARRAY_FIELDS = ("x", "y", "record", "sample", "symbol", "fold", "features")


@dataclass(frozen=True, eq=False)
class Beats:
    """Labelled examples (heartbeats) plus where each one came from.

    Attributes:
        x: Signals, float32 array of shape ``(n, C, L)``: ``C`` channels (leads) of ``L``
            samples each, finite (how they are scaled is the dataset's documented choice).
            An array ``(n, L)`` is taken as one channel and stored as ``(n, 1, L)``.
        y: Labels, int64 array of shape ``(n,)`` in ``0..len(classes)-1``.
        record: Record id of each beat (str, e.g. ``"100"``); ``""`` where unknown.
            The ``inter`` split needs MIT-BIH record ids.
        sample: Sample index of the beat's R peak in its record, at the record's own rate
            (int64); ``-1`` where unknown (for file datasets: the row number in its file).
        symbol: The original annotation symbol (e.g. ``"L"``, ``"/"``); ``""`` where unknown.
        fold: ``None`` if the source has no fixed split, else one of :data:`FOLD_NAMES` per
            beat (e.g. the Kaggle files' train/test); splits then keep those rows where they are.
        classes: Class names, in label order.
        meta: Free-form JSON-ready facts about how the beats were made (e.g. beats dropped).
        features: ``None`` (no per-example features) or a finite float32 array ``(n, k)``.
        feature_names: The names of the ``k`` feature columns, unique, in column order.

    ``record``, ``sample`` and ``symbol`` default to "unknown" when not given.
    """

    x: np.ndarray
    y: np.ndarray
    record: np.ndarray | None = None
    sample: np.ndarray | None = None
    symbol: np.ndarray | None = None
    fold: np.ndarray | None = None
    classes: tuple[str, ...] = AAMI_CLASSES
    meta: Mapping[str, Any] = field(default_factory=dict)
    features: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        x, y = self.x, self.y
        if not isinstance(x, np.ndarray) or x.ndim not in (2, 3) or 0 in x.shape[1:]:
            raise DataError(
                "beats x must be an array of shape (n, channels, length) or (n, length), "
                f"got {_describe(x)}"
            )
        if x.dtype != np.float32:
            raise DataError(f"beats x must be float32, got {x.dtype}; use x.astype('float32')")
        n = len(x)
        if n == 0:
            raise DataError("beats x is empty; a dataset must return at least one beat")
        check_finite(x, "beats x")
        if x.ndim == 2:
            object.__setattr__(self, "x", x[:, None, :])
        if not isinstance(y, np.ndarray) or y.shape != (n,):
            raise DataError(f"labels y must have shape ({n},) like x, got {_describe(y)}")
        if y.dtype != np.int64:
            raise DataError(f"labels y must be int64, got {y.dtype}; use y.astype('int64')")
        classes = tuple(self.classes)
        outside = (y < 0) | (y >= len(classes))
        if outside.any():
            row = int(np.argmax(outside))
            raise DataError(
                f"labels must be in 0..{len(classes) - 1} ({' '.join(classes)}), "
                f"found {int(y[row])} in row {row}"
            )
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "record", _column(self.record, n, "record", str, ""))
        object.__setattr__(self, "sample", _column(self.sample, n, "sample", np.int64, -1))
        object.__setattr__(self, "symbol", _column(self.symbol, n, "symbol", str, ""))
        if self.fold is not None:
            fold = _column(self.fold, n, "fold", str, "")
            unknown = sorted(set(np.unique(fold).tolist()) - set(FOLD_NAMES))
            if unknown:
                raise DataError(f"fold values must be {'/'.join(FOLD_NAMES)}, found {unknown}")
            object.__setattr__(self, "fold", fold)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        self._check_features(n)

    def _check_features(self, n: int) -> None:
        names = tuple(self.feature_names)
        features = self.features
        if features is None:
            if names:
                raise DataError(f"beats name {len(names)} features but carry no features array")
            object.__setattr__(self, "feature_names", ())
            return
        if not isinstance(features, np.ndarray) or features.ndim != 2 or len(features) != n:
            raise DataError(f"beats features must have shape ({n}, k), got {_describe(features)}")
        if features.dtype != np.float32:
            raise DataError(f"beats features must be float32, got {features.dtype}")
        if len(names) != features.shape[1] or not all(isinstance(f, str) and f for f in names):
            raise DataError(
                f"beats carry {features.shape[1]} feature columns but {len(names)} feature "
                "names; give one non-empty name per column"
            )
        if len(set(names)) != len(names):
            raise DataError(f"beats feature names must be unique, got {list(names)}")
        check_finite(features, "beats features")
        object.__setattr__(self, "feature_names", names)

    @property
    def channels(self) -> int:
        """Channels (leads) of every example."""
        return int(self.x.shape[1])

    @property
    def length(self) -> int:
        """Samples per channel of every example."""
        return int(self.x.shape[2])

    @property
    def signature(self) -> InputSignature:
        """What one example is: channels, length and feature names."""
        return InputSignature(self.channels, self.length, self.feature_names)

    def feature_rows(self, rows: np.ndarray) -> np.ndarray:
        """The features of ``rows`` as ``(len(rows), k)`` float32 (``k`` may be 0)."""
        if self.features is None:
            return np.zeros((len(rows), 0), dtype=np.float32)
        picked: np.ndarray = self.features[rows]
        return picked

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> np.ndarray:
        """Beats per class, in label order."""
        return np.bincount(self.y, minlength=len(self.classes))

    @property
    def records(self) -> np.ndarray:
        """The record id of every beat (``""`` where unknown)."""
        assert self.record is not None  # filled in on construction
        return self.record

    @property
    def has_records(self) -> bool:
        """Whether every beat carries a record id (needed by record-wise splits)."""
        return bool((self.records != "").all())

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for :func:`numpy.savez` (the inverse of :meth:`from_arrays`)."""
        arrays = {n: getattr(self, n) for n in _ARRAY_FIELDS if getattr(self, n) is not None}
        arrays["classes"] = np.array(self.classes)
        arrays["meta"] = np.array(json.dumps(dict(self.meta), sort_keys=True))
        arrays["feature_names"] = np.array(self.feature_names, dtype=str)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Beats:
        """Rebuild the beats saved by :meth:`to_arrays`."""
        columns = {name: arrays[name] for name in _ARRAY_FIELDS if name in arrays}
        return cls(
            **columns,
            classes=tuple(str(c) for c in arrays["classes"]),
            meta=json.loads(str(arrays["meta"])),
            feature_names=tuple(str(f) for f in arrays.get("feature_names", ())),
        )


def check_finite(x: np.ndarray, where: str, unit: str = "row", first_row: int = 0) -> None:
    """Raise a :class:`DataError` unless every value of ``x`` is finite.

    The message starts with ``where`` (a file, a record) and names the first bad row, counted
    from ``first_row`` and called ``unit`` ("row", "line", "beat").
    """
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argmax(bad.reshape(len(x), -1).any(axis=1))) + first_row
        raise DataError(
            f"{where} has {int(bad.sum())} NaN or infinite values (first in {unit} {row}); "
            "drop or repair those rows"
        )


def check_values(x: np.ndarray, where: str, unit: str = "row", first_row: int = 0) -> None:
    """Raise a :class:`DataError` unless every value of ``x`` is finite and in [0, 1].

    The check of the Kaggle-compatible beats (scaled to [0, 1] by their recipe); the message
    is :func:`check_finite`'s.
    """
    check_finite(x, where, unit, first_row)
    outside = (x < 0.0) | (x > 1.0)
    if outside.any():
        row = int(np.argmax(outside.reshape(len(x), -1).any(axis=1))) + first_row
        raise DataError(
            f"{where}: beat values must be scaled to [0, 1], found values from "
            f"{float(x.min()):g} to {float(x.max()):g} (first outside in {unit} {row})"
        )


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _column(value: Any, n: int, name: str, dtype: Any, missing: Any) -> np.ndarray:
    if value is None:
        return np.full(n, missing, dtype=object if dtype is str else dtype).astype(dtype)
    column = np.asarray(value)
    if column.shape != (n,):
        raise DataError(f"beats {name} must have one entry per beat ({n}), got {_describe(column)}")
    if dtype is str:
        return column.astype(str)
    if not np.issubdtype(column.dtype, np.integer):
        raise DataError(f"beats {name} must be integers, got {column.dtype}")
    return column.astype(dtype, copy=False)
