"""Builtin samplers: imbalanced-learn resamplers for the training fold.

Registered through the same hook a third-party plugin uses. imbalanced-learn is imported
only when a sampler is built, so listing samplers stays fast.
"""

from __future__ import annotations

from typing import Any

from mads_zoo.hookspecs import Register, hookimpl
from mads_zoo.specs import Sampler


def _no_resampling(seed: int) -> None:
    return None


def _random_over(seed: int) -> Any:
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(random_state=seed)


def _random_under(seed: int) -> Any:
    from imblearn.under_sampling import RandomUnderSampler

    return RandomUnderSampler(random_state=seed)


def _smote(seed: int) -> Any:
    from mads_zoo.capped_samplers import SMOTE

    return SMOTE(random_state=seed)


def _adasyn(seed: int) -> Any:
    from mads_zoo.capped_samplers import ADASYN

    return ADASYN(random_state=seed)


@hookimpl
def register_samplers(register: Register) -> None:
    """Register ``none``, ``random-over``, ``random-under``, ``smote`` and ``adasyn``."""
    register(Sampler("none", _no_resampling, "No resampling: train on the fold as it is."))
    register(Sampler("random-over", _random_over, "Duplicate minority beats until classes match."))
    register(Sampler("random-under", _random_under, "Drop majority beats until classes match."))
    register(Sampler("smote", _smote, "SMOTE: interpolate new minority beats between neighbours."))
    register(
        Sampler("adasyn", _adasyn, "ADASYN: like SMOTE, more beats where minorities are hard.")
    )
