"""The on-disk cache: where it lives, how entries are named, and atomic reads and writes.

Every entry is one ``.npz`` file written to a temporary file in the same folder and moved into
place with :func:`os.replace`, so a crash, Ctrl-C or error mid-write never leaves a
half-written entry under the final name; an unreadable entry is treated as missing, and a
readable but invalid one (NaN beats, a label out of range, shapes that do not match) is deleted
and rebuilt, with one logged line (:func:`load_valid`), never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mads_zoo.fileio import atomic_file, describe_os_error

ENV_CACHE_DIR = "MADS_ZOO_CACHE_DIR"
APP_NAME = "mads-zoo"

T = TypeVar("T")
log = logging.getLogger(__name__)


def user_cache_dir() -> Path:
    """The per-user cache folder of mads-zoo (XDG on Linux, ~/Library/Caches on macOS)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / APP_NAME


def cache_dir() -> Path:
    """``MADS_ZOO_CACHE_DIR`` if set, else :func:`user_cache_dir`."""
    override = os.environ.get(ENV_CACHE_DIR)
    return Path(override).expanduser() if override else user_cache_dir()


def cache_path(kind: str, name: str) -> Path:
    """Where the entry ``name`` of ``kind`` (e.g. ``"beats"``, ``"resampled"``) lives."""
    return cache_dir() / kind / f"{name}.npz"


def digest(parts: Iterable[Any], arrays: Iterable[Any] = ()) -> str:
    """A short stable hash of JSON-able ``parts`` and the bytes of numpy ``arrays``."""
    h = hashlib.blake2b(digest_size=8)
    h.update(json.dumps(list(parts), sort_keys=True, default=str).encode())
    for array in arrays:
        h.update(str((array.dtype.str, array.shape)).encode())
        h.update(memoryview(array).cast("B") if array.flags.c_contiguous else array.tobytes())
    return h.hexdigest()


def files_fingerprint(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """Name, size and modification time of each file: changes whenever a file does."""
    return [(p.name, (st := p.stat()).st_size, st.st_mtime_ns) for p in sorted(paths)]


def save_arrays(path: Path, arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` to ``path`` (uncompressed ``.npz``) atomically.

    A cache is a shortcut: when it cannot be written (a full disk, a read-only folder) this
    logs a one-line warning and the caller goes on with what it computed.
    """
    import numpy as np

    try:
        with atomic_file(path, suffix=".npz") as temp, open(temp, "wb") as out:
            np.savez(out, **arrays)
    except OSError as error:
        log.warning("could not write the cache entry %s (%s); going on without it", path,
                    describe_os_error(error))  # fmt: skip


def load_arrays(path: Path) -> dict[str, Any] | None:
    """The arrays stored at ``path``, or ``None`` when it is missing or unreadable."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (FileNotFoundError, zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError):
        return None


def load_valid(path: Path, read: Callable[[dict[str, Any]], T]) -> T | None:
    """``read(arrays)`` of the entry at ``path``; ``None`` if it is missing, unreadable or invalid.

    ``read`` checks the arrays and raises :class:`ValueError` (e.g. a
    :class:`~mads_zoo.errors.DataError`), :class:`KeyError` or :class:`TypeError` for an entry
    that is not what it should be; that entry is deleted and a one-line warning logged, so
    that the caller rebuilds it.
    """
    arrays = load_arrays(path)
    if arrays is None:
        return None
    try:
        return read(arrays)
    except (ValueError, KeyError, TypeError) as error:
        log.warning("the cache entry %s is invalid (%s); rebuilding it", path, error)
        with contextlib.suppress(OSError):  # a read-only cache keeps it; it is rebuilt anyway
            path.unlink(missing_ok=True)
        return None
