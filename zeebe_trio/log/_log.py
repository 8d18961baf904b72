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

Recovery at open. Every segment is scanned and every checksum verified. Only a write torn by a crash is
cut: a problem (incomplete header or payload, checksum mismatch, unexpected index) in the LAST segment,
after the durability mark (`_meta.py`: the last index an fsync made durable), with no entry after it that
still verifies. That tail is cut off (ftruncate + fsync) and described in `log.recovery`. Anything else
raises `LogCorruptedError` naming the file and offset, with a `LogDamage` saying what cutting there would
drop: damage in an earlier segment, damage to entries that were durable, damage followed by intact
entries, a gap between segments, or a log that ends before its mark. Damaged or missing data is never
silently replayed or cut. `SegmentedLog.inspect` reports the same without changing anything, and
`SegmentedLog.cut` is the repair an operator asks for (`zeebe-trio repair-log`).

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
from dataclasses import dataclass
from pathlib import Path

from ._entry import (
    LogClosedError,
    LogCompactedError,
    LogCorruptedError,
    LogDamage,
    LogEntry,
    LogRecovery,
    check_append_arguments,
)
from ._meta import DurableMark, MarkFile, read_mark
from ._segment import (
    ENTRY_HEADER,
    MAX_PAYLOAD,
    ScanProblem,
    Segment,
    TailSurvey,
    cut_torn_tail,
    open_segment,
    segment_file_name,
    survey_tail,
)

__all__ = ["LogInspection", "SegmentedLog"]

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
        mark_file: MarkFile,
        mark: DurableMark,
    ) -> None:
        # Use `open()`; this only wires already-opened segments together.
        self.directory = directory
        self._mark_file = mark_file
        self._mark = mark
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
        names = _segment_names(directory)
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

        mark = read_mark(directory)
        segments, verdict = _examine(directory, names, mark, writable=True)
        recovery = LogRecovery()
        mark_file = None
        try:
            if isinstance(verdict, LogDamage):
                raise LogCorruptedError(_refusal(verdict, mark), path=verdict.path, offset=verdict.offset,
                                        damage=verdict)
            if verdict is not None:
                segment, problem, survey = verdict
                cut_torn_tail(segment, problem)
                recovery = LogRecovery(
                    entries_dropped=survey.entries,
                    bytes_dropped=survey.bytes_after,
                    reason=(f"{segment.path}: offset {problem.offset}: {problem.what}; cut {survey.bytes_after}"
                            " bytes written after the last fsync"
                            + ("; torn segment header rewritten" if problem.header else "")),
                )
            if not names:
                segments.append(Segment.create(directory / segment_file_name(1), 1))
                os.fsync(segments[0].fd)
                _fsync_directory(directory)
            # Whatever the OS held for us before a crash of the process (not the machine) is durable from
            # here on, so durable_index (and the mark) can start at last_index.
            for segment in segments:
                os.fsync(segment.fd)
            mark_file = MarkFile(directory)
            opened_mark = DurableMark(segments[-1].last_index, _last_high(segments, mark))
            mark_file.write(opened_mark)
            if mark_file.created:
                _fsync_directory(directory)
        except BaseException:
            for segment in segments:
                segment.close()
            if mark_file is not None:
                mark_file.close()
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
            mark_file=mark_file,
            mark=opened_mark,
        )

    @staticmethod
    def inspect(directory: Path) -> LogInspection:
        """What `open` would find in `directory`, changing nothing (for `zeebe-trio repair-log`).

        Raises `LogCorruptedError` only for damage no cut can repair (a segment header that is present but
        wrong); a missing directory is an empty log."""
        directory = Path(directory)
        names = _segment_names(directory) if directory.is_dir() else []
        mark = read_mark(directory) if directory.is_dir() else None
        segments, verdict = _examine(directory, names, mark, writable=False)
        try:
            damage = verdict if isinstance(verdict, LogDamage) else None
            torn = None
            kept = segments
            if verdict is not None and not isinstance(verdict, LogDamage):
                segment, problem, survey = verdict
                torn = f"{segment.path}: offset {problem.offset}: {problem.what} ({survey.bytes_after} bytes)"
            if damage is not None:
                kept = [s for s in segments if s.path not in damage.later_segments]
            first = kept[0].first_index if kept else 1
            last = kept[-1].last_index if kept else 0
            if damage is not None:
                last = min(last, damage.index - 1)
            return LogInspection(directory=directory, first_index=first, last_index=last,
                                 end_position=_high_at(kept, last), durable_mark=mark, damage=damage, torn_tail=torn,
                                 segments=len(names))
        finally:
            for segment in segments:
                segment.close()

    @staticmethod
    def cut(directory: Path, damage: LogDamage) -> None:
        """Repair: drop everything from `damage` on (found by `inspect` on this very log), durably.

        Later segments are deleted newest first, the damaged segment is truncated at `damage.offset`, and
        the durability mark is lowered to the last entry kept, so the log opens again. What was dropped is
        gone: call this only when an operator has accepted that loss."""
        directory = Path(directory)
        found = SegmentedLog.inspect(directory).damage
        if found is None or (found.path, found.offset, found.index) != (damage.path, damage.offset, damage.index):
            raise ValueError(f"log {directory}: the damage to cut is not what the log holds now"
                             f" (expected {damage.describe()}; found {found.describe() if found else 'no damage'})")
        for later in reversed(damage.later_segments):
            later.unlink()
        if damage.later_segments:
            _fsync_directory(directory)
        if damage.path.exists():  # (not when every segment file is gone)
            fd = os.open(damage.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
            try:
                segment = Segment(damage.path, fd, int(damage.path.name.removesuffix(".log")))
                if damage.offset < os.fstat(fd).st_size or damage.offset == 0:
                    cut_torn_tail(segment, ScanProblem(damage.offset, damage.index, damage.problem,
                                                       header=damage.offset == 0))
            finally:
                os.close(fd)
        mark = read_mark(directory)
        kept_position = SegmentedLog.inspect(directory).end_position
        mark_file = MarkFile(directory)
        try:
            index = damage.index - 1 if mark is None else min(mark.index, damage.index - 1)
            mark_file.write_durably(DurableMark(index, kept_position))
        finally:
            mark_file.close()
        _fsync_directory(directory)

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
                target_high = _last_high(self._segments, self._mark)
                dirty, self._dirty = self._dirty, []
                for segment in dirty:
                    segment.dirty = False
                directory_dirty, self._directory_dirty = self._directory_dirty, False
            try:
                for segment in dirty:
                    os.fsync(segment.fd)
                if directory_dirty:
                    _fsync_directory(self.directory)
                if target > self._mark.index:
                    self._mark = DurableMark(target, target_high)
                    self._mark_file.write(self._mark)
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
            self._mark = DurableMark(self._last_index, _last_high(self._segments, self._mark))
            self._mark_file.write(self._mark)
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
            self._lower_mark(index)
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
            self._lower_mark(next_index - 1)
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
        try:
            if self._broken is None:
                self.sync()
        finally:  # a failed sync still closes every file
            with self._sync_lock, self._lock:
                for segment in self._segments:
                    segment.close()
                self._mark_file.close()
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

    def _lower_mark(self, index: int) -> None:
        """Before the log gets shorter than its mark: lower the mark durably, so that a crash half-way
        never leaves a log that ends before its mark (which open would refuse)."""
        if index < self._mark.index:
            try:
                self._mark = DurableMark(index, _high_at(self._segments, index))
                self._mark_file.write_durably(self._mark)
            except BaseException as exc:
                self._broken = exc
                raise

    @property
    def durable_mark(self) -> DurableMark:
        """The durability mark as last written (see `_meta.py`)."""
        return self._mark

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


@dataclass(frozen=True, slots=True)
class LogInspection:
    """What `SegmentedLog.inspect` found; indexes and positions describe what a repair would keep."""

    directory: Path
    first_index: int
    last_index: int
    """The last entry kept: before the damage, or before a torn tail that open would cut."""
    end_position: int
    """The high position of entry `last_index` (0 if there is none): the next record gets a higher one."""
    durable_mark: DurableMark | None
    damage: LogDamage | None
    """What open refuses, and what cutting there drops; None when open would succeed."""
    torn_tail: str | None
    """A torn tail that open would cut by itself (not damage), described; None if there is none."""
    segments: int


def _segment_names(directory: Path) -> list[tuple[int, Path]]:
    return sorted(
        (int(m.group(1)), directory / m.group(0)) for m in map(_SEGMENT_NAME.match, os.listdir(directory)) if m is not None
    )


def _high_at(segments: list[Segment], index: int) -> int:
    """The high position of entry `index` if a segment holds it, else 0."""
    for segment in reversed(segments):
        if segment.first_index <= index <= segment.last_index:
            return int(segment.highs[index - segment.first_index])
    return 0


def _last_high(segments: list[Segment], mark: DurableMark | None) -> int:
    """The high position of the last entry; for an empty log, what the mark says (or 0)."""
    for segment in reversed(segments):
        if segment.entry_count:
            return int(segment.highs[-1])
    return mark.position if mark is not None else 0


@dataclass(frozen=True, slots=True)
class TornTail:
    entries: int
    bytes_after: int


def _examine(directory: Path, names: list[tuple[int, Path]], mark: DurableMark | None, *,
             writable: bool) -> tuple[list[Segment], LogDamage | tuple[Segment, ScanProblem, TornTail] | None]:
    """Open and scan every segment; say whether the log is whole, has a torn tail, or is damaged.

    On return the segments are open (the caller closes them), each indexed up to its first problem."""
    segments: list[Segment] = []
    try:
        for position, (first_index, path) in enumerate(names):
            try:
                segment, problem = open_segment(path, first_index, writable=writable)
            except LogCorruptedError as error:  # a header that is there but wrong: the segment is lost
                return segments, _damage(path, ScanProblem(0, first_index, str(error).split(": ", 2)[-1],
                                                           header=True),
                                         names[position + 1:], mark, survey=None)
            if segments and segment.first_index != segments[-1].last_index + 1:
                previous = segments[-1]
                segment.close()
                return segments, _damage(
                    previous.path, ScanProblem(previous.end, previous.last_index + 1,
                                               f"the next segment {path.name} starts at index {first_index} but this"
                                               f" one ends at index {previous.last_index}; entries are missing between"
                                               " them"),
                    names[position:], mark, survey=None)
            segments.append(segment)
            if problem is None:
                continue
            is_last = position == len(names) - 1
            survey = survey_tail(segment, problem)
            size = os.fstat(segment.fd).st_size
            durable = mark is not None and problem.index <= mark.index
            if is_last and not durable and survey.first_intact_offset is None:
                return segments, (segment, problem, TornTail(survey.entries, size - problem.offset))
            return segments, _damage(segment.path, problem, names[position + 1:], mark, survey=survey)
        if mark is not None and mark.index > 0 and not segments:
            return segments, LogDamage(
                path=directory / segment_file_name(1), offset=0, index=1,
                problem=(f"the log holds no segment file but entries up to index {mark.index} (position"
                         f" {mark.position}) had been made durable (were the segment files deleted?)"),
                entries_lost=0, intact_lost=0, lost_high_position=mark.position, bytes_lost=0,
                durable_index=mark.index)
        if mark is not None and segments and segments[-1].last_index < mark.index:
            last = segments[-1]
            return segments, LogDamage(
                path=last.path, offset=last.end, index=last.last_index + 1,
                problem=(f"the log ends at index {last.last_index} (position {_last_high(segments, None)}) but entries"
                         f" up to index {mark.index} (position {mark.position}) had been made durable:"
                         f" {mark.index - last.last_index} entries are missing from its end (was a segment file"
                         " truncated or deleted?)"),
                entries_lost=0, intact_lost=0, lost_high_position=mark.position, bytes_lost=0,
                durable_index=mark.index)
    except BaseException:
        for segment in segments:
            segment.close()
        raise
    return segments, None


def _damage(path: Path, problem: ScanProblem, later_names: list[tuple[int, Path]], mark: DurableMark | None, *,
            survey: TailSurvey | None) -> LogDamage:
    """Describe damage at `problem` in the segment `path`, counting what a cut there would drop (the rest
    of `path` and every segment in `later_names`)."""
    size = os.path.getsize(path)
    later = tuple(p for _, p in later_names)
    entries = intact = 0
    high = 0
    reasons = []
    if survey is not None:
        entries, intact, high = survey.entries, survey.intact, survey.high_position
        if later:
            reasons.append(f"it is not the last segment ({len(later)} more follow)")
        if mark is not None and problem.index <= mark.index:
            reasons.append(f"entries up to index {mark.index} had been made durable")
        if survey.first_intact_offset is not None:
            reasons.append(f"an intact entry follows at offset {survey.first_intact_offset}")
    bytes_lost = size - problem.offset
    for first_index, later_path in later_names:
        bytes_lost += os.path.getsize(later_path)
        try:
            other, other_problem = open_segment(later_path, first_index, writable=False)
        except (LogCorruptedError, OSError):
            continue
        try:
            entries += other.entry_count
            intact += other.entry_count
            if other.entry_count:
                high = max(high, int(other.highs[-1]))
            if other_problem is not None:
                tail = survey_tail(other, other_problem)
                entries += tail.entries
                intact += tail.intact
                high = max(high, tail.high_position)
        finally:
            other.close()
    if mark is not None and mark.index >= problem.index:
        high = max(high, mark.position)
    what = problem.what
    if reasons:
        what += f" ({'; '.join(reasons)}: damage, not a write torn by a crash)"
    return LogDamage(path=path, offset=problem.offset, index=problem.index, problem=what,
                     entries_lost=entries, intact_lost=intact, lost_high_position=high, bytes_lost=bytes_lost,
                     later_segments=later, durable_index=None if mark is None else mark.index)


def _refusal(damage: LogDamage, mark: DurableMark | None) -> str:
    return (f"{damage.describe()}; refusing to open so that nothing durable is dropped or replayed damaged."
            " Restore this partition from a replica or a backup, or cut the log at the damage (zeebe-trio"
            " repair-log)")


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
