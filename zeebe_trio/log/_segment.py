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
import re
import struct
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from ._entry import LogCorruptedError, LogEntry

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


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Where a segment's valid content ends and why (found by `scan_segment`; nothing is changed)."""

    offset: int
    """Byte offset of the first byte that is not part of a verified entry."""
    index: int
    """The index the entry at `offset` should have had."""
    what: str
    header: bool = False
    """The segment header itself is incomplete or blank (a crash while the segment was being created)."""


def open_segment(path: Path, first_index: int, *, writable: bool = True) -> tuple[Segment, ScanProblem | None]:
    """Open and scan a segment, rebuilding its index up to the first problem; never changes the file.

    Raises `LogCorruptedError` for a header that is present but wrong (magic, checksum, version, index).
    The caller decides whether a problem is a torn tail to cut (`cut_torn_tail`) or damage.
    """
    flags = (os.O_RDWR if writable else os.O_RDONLY) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        segment = Segment(path, fd, first_index)
        problem = _scan(segment)
    except BaseException:
        os.close(fd)
        raise
    return segment, problem


def _scan(segment: Segment) -> ScanProblem | None:
    path, fd = segment.path, segment.fd
    size = os.fstat(fd).st_size
    reader = _Reader(fd, size)
    header_size = SEGMENT_HEADER.size
    header = bytes(reader.get(0, min(size, header_size)))
    if len(header) < header_size or header == bytes(header_size):
        segment.end = 0
        what = (f"the segment header is incomplete ({len(header)} of {header_size} bytes)" if len(header) < header_size
                else "the segment header is blank (all zero bytes)")
        return ScanProblem(0, segment.first_index, what, header=True)
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
        raise LogCorruptedError(f"{path}: offset 0: {problem}", path=path, offset=0)

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
        return None
    return ScanProblem(pos, expected, problem)


def cut_torn_tail(segment: Segment, problem: ScanProblem) -> None:
    """Cut a torn tail found by the scan (ftruncate + fsync); a torn header is rewritten from the file name."""
    fd = segment.fd
    if problem.header:
        os.ftruncate(fd, 0)
        write_all(fd, [encode_segment_header(segment.first_index)], 0)
        segment.end = SEGMENT_HEADER.size
    else:
        os.ftruncate(fd, problem.offset)
    os.fsync(fd)


@dataclass(frozen=True, slots=True)
class TailSurvey:
    """What lies after a problem in a segment, found by following length fields (nothing is changed)."""

    entries: int
    """Entries seen from the problem to the end of the file, complete or not (length fields followed)."""
    intact: int
    """How many of those still verify."""
    high_position: int
    """The highest record position of an entry after the problem that verifies (0 if none)."""
    first_intact_offset: int | None
    """Offset of the first verifying entry after the problem, found by searching every byte offset
    (also when the damaged entry's length field is wrong); None when nothing after the problem verifies."""


def survey_tail(segment: Segment, problem: ScanProblem) -> TailSurvey:
    fd = segment.fd
    size = os.fstat(fd).st_size
    start = max(problem.offset, SEGMENT_HEADER.size)
    reader = _Reader(fd, size)
    count = intact = 0
    high_position = 0
    pos = start
    while pos < size:
        count += 1
        if size - pos < ENTRY_HEADER.size:
            break
        entry_header = reader.get(pos, ENTRY_HEADER.size)
        length, crc, index, _term, low, high = ENTRY_HEADER.unpack(entry_header)
        if pos + ENTRY_HEADER.size + length > size:
            break
        if count > 1 and index != problem.index + count - 1:
            break  # the length fields lead into bytes that are not entries (zeros, garbage)
        if zlib.crc32(reader.get(pos + ENTRY_HEADER.size, length), zlib.crc32(entry_header[8:])) == crc:
            intact += 1
            high_position = max(high_position, high)
        pos += ENTRY_HEADER.size + length
    found = find_intact_entry(fd, SEGMENT_HEADER.size if problem.header else problem.offset + 1, size, problem.index)
    if found is not None and not intact:
        intact = 1  # the length fields led astray, but an entry further on verifies
        high_position = max(high_position, found[2])
    return TailSurvey(count, intact, high_position, None if found is None else found[0])


_NON_ZERO = re.compile(rb"[^\x00]")


def find_intact_entry(fd: int, first_offset: int, size: int, min_index: int) -> tuple[int, int, int] | None:
    """The first entry at `first_offset` or later that verifies and has an index of `min_index` or more,
    as (offset, index, high position); None if there is none.

    Every offset is a candidate. To stay fast on large regions, candidates come from `bytes.find` for the
    high bytes that every plausible index shares (an index lies in [min_index, min_index + bytes left / 40]),
    and runs of zero bytes (what a file system may leave after a crash) are skipped at once.
    """
    max_index = min_index + max(0, size - first_offset) // ENTRY_HEADER.size + 1
    low, high = min_index.to_bytes(8, "little"), max_index.to_bytes(8, "little")
    shared = 8
    while shared > 0 and low[shared - 1] == high[shared - 1]:
        shared -= 1
    suffix = low[shared:]  # index-field bytes [shared:8], the same for every candidate index
    zero_suffix = not suffix.strip(b"\x00")
    index_field = 8  # the index follows the length and the crc in an entry header
    chunk_start = first_offset
    overlap = ENTRY_HEADER.size
    while chunk_start + ENTRY_HEADER.size <= size:
        buf = os.pread(fd, min(_SCAN_CHUNK + overlap, size - chunk_start), chunk_start)
        last_chunk = chunk_start + len(buf) >= size
        limit = len(buf) if last_chunk else len(buf) - overlap
        pos = index_field + shared
        while True:
            hit = buf.find(suffix, pos) if suffix else pos
            if hit < 0 or hit >= limit + index_field + shared or hit > len(buf):
                break
            entry = hit - shared - index_field  # offset of the candidate entry within buf
            pos = hit + 1
            if entry < 0:
                continue
            field = buf[entry + index_field : entry + index_field + 8]
            if len(field) < 8:
                break
            index = int.from_bytes(field, "little")
            if index == 0 and zero_suffix:
                run = _NON_ZERO.search(buf, hit)
                if run is None:
                    break
                pos = max(pos, run.start() + 1)
                continue
            if not min_index <= index <= max_index:
                continue
            offset = chunk_start + entry
            verified = _verify_at(fd, offset, size, index)
            if verified is not None:
                return offset, index, verified
        if last_chunk:
            break
        chunk_start += limit
    return None


def _verify_at(fd: int, offset: int, size: int, index: int) -> int | None:
    """The high position of the entry at `offset` if it is complete and verifies, else None."""
    if offset + ENTRY_HEADER.size > size:
        return None
    entry_header = os.pread(fd, ENTRY_HEADER.size, offset)
    length, crc, found_index, _term, _low, high = ENTRY_HEADER.unpack(entry_header)
    if found_index != index or offset + ENTRY_HEADER.size + length > size:
        return None
    payload = os.pread(fd, length, offset + ENTRY_HEADER.size)
    if zlib.crc32(payload, zlib.crc32(entry_header[8:])) != crc:
        return None
    return int(high)
