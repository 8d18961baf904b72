"""The partition's log stream: records with positions on top of the replicated log.

Positions number records (several per log entry, one entry per batch). Appends are synchronous
writes to the OS; ``run_flusher`` makes them durable in groups (one fsync for everything appended
meanwhile) and advances ``durable``. On a single node, durable is committed; a Raft replica will
advance ``committed`` on a quorum instead.

Positions are never handed out twice. A log entry may carry no records but take positions anyway: a
*reservation* (``reserve``), written by a repair that cut records from the log, takes every position up to
the highest one the lost records may have had, and tells the engine how many keys to skip, so that
neither a position nor a key of the lost records is issued again. ``last_position`` is therefore the
high position of the last entry, reservations included.
"""

from __future__ import annotations

import bisect
import itertools
import json
import operator
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import trio

from zeebe_trio.log import SegmentedLog
from zeebe_trio.protocol import Record, decode_batch, encode_batch

from ._waiters import PositionWatermark

_low_position = operator.itemgetter(0)  # of a tail entry (low, high, records)

TAIL_CACHE_ENTRIES = 8192
_TAIL_SCAN = 16  # tail entries read_after looks at from the newest before it searches
_RESERVATION_MAGIC = b"ZTRIO-RESERVATION\n"


@dataclass(frozen=True, slots=True)
class Reservation:
    """Positions up to ``position`` are taken, and the next ``key_gap`` keys are never issued."""

    position: int
    key_gap: int
    reason: str


def encode_reservation(key_gap: int, reason: str) -> bytes:
    return _RESERVATION_MAGIC + json.dumps({"keyGap": key_gap, "reason": reason}).encode()


def decode_reservation(data: bytes, position: int) -> Reservation | None:
    if not data.startswith(_RESERVATION_MAGIC):
        return None
    body = json.loads(data[len(_RESERVATION_MAGIC):])
    return Reservation(position, int(body["keyGap"]), str(body.get("reason", "")))


def end_position(log: SegmentedLog) -> int:
    """The highest position the log has taken: the last entry's high position (reservations included)."""
    if log.last_index >= log.first_index:
        return log.entry(log.last_index).high_position
    return log.last_position


class LogStream:
    def __init__(self, log: SegmentedLog, partition_id: int, *, term: int = 1) -> None:
        self.log = log
        self.partition_id = partition_id
        self.term = max(term, log.last_term)
        self.last_position = end_position(log)
        self.appended = PositionWatermark(self.last_position)
        self.committed = PositionWatermark(self.last_position)  # everything on disk at open is durable
        self._tail: deque[tuple[int, int, list[Record]]] = deque(maxlen=TAIL_CACHE_ENTRIES)  # (low, high, records)
        self._dirty = trio.Event()
        self._index_high: deque[tuple[int, int]] = deque()  # (entry index, high position) not yet durable

    def append(self, records: Sequence[Record], encoded: bytes | None = None) -> int:
        """Append one batch; records without a position get the next ones. Returns the highest position.

        ``encoded`` is the batch already encoded (the processor encodes inside its transaction, so
        a record that cannot be encoded rolls the command back instead of failing after commit).
        Only pass it for records whose positions were assigned before encoding."""
        if encoded is not None and records and records[0].position < 0:
            raise ValueError("a pre-encoded batch must carry its positions: encode after assigning them")
        position = self.last_position
        for record in records:
            if record.position < 0:
                position += 1
                record.position = position
            elif record.position != position + 1:
                raise ValueError(f"record position {record.position} does not follow {position}")
            else:
                position = record.position
            record.partition_id = self.partition_id
        low = self.last_position + 1
        self._write_entry(encode_batch(records) if encoded is None else encoded, low, position)
        self.last_position = position
        self._tail.append((low, position, list(records)))
        self.appended.advance(position)
        self._dirty.set()
        return position

    def _write_entry(self, data: bytes, low: int, high: int) -> None:
        """Store one batch (the storage side of the port): here, an append to the local log, durable once
        ``run_flusher`` fsyncs it; a replicated stream proposes it to Raft instead."""
        entry = self.log.append(self.term, data, low, high)
        self._index_high.append((entry.index, high))

    def reserve(self, up_to_position: int, key_gap: int, reason: str) -> int:
        """Take every position up to ``up_to_position`` without records, and have the engine skip
        ``key_gap`` keys when it replays this point (see the module docstring). Returns the entry index."""
        if up_to_position <= self.last_position:
            raise ValueError(f"positions up to {self.last_position} are taken already; cannot reserve up to"
                             f" {up_to_position}")
        entry = self.log.append(self.term, encode_reservation(key_gap, reason), up_to_position + 1, up_to_position)
        self.last_position = up_to_position
        self._index_high.append((entry.index, up_to_position))
        self.appended.advance(up_to_position)
        self._dirty.set()
        return entry.index

    def read_after(self, position: int, max_records: int = 1000,
                   reservations: list[Reservation] | None = None) -> list[Record]:
        """Records with positions above ``position`` (up to the last appended), in log order.

        Reservations met on the way are appended to ``reservations`` when it is given (replay needs them;
        they are only ever on disk: the broker itself never reserves)."""
        if position >= self.last_position:
            return []
        result: list[Record] = []
        tail = self._tail
        if tail and tail[0][0] <= position + 1:
            # Served from memory: the last entry starting at or before position + 1. A reader that follows
            # closely finds it among the newest few (a deque is indexed fast only near its ends); one that
            # lags, like the stream processor behind many writers, by a binary search.
            target = position + 1
            i = len(tail) - 1
            newest_few = i - _TAIL_SCAN
            while i > newest_few and tail[i][0] > target:
                i -= 1
            if tail[i][0] > target:
                i = bisect.bisect_right(tail, target, key=_low_position) - 1
            for low, _high, records in itertools.islice(tail, i, None):
                if low > position:  # the whole entry (every one after the first): no test per record
                    result.extend(records)
                else:
                    result.extend(r for r in records if r.position > position)
                if len(result) >= max_records:
                    break
            return result
        if self.log.last_index < self.log.first_index:
            return result
        # Older records may have been compacted into a snapshot: start at the first retained one.
        first_retained = self.log.entry(self.log.first_index).low_position
        end = self.last_position  # a Raft follower's log may hold uncommitted entries beyond it
        for entry in self.log.read_from_position(max(position + 1, first_retained)):
            if entry.high_position > end:
                break
            if not entry.carries_records:
                if reservations is not None and entry.high_position > position:
                    reservation = decode_reservation(entry.data, entry.high_position)
                    if reservation is not None:
                        reservations.append(reservation)
                continue
            for record in decode_batch(entry.data, self.partition_id):
                if position < record.position <= end:
                    result.append(record)
            if len(result) >= max_records:
                break
        return result

    async def run_flusher(self, limiter: trio.CapacityLimiter, *, in_thread: bool = True,
                          task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Group commit: fsync whatever was appended since the last fsync, then advance ``committed``.

        ``in_thread=False`` fsyncs on the Trio thread: slower, but the run loop is never idle waiting
        for a thread, which tests under ``MockClock(autojump_threshold=0)`` need for exact times."""
        task_status.started()
        while True:
            await self._dirty.wait()
            self._dirty = trio.Event()
            await self.flush(limiter, in_thread=in_thread)

    async def flush(self, limiter: trio.CapacityLimiter, *, in_thread: bool = True) -> None:
        if in_thread:
            durable_index = await trio.to_thread.run_sync(self.log.sync, limiter=limiter)
        else:
            durable_index = self.log.sync()
            await trio.lowlevel.checkpoint()
        self._publish_durable(durable_index)

    def _publish_durable(self, durable_index: int) -> None:
        high = -1
        pending = self._index_high
        while pending and pending[0][0] <= durable_index:
            high = pending.popleft()[1]
        if high >= 0:
            self.committed.advance(high)

    def statistics(self) -> dict[str, int]:
        return {"last_position": self.last_position, "committed": self.committed.value,
                "tail_cached_entries": len(self._tail)}
