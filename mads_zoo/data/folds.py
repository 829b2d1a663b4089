"""The one call the run core and the harness make to get data: :func:`prepare_folds`.

dataset -> beats -> split (validation carved before resampling) -> sampler on the training
fold only -> layout. The test fold is kept apart behind :meth:`Folds.final_test`, so that only
the final evaluation reads it; :meth:`Folds.for_run` gives a bench run only what it may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mads_zoo.data.beats import Beats
from mads_zoo.data.layout import check_layout, to_layout
from mads_zoo.data.resample import Examples, resample
from mads_zoo.data.spec import DataSpec, InputSignature
from mads_zoo.data.splits import check_split, split_rows
from mads_zoo.errors import DataError, DataNotFoundError, MadsZooError, PluginError, one_line
from mads_zoo.registry import get_registry


def load_beats(dataset: str = "mitbih", data_dir: Path | str | None = None) -> Beats:
    """The beats of the registered ``dataset``, checked against its declared classes.

    ``data_dir`` is handed to the dataset's ``load`` (``None``: its default place).
    """
    spec = get_registry().dataset(dataset)
    try:
        beats = spec.load(None if data_dir is None else Path(data_dir))
    except (DataError, DataNotFoundError) as error:
        raise type(error)(f"dataset {dataset!r}: {error}") from error
    except MadsZooError:
        raise
    except Exception as error:
        raise PluginError(f"dataset {dataset!r} failed to load: {one_line(error)}") from error
    if not isinstance(beats, Beats):
        raise PluginError(
            f"dataset {dataset!r}: load returned a {type(beats).__name__}, "
            "expected a mads_zoo.data.Beats"
        )
    if beats.classes != spec.classes:
        raise PluginError(
            f"dataset {dataset!r} declares classes {spec.classes} but its beats have "
            f"{beats.classes}"
        )
    return beats


@dataclass(frozen=True, eq=False)
class Fold:
    """One fold, ready for a model: ``x`` in the layout's shape, ``y`` int64 labels.

    ``features`` are the per-example features ``(n, k)`` float32 (``k`` is 0 for a dataset
    without any). ``rows`` are the rows of :attr:`Folds.beats` the fold was taken from
    (provenance); ``None`` for a resampled training fold, whose synthetic rows come from no beat.
    """

    x: np.ndarray
    y: np.ndarray
    rows: np.ndarray | None = None
    features: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.features is None:
            object.__setattr__(self, "features", np.zeros((len(self.y), 0), dtype=np.float32))

    @property
    def feature_array(self) -> np.ndarray:
        """``features`` as ``(n, k)`` float32 (filled in on construction)."""
        assert self.features is not None
        return self.features

    def __len__(self) -> int:
        return len(self.y)

    def counts(self, num_classes: int) -> np.ndarray:
        """Beats per class, in label order."""
        return np.bincount(self.y, minlength=num_classes)


@dataclass(frozen=True)
class FoldCounts:
    """Beats per class name of each fold: training (before resampling), validation, test."""

    train: Mapping[str, int]
    val: Mapping[str, int]
    test: Mapping[str, int]


def class_counts(labels: np.ndarray, classes: tuple[str, ...]) -> dict[str, int]:
    """Beats per class name among ``labels`` (class indices)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    return {name: int(n) for name, n in zip(classes, counts, strict=True)}


class SealedTestFold(RuntimeError):
    """The test fold was asked of folds given to a run that may not see it (a bug)."""


@dataclass(frozen=True, eq=False)
class Folds:
    """Train (resampled), validation and, held apart, test folds of one :class:`DataSpec`.

    Attributes:
        spec: The dataset, split, sampler, seed and validation share they were made from.
        layout: The input layout of every fold's ``x``.
        signature: What one example is (channels, length, feature names).
        classes: Class names, in label order.
        train: The training fold after the sampler (the only fold a sampler ever saw).
        val: The validation fold, carved from the training part before resampling.
        train_rows: Rows of the training fold before resampling (``len``: unresampled size).
        val_strategy: How the validation rows were chosen, in words.
        beats: The dataset's beats, for provenance (record, sample, symbol of any row);
            ``None`` in the folds handed to a bench run.
    """

    spec: DataSpec
    layout: str
    signature: InputSignature
    classes: tuple[str, ...]
    train: Fold
    val: Fold
    train_rows: np.ndarray
    val_strategy: str
    _test: Fold | None = field(repr=False)
    beats: Beats | None = field(default=None, repr=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, without the batch (e.g. ``(1, 187)``)."""
        return tuple(self.train.x.shape[1:])

    @property
    def train_size_before(self) -> int:
        """Beats in the training fold before resampling."""
        return len(self.train_rows)

    def final_test(self) -> Fold:
        """The held-out test fold. Only the final evaluation of a chosen model may read it."""
        if self._test is None:
            raise SealedTestFold("these folds were made for a tuning run: no test fold")
        return self._test

    def for_run(self, with_test: bool) -> Folds:
        """What one bench run gets: no provenance, and the test fold only when ``with_test``."""
        return replace(self, beats=None, _test=self._test if with_test else None)

    def counts(self) -> FoldCounts:
        """Beats per class of the training fold before resampling, validation and test."""
        if self.beats is None:
            raise SealedTestFold("these folds were made for a run: they hold no provenance")
        return FoldCounts(
            train=class_counts(self.beats.y[self.train_rows], self.classes),
            val=class_counts(self.val.y, self.classes),
            test=class_counts(self.final_test().y, self.classes),
        )

    def resampled_counts(self) -> dict[str, int]:
        """Beats per class of the training fold after the sampler."""
        return class_counts(self.train.y, self.classes)


def _fold(beats: Beats, rows: np.ndarray, layout: str) -> Fold:
    return Fold(to_layout(beats.x[rows], layout), beats.y[rows], rows, beats.feature_rows(rows))


def prepare_folds(spec: DataSpec, layout: str = "1d", data_dir: Path | str | None = None) -> Folds:
    """Load ``spec``'s dataset, split it, resample the training fold, shape every fold.

    Args:
        spec: The dataset (``mads-zoo list datasets``), split (``intra`` or ``inter``),
            sampler (``mads-zoo list samplers``), seed (the split, the validation carve-out
            and the sampler) and validation share (before resampling).
        layout: ``"1d"`` (n, C, L) or ``"2d"`` (n, C, H, W); MIT-BIH's Kaggle-compatible
            beats: (n, 1, 187) and (n, 1, 16, 12).
        data_dir: Where the dataset's files are (default: ``MADS_ZOO_DATA_DIR``, then cache).

    Every name is checked before any data is read; unknown names raise
    :class:`~mads_zoo.errors.UnknownNameError` with a "did you mean".
    """
    registry = get_registry()
    dataset = registry.dataset(spec.dataset)
    check_split(spec.split)
    sampler = registry.sampler(spec.sampler)
    check_layout(layout)
    beats = load_beats(spec.dataset, data_dir)
    try:
        rows = split_rows(beats, spec.split, seed=spec.seed, val_fraction=spec.val_fraction)
    except DataError as error:
        raise DataError(f"dataset {spec.dataset!r}: {error}") from error
    before = Examples(beats.x[rows.train], beats.feature_rows(rows.train), beats.y[rows.train])
    after = resample(before, sampler, spec.resample_seed, tag=f"{spec.dataset}-{spec.split}")
    return Folds(
        spec=spec,
        layout=layout,
        signature=beats.signature,
        classes=dataset.classes,
        train=Fold(
            to_layout(after.x, layout),
            after.y,
            rows.train if after is before else None,
            after.features,
        ),
        val=_fold(beats, rows.val, layout),
        train_rows=rows.train,
        val_strategy=rows.val_strategy,
        _test=_fold(beats, rows.test, layout),
        beats=beats,
    )
