"""Validation of config values: the one place where numbers, integers and choices are checked.

Every value a user can set (a recipe key, a run setting, a budget key) is checked where it
enters, with one of these functions, so that a bad value is one line naming the key and what
it must be. The search-space constructors use the same predicates.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, TypeGuard

from mads_zoo.errors import ConfigError, UnknownNameError


def is_int(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is an integer (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite int or float (a bool is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer_kind(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def check_int(name: str, value: Any, *, minimum: int, optional: bool = False) -> None:
    """Refuse ``value`` unless it is an integer >= ``minimum`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{name} must be {_integer_kind(minimum)}, got {value!r}")


def check_number(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
) -> None:
    """Refuse ``value`` unless it is a finite number in the interval from ``low`` to ``high``.

    ``low_open``/``high_open`` exclude the bounds; ``None`` passes when ``optional``.
    """
    if value is None and optional:
        return
    ok = is_number(value)
    ok = ok and (value > low if low_open else value >= low)
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{name} must be a number in {bounds}, got {value!r}")


def check_choice(name: str, value: Any, choices: Collection[str]) -> None:
    """Refuse ``value`` unless it is one of ``choices`` (with a "did you mean")."""
    if value not in choices:
        raise UnknownNameError(name, value, choices)
