"""The log's durability mark: the highest index (and its position) that an fsync made durable.

Open needs it to tell a write torn by a crash from damage. Everything after the mark may legitimately be
torn or missing after a crash (it was never fsync'd, so never acknowledged); damage at or before the mark,
or a log that ends before it, is damage to data the log had promised to keep (Zeebe's journal keeps its
``lastFlushedIndex`` in a meta store for the same reason).

File ``durable.meta`` in the log directory, 32 bytes, little-endian::

    [8s magic b"ZTRIODUR"][u32 version = 1][u64 durable index][i64 position of that entry's last record][u32 crc32]

`sync` rewrites it with one pwrite after the segment fsyncs, without an fsync of its own: a killed process
leaves it in the page cache, and after a machine crash it can only be older than the truth, so a mark
read at open never claims more than was durable (at worst some damage is taken for a torn tail, as it
was before the mark existed). Operations that make the log shorter (`truncate_after`, `reset`) lower the
mark and fsync it before they cut, so that a crash in between never leaves a log shorter than its mark.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

META_FILE = "durable.meta"
_MAGIC = b"ZTRIODUR"
_VERSION = 1
_LAYOUT = struct.Struct("<8sIQq")
_CRC = struct.Struct("<I")
META_SIZE = _LAYOUT.size + _CRC.size


@dataclass(frozen=True, slots=True)
class DurableMark:
    index: int
    """Every entry up to this index was fsync'd (0: nothing yet)."""
    position: int
    """The highest record position carried by the entries up to `index` (0 when there are none)."""


def encode_mark(mark: DurableMark) -> bytes:
    body = _LAYOUT.pack(_MAGIC, _VERSION, mark.index, mark.position)
    return body + _CRC.pack(zlib.crc32(body))


def read_mark(directory: Path) -> DurableMark | None:
    """The mark in `directory`, or None when there is none (a log written before marks existed) or it is
    unreadable (logged: the open then cannot tell damage from a torn tail by the mark alone)."""
    path = directory / META_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) != META_SIZE or data[:8] != _MAGIC:
        log.warning("%s: ignoring a durability mark of %d bytes that is not one (expected %d bytes starting"
                    " with %r)", path, len(data), META_SIZE, _MAGIC)
        return None
    body, (crc,) = data[: _LAYOUT.size], _CRC.unpack(data[_LAYOUT.size :])
    magic, version, index, position = _LAYOUT.unpack(body)
    if zlib.crc32(body) != crc or version != _VERSION:
        log.warning("%s: ignoring a durability mark that fails its checksum or has version %d", path, version)
        return None
    return DurableMark(index, position)


class MarkFile:
    """The open mark file: `write` is one pwrite (no fsync); `write_durably` also fsyncs it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / META_FILE
        created = not self.path.exists()
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.created = created

    def write(self, mark: DurableMark) -> None:
        data = encode_mark(mark)
        if os.pwrite(self.fd, data, 0) != len(data):
            raise OSError(f"{self.path}: short write of the durability mark")

    def write_durably(self, mark: DurableMark) -> None:
        self.write(mark)
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
