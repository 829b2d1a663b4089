"""Atomic writes: a crash, Ctrl-C or error mid-write never leaves a half-written file.

Every file mads-zoo writes (cache entries, checkpoints, run records, reports) is written to a
temporary file in the same folder and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Prefix of the temporary files (hidden, so that no glob of records picks one up).
TEMP_PREFIX = ".partial-"


@contextlib.contextmanager
def atomic_file(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(Path(path), suffix=Path(path).suffix) as temp:
        temp.write_text(text)
