"""Progress reporting that any loader can use without knowing who is listening.

Loaders call :func:`report` as they go; the CLI wraps the call in :func:`reporting` with a
rich progress bar. Without a listener, :func:`report` does nothing, so library use stays quiet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

#: ``callback(task, done, total)``: ``task`` names the step, e.g. "reading MIT-BIH records".
ProgressCallback = Callable[[str, int, int], None]

_listener: ContextVar[ProgressCallback | None] = ContextVar("mads_zoo_progress", default=None)


def report(task: str, done: int, total: int) -> None:
    """Tell the current listener, if any, that ``done`` of ``total`` steps of ``task`` are done."""
    listener = _listener.get()
    if listener is not None:
        listener(task, done, total)


@contextlib.contextmanager
def reporting(callback: ProgressCallback) -> Iterator[None]:
    """Send every :func:`report` made inside the block to ``callback``."""
    token = _listener.set(callback)
    try:
        yield
    finally:
        _listener.reset(token)
