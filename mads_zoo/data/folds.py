"""The one call the trainer and the harness make: :func:`prepare_folds`.

dataset -> beats -> split (validation carved before resampling) -> sampler on the training
fold only -> layout. The test fold is kept apart behind :meth:`Folds.final_test`, so that only
the final evaluation reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mads_zoo.data.beats import Beats
from mads_zoo.data.layout import check_layout, to_layout
from mads_zoo.data.resample import resample
from mads_zoo.data.splits import check_fraction, check_split, split_rows
from mads_zoo.errors import DataError, DataNotFoundError, MadsZooError, PluginError
from mads_zoo.specs import Dataset, Sampler


def _registry_dataset(name: str) -> Dataset:
    from mads_zoo.registry import get_registry

    return get_registry().dataset(name)


def load_beats(dataset: str = "mitbih", data_dir: Path | str | None = None) -> Beats:
    """The beats of the registered ``dataset``, checked against its declared classes.

    ``data_dir`` is handed to the dataset's ``load`` (``None``: its default place).
    """
    spec = _registry_dataset(dataset)
    try:
        beats = spec.load(None if data_dir is None else Path(data_dir))
    except (DataError, DataNotFoundError) as error:
        raise type(error)(f"dataset {dataset!r}: {error}") from error
    except MadsZooError:
        raise
    except Exception as error:
        raise PluginError(
            f"dataset {dataset!r} failed to load: {type(error).__name__}: {error}"
        ) from error
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

    ``rows`` are the rows of :attr:`Folds.beats` the fold was taken from (provenance);
    ``None`` for a resampled training fold, whose synthetic rows come from no beat.
    """

    x: np.ndarray
    y: np.ndarray
    rows: np.ndarray | None

    def __len__(self) -> int:
        return len(self.y)

    def counts(self, num_classes: int) -> np.ndarray:
        """Beats per class, in label order."""
        return np.bincount(self.y, minlength=num_classes)


@dataclass(frozen=True, eq=False)
class Folds:
    """Train (resampled), validation and, held apart, test folds of one dataset and split.

    Attributes:
        train: The training fold after the sampler (the only fold a sampler ever saw).
        val: The validation fold, carved from the training part before resampling.
        train_rows: Rows of the training fold before resampling (``len`` = unresampled size).
        beats: The dataset's beats, for provenance (record, sample, symbol of any row).
        val_strategy: How the validation rows were chosen, in words.
    """

    dataset: str
    split: str
    sampler: str
    seed: int
    layout: str
    classes: tuple[str, ...]
    train: Fold
    val: Fold
    train_rows: np.ndarray
    beats: Beats = field(repr=False)
    val_strategy: str
    _test: Fold = field(repr=False)

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
        return self._test

    def counts(self) -> dict[str, np.ndarray]:
        """Beats per class of each fold: train before and after the sampler, val, test."""
        k = len(self.classes)
        return {
            "train": np.bincount(self.beats.y[self.train_rows], minlength=k),
            "val": self.val.counts(k),
            "test": self._test.counts(k),
            "train resampled": self.train.counts(k),
        }


def _fold(beats: Beats, rows: np.ndarray, layout: str) -> Fold:
    return Fold(to_layout(beats.x[rows], layout), beats.y[rows], rows)


def prepare_folds(
    dataset: str = "mitbih",
    split: str = "intra",
    sampler: str | Sampler = "none",
    *,
    seed: int = 0,
    layout: str = "1d",
    data_dir: Path | str | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> Folds:
    """Load ``dataset``, split it, resample the training fold and shape every fold for ``layout``.

    Args:
        dataset: A registered dataset (``mads-zoo list datasets``).
        split: ``"intra"`` or ``"inter"`` (:data:`mads_zoo.data.splits.SPLITS`).
        sampler: A registered sampler name, or a :class:`~mads_zoo.Sampler`.
        seed: Seeds the split, the validation carve-out and the sampler.
        layout: ``"1d"`` (n, 1, 187) or ``"2d"`` (n, 1, 16, 12).
        data_dir: Where the dataset's files are (default: ``MADS_ZOO_DATA_DIR``, then cache).
        val_fraction: Share of the training part held out for validation, before resampling.
        test_fraction: Share of the beats held out for test by ``intra`` (unless the dataset
            ships its own test file).

    Every name is checked before any data is read; unknown names raise
    :class:`~mads_zoo.errors.UnknownNameError` with a "did you mean".
    """
    from mads_zoo.registry import get_registry

    spec = _registry_dataset(dataset)
    check_split(split)
    sampler_spec = sampler if isinstance(sampler, Sampler) else get_registry().sampler(sampler)
    check_layout(layout)
    check_fraction("val_fraction", val_fraction)
    check_fraction("test_fraction", test_fraction)
    beats = load_beats(dataset, data_dir)
    try:
        rows = split_rows(
            beats, split, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
        )
    except DataError as error:
        raise DataError(f"dataset {dataset!r}: {error}") from error
    x_before = beats.x[rows.train]
    x_train, y_train = resample(
        x_before, beats.y[rows.train], sampler_spec, seed, tag=f"{dataset}-{split}"
    )
    return Folds(
        dataset=dataset,
        split=split,
        sampler=sampler_spec.name,
        seed=seed,
        layout=layout,
        classes=spec.classes,
        train=Fold(
            to_layout(x_train, layout), y_train, rows.train if x_train is x_before else None
        ),
        val=_fold(beats, rows.val, layout),
        train_rows=rows.train,
        beats=beats,
        val_strategy=rows.val_strategy,
        _test=_fold(beats, rows.test, layout),
    )
