"""`InMemoryLog`: the log API over a Python list, for unit tests (Raft, stream) that need no disk.

It follows the same contract as `SegmentedLog` (the shared test suite runs against both): `sync()` is what
moves `durable_index`, compaction keeps the entry at `up_to_index` (and the last entry), and reads before
`first_index` raise `LogCompactedError`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from ._entry import LogClosedError, LogCompactedError, LogEntry, check_append_arguments


class InMemoryLog:
    """A list-backed log with the same API and semantics as `SegmentedLog` (nothing survives the process)."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._first_index = 1
        self._durable_index = 0
        self._last_position = 0
        self._closed = False

    @property
    def first_index(self) -> int:
        return self._first_index

    @property
    def last_index(self) -> int:
        return self._first_index + len(self._entries) - 1

    @property
    def last_term(self) -> int:
        return self._entries[-1].term if self._entries else 0

    @property
    def last_position(self) -> int:
        return self._last_position

    @property
    def durable_index(self) -> int:
        return self._durable_index

    def append(self, term: int, data: bytes, low_position: int, high_position: int) -> LogEntry:
        self._check_open()
        previous_high = self._entries[-1].high_position if self._entries else None
        check_append_arguments(term, data, low_position, high_position, self.last_term, previous_high)
        entry = LogEntry(self.last_index + 1, term, low_position, high_position, bytes(data))
        self._entries.append(entry)
        if entry.carries_records:
            self._last_position = high_position
        return entry

    def sync(self) -> int:
        self._check_open()
        self._durable_index = self.last_index
        return self._durable_index

    def read(self, from_index: int) -> Iterator[LogEntry]:
        self._check_open()
        self._check_readable(from_index)
        return self._iterate(from_index)

    def _iterate(self, index: int) -> Iterator[LogEntry]:
        while index <= self.last_index:
            yield self.entry(index)
            index += 1

    def entry(self, index: int) -> LogEntry:
        self._check_open()
        self._check_readable(index)
        if index > self.last_index:
            raise IndexError(f"log entry {index} does not exist: the last index is {self.last_index}")
        return self._entries[index - self._first_index]

    def index_of_position(self, position: int) -> int | None:
        self._check_open()
        i = bisect.bisect_left(self._entries, position, key=lambda e: e.high_position)
        if i == len(self._entries) or self._entries[i].low_position > position:
            return None
        return self._entries[i].index

    def read_from_position(self, position: int) -> Iterator[LogEntry]:
        self._check_open()
        if self._entries and position < self._entries[0].low_position:
            raise LogCompactedError(
                f"position {position} is not in the log: the first retained entry {self._first_index} starts at"
                f" position {self._entries[0].low_position} (older records were compacted into a snapshot)"
            )
        i = bisect.bisect_left(self._entries, position, key=lambda e: e.high_position)
        return self._iterate(self._first_index + i)

    def truncate_after(self, index: int) -> None:
        self._check_open()
        if index < self._first_index - 1:
            raise LogCompactedError(
                f"cannot truncate after index {index}: entries before {self._first_index} were compacted away"
            )
        if index >= self.last_index:
            return
        del self._entries[index - self._first_index + 1 :]
        self._last_position = next((e.high_position for e in reversed(self._entries) if e.carries_records), 0)
        self._durable_index = self.last_index

    def compact(self, up_to_index: int) -> None:
        self._check_open()
        keep_from = min(up_to_index, self.last_index)
        if keep_from <= self._first_index:
            return
        del self._entries[: keep_from - self._first_index]
        self._first_index = keep_from
        self._durable_index = max(self._durable_index, keep_from - 1)

    def reset(self, next_index: int) -> None:
        self._check_open()
        if next_index < 1:
            raise ValueError(f"reset needs a next index >= 1, got {next_index}")
        self._entries.clear()
        self._first_index = next_index
        self._durable_index = next_index - 1
        self._last_position = 0

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError("the in-memory log is closed")

    def _check_readable(self, index: int) -> None:
        if index < 1:
            raise ValueError(f"log indexes start at 1, got {index}")
        if index < self._first_index:
            raise LogCompactedError(
                f"log entry {index} was compacted away: the log now starts at index {self._first_index}"
                " (read the state from a snapshot instead)"
            )
