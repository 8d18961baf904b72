"""`RaftLog`: what a Raft node needs of stable storage, and `MemoryRaftLog`, which can forget like a crash.

Contract (shared by `MemoryRaftLog` and `SegmentedRaftLog`):

- Entries after the snapshot are numbered `snapshot_index + 1 ... last_index`; `first_index` is the first
  entry still stored (entries at or below `snapshot_index` may linger until `compact` removes them).
- `append`, `truncate_after` and `save_hard_state` only *write*; `sync` makes everything written durable and
  returns the new `durable_index` (entries up to it, and the last saved hard state, survive a crash).
  `truncate_after` and `install_snapshot` are durable on return (a shorter log never comes back longer).
- Only the driver writes; the node reads (`term_at`, `entries`) and describes writes in its `Ready`.
"""

from __future__ import annotations

from typing import Protocol

from ._messages import HardState, RaftEntry


class RaftLog(Protocol):
    sync_blocks: bool
    """True when `sync` does real I/O: the driver then runs it in a worker thread."""

    @property
    def first_index(self) -> int: ...
    @property
    def last_index(self) -> int: ...
    @property
    def durable_index(self) -> int: ...
    @property
    def snapshot_index(self) -> int: ...
    @property
    def snapshot_term(self) -> int: ...
    @property
    def hard_state(self) -> HardState:
        """The last saved term and vote (as written; durable after `sync`)."""
        ...

    def term_at(self, index: int) -> int:
        """The term of entry `index` (`snapshot_term` for `snapshot_index`); IndexError outside the log."""
        ...

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        """Entries `low` through `high` inclusive, all stored."""
        ...

    def append(self, entries: list[RaftEntry]) -> None:
        """Write entries that continue the log at `last_index + 1` (not yet durable)."""
        ...

    def truncate_after(self, index: int) -> None: ...
    def save_hard_state(self, state: HardState) -> None: ...
    def sync(self) -> int: ...
    def compact(self, snapshot_index: int, snapshot_term: int) -> None:
        """Record that a snapshot covers everything up to `snapshot_index` and drop entries it covers."""
        ...

    def install_snapshot(self, snapshot_index: int, snapshot_term: int) -> None:
        """Continue after a received snapshot (durable on return): when the log holds the snapshot's last
        entry (same index and term) the entries after it stay, otherwise every entry goes."""
        ...

    def close(self) -> None: ...


class MemoryRaftLog:
    """A `RaftLog` in lists. `crash()` forgets what a crash would: entries and hard state not yet synced."""

    sync_blocks = False

    def __init__(self) -> None:
        self._entries: list[RaftEntry] = []
        self._first = 1
        self._durable = 0
        self._snapshot_index = 0
        self._snapshot_term = 0
        self._hard_state = HardState(0, None)
        self._durable_hard_state = self._hard_state
        self.syncs = 0

    @property
    def first_index(self) -> int:
        return self._first

    @property
    def last_index(self) -> int:
        return self._first + len(self._entries) - 1

    @property
    def durable_index(self) -> int:
        return self._durable

    @property
    def snapshot_index(self) -> int:
        return self._snapshot_index

    @property
    def snapshot_term(self) -> int:
        return self._snapshot_term

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    def term_at(self, index: int) -> int:
        if index == self._snapshot_index:
            return self._snapshot_term
        if index < self._first or index > self.last_index:
            raise IndexError(f"raft log entry {index} is not stored (the log holds {self._first}..{self.last_index})")
        return self._entries[index - self._first].term

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        if low < self._first or high > self.last_index:
            raise IndexError(f"raft log entries {low}..{high} are not all stored"
                             f" (the log holds {self._first}..{self.last_index})")
        return self._entries[low - self._first: high - self._first + 1]

    def append(self, entries: list[RaftEntry]) -> None:
        for entry in entries:
            if entry.index != self.last_index + 1:
                raise ValueError(f"raft log entry {entry.index} does not continue the log at {self.last_index + 1}")
            self._entries.append(entry)

    def truncate_after(self, index: int) -> None:
        if index < self._first - 1:
            raise IndexError(f"cannot truncate the raft log after {index}: it starts at {self._first}")
        del self._entries[index - self._first + 1:]
        self._durable = min(self._durable, index)

    def save_hard_state(self, state: HardState) -> None:
        self._hard_state = state

    def sync(self) -> int:
        self.syncs += 1
        self._durable = self.last_index
        self._durable_hard_state = self._hard_state
        return self._durable

    def compact(self, snapshot_index: int, snapshot_term: int) -> None:
        if snapshot_index <= self._snapshot_index:
            return
        self._snapshot_index, self._snapshot_term = snapshot_index, snapshot_term
        drop = min(snapshot_index, self.last_index) - self._first + 1
        if drop > 0:
            del self._entries[:drop]
            self._first += drop
        self._durable = max(self._durable, self._first - 1)

    def install_snapshot(self, snapshot_index: int, snapshot_term: int) -> None:
        if self._first <= snapshot_index <= self.last_index and self.term_at(snapshot_index) == snapshot_term:
            self._durable = max(self._durable, snapshot_index)
            self.compact(snapshot_index, snapshot_term)
            return
        self._entries.clear()
        self._first = snapshot_index + 1
        self._durable = snapshot_index
        self._snapshot_index, self._snapshot_term = snapshot_index, snapshot_term

    def close(self) -> None:
        pass

    def crash(self, *, lose_unsynced: bool = True) -> None:
        """What a process (or machine, `lose_unsynced`) crash leaves: everything synced, and only that."""
        if lose_unsynced:
            del self._entries[self._durable - self._first + 1:]
            self._hard_state = self._durable_hard_state
        else:
            self.sync()
