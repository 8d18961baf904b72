"""The values and errors every log implementation shares, and the `Log` protocol they satisfy.

Index vocabulary (the same for `SegmentedLog` and `InMemoryLog`):

- Entries are numbered 1, 2, 3, ... consecutively (the Raft index); an index is never reused for other
  data except through `truncate_after` (Raft conflict resolution) or `reset` (snapshot install).
- `first_index` is the index of the first retained entry; when the log holds no entries it is the
  index the next appended entry will get (1 for a brand-new log, `next_index` after `reset`).
- `last_index` is the index of the last entry, or `first_index - 1` when the log is empty
  (so 0 for a brand-new log). The log is empty exactly when `last_index < first_index`.
- `durable_index` is the highest index known to be on stable storage; it always lies in
  `[first_index - 1, last_index]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One Raft log entry: an opaque payload plus the range of record positions it carries."""

    index: int
    """1, 2, 3 ... consecutive, never reused (the Raft index)."""
    term: int
    """Raft term in which the entry was created (a single node uses 1)."""
    low_position: int
    """First record position carried in this entry (records are numbered by the stream layer)."""
    high_position: int
    """Last record position in this entry; an entry carrying no records has `low_position - 1`."""
    data: bytes
    """Opaque payload (a serialized batch of records)."""

    @property
    def carries_records(self) -> bool:
        return self.high_position >= self.low_position


@dataclass(frozen=True, slots=True)
class LogRecovery:
    """What `SegmentedLog.open` cut off: a write torn by a crash at the end of the log (all zero if nothing)."""

    entries_dropped: int = 0
    """Entries (complete or partial) that were cut off, counted by following their length fields."""
    bytes_dropped: int = 0
    reason: str = ""
    """Why, naming the file and offset; empty when nothing was cut."""


class LogCorruptedError(Exception):
    """The log on disk is damaged somewhere recovery must not repair; the message names file and offset.

    `damage` describes what a repair would cut (`SegmentedLog.inspect` finds the same without raising)."""

    def __init__(self, message: str, *, path: Path | None = None, offset: int | None = None,
                 damage: LogDamage | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset
        self.damage = damage


@dataclass(frozen=True, slots=True)
class LogDamage:
    """Damage that open refuses to repair by itself, and what cutting the log there would lose."""

    path: Path
    """The segment file holding the damage (for a log that ends early: its last segment)."""
    offset: int
    """Byte offset in `path` where the verified content ends: a repair keeps the bytes before it."""
    index: int
    """The first index a repair drops (the entry that should have been at `offset`)."""
    problem: str
    """What is wrong, in words."""
    entries_lost: int
    """Entries a repair drops: from `offset` to the end of `path` (counted by following length fields) and
    every entry of `later_segments`."""
    intact_lost: int
    """How many of `entries_lost` still verify: acknowledged work, if they were durable."""
    lost_high_position: int
    """The highest record position of a dropped entry that verifies, or that the durability mark vouches
    for (0 if none): a repaired log never hands out a position at or below it again."""
    bytes_lost: int
    later_segments: tuple[Path, ...] = ()
    """Segments after `path`, deleted by a repair (damage in a segment that is not the last one)."""
    durable_index: int | None = None
    """The durability mark: every entry up to this index had been fsync'd (None when the log has no mark)."""

    @property
    def last_kept_index(self) -> int:
        return self.index - 1

    def describe(self) -> str:
        """One line: where, what, and what a repair would drop."""
        text = f"{self.path}: offset {self.offset}: {self.problem}"
        if self.entries_lost:
            text += (f"; a repair would drop entry {self.index} and everything after it ({self.entries_lost}"
                     f" entries, {self.intact_lost} of them intact, {self.bytes_lost} bytes")
            text += f", and {len(self.later_segments)} later segment files)" if self.later_segments else ")"
        return text


class LogCompactedError(IndexError):
    """The requested entry or position lies before the first retained entry (it was compacted away)."""


class LogClosedError(RuntimeError):
    """The log was used after `close()`."""


class Log(Protocol):
    """The API shared by `SegmentedLog` and `InMemoryLog` (see the module docstring for index meanings)."""

    @property
    def first_index(self) -> int: ...
    @property
    def last_index(self) -> int: ...
    @property
    def last_term(self) -> int: ...
    @property
    def last_position(self) -> int: ...
    @property
    def durable_index(self) -> int: ...

    def append(self, term: int, data: bytes, low_position: int, high_position: int) -> LogEntry: ...
    def sync(self) -> int: ...
    def read(self, from_index: int) -> Iterator[LogEntry]: ...
    def entry(self, index: int) -> LogEntry: ...
    def index_of_position(self, position: int) -> int | None: ...
    def read_from_position(self, position: int) -> Iterator[LogEntry]: ...
    def truncate_after(self, index: int) -> None: ...
    def compact(self, up_to_index: int) -> None: ...
    def reset(self, next_index: int) -> None: ...
    def close(self) -> None: ...


def check_append_arguments(
    term: int, data: bytes, low_position: int, high_position: int, last_term: int, previous_high: int | None
) -> None:
    """Raise if an append would break term or position order (shared by both logs).

    `previous_high` is the last entry's `high_position` (None when the log is empty): position ranges must
    increase strictly from entry to entry, which keeps the position index binary-searchable.
    """
    if not isinstance(data, bytes):
        raise TypeError(f"log entry data must be bytes, not {type(data).__name__}")
    if term < last_term:
        raise ValueError(
            f"cannot append an entry of term {term}: the last entry has the later term {last_term}"
        )
    if high_position < low_position - 1:
        raise ValueError(
            f"invalid position range [{low_position}, {high_position}]: high_position must be >= low_position"
            " (or low_position - 1 for an entry that carries no records)"
        )
    if previous_high is not None and low_position <= previous_high:
        raise ValueError(
            f"cannot append records from position {low_position}: the previous entry ends at position"
            f" {previous_high}; positions must increase"
        )
