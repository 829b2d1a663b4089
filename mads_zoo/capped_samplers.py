"""SMOTE and ADASYN whose neighbour count shrinks to fit the rarest class.

Both need more beats in a class than neighbours (default 5); the inter split's DS1 has only 8
Q beats, so a validation carve-out can leave fewer than 6 in training and plain imbalanced-learn
would fail. These subclasses use ``min(neighbours, rarest class - 1)`` (at least 1) for that
one call and are otherwise the imbalanced-learn samplers (same repr, params, results).
Imported only when such a sampler is built: this module imports imbalanced-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from imblearn import over_sampling


def _capped(sampler: Any, option: str, X: Any, y: Any, fit: Any) -> Any:
    wanted = getattr(sampler, option)
    if not isinstance(wanted, int):  # a NearestNeighbors object: the caller chose, keep it
        return fit(X, y)
    rarest = int(np.unique(np.asarray(y), return_counts=True)[1].min())
    setattr(sampler, option, max(1, min(wanted, rarest - 1)))
    try:
        return fit(X, y)
    finally:
        setattr(sampler, option, wanted)


class SMOTE(over_sampling.SMOTE):
    """imbalanced-learn's SMOTE with ``k_neighbors`` capped at the rarest class size - 1."""

    def _fit_resample(self, X: Any, y: Any) -> Any:
        return _capped(self, "k_neighbors", X, y, super()._fit_resample)


class ADASYN(over_sampling.ADASYN):
    """imbalanced-learn's ADASYN with ``n_neighbors`` capped at the rarest class size - 1."""

    def _fit_resample(self, X: Any, y: Any) -> Any:
        return _capped(self, "n_neighbors", X, y, super()._fit_resample)
