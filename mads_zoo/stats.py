"""Summaries of a figure over several runs (seeds): mean and 95% confidence interval."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    """A figure over several runs: the values, their mean and the 95% CI half-width.

    ``ci95`` is Student's t over the values (``nan`` for a single value, which has no spread
    to estimate); ``mean`` is ``nan`` for no values.
    """

    mean: float
    ci95: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        """The summary of ``values``."""
        from scipy import stats  # scipy is slow to import; only summaries need it

        array = np.asarray(list(values), dtype=float)
        n = len(array)
        mean = float(array.mean()) if n else math.nan
        half = math.nan
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1) * array.std(ddof=1) / math.sqrt(n))
        return cls(mean, half, tuple(float(v) for v in array))

    @property
    def has_ci(self) -> bool:
        """Whether there is an interval (two or more finite values)."""
        return math.isfinite(self.ci95)

    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of the interval; a summary without one is the point ``mean``."""
        half = self.ci95 if self.has_ci else 0.0
        return self.mean - half, self.mean + half

    def overlaps(self, other: Summary) -> bool:
        """Whether the two intervals overlap (a summary without CI counts as its mean)."""
        (low_a, high_a), (low_b, high_b) = self.bounds(), other.bounds()
        return low_a <= high_b and low_b <= high_a

    def describe(self, digits: int = 4, *, ci: bool = True) -> str:
        """``"0.9543 ± 0.0155"``; the mean alone without a CI (or ``ci=False``); "-" if none."""
        if math.isnan(self.mean):
            return "-"
        text = f"{self.mean:.{digits}f}"
        return f"{text} ± {self.ci95:.{digits}f}" if ci and self.has_ci else text
