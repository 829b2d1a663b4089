"""Failures inside a bench: one line for the console and the leaderboard, the rest in a log.

A run, a search space or a sampler that fails never ends the bench: its combos are marked
failed with the error's one line (:func:`one_line`), and the whole story (the traceback) goes
to ``errors.log`` in the run folder (:class:`ErrorLog`).
"""

from __future__ import annotations

import traceback
from pathlib import Path

from mads_zoo.errors import MadsZooError

#: The run folder's log of every failure's traceback.
ERRORS_LOG = "errors.log"
#: Longest one-line error kept in a record.
MAX_LINE = 300


def one_line(error: BaseException) -> str:
    """``error`` in one line: a :class:`MadsZooError`'s message, else ``Type: message``.

    Only the message's first line is kept (the rest of a multi-line message is in the
    traceback), cut at :data:`MAX_LINE` characters.
    """
    lines = str(error).strip().splitlines()
    first = lines[0].strip() if lines else ""
    if isinstance(error, MadsZooError) and first:
        return first[:MAX_LINE]
    return f"{type(error).__name__}: {first}".removesuffix(": ")[:MAX_LINE]


def traceback_text(error: BaseException) -> str:
    """The full traceback of ``error`` (with its causes), as Python prints it."""
    return "".join(traceback.format_exception(error)).strip()


class ErrorLog:
    """Appends each failure to ``errors.log`` in ``root``: its one line, then its details."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / ERRORS_LOG

    def add(self, what: str, error: str, details: str = "") -> None:
        """Record that ``what`` (a run's or a combo's name) failed with ``error``."""
        text = f"=== {what}: {error}\n" + (details.strip() + "\n" if details.strip() else "")
        with self.path.open("a", encoding="utf-8") as log:
            log.write(text + "\n")
