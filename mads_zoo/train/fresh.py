"""Training runs side by side, each in a fresh process: how a script packs runs on one GPU.

The bench starts every run in a fresh Ray worker (``max_calls=1``): nothing one run leaves in
a process can change another's numbers. Scripts that pack runs on one GPU without Ray (the
lent GPU machine has no Ray) keep that rule with :func:`in_fresh_processes`: ``spawn``ed
processes, one per call, at most ``at_once`` alive together.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")


def in_fresh_processes(
    function: Callable[..., Result], calls: Sequence[tuple[Any, ...]], at_once: int
) -> Iterator[tuple[int, Result]]:
    """``(index, function(*calls[index]))`` for every call, in the order they finish.

    Each call runs in a new ``spawn``ed process (at most ``at_once`` at a time), so
    ``function`` must be importable by name (a module-level function of an importable module).
    An exception in a call is raised here.
    """
    if at_once < 1:
        raise ValueError(f"at_once must be >= 1, got {at_once}")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(at_once, mp_context=context, max_tasks_per_child=1) as pool:
        pending = {pool.submit(function, *args): i for i, args in enumerate(calls)}
        for future in as_completed(pending):
            yield pending[future], future.result()


def importable(function: Callable[..., Result], script: str) -> Callable[..., Result]:
    """``function`` of the script file ``script`` as its module by name would hold it.

    A script runs as ``__main__``, whose functions a spawned process cannot import; this
    imports the script as a module (its folder put on ``sys.path``, which spawned processes
    inherit) and returns the function of the same name from it.
    """
    folder = str(Path(script).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    found: Callable[..., Result] = getattr(
        importlib.import_module(Path(script).stem), function.__name__
    )
    return found
