"""Errors a user can hit. Each message is one sentence saying what was wrong and what to do.

The CLI prints any :class:`MadsZooError` as a single line and exits non-zero; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MadsZooError(Exception):
    """Base class of every error meant for the user, not for a traceback."""


class SpecError(MadsZooError, ValueError):
    """A registered object (architecture, block, sampler, dataset) is malformed."""


class UnknownNameError(MadsZooError, LookupError):
    """A name that is not registered (with a "did you mean" suggestion when one is close)."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        if not isinstance(name, str):  # a config value of the wrong type: no suggestions
            super().__init__(f"{what} must be a name (a string), got {name!r}")
            self.name, self.suggestions = name, []
            return
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if not close:  # prefixes and substrings ("cnn" -> "1dcnngru") are close too
            close = [k for k in known if name and (name in k or k in name)][:3]
        message = f"unknown {what} {name!r}"
        if close:
            message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif known:
            message += f"; known: {', '.join(known)}"
        else:
            message += f"; no {what}s are registered (see `mads-zoo list`)"
        super().__init__(message)
        self.name = name
        self.suggestions = close

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(MadsZooError, ValueError):
    """A configuration value (preset, ``--set key=value``, config file) is invalid."""


class PluginError(MadsZooError):
    """A plugin failed to load, register or build (raised only where that must be fatal)."""


class DataError(MadsZooError, ValueError):
    """Input data is malformed: a corrupt record, a CSV of the wrong width, NaN, bad labels."""


class DataNotFoundError(MadsZooError, FileNotFoundError):
    """Input data is missing: files absent from the data directory, or a failed download."""


class CheckpointError(MadsZooError, ValueError):
    """A checkpoint is missing, unreadable, or does not fit the model it names."""


class DivergedError(MadsZooError, ArithmeticError):
    """Training diverged: a loss or the weights became NaN or infinite."""
