"""Backend-neutral search-space primitives.

Plugins describe what may be tuned with these four constructors; the benchmark harness
translates them for Ray Tune / HyperOpt, and :func:`sample` draws from them without any
tuning backend (used by the contract checks)::

    from mads_zoo import space

    search_space = {
        "hidden": space.choice([32, 64, 128]),
        "num_blocks": space.randint(1, 5),      # both ends inclusive
        "dropout": space.uniform(0.1, 0.4),
        "lr": space.loguniform(1e-4, 1e-2),
    }
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mads_zoo.checks import is_int, is_number

__all__ = [
    "Choice",
    "LogUniform",
    "RandInt",
    "Space",
    "Uniform",
    "choice",
    "loguniform",
    "randint",
    "sample",
    "uniform",
]


class Space:
    """Base class of every search-space primitive."""

    def contains(self, value: Any) -> bool:
        """Return whether ``value`` is a point of this space."""
        raise NotImplementedError

    def draw(self, rng: random.Random) -> Any:
        """Draw one value with ``rng``."""
        raise NotImplementedError

    def describe(self) -> str:
        """Return a short human-readable form, e.g. ``uniform(0.1, 0.4)``."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


def _check_bounds(kind: str, low: Any, high: Any, *, integer: bool = False) -> None:
    ok = is_int if integer else is_number
    if not (ok(low) and ok(high)):
        expected = "integers" if integer else "finite numbers"
        raise ValueError(f"space.{kind}: low and high must be {expected}, got {low!r} and {high!r}")
    if low > high or (not integer and low == high):
        raise ValueError(f"space.{kind}: low must be below high, got {low!r} and {high!r}")


@dataclass(frozen=True)
class Choice(Space):
    """One of a fixed list of values (numbers, strings or booleans)."""

    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("space.choice: needs at least one value")
        if len(set(map(repr, self.values))) != len(self.values):
            raise ValueError(f"space.choice: values repeat in {list(self.values)!r}")

    def contains(self, value: Any) -> bool:  # noqa: D102
        # True == 1 in Python; a boolean only matches a boolean.
        return any(
            value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values
        )

    def draw(self, rng: random.Random) -> Any:  # noqa: D102
        return self.values[rng.randrange(len(self.values))]

    def describe(self) -> str:  # noqa: D102
        return "choice(" + ", ".join(repr(v) for v in self.values) + ")"


@dataclass(frozen=True)
class RandInt(Space):
    """An integer between ``low`` and ``high``, both inclusive."""

    low: int
    high: int

    def __post_init__(self) -> None:
        _check_bounds("randint", self.low, self.high, integer=True)

    def contains(self, value: Any) -> bool:  # noqa: D102
        return is_number(value) and float(value).is_integer() and self.low <= value <= self.high

    def draw(self, rng: random.Random) -> int:  # noqa: D102
        return rng.randint(self.low, self.high)

    def describe(self) -> str:  # noqa: D102
        return f"randint({self.low}, {self.high})"


@dataclass(frozen=True)
class Uniform(Space):
    """A float drawn uniformly from ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds("uniform", self.low, self.high)

    def contains(self, value: Any) -> bool:  # noqa: D102
        return is_number(value) and self.low <= value <= self.high

    def draw(self, rng: random.Random) -> float:  # noqa: D102
        return rng.uniform(self.low, self.high)

    def describe(self) -> str:  # noqa: D102
        return f"uniform({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class LogUniform(Space):
    """A positive float whose logarithm is uniform on ``[log(low), log(high)]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_bounds("loguniform", self.low, self.high)
        if self.low <= 0:
            raise ValueError(f"space.loguniform: low must be positive, got {self.low!r}")

    def contains(self, value: Any) -> bool:  # noqa: D102
        return is_number(value) and self.low <= value <= self.high

    def draw(self, rng: random.Random) -> float:  # noqa: D102
        return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))

    def describe(self) -> str:  # noqa: D102
        return f"loguniform({self.low:g}, {self.high:g})"


def choice(values: Iterable[Any]) -> Choice:
    """One of ``values``."""
    return Choice(tuple(values))


def randint(low: int, high: int) -> RandInt:
    """An integer in ``[low, high]``, both ends inclusive."""
    return RandInt(low, high)


def uniform(low: float, high: float) -> Uniform:
    """A float uniform on ``[low, high]``."""
    return Uniform(low, high)


def loguniform(low: float, high: float) -> LogUniform:
    """A positive float, uniform on a log scale between ``low`` and ``high``."""
    return LogUniform(low, high)


def sample(search_space: Mapping[str, Space], rng: random.Random) -> dict[str, Any]:
    """Draw one configuration from ``search_space``; keys go in sorted order so draws repeat."""
    return {key: search_space[key].draw(rng) for key in sorted(search_space)}
