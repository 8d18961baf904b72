"""The crash guard: a command that kills the process whenever it is processed must not kill it forever.

If the broker dies while processing a command (an out-of-memory kill, a crash in a C extension), every
restart replays the log and processes the same command again, and dies again. Before processing a
command the stream processor records its position here, with one pwrite and no fsync: a killed process
leaves the write in the page cache, which is all this needs (after a machine crash the guard may be
older than the log, which only delays the rejection). When the command about to be processed is the one
recorded, the previous attempt died: the attempt count goes up, and after ``max_attempts`` the command is
rejected instead of processed.

File ``processing.guard`` in the partition directory, 32 bytes::

    [8s magic b"ZTRIOGRD"][u32 version = 1][i64 position][i64 attempts][u32 crc32 of the preceding bytes]
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

log = logging.getLogger(__name__)

GUARD_FILE = "processing.guard"
_MAGIC = b"ZTRIOGRD"
_LAYOUT = struct.Struct("<8sIqq")
_CRC = struct.Struct("<I")


class CrashGuard:
    FILE = GUARD_FILE

    def __init__(self, path: Path, max_attempts: int) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.path = path
        self.max_attempts = max_attempts
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.position, self.attempts = self._read()

    def _read(self) -> tuple[int, int]:
        data = os.pread(self._fd, _LAYOUT.size + _CRC.size, 0)
        if len(data) != _LAYOUT.size + _CRC.size:
            return -1, 0
        body, (crc,) = data[: _LAYOUT.size], _CRC.unpack(data[_LAYOUT.size :])
        magic, version, position, attempts = _LAYOUT.unpack(body)
        if magic != _MAGIC or version != 1 or zlib.crc32(body) != crc:
            log.warning("%s: ignoring a crash guard that is not one (it only counts processing attempts)", self.path)
            return -1, 0
        return position, attempts

    def begin(self, position: int) -> int:
        """Record that processing the command at `position` starts; return which attempt this is (1 the
        first time; more when earlier attempts died before the next command began)."""
        attempts = self.attempts + 1 if position == self.position else 1
        body = _LAYOUT.pack(_MAGIC, 1, position, attempts)
        os.pwrite(self._fd, body + _CRC.pack(zlib.crc32(body)), 0)
        self.position, self.attempts = position, attempts
        return attempts

    def exhausted(self, attempts: int) -> bool:
        """True when `attempts` (from `begin`) exceeds ``max_attempts``: every earlier one crashed."""
        return attempts > self.max_attempts

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
