"""The data directory belongs to one broker at a time.

Two brokers on one directory would hand out the same keys and positions and overwrite each other's
log. ``DataDirectoryLock`` takes an exclusive OS lock (``flock``) on ``<data_dir>/broker.lock`` and
holds it for as long as the broker runs. The kernel drops the lock when the process dies, even by
``kill -9``, so a crashed broker never leaves a stale lock behind; the PID written into the file is
only there to name the holder in the error.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from ._errors import StartupError

LOCK_FILE = "broker.lock"


class DataDirectoryLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``StartupError`` naming the directory and the holder's PID."""
        data_dir = self.path.parent
        fix = "set data_dir (ZEEBE_TRIO_DATA_DIR) to a directory the broker may write"
        if data_dir.exists() and not data_dir.is_dir():
            raise StartupError(f"data directory '{data_dir}' is not a directory; {fix}")
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StartupError(f"cannot use the data directory '{data_dir}': {error.strerror}; {fix}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _read_pid(fd)
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StartupError(f"cannot lock the data directory '{self.path.parent}': {error.strerror}") from None
            by = f"the broker with PID {holder}" if holder else "another broker"
            raise StartupError(f"data directory '{self.path.parent.resolve()}' is in use by {by};"
                               " stop it or set data_dir (ZEEBE_TRIO_DATA_DIR) to another directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DataDirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
