"""A run's time limit: the one place the bench's clock acts.

A plugin whose ``build`` or ``forward`` hangs used to hang the bench (stuck at "wave 1/2"
until someone killed it). :func:`time_limit` stops the run after the budget's
``run_time_limit`` seconds with :class:`RunTimeLimit`, which fails that run like any failing
plugin while the bench goes on. The limit is set far above what any run takes (hours, against
minutes), so it never decides between two scores: a run that reaches it reports no number.
It works through ``SIGALRM`` in the process's main thread (where Ray runs a task, and where
the in-process runner of the tests calls it); elsewhere there is no limit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from mads_zoo.errors import MadsZooError


class RunTimeLimit(MadsZooError):
    """A run took longer than its budget's ``run_time_limit``."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`RunTimeLimit` in the block once ``seconds`` have passed (``0``: never)."""
    usable = seconds > 0 and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise RunTimeLimit(
            f"stopped after the budget's run_time_limit of {seconds:g} s (a hanging plugin?); "
            "raise it with --budget-set run_time_limit=SECONDS"
        )

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
