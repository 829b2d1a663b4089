"""Failures inside a bench: the run folder's ``errors.log`` of every failure's full story.

A run, a search space or a sampler that fails never ends the bench: its combos are marked
failed with the error's one line (:func:`mads_zoo.errors.one_line`), and the traceback goes to
``errors.log`` in the run folder (:class:`ErrorLog`).
"""

from __future__ import annotations

from pathlib import Path

#: The run folder's log of every failure's traceback.
ERRORS_LOG = "errors.log"


class ErrorLog:
    """Appends each failure to ``errors.log`` in ``root``: its one line, then its details."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / ERRORS_LOG

    def add(self, what: str, error: str, details: str = "") -> None:
        """Record that ``what`` (a run's or a combo's name) failed with ``error``."""
        text = f"=== {what}: {error}\n" + (details.strip() + "\n" if details.strip() else "")
        with self.path.open("a", encoding="utf-8") as log:
            log.write(text + "\n")
