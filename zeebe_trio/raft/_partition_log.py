"""`PartitionRaftLog`: a durable `RaftLog` that is also the partition's log, with record positions.

A replicated partition keeps one log per replica, not two: each Raft entry is stored as one entry of the
`zeebe_trio.log.SegmentedLog` with the record positions of the batch it carries, so the stream layer
(`LogStream`, replay, exporters) reads the Raft log exactly as it reads a single node's log.

Raft entries themselves carry no positions, so a proposal's data is ``[i64 low position][i64 high
position]`` followed by the encoded batch (`encode_entry`); `append` stores the batch with that range, and
`entries` puts the header back in front of it when the leader sends entries to followers. A leader's no-op
(empty data) is stored as an entry that takes no positions (an empty range right after the last one).

After a snapshot install the log is empty, and the position the compacted entries ended at is not in it:
the partition hands it over (`set_position_floor`, kept in ``positions.floor`` next to ``raft.meta``) before
Raft resets the log, so that a no-op written next, and a leader's first batch after it, continue after the
snapshot's positions instead of handing them out again.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from zeebe_trio.log import LogEntry, SegmentedLog

from ._messages import RaftEntry
from ._segmented import SegmentedRaftLog

_POSITIONS = struct.Struct("<qq")
ENTRY_HEADER_BYTES = _POSITIONS.size
"""What ``encode_entry`` adds to a batch: its low and high positions."""
FLOOR_FILE = "positions.floor"


def encode_entry(data: bytes, low_position: int, high_position: int) -> bytes:
    """The data of a Raft proposal carrying one batch of records at positions low..high."""
    return _POSITIONS.pack(low_position, high_position) + data


def _end_position(log: SegmentedLog) -> int:
    if log.last_index >= log.first_index:
        return log.entry(log.last_index).high_position
    return log.last_position


class PartitionRaftLog(SegmentedRaftLog):
    """The file-backed `RaftLog` of a partition replica; `log` is the partition log the stream reads."""

    position_floor = 0
    """No entry may take positions at or below this one (the end of a snapshot installed from a leader)."""

    @classmethod
    def open(cls, directory: Path, *, max_segment_bytes: int = 64 * 1024 * 1024,
             sync_blocks: bool = True) -> PartitionRaftLog:
        opened = super().open(directory, max_segment_bytes=max_segment_bytes)
        assert isinstance(opened, PartitionRaftLog)
        # ``sync_blocks=False`` fsyncs on the Trio thread (tests under a MockClock need exact times).
        opened.sync_blocks = sync_blocks
        try:
            opened.position_floor = int((directory / FLOOR_FILE).read_text())
        except FileNotFoundError:
            pass
        except ValueError as error:
            opened.close()
            raise ValueError(f"{directory / FLOOR_FILE}: not a position ({error}); remove the replica's directory"
                             " to have it rejoin empty") from None
        return opened

    @property
    def log(self) -> SegmentedLog:
        return self._log

    def end_position(self) -> int:
        """The highest position the log has taken (the last entry's high one, or the floor)."""
        return max(self.position_floor, _end_position(self._log))

    def high_position_at(self, index: int) -> int:
        """The highest position taken by entries up to ``index`` (at or after the first entry before it)."""
        log = self._log
        if log.first_index <= index <= log.last_index:
            return log.entry(index).high_position
        if index == log.first_index - 1 and log.last_index >= log.first_index:
            return log.entry(log.first_index).low_position - 1
        if index == log.last_index:
            return self.end_position()
        raise IndexError(f"the positions of raft log entry {index} are not known (the log holds"
                         f" {log.first_index}..{log.last_index})")

    def set_position_floor(self, position: int) -> None:
        """Durably: entries appended from now on take positions above ``position``."""
        if position <= self.position_floor:
            return
        tmp = self.directory / (FLOOR_FILE + ".tmp")
        with open(tmp, "w") as file:
            file.write(str(position))
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.directory / FLOOR_FILE)
        self.position_floor = position

    def _payload(self, entry: LogEntry) -> bytes:
        # the positions travel with the batch, so a follower stores the entry as the leader does
        return encode_entry(entry.data, entry.low_position, entry.high_position) if entry.data else b""

    def append(self, entries: list[RaftEntry]) -> None:
        for entry in entries:
            if entry.index != self._log.last_index + 1:
                raise ValueError(f"raft log entry {entry.index} does not continue the log at"
                                 f" {self._log.last_index + 1}")
            if not entry.data:  # a leader's no-op: no records, no positions
                end = self.end_position()
                self._log.append(entry.term, b"", end + 1, end)
                continue
            if len(entry.data) < _POSITIONS.size:
                raise ValueError(f"raft log entry {entry.index} of {len(entry.data)} bytes has no position header;"
                                 " a partition's entries carry [low][high] positions before the batch")
            low, high = _POSITIONS.unpack_from(entry.data)
            self._log.append(entry.term, entry.data[_POSITIONS.size:], low, high)
