"""One segment file of the log: its on-disk format, the scan that validates it, and positioned reads/writes.

Segment file format (all integers little-endian)
-----------------------------------------------

File name: the segment's first index, zero-padded to 20 digits, e.g. ``00000000000000000001.log``.

Segment header, 24 bytes (``SEGMENT_HEADER``)::

    [8s magic b"ZTRIOLOG"][u32 format version = 1][u64 first index][u32 crc32 of the preceding 20 bytes]

Then entries back to back, each a 40-byte header (``ENTRY_HEADER``) followed by the payload::

    [u32 payload length][u32 crc32][u64 index][u64 term][i64 low_position][i64 high_position][payload]

The crc32 (``zlib.crc32``) covers the 32 bytes from index through high_position, then the payload. Entry
indexes inside a segment are consecutive from the header's first index. Nothing else is stored: the
in-memory index (offset, term and position range of every entry) is rebuilt by scanning at open.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from ._entry import LogCorruptedError, LogEntry, LogRecovery

SEGMENT_MAGIC = b"ZTRIOLOG"
FORMAT_VERSION = 1
SEGMENT_HEADER = struct.Struct("<8sIQI")
ENTRY_HEADER = struct.Struct("<IIQQqq")
ENTRY_META = struct.Struct("<QQqq")
_LENGTH = struct.Struct("<I")
_SCAN_CHUNK = 4 * 1024 * 1024
MAX_PAYLOAD = 0xFFFFFFFF


def segment_file_name(first_index: int) -> str:
    return f"{first_index:020d}.log"


def encode_segment_header(first_index: int) -> bytes:
    head = SEGMENT_HEADER.pack(SEGMENT_MAGIC, FORMAT_VERSION, first_index, 0)[:-4]
    return head + _LENGTH.pack(zlib.crc32(head))


def encode_entry_header(index: int, term: int, low: int, high: int, data: bytes) -> bytes:
    meta = ENTRY_META.pack(index, term, low, high)
    return _LENGTH.pack(len(data)) + _LENGTH.pack(zlib.crc32(data, zlib.crc32(meta))) + meta


def write_all(fd: int, buffers: list[bytes], offset: int) -> None:
    """pwritev until every byte is written (regular files rarely return short writes, but they may)."""
    total = sum(len(b) for b in buffers)
    written = os.pwritev(fd, buffers, offset)
    if written < total:
        rest = memoryview(b"".join(buffers))[written:]
        while rest:
            n = os.pwrite(fd, rest, offset + written)
            written += n
            rest = rest[n:]


class Segment:
    """An open segment file: one O_RDWR fd (pwrite at the tail, pread anywhere) and its in-memory index.

    `offsets[i]`, `terms[i]`, `lows[i]`, `highs[i]` describe entry `first_index + i`; `end` is the byte
    length of the valid content, which is where the next entry is written.
    """

    __slots__ = ("path", "fd", "first_index", "offsets", "terms", "lows", "highs", "end", "dirty")

    def __init__(self, path: Path, fd: int, first_index: int) -> None:
        self.path = path
        self.fd = fd
        self.first_index = first_index
        self.offsets = array("q")
        self.terms = array("q")
        self.lows = array("q")
        self.highs = array("q")
        self.end = SEGMENT_HEADER.size
        self.dirty = False
        """Written since the last fsync (guarded by the log's lock)."""

    @classmethod
    def create(cls, path: Path, first_index: int) -> Segment:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            write_all(fd, [encode_segment_header(first_index)], 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, first_index)

    @property
    def entry_count(self) -> int:
        return len(self.offsets)

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.offsets) - 1

    def append(self, index: int, term: int, low: int, high: int, data: bytes) -> None:
        header = encode_entry_header(index, term, low, high, data)
        try:
            write_all(self.fd, [header, data], self.end)
        except BaseException:
            # Leave no half-written entry behind the valid content (best effort; open would cut it anyway).
            try:
                os.ftruncate(self.fd, self.end)
            except OSError:
                pass
            raise
        self.offsets.append(self.end)
        self.terms.append(term)
        self.lows.append(low)
        self.highs.append(high)
        self.end += ENTRY_HEADER.size + len(data)

    def byte_span(self, start: int, stop: int) -> tuple[int, int]:
        """(offset, length) of the bytes holding local entries [start, stop)."""
        begin = self.offsets[start]
        finish = self.offsets[stop] if stop < len(self.offsets) else self.end
        return begin, finish - begin

    def read_entries(self, start: int, stop: int) -> list[LogEntry]:
        """Read and verify local entries [start, stop) with a single pread."""
        begin, length = self.byte_span(start, stop)
        buf = os.pread(self.fd, length, begin)
        if len(buf) != length:
            raise LogCorruptedError(
                f"{self.path}: expected {length} bytes at offset {begin} but the file ends early"
                " (was it truncated behind the log's back?)"
            )
        view = memoryview(buf)
        entries = []
        pos = 0
        for local in range(start, stop):
            length_, crc, index, term, low, high = ENTRY_HEADER.unpack_from(view, pos)
            payload = view[pos + ENTRY_HEADER.size : pos + ENTRY_HEADER.size + length_]
            if zlib.crc32(payload, zlib.crc32(view[pos + 8 : pos + ENTRY_HEADER.size])) != crc or (
                index != self.first_index + local
            ):
                raise LogCorruptedError(
                    f"{self.path}: entry {self.first_index + local} at offset {begin + pos} no longer matches"
                    " its checksum (the file was damaged after it was written)"
                )
            entries.append(LogEntry(index, term, low, high, bytes(payload)))
            pos += ENTRY_HEADER.size + length_
        return entries

    def truncate_to(self, count: int) -> None:
        """Keep the first `count` entries (ftruncate; the caller fsyncs)."""
        if count >= len(self.offsets):
            return
        self.end = self.offsets[count]
        os.ftruncate(self.fd, self.end)
        for column in (self.offsets, self.terms, self.lows, self.highs):
            del column[count:]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass(slots=True)
class _Reader:
    """Sequential chunked reads over a file for the open-time scan."""

    fd: int
    size: int
    buf: bytes = b""
    buf_start: int = 0

    def get(self, offset: int, length: int) -> memoryview:
        if offset < self.buf_start or offset + length > self.buf_start + len(self.buf):
            self.buf = os.pread(self.fd, max(length, _SCAN_CHUNK), offset)
            self.buf_start = offset
        start = offset - self.buf_start
        return memoryview(self.buf)[start : start + length]


def open_segment(path: Path, first_index: int, *, is_last: bool) -> tuple[Segment, LogRecovery]:
    """Open and scan a segment, rebuilding its index.

    A damaged tail of the last segment is cut off (the file is truncated and fsync'd) and described in the
    returned `LogRecovery`; damage in any other segment raises `LogCorruptedError`.
    """
    fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:
        segment = Segment(path, fd, first_index)
        recovery = _scan(segment, is_last=is_last)
    except BaseException:
        os.close(fd)
        raise
    return segment, recovery


def _scan(segment: Segment, *, is_last: bool) -> LogRecovery:
    path, fd = segment.path, segment.fd
    size = os.fstat(fd).st_size
    reader = _Reader(fd, size)
    header_size = SEGMENT_HEADER.size
    header = bytes(reader.get(0, min(size, header_size)))
    if len(header) < header_size or (is_last and header == bytes(header_size)):
        if not is_last:
            raise LogCorruptedError(
                f"{path}: the segment header is incomplete ({len(header)} of {header_size} bytes) in a segment"
                " that is not the last one; restore this partition from a replica or a backup"
            )
        # A crash while creating the segment: nothing in it can be valid. Rewrite the header from the name.
        os.ftruncate(fd, 0)
        write_all(fd, [encode_segment_header(segment.first_index)], 0)
        os.fsync(fd)
        return LogRecovery(
            entries_dropped=0,
            bytes_dropped=max(0, size - header_size),
            reason=f"{path}: torn segment header ({len(header)} bytes written before the crash); header rewritten",
        )
    magic, version, first_index, crc = SEGMENT_HEADER.unpack(header)
    problem = None
    if magic != SEGMENT_MAGIC:
        problem = f"bad magic {magic!r} (expected {SEGMENT_MAGIC!r}): not a zeebe-trio log segment"
    elif zlib.crc32(header[:-4]) != crc:
        problem = "the segment header fails its checksum"
    elif version != FORMAT_VERSION:
        problem = f"unsupported format version {version} (this build reads version {FORMAT_VERSION})"
    elif first_index != segment.first_index:
        problem = (
            f"the header says the first index is {first_index} but the file name says {segment.first_index}"
        )
    if problem is not None:
        raise LogCorruptedError(f"{path}: offset 0: {problem}")

    pos = header_size
    expected = segment.first_index
    while pos < size:
        if size - pos < ENTRY_HEADER.size:
            problem = f"incomplete entry header ({size - pos} of {ENTRY_HEADER.size} bytes)"
            break
        entry_header = reader.get(pos, ENTRY_HEADER.size)
        length, crc, index, term, low, high = ENTRY_HEADER.unpack(entry_header)
        if pos + ENTRY_HEADER.size + length > size:
            problem = f"incomplete payload ({size - pos - ENTRY_HEADER.size} of {length} bytes)"
            break
        payload = reader.get(pos + ENTRY_HEADER.size, length)
        if zlib.crc32(payload, zlib.crc32(entry_header[8:])) != crc:
            problem = f"checksum mismatch in the entry expected to be index {expected}"
            break
        if index != expected:
            problem = f"entry index {index} where {expected} was expected"
            break
        segment.offsets.append(pos)
        segment.terms.append(term)
        segment.lows.append(low)
        segment.highs.append(high)
        pos += ENTRY_HEADER.size + length
        expected += 1
    segment.end = pos
    if problem is None:
        return LogRecovery()
    if not is_last:
        raise LogCorruptedError(
            f"{path}: offset {pos}: {problem}. This segment is not the last one, so this is damage, not a write"
            " torn by a crash; refusing to open. Restore this partition from a replica or a backup."
        )
    dropped, still_valid = _count_entries_after(reader, pos, size)
    reason = f"{path}: offset {pos}: {problem}; cut {size - pos} bytes"
    if still_valid:
        reason += f" ({still_valid} of the {dropped} entries cut still passed their checksums)"
    os.ftruncate(fd, pos)
    os.fsync(fd)
    return LogRecovery(entries_dropped=dropped, bytes_dropped=size - pos, reason=reason)


def _count_entries_after(reader: _Reader, pos: int, size: int) -> tuple[int, int]:
    """Follow length fields from a damaged entry: (entries seen, complete or not; how many verify)."""
    count = valid = 0
    while pos < size:
        count += 1
        if size - pos < ENTRY_HEADER.size:
            break
        entry_header = reader.get(pos, ENTRY_HEADER.size)
        length, crc = ENTRY_HEADER.unpack(entry_header)[:2]
        if pos + ENTRY_HEADER.size + length > size:
            break
        if zlib.crc32(reader.get(pos + ENTRY_HEADER.size, length), zlib.crc32(entry_header[8:])) == crc:
            valid += 1
        pos += ENTRY_HEADER.size + length
    return count, valid
