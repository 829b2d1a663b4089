"""Atomic writes: a crash, Ctrl-C or error mid-write never leaves a half-written file.

Every file mads-zoo writes (cache entries, checkpoints, run records, reports) is written to a
temporary file in the same folder and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mads_zoo.errors import OutputError

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


def check_writable_folder(folder: Path, what: str) -> None:
    """Make sure ``what`` can be written in ``folder`` before any work; leave no trace.

    Creates the missing folders, writes and removes a temporary file there, then removes the
    folders it created: a read-only disk, a missing permission, a file where a folder should be
    or a full disk is found now, in one line, and not after minutes of training.
    """
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        try:
            os.write(handle, b"x")
        finally:
            os.close(handle)
            os.unlink(temp)
    except OSError as error:
        raise OutputError(f"cannot write {what} in {folder}: {describe_os_error(error)}") from None
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()


def check_writable_file(path: Path, what: str) -> None:
    """:func:`check_writable_folder` for the folder of the file ``path`` (not a folder itself)."""
    if Path(path).is_dir():
        raise OutputError(f"cannot write {what} to {path}: it is a folder; give a file name")
    check_writable_folder(Path(path).parent, what)


def describe_os_error(error: OSError) -> str:
    """An operating-system error in words, without Python's ``[Errno N]`` prefix."""
    reason = error.strerror or type(error).__name__
    if error.errno == errno.ENOSPC:
        reason = "no space left on the device"
    where = error.filename
    return f"{reason} ({where})" if where else reason
