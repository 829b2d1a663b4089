"""Translate backend-neutral :mod:`mads_zoo.space` objects into Ray Tune search spaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mads_zoo.space import Choice, LogUniform, RandInt, Space, Uniform


def to_tune(dimension: Space) -> Any:
    """The Ray Tune domain for one search-space dimension."""
    from ray import tune

    if isinstance(dimension, Choice):
        return tune.choice(list(dimension.values))
    if isinstance(dimension, RandInt):
        return tune.randint(dimension.low, dimension.high + 1)  # Tune's upper end is exclusive
    if isinstance(dimension, LogUniform):
        return tune.loguniform(dimension.low, dimension.high)
    if isinstance(dimension, Uniform):
        return tune.uniform(dimension.low, dimension.high)
    raise TypeError(f"no Ray Tune translation for {type(dimension).__name__}")


def tune_space(search_space: Mapping[str, Space]) -> dict[str, Any]:
    """The Ray Tune ``param_space`` for an architecture's ``search_space``."""
    return {key: to_tune(dimension) for key, dimension in sorted(search_space.items())}
