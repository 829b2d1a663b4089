"""Errors a user can hit. Each message is one sentence saying what was wrong and what to do.

The CLI prints any :class:`MadsZooError` as a single line and exits non-zero; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable

#: Longest one-line error kept in a record or a message.
MAX_LINE = 300


class MadsZooError(Exception):
    """Base class of every error meant for the user, not for a traceback."""


class SpecError(MadsZooError, ValueError):
    """A registered object (architecture, block, sampler, dataset) is malformed."""


class UnknownNameError(MadsZooError, LookupError):
    """A name that is not registered (with a "did you mean" suggestion when one is close)."""

    def __init__(self, what: str, name: object, known: Iterable[str]) -> None:
        self.name = name
        self.suggestions: list[str] = []
        known = sorted(known)
        if not isinstance(name, str):  # a config value of the wrong type: no suggestions
            super().__init__(f"{what} must be a name (a string), got {name!r}")
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
        self.suggestions = close

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(MadsZooError, ValueError):
    """A configuration value (preset, ``--set key=value``, config file) is invalid."""


class PluginError(MadsZooError):
    """A plugin failed to load, register or build (raised only where that must be fatal)."""


class OutputError(MadsZooError, OSError):
    """Where a command writes cannot be written: no permission, read-only, full, a folder."""


class DataError(MadsZooError, ValueError):
    """Input data is malformed: a corrupt record, a CSV of the wrong width, NaN, bad labels."""


class DataNotFoundError(MadsZooError, FileNotFoundError):
    """Input data is missing: files absent from the data directory, or a failed download."""


class CheckpointError(MadsZooError, ValueError):
    """A checkpoint is missing, unreadable, or does not fit the model it names."""


class DivergedError(MadsZooError, ArithmeticError):
    """Training diverged: a loss or the weights became NaN or infinite."""


def one_line(error: BaseException, *, last: bool = False) -> str:
    """``error`` in one line: a :class:`MadsZooError`'s message, else ``Type: message``.

    Only the message's first line is kept (``last``: its last line, where Ray's wrapped errors
    name their cause), cut at :data:`MAX_LINE` characters; the rest belongs in a traceback.
    """
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    line = (lines[-1] if last else lines[0]) if lines else ""
    if isinstance(error, MadsZooError) and line:
        return line[:MAX_LINE]
    return f"{type(error).__name__}: {line}".removesuffix(": ")[:MAX_LINE]


def traceback_text(error: BaseException) -> str:
    """The full traceback of ``error`` (with its causes), as Python prints it."""
    return "".join(traceback.format_exception(error)).strip()
