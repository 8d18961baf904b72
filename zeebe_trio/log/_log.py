"""`SegmentedLog`: the durable, segmented, append-only log under a partition (later a Raft replica's log).

The log is a directory of segment files (format in `_segment.py`): ``<first index, 20 digits>.log``. Only
the last segment is written to; when an entry would push it past `max_segment_bytes` a new segment is
started (an entry larger than that gets a segment of its own). Compaction deletes whole old segments.

Durability. `append` hands bytes to the OS (pwrite, no fsync) and returns at once; `sync` fsyncs every
segment written since the previous sync (and the directory when segments were created) and only then
publishes `durable_index`. `sync` is the one method that may run in another thread while the owning
thread keeps appending (the broker calls it through `trio.to_thread.run_sync` with a limiter): it
captures the last index under a lock, fsyncs outside it, and publishes that captured index, so
`durable_index` never covers an entry appended after the sync began. Every other method must be called
from one thread at a time. A failed fsync makes the log unusable (Linux may already have dropped the
dirty pages, so a retry could "succeed" without the data): reopen it to recover.

Recovery at open. Every segment is scanned and every checksum verified. A torn or corrupt tail of the
LAST segment (incomplete header or payload, checksum mismatch, unexpected index) is what a crash before
fsync leaves behind: it is cut off (ftruncate + fsync) and described in `log.recovery`. Damage anywhere
else, or a gap between segments, raises `LogCorruptedError`: damaged data is never silently replayed.

Crash safety of the structural operations: `truncate_after` deletes newer segments newest-first (a crash
leaves a prefix of the old log), `compact` deletes oldest-first (a crash leaves a suffix), and `reset`
writes the new empty segment as ``*.log.tmp``, deletes the old segments oldest-first and renames the
temporary file into place; open finishes or discards a half-done reset.

Reads use `os.pread` on the segment's fd and verify checksums; the most recent entries (by default up
to 4096 entries or 16 MiB) are also kept in memory, so readers following the tail rarely touch the disk.
Iterators returned by `read` re-check `last_index` at every step, so they see entries appended while
they iterate; after `truncate_after` or `reset` a reader must restart from an index it still trusts.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from ._entry import (
    LogClosedError,
    LogCompactedError,
    LogCorruptedError,
    LogEntry,
    LogRecovery,
    check_append_arguments,
)
from ._segment import ENTRY_HEADER, MAX_PAYLOAD, Segment, open_segment, segment_file_name

__all__ = ["SegmentedLog"]

logger = logging.getLogger(__name__)

_SEGMENT_NAME = re.compile(r"^(\d{20})\.log$")
_TMP_SEGMENT_NAME = re.compile(r"^(\d{20})\.log\.tmp$")
_READ_BATCH_BYTES = 1024 * 1024
_CACHE_ENTRY_OVERHEAD = 120
_NO_HIGH = 2**63


class SegmentedLog:
    """The file-backed log; create it with `SegmentedLog.open(directory)` (see the module docstring)."""

    recovery: LogRecovery
    """What open cut off the tail of the last segment (`entries_dropped == 0` and empty reason if nothing)."""

    def __init__(
        self,
        directory: Path,
        segments: list[Segment],
        *,
        max_segment_bytes: int,
        cache_max_entries: int,
        cache_max_bytes: int,
        recovery: LogRecovery,
    ) -> None:
        # Use `open()`; this only wires already-opened segments together.
        self.directory = directory
        self.max_segment_bytes = max_segment_bytes
        self.recovery = recovery
        self._segments = segments
        self._lock = threading.Lock()
        """Guards what `sync` reads from another thread: segment list, dirty list, last index."""
        self._sync_lock = threading.Lock()
        """Held for a whole sync; structural operations take it too so no fd closes under an fsync."""
        self._dirty: list[Segment] = []
        self._directory_dirty = False
        self._broken: BaseException | None = None
        self._closed = False
        self._cache: dict[int, LogEntry] = {}
        self._cache_bytes = 0
        self._cache_max_entries = max(1, cache_max_entries)
        self._cache_max_bytes = cache_max_bytes
        self._last_index = segments[-1].last_index
        self._cache_first = self._last_index + 1
        self._durable_index = self._last_index  # open fsyncs everything it keeps (see open())
        self._last_term = 0
        self._previous_high: int | None = None
        self._last_position = 0
        self._refresh_tail_metadata()

    # ----------------------------------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        max_segment_bytes: int = 64 * 1024 * 1024,
        cache_max_entries: int = 4096,
        cache_max_bytes: int = 16 * 1024 * 1024,
    ) -> SegmentedLog:
        """Open (or create) the log in `directory`, scanning and verifying every segment.

        Raises `LogCorruptedError` for damage that is not a torn tail of the last segment.
        """
        directory = Path(directory)
        if max_segment_bytes < 1024:
            raise ValueError(f"max_segment_bytes must be at least 1024, got {max_segment_bytes}")
        directory.mkdir(parents=True, exist_ok=True)
        names = sorted(
            (int(m.group(1)), directory / m.group(0))
            for m in map(_SEGMENT_NAME.match, os.listdir(directory))
            if m is not None
        )
        temporaries = sorted(
            directory / m.group(0)
            for m in map(_TMP_SEGMENT_NAME.match, os.listdir(directory))
            if m is not None
        )
        if temporaries:
            if names:
                # A reset that crashed before it deleted every old segment: the old log (or a suffix of it) stands.
                for tmp in temporaries:
                    tmp.unlink()
            else:
                # A reset that deleted every old segment but crashed before the rename: finish it.
                tmp = temporaries[-1]
                first = int(_TMP_SEGMENT_NAME.match(tmp.name).group(1))  # type: ignore[union-attr]
                final = directory / segment_file_name(first)
                tmp.rename(final)
                names = [(first, final)]
                for other in temporaries[:-1]:
                    other.unlink()
            _fsync_directory(directory)

        segments: list[Segment] = []
        recovery = LogRecovery()
        try:
            if not names:
                segments.append(Segment.create(directory / segment_file_name(1), 1))
                os.fsync(segments[0].fd)
                _fsync_directory(directory)
            for position, (first_index, path) in enumerate(names):
                segment, recovery = open_segment(path, first_index, is_last=position == len(names) - 1)
                if segments and segment.first_index != segments[-1].last_index + 1:
                    previous = segments[-1]
                    segment.close()
                    raise LogCorruptedError(
                        f"{path}: offset 0: the segment starts at index {first_index} but the previous segment"
                        f" {previous.path.name} ends at index {previous.last_index}; entries are missing"
                        " between them. Restore this partition from a replica or a backup."
                    )
                segments.append(segment)
            # Whatever the OS held for us before a crash of the process (not the machine) is durable from
            # here on, so durable_index can start at last_index.
            for segment in segments:
                os.fsync(segment.fd)
        except BaseException:
            for segment in segments:
                segment.close()
            raise
        if recovery.reason:
            logger.warning("log %s: cut a torn tail at open: %s", directory, recovery.reason)
        return cls(
            directory,
            segments,
            max_segment_bytes=max_segment_bytes,
            cache_max_entries=cache_max_entries,
            cache_max_bytes=cache_max_bytes,
            recovery=recovery,
        )

    # -------------------------------------------------------------------------------------- properties

    @property
    def first_index(self) -> int:
        return self._segments[0].first_index

    @property
    def last_index(self) -> int:
        return self._last_index

    @property
    def last_term(self) -> int:
        return self._last_term

    @property
    def last_position(self) -> int:
        return self._last_position

    @property
    def durable_index(self) -> int:
        return self._durable_index

    @property
    def segment_paths(self) -> list[Path]:
        """The segment files, oldest first (for tooling and tests)."""
        return [segment.path for segment in self._segments]

    # ---------------------------------------------------------------------------------------- writing

    def append(self, term: int, data: bytes, low_position: int, high_position: int) -> LogEntry:
        """Append one entry (handed to the OS, not yet fsync'd; call `sync` to make it durable)."""
        self._check_usable()
        check_append_arguments(term, data, low_position, high_position, self._last_term, self._previous_high)
        if len(data) > MAX_PAYLOAD:
            raise ValueError(f"a log entry payload is at most {MAX_PAYLOAD} bytes, got {len(data)}")
        with self._lock:
            index = self._last_index + 1
            active = self._segments[-1]
            if active.entry_count and active.end + ENTRY_HEADER.size + len(data) > self.max_segment_bytes:
                active = self._roll(index)
            active.append(index, term, low_position, high_position, data)
            if not active.dirty:
                active.dirty = True
                self._dirty.append(active)
            self._last_index = index
        entry = LogEntry(index, term, low_position, high_position, data)
        self._last_term = term
        self._previous_high = high_position
        if high_position >= low_position:
            self._last_position = high_position
        self._cache_add(entry)
        return entry

    def _roll(self, first_index: int) -> Segment:
        segment = Segment.create(self.directory / segment_file_name(first_index), first_index)
        self._segments.append(segment)
        self._directory_dirty = True
        return segment

    def sync(self) -> int:
        """fsync everything appended so far; return the new `durable_index`. Safe in a worker thread."""
        with self._sync_lock:
            with self._lock:
                self._check_usable()
                target = self._last_index
                dirty, self._dirty = self._dirty, []
                for segment in dirty:
                    segment.dirty = False
                directory_dirty, self._directory_dirty = self._directory_dirty, False
            try:
                for segment in dirty:
                    os.fsync(segment.fd)
                if directory_dirty:
                    _fsync_directory(self.directory)
            except BaseException as exc:
                self._broken = exc
                raise
            with self._lock:
                if target > self._durable_index:
                    self._durable_index = target
                return self._durable_index

    def _sync_locked(self) -> None:
        """fsync all dirty segments and the directory; caller holds both locks."""
        try:
            for segment in self._dirty:
                segment.dirty = False
                os.fsync(segment.fd)
            self._dirty = []
            if self._directory_dirty:
                _fsync_directory(self.directory)
                self._directory_dirty = False
        except BaseException as exc:
            self._broken = exc
            raise
        self._durable_index = self._last_index

    def truncate_after(self, index: int) -> None:
        """Drop every entry after `index` (Raft conflict resolution); the result is durable on return."""
        with self._sync_lock, self._lock:
            self._check_usable()
            if index < self.first_index - 1:
                raise LogCompactedError(
                    f"cannot truncate after index {index}: entries before {self.first_index} were compacted away"
                )
            if index >= self._last_index:
                return
            removed_files = False
            # Newest first, and the directory fsync'd before the kept segment shrinks: a crash in between
            # leaves a prefix of the old log, never a gap.
            while len(self._segments) > 1 and self._segments[-1].first_index > index:
                self._delete_segment(self._segments.pop())
                removed_files = True
            if removed_files:
                _fsync_directory(self.directory)
            tail = self._segments[-1]
            tail.truncate_to(index - tail.first_index + 1)
            if not tail.dirty:
                tail.dirty = True
                self._dirty.append(tail)
            old_last, self._last_index = self._last_index, index
            # The cache holds exactly [cache_first, last_index]: drop what was truncated.
            for stale in range(max(self._cache_first, index + 1), old_last + 1):
                removed = self._cache.pop(stale)
                self._cache_bytes -= len(removed.data) + _CACHE_ENTRY_OVERHEAD
            self._cache_first = min(self._cache_first, index + 1)
            self._refresh_tail_metadata()
            self._sync_locked()

    def compact(self, up_to_index: int) -> None:
        """Delete whole segments whose entries are all below `up_to_index` (never the last segment)."""
        with self._sync_lock, self._lock:
            self._check_usable()
            removed = False
            while len(self._segments) > 1 and self._segments[0].last_index < up_to_index:
                self._delete_segment(self._segments.pop(0))
                removed = True
            if not removed:
                return
            _fsync_directory(self.directory)
            first = self.first_index
            while self._cache_first < first and self._cache:
                evicted = self._cache.pop(self._cache_first)
                self._cache_bytes -= len(evicted.data) + _CACHE_ENTRY_OVERHEAD
                self._cache_first += 1
            self._cache_first = max(self._cache_first, first)
            self._durable_index = max(self._durable_index, first - 1)
            self._refresh_tail_metadata()

    def reset(self, next_index: int) -> None:
        """Drop everything; the next appended entry gets `next_index` (a follower installing a snapshot)."""
        if next_index < 1:
            raise ValueError(f"reset needs a next index >= 1, got {next_index}")
        with self._sync_lock, self._lock:
            self._check_usable()
            final = self.directory / segment_file_name(next_index)
            tmp = final.with_name(final.name + ".tmp")
            tmp.unlink(missing_ok=True)
            fresh = Segment.create(tmp, next_index)
            try:
                os.fsync(fresh.fd)
                _fsync_directory(self.directory)
                for segment in self._segments:  # oldest first: a crash leaves a suffix of the old log
                    self._delete_segment(segment)
                self._segments = []
                os.replace(tmp, final)
                fresh.path = final
                _fsync_directory(self.directory)
            except BaseException as exc:
                fresh.close()
                self._broken = exc
                raise
            self._segments = [fresh]
            self._dirty = []
            self._directory_dirty = False
            self._last_index = next_index - 1
            self._durable_index = next_index - 1
            self._cache.clear()
            self._cache_bytes = 0
            self._cache_first = next_index
            self._refresh_tail_metadata()

    def close(self) -> None:
        """fsync what was appended and close every file. Idempotent."""
        if self._closed:
            return
        if self._broken is None:
            self.sync()
        with self._sync_lock, self._lock:
            for segment in self._segments:
                segment.close()
            self._closed = True
            self._cache.clear()

    def __enter__(self) -> SegmentedLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------- reading

    def entry(self, index: int) -> LogEntry:
        """The entry at `index`; `LogCompactedError` before `first_index`, `IndexError` after `last_index`."""
        self._check_readable(index)
        if index > self._last_index:
            raise IndexError(f"log entry {index} does not exist: the last index is {self._last_index}")
        if index >= self._cache_first:
            return self._cache[index]
        segment = self._segment_of(index)
        local = index - segment.first_index
        return segment.read_entries(local, local + 1)[0]

    def read(self, from_index: int) -> Iterator[LogEntry]:
        """Entries from `from_index` up to the last index at each step (sees appends made meanwhile)."""
        self._check_readable(from_index)
        return self._iterate(from_index)

    def _iterate(self, index: int) -> Iterator[LogEntry]:
        while index <= self._last_index:
            if self._closed:
                raise LogClosedError(f"log {self.directory} was closed while it was being read")
            if index >= self._cache_first:
                yield self._cache[index]
                index += 1
                continue
            if index < self.first_index:
                raise LogCompactedError(
                    f"log entry {index} was compacted away while it was being read; the log now starts at"
                    f" index {self.first_index}"
                )
            segment = self._segment_of(index)
            start = index - segment.first_index
            stop = min(segment.entry_count, self._cache_first - segment.first_index)
            # Read up to ~1 MiB per pread (at least one entry).
            limit = segment.offsets[start] + _READ_BATCH_BYTES
            if segment.end > limit:
                stop = max(start + 1, min(stop, bisect.bisect_right(segment.offsets, limit, lo=start) - 1))
            yield from segment.read_entries(start, stop)
            index += stop - start

    def index_of_position(self, position: int) -> int | None:
        """Index of the entry whose [low_position, high_position] holds `position`, else None."""
        self._check_usable()
        found = self._first_entry_reaching(position)
        if found is None:
            return None
        segment, local = found
        if segment.lows[local] > position:
            return None
        return segment.first_index + local

    def read_from_position(self, position: int) -> Iterator[LogEntry]:
        """Entries from the one holding `position` (or the first after it) on; empty if beyond the end."""
        self._check_usable()
        first = self._segments[0]
        if first.entry_count and position < first.lows[0]:
            raise LogCompactedError(
                f"position {position} is not in the log: the first retained entry {first.first_index} starts at"
                f" position {first.lows[0]} (older records were compacted into a snapshot)"
            )
        found = self._first_entry_reaching(position)
        if found is None:
            return self._iterate(self._last_index + 1)
        segment, local = found
        return self._iterate(segment.first_index + local)

    def _first_entry_reaching(self, position: int) -> tuple[Segment, int] | None:
        """(segment, local index) of the first entry with high_position >= position."""
        segments = self._segments
        which = bisect.bisect_left(segments, position, key=lambda s: s.highs[-1] if s.highs else _NO_HIGH)
        if which == len(segments) or not segments[which].highs:
            return None
        segment = segments[which]
        return segment, bisect.bisect_left(segment.highs, position)

    def _segment_of(self, index: int) -> Segment:
        which = bisect.bisect_right(self._segments, index, key=lambda s: s.first_index) - 1
        return self._segments[which]

    # ---------------------------------------------------------------------------------------- helpers

    def _cache_add(self, entry: LogEntry) -> None:
        self._cache[entry.index] = entry
        self._cache_bytes += len(entry.data) + _CACHE_ENTRY_OVERHEAD
        while len(self._cache) > self._cache_max_entries or (
            self._cache_bytes > self._cache_max_bytes and len(self._cache) > 1
        ):
            evicted = self._cache.pop(self._cache_first)
            self._cache_bytes -= len(evicted.data) + _CACHE_ENTRY_OVERHEAD
            self._cache_first += 1

    def _delete_segment(self, segment: Segment) -> None:
        if segment.dirty:
            segment.dirty = False
            self._dirty.remove(segment)
        segment.close()
        segment.path.unlink()

    def _refresh_tail_metadata(self) -> None:
        """Recompute last term, previous high and last position from the in-memory index."""
        self._last_term = 0
        self._previous_high = None
        self._last_position = 0
        for segment in reversed(self._segments):
            if not segment.entry_count:
                continue
            if self._previous_high is None:
                self._last_term = segment.terms[-1]
                self._previous_high = segment.highs[-1]
            for local in range(segment.entry_count - 1, -1, -1):
                if segment.highs[local] >= segment.lows[local]:
                    self._last_position = segment.highs[local]
                    return

    def _check_usable(self) -> None:
        if self._closed:
            raise LogClosedError(f"log {self.directory} is closed")
        if self._broken is not None:
            raise LogClosedError(
                f"log {self.directory} is unusable after a failed write or fsync ({self._broken!r});"
                " close it and open it again to recover"
            ) from self._broken

    def _check_readable(self, index: int) -> None:
        self._check_usable()
        if index < 1:
            raise ValueError(f"log indexes start at 1, got {index}")
        if index < self.first_index:
            raise LogCompactedError(
                f"log entry {index} was compacted away: the log now starts at index {self.first_index}"
                " (read the state from a snapshot instead)"
            )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
