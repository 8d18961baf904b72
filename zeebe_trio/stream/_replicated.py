"""`ReplicatedLogStream`: the log stream of a Raft replica (the other side of the log-storage port:
on a single node a batch is committed once fsync'd, here once a quorum of replicas fsync'd it).

The replica's Raft log is the partition log (``raft.PartitionRaftLog``): the Raft driver writes every
entry, with the record positions of its batch, into the `SegmentedLog` this stream reads. The stream
never writes that log itself.

- On the leader (``leader=True``), created once every entry of earlier terms is committed (the new
  leader's no-op is): positions continue after the last entry. `append` numbers the records, keeps them
  in the tail cache (the processor reads its own writes from there at once) and queues the batch;
  `run_flusher` proposes the queued batches to Raft in log order (data = positions + batch, see
  ``raft.encode_entry``) and advances ``committed`` as Raft commits them, each only if the entry committed
  at its index is the one this leader proposed. Side effects (client responses) wait for ``committed``.
- On a follower (``leader=False``), nothing is appended: `run_flusher` follows Raft's commit index and
  moves ``last_position``, ``appended`` and ``committed`` to the high position of the last committed
  entry; readers (``REPLAY``) never see an entry beyond it, even though the log may hold uncommitted ones
  a later leader truncates.

A leader that loses its leadership stops (its proposals are refused or overwritten); the partition cancels
its scope and starts over as a follower with a new stream over the same log.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import trio

from zeebe_trio.log import SegmentedLog

from ._logstream import LogStream
from ._waiters import PositionWatermark


class Replicator(Protocol):
    """What a replicated log stream needs of its Raft replica (the broker adapts a ``RaftServer``)."""

    @property
    def commit_index(self) -> int: ...

    async def propose(self, data: bytes) -> int | None:
        """Append ``data`` as the leader; its Raft index, or None when this replica is not the leader."""
        ...

    async def wait_committed(self, index: int) -> bool:
        """Wait until the commit index reaches ``index``; False when the entry committed there is not the
        one this leader proposed (on a follower: always True)."""
        ...

    def encode(self, data: bytes, low_position: int, high_position: int) -> bytes:
        """The proposal data for a batch at positions low..high."""
        ...


class ReplicatedLogStream(LogStream):
    def __init__(self, log: SegmentedLog, partition_id: int, replicator: Replicator, *, leader: bool,
                 term: int = 1) -> None:
        super().__init__(log, partition_id, term=term)
        self.replicator = replicator
        self.leader = leader
        self.lost = False
        """Set when Raft refused or overwrote a proposal: this replica is no longer the leader."""
        self._unproposed: deque[tuple[bytes, int]] = deque()  # (data, high position), in log order
        self._proposed = trio.Event()
        self._visible_index = 0
        if not leader:
            self._visible_index = min(replicator.commit_index, log.last_index)
            self.last_position = self._end_at(self._visible_index)
            self.appended = PositionWatermark(self.last_position)
            self.committed = PositionWatermark(self.last_position)

    def _end_at(self, index: int) -> int:
        """The high position of entry ``index`` (before the first stored entry: just before its low one)."""
        log = self.log
        if index >= log.first_index and index <= log.last_index:
            return log.entry(index).high_position
        if log.last_index >= log.first_index:
            return log.entry(log.first_index).low_position - 1
        return log.last_position

    def _write_entry(self, data: bytes, low: int, high: int) -> None:
        if not self.leader:
            raise RuntimeError(f"partition {self.partition_id}: a follower's log stream takes no appends;"
                               " commands go to the leader")
        self._unproposed.append((self.replicator.encode(data, low, high), high))

    def reserve(self, up_to_position: int, key_gap: int, reason: str) -> int:
        raise RuntimeError(f"partition {self.partition_id} is replicated: a repair cannot reserve positions in its"
                           " Raft log; remove the damaged replica's directory and let it catch up from the leader")

    async def run_flusher(self, limiter: trio.CapacityLimiter, *, in_thread: bool = True,
                          task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Leader: propose what was appended and advance ``committed`` on commit. Follower: follow the
        commit index."""
        if not self.leader:
            task_status.started()
            await self._follow_commits()
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._propose_loop)
            nursery.start_soon(self._commit_loop)
            task_status.started()

    async def flush(self, limiter: trio.CapacityLimiter, *, in_thread: bool = True) -> None:
        """Wait until everything appended so far is committed (on a follower: nothing to wait for)."""
        if self.leader:
            await self.committed.wait_until(self.last_position)
        else:
            await trio.lowlevel.checkpoint()

    async def _propose_loop(self) -> None:
        while True:
            while not self._unproposed:
                await self._dirty.wait()
                self._dirty = trio.Event()
            data, high = self._unproposed[0]
            index = await self.replicator.propose(data)
            if index is None:
                self._lose()
                await trio.sleep_forever()
            self._unproposed.popleft()
            self._index_high.append((index, high))
            self._proposed.set()

    async def _commit_loop(self) -> None:
        while True:
            while not self._index_high:
                await self._proposed.wait()
                self._proposed = trio.Event()
            index, high = self._index_high[0]
            if not await self.replicator.wait_committed(index):
                self._lose()
                await trio.sleep_forever()
            self._index_high.popleft()
            self.committed.advance(high)

    def _lose(self) -> None:
        self.lost = True

    async def _follow_commits(self) -> None:
        while True:
            await self.replicator.wait_committed(self._visible_index + 1)
            index = min(self.replicator.commit_index, self.log.last_index)
            if index <= self._visible_index:
                await trio.sleep(0.01)  # committed entries not written here yet (a snapshot install)
                continue
            self._visible_index = index
            high = self._end_at(index)
            if high > self.last_position:
                self.last_position = high
                self.appended.advance(high)
                self.committed.advance(high)

    def statistics(self) -> dict[str, int]:
        return {**super().statistics(), "unproposed_batches": len(self._unproposed),
                "uncommitted_batches": len(self._index_high)}
