"""`RaftServer`: the Trio driver that runs one `RaftNode` over a `Transport` and a `RaftLog`.

One loop owns the node. It takes a batch of inputs (ticks from trio time, received messages, queued
proposals, snapshots the user took), then carries out every `Ready` exactly as `RaftNode` prescribes:
writes, early messages, `RaftLog.sync()` (in a worker thread with a `CapacityLimiter(1)` when the log's
`sync_blocks`, as `SegmentedRaftLog`'s does; the loop waits for it,
so the node is never stepped with a Ready half done, and inputs arriving meanwhile form the next batch:
group commit), then the messages that needed the sync. Truncation, snapshot install and compaction are
rare and fsync inline.

Bounded: the inbox of messages and ticks (`inbox_capacity`; the receiving task waits when it is full),
the proposal queue (`max_pending_proposals`; a full queue answers `RaftBackpressureError` at once), the
leader's uncommitted entries (`max_uncommitted_entries`), in-flight appends per follower.

Users: `propose(data) -> index`, `wait_committed(index)`, `role` / `wait_role_change(seen)` /
`role_changes()`, `snapshot_taken(snapshot)`, and `on_snapshot` (called with a snapshot received from the
leader before the log continues after it).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

import trio

from ._config import RaftConfig
from ._messages import RaftEntry, RaftMessage, RaftSnapshot, Role, RoleChange
from ._node import NotLeaderError, RaftBackpressureError, RaftNode, Ready, write_ready
from ._storage import RaftLog
from ._transport import Transport


class RaftStoppedError(Exception):
    """The raft server stopped before a proposal was appended."""


class ProposalLostError(Exception):
    """The entry that committed at a proposal's index is another leader's: the proposal was overwritten."""


@dataclass(slots=True)
class RaftStatistics:
    role: Role
    term: int
    leader_id: int | None
    commit_index: int
    last_index: int
    durable_index: int
    pending_proposals: int
    queued_inputs: int
    syncs: int


class _Tick:
    pass


class _Wake:
    pass


_TICK = _Tick()
_WAKE = _Wake()


class _Proposal:
    __slots__ = ("data", "done", "index", "error")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.done = trio.Event()
        self.index = 0
        self.error: BaseException | None = None


class RaftServer:
    def __init__(self, node_id: int, members: Iterable[int], log: RaftLog, transport: Transport,
                 config: RaftConfig | None = None, *, rng: random.Random | None = None,
                 snapshot: RaftSnapshot | None = None,
                 on_snapshot: Callable[[RaftSnapshot], Awaitable[None]] | None = None) -> None:
        self.config = config or RaftConfig()
        self.log = log
        self.transport = transport
        self.node = RaftNode(node_id, members, log, self.config, rng=rng or random.Random(), snapshot=snapshot)
        self._on_snapshot = on_snapshot
        self._inbox_send, self._inbox = trio.open_memory_channel[_Tick | _Wake | RaftMessage](
            self.config.inbox_capacity)
        self._proposals: deque[_Proposal] = deque()
        self._snapshots: list[RaftSnapshot] = []
        self._limiter = trio.CapacityLimiter(1)
        self._commit_index = self.node.commit_index
        self._commit_changed = trio.Event()
        self._role = RoleChange(self.node.role, self.node.term, self.node.leader_id)
        self._role_changed = trio.Event()
        self._syncs = 0
        self._running = False

    # --------------------------------------------------------------------------------- what users call

    @property
    def id(self) -> int:
        return self.node.id

    @property
    def role(self) -> RoleChange:
        return self._role

    @property
    def commit_index(self) -> int:
        return self._commit_index

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        """Entries `low..high` of this replica's log (committed ones up to `commit_index` never change)."""
        return self.node.entries(low, high)

    async def propose(self, data: bytes) -> int:
        """Append `data` on the leader and return its index (not yet committed: `wait_committed`)."""
        await trio.lowlevel.checkpoint()
        if not self._running:
            raise RaftStoppedError(f"raft node {self.id} is not running")
        if self._role.role is not Role.LEADER:
            raise NotLeaderError(self.id, self._role.leader_id)
        if len(self._proposals) >= self.config.max_pending_proposals:
            raise RaftBackpressureError(
                f"raft node {self.id} has {len(self._proposals)} proposals queued (max_pending_proposals ="
                f" {self.config.max_pending_proposals}); retry later")
        proposal = _Proposal(bytes(data))
        self._proposals.append(proposal)
        self._wake()
        await proposal.done.wait()
        if proposal.error is not None:
            raise proposal.error
        return proposal.index

    async def wait_committed(self, index: int, *, term: int | None = None) -> None:
        """Wait until the commit index reaches `index`. With `term` (the term this replica led in when it
        proposed), raise `ProposalLostError` if the entry committed there is of another term: a later
        leader overwrote the proposal before a quorum held it."""
        while self._commit_index < index:
            await self._commit_changed.wait()
        if term is not None:
            committed = self.node.term_at(index)
            if committed is not None and committed != term:
                raise ProposalLostError(f"raft node {self.id}: the entry proposed at index {index} in term {term}"
                                        f" was replaced by one of term {committed}; propose it again to the leader")

    async def wait_role_change(self, seen: RoleChange | None) -> RoleChange:
        """The current role, once it differs from `seen` (intermediate changes may be skipped)."""
        while self._role == seen:
            await self._role_changed.wait()
        return self._role

    async def role_changes(self) -> AsyncIterator[RoleChange]:
        """The current role, then every change (a slow reader sees the latest, not every step)."""
        seen: RoleChange | None = None
        while True:
            seen = await self.wait_role_change(seen)
            yield seen

    def snapshot_taken(self, snapshot: RaftSnapshot) -> None:
        """The user's state up to `snapshot.index` is saved: compact the log behind it."""
        if snapshot.index > self.node.commit_index:
            raise ValueError(f"raft node {self.id}: a snapshot at index {snapshot.index} is ahead of the commit"
                             f" index {self.node.commit_index}; snapshot only committed state")
        self._snapshots.append(snapshot)
        self._wake()

    def statistics(self) -> RaftStatistics:
        node = self.node
        return RaftStatistics(role=node.role, term=node.term, leader_id=node.leader_id,
                              commit_index=node.commit_index, last_index=node.last_index,
                              durable_index=node.durable_index, pending_proposals=len(self._proposals),
                              queued_inputs=self._inbox.statistics().current_buffer_used, syncs=self._syncs)

    # -------------------------------------------------------------------------------------- the loop

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        if self._running:
            raise RuntimeError(f"raft node {self.id} is already running")
        self._running = True
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._ticker)
                nursery.start_soon(self._receiver)
                await self._carry_out_ready()
                task_status.started()
                await self._loop()
        finally:
            self._running = False
            while self._proposals:
                proposal = self._proposals.popleft()
                proposal.error = RaftStoppedError(f"raft node {self.id} stopped before the proposal was appended")
                proposal.done.set()

    def _wake(self) -> None:
        try:
            self._inbox_send.send_nowait(_WAKE)
        except trio.WouldBlock:
            pass  # the loop has inputs queued anyway and looks at proposals after each batch

    async def _ticker(self) -> None:
        while True:
            await trio.sleep(self.config.tick_seconds)
            await self._inbox_send.send(_TICK)

    async def _receiver(self) -> None:
        while True:
            message = await self.transport.receive()
            await self._inbox_send.send(message)

    async def _loop(self) -> None:
        batch = self.config.inbox_capacity
        while True:
            self._handle(await self._inbox.receive())
            for _ in range(batch):
                try:
                    self._handle(self._inbox.receive_nowait())
                except trio.WouldBlock:
                    break
            while self._snapshots:
                self.node.snapshot_taken(self._snapshots.pop(0))
            while self._proposals:
                proposal = self._proposals.popleft()
                try:
                    proposal.index = self.node.propose(proposal.data)
                except (NotLeaderError, RaftBackpressureError, ValueError) as error:
                    proposal.error = error
                proposal.done.set()
            await self._carry_out_ready()

    def _handle(self, event: _Tick | _Wake | RaftMessage) -> None:
        if isinstance(event, _Tick):
            self.node.tick()
        elif isinstance(event, RaftMessage):
            self.node.step(event)

    async def _carry_out_ready(self) -> None:
        while (ready := self.node.ready()) is not None:
            await self._carry_out(ready)

    async def _carry_out(self, ready: Ready) -> None:
        if ready.install_snapshot is not None and self._on_snapshot is not None:
            await self._on_snapshot(ready.install_snapshot)
        write_ready(self.log, ready)
        self._send(ready.messages)
        if ready.needs_sync:
            if self.log.sync_blocks:
                durable = await trio.to_thread.run_sync(self.log.sync, limiter=self._limiter)
            else:
                await trio.lowlevel.checkpoint()
                durable = self.log.sync()
            self._syncs += 1
        self._send(ready.persisted_messages)
        if ready.needs_sync:
            self.node.on_persisted(durable)
        if ready.compact is not None:
            self.log.compact(*ready.compact)
        if ready.commit_index is not None:
            self._commit_index = ready.commit_index
            self._commit_changed.set()
            self._commit_changed = trio.Event()
        if ready.role_change is not None:
            self._role = ready.role_change
            self._role_changed.set()
            self._role_changed = trio.Event()

    def _send(self, messages: tuple[RaftMessage, ...]) -> None:
        for message in messages:
            self.transport.send_nowait(message)
