"""One bench per run folder: a lock held for the life of a bench.

Two benches started at once with the same ``--out`` (even with different seeds) both ran every
trial and both reported success, and the folder held one seed's results. :class:`RunLock`
takes an exclusive ``flock`` on the run folder itself before a bench checks or writes anything
there, and holds it until the bench ends; while held, ``RUN_DIR/bench.lock`` names the holder,
and a second bench on the folder refuses in one line quoting it. The operating system drops
the lock when its process dies, so a killed bench never leaves a stale one (only, perhaps, a
stale name, which the next holder overwrites).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from mads_zoo.errors import ConfigError, OutputError
from mads_zoo.fileio import describe_os_error

HOLDER_FILE = "bench.lock"


class RunLock:
    """The exclusive lock of one run folder (a context manager; the folder is created)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / HOLDER_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:  # a link planted there is never followed
            raise ConfigError(
                f"cannot lock the run folder {self.root}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(
                f"{self.root} is in use by another bench ({self.holder()}); wait for it to "
                "end, or give another --out"
            ) from None
        self._fd = fd
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        try:
            self._write(f"pid {os.getpid()} on {socket.gethostname()}, since {stamp}\n")
        except OSError as error:  # the folder cannot be written: say so before any work
            self.__exit__(None, None, None)
            raise OutputError(
                f"cannot write the run in {self.root}: {describe_os_error(error)}"
            ) from None
        return self

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd) as file:
                return file.read(512).strip() or "unknown"
        except OSError:
            return "unknown"

    def _write(self, text: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a stale name, or a planted link: removed, never followed
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
