"""The data side of the engine: datasets, splits, layouts, samplers on the training fold.

The main entry points::

    from mads_zoo.data import prepare_folds, load_beats, Beats
    from mads_zoo.data.spec import DataSpec

    folds = prepare_folds(DataSpec("mitbih", split="inter", sampler="smote"), layout="2d")
    model.fit(folds.train.x, folds.train.y, validation=(folds.val.x, folds.val.y))
    score(model, folds.final_test())          # once, at the very end

Names are imported on first use, so ``import mads_zoo.data`` (done by every ``mads-zoo list``
through the builtin plugin `mads_zoo.data.datasets`) loads neither numpy nor any reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mads_zoo.lazy import lazy_exports

if TYPE_CHECKING:
    from mads_zoo.data.beats import BEAT_LENGTH, Beats
    from mads_zoo.data.folds import Fold, Folds, load_beats, prepare_folds
    from mads_zoo.data.layout import to_layout
    from mads_zoo.data.splits import SPLITS, SplitRows, split_rows

_EXPORTS = {
    "BEAT_LENGTH": "beats",
    "Beats": "beats",
    "Fold": "folds",
    "Folds": "folds",
    "load_beats": "folds",
    "prepare_folds": "folds",
    "to_layout": "layout",
    "SPLITS": "splits",
    "SplitRows": "splits",
    "split_rows": "splits",
}

__all__ = [
    "BEAT_LENGTH",
    "SPLITS",
    "Beats",
    "Fold",
    "Folds",
    "SplitRows",
    "load_beats",
    "prepare_folds",
    "split_rows",
    "to_layout",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
