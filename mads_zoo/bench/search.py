"""Translate backend-neutral :mod:`mads_zoo.space` objects into Ray Tune search spaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mads_zoo.errors import PluginError
from mads_zoo.space import Choice, LogUniform, RandInt, Space, Uniform

#: What a search space may hold, as the plugin API names it.
SPACE_API = "mads_zoo.space.choice/randint/uniform/loguniform"


def to_tune(dimension: Space) -> Any:
    """The Ray Tune domain for one search-space dimension; :class:`PluginError` if none."""
    from ray import tune

    if isinstance(dimension, Choice):
        return tune.choice(list(dimension.values))
    if isinstance(dimension, RandInt):
        return tune.randint(dimension.low, dimension.high + 1)  # Tune's upper end is exclusive
    if isinstance(dimension, LogUniform):
        return tune.loguniform(dimension.low, dimension.high)
    if isinstance(dimension, Uniform):
        return tune.uniform(dimension.low, dimension.high)
    raise PluginError(f"unsupported space {type(dimension).__name__}; use {SPACE_API}")


def tune_space(search_space: Mapping[str, Space], architecture: str = "") -> dict[str, Any]:
    """The Ray Tune ``param_space`` for the ``search_space`` of ``architecture``.

    A dimension that cannot be translated raises :class:`PluginError` naming the
    architecture and the key.
    """
    translated = {}
    for key, dimension in sorted(search_space.items()):
        try:
            translated[key] = to_tune(dimension)
        except PluginError as error:
            owner = f"architecture {architecture!r} " if architecture else ""
            raise PluginError(f"{owner}search space key {key!r}: {error}") from None
    return translated
