"""`ReplicatedPartition`: one replica of a partition on Raft, supervised by its role.

The replica's Raft log is the partition's log (``raft.PartitionRaftLog`` under ``partition-<id>/raft``): one
copy per replica, read by the stream layer as a single node reads its own. Its ``RaftServer`` runs for the
replica's whole life; everything else runs in a cancel scope per role, opened and cancelled as
``RaftServer.role`` changes:

- LEADER: waits until every entry of earlier terms is committed (its election no-op is), replays what the
  state has not seen, then processes: the stream processor in PROCESSING mode, the schedule service, the
  redistribution of pending commands, exporters, and client commands (``execute``). A batch is proposed to
  Raft and durable once a quorum has fsync'd it; side effects, and so every client response, wait for that
  commit: a command is acknowledged only once committed.
- FOLLOWER (and candidate): the stream processor in REPLAY mode applies committed entries as Raft commits
  them, so a new leader is ready at once; nothing is written, scheduled or exported. Client commands are
  refused with ``BrokerError.PARTITION_LEADER_MISMATCH`` naming the leader this replica knows (None while
  there is none), which a gateway retries there.

Leaving LEADER cancels the leader's scope. Its state may hold the effects of batches no quorum accepted,
so it is not trusted: the follower scope rebuilds it from the newest snapshot and the committed log. A
follower's state (committed entries only) is kept when it becomes leader. Requests in flight on a leader
that steps down are answered PARTITION_UNAVAILABLE; their commands may or may not have been committed
(as in Zeebe, a retry may see the effects of the first attempt).

Snapshots: every replica snapshots its own state every ``snapshot_period`` (a follower's holds committed
entries only; a leader publishes one only once the log it was taken at is committed, and one whose commit
never comes is discarded with the leader's scope), so a restart or a rebuild replays from the newest
snapshot rather than from the start of the log.

After a snapshot, the entries before the one holding its position (and, on the leader, before every
exporter's position) are handed to Raft as a Raft snapshot whose data is the newest state snapshot
(``pack_snapshot``): Raft compacts the log behind it and sends it, in chunks, to a follower whose next entry
was compacted away. That follower stops its scope, publishes the snapshot, lets Raft reset its log to
continue after it, and restores its state from it.

Exporter positions: exporters run on the leader only, and the leader sends every
``EXPORTER_POSITIONS_INTERVAL`` seconds where each exporter has got to (``distribute_exporter_positions``,
Zeebe's exporter position distribution). A follower keeps the newest it heard: it compacts its log behind
them (never before it has heard any while exporters are configured), and when it becomes leader its
exporters go on from them rather than from what its own state holds.
"""

from __future__ import annotations

import json
import logging
import os
import random
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.engine import Engine, EngineState, JobStreams
from zeebe_trio.gateway._port import BrokerCommand, BrokerError
from zeebe_trio.protocol import Record
from zeebe_trio.raft import (
    ENTRY_HEADER_BYTES,
    NotLeaderError,
    PartitionRaftLog,
    ProposalLostError,
    RaftBackpressureError,
    RaftConfig,
    RaftServer,
    RaftSnapshot,
    RaftStoppedError,
    Role,
    RoleChange,
    Transport,
    encode_entry,
)
from zeebe_trio.stream import (
    CrashGuard,
    InterPartitionSender,
    ReplicatedLogStream,
    Snapshot,
    SnapshotStore,
    StreamProcessor,
    StreamProcessorMode,
)

from ._clock import EngineClock
from ._config import BrokerConfig
from ._errors import StartupError, leader_hint
from ._partition import Partition

log = logging.getLogger(__name__)

EXPORTER_POSITIONS_INTERVAL = 2.0
"""How often a leader tells its followers its exporters' positions."""
BACKPRESSURE_RETRY_SECONDS = 0.01
"""How long the leader waits before proposing again when Raft has too many uncommitted entries."""


class _RaftReplicator:
    """A ``RaftServer`` as the replicated log stream's ``Replicator``; ``term`` is the term this replica
    leads in (None on a follower: no proposals, no term checks)."""

    def __init__(self, server: RaftServer, term: int | None) -> None:
        self._server = server
        self._term = term

    @property
    def commit_index(self) -> int:
        return self._server.commit_index

    async def propose(self, data: bytes) -> int | None:
        while True:
            try:
                return await self._server.propose(data)
            except RaftBackpressureError:
                await trio.sleep(BACKPRESSURE_RETRY_SECONDS)
            except (NotLeaderError, RaftStoppedError):
                return None

    async def wait_committed(self, index: int) -> bool:
        try:
            await self._server.wait_committed(index, term=self._term)
        except ProposalLostError:
            return False
        return True

    def encode(self, data: bytes, low_position: int, high_position: int) -> bytes:
        return encode_entry(data, low_position, high_position)


_LENGTH = struct.Struct("<I")
_SNAPSHOT_METADATA = "snapshot.json"


def pack_snapshot(snapshot: Snapshot, covered_position: int) -> bytes:
    """A state snapshot as the bytes of a Raft snapshot: ``[u32 n][n bytes JSON: positions and file names
    with sizes]`` followed by the files' bytes, in that order (``snapshot.json`` is written again on install).
    ``covered_position`` is the high position of the Raft snapshot's last entry: a replica that installs it
    takes no position at or below it again."""
    names = sorted(name for name in os.listdir(snapshot.path) if name != _SNAPSHOT_METADATA)
    contents = [(snapshot.path / name).read_bytes() for name in names]
    header = json.dumps({"processedPosition": snapshot.processed_position, "logPosition": snapshot.log_position,
                         "coveredPosition": covered_position,
                         "files": [[name, len(data)] for name, data in zip(names, contents, strict=True)]}).encode()
    return _LENGTH.pack(len(header)) + header + b"".join(contents)


def unpack_snapshot(data: bytes, directory: Path) -> tuple[int, int, int]:
    """Write the files of a packed snapshot into ``directory``; returns its (processed, log, covered)
    positions. Raises ValueError for bytes that are not a packed snapshot."""
    try:
        (length,) = _LENGTH.unpack_from(data)
        header = json.loads(data[_LENGTH.size:_LENGTH.size + length])
        offset = _LENGTH.size + length
        files = [(str(name), int(size)) for name, size in header["files"]]
        processed, log_position = int(header["processedPosition"]), int(header["logPosition"])
        covered = int(header["coveredPosition"])
    except (struct.error, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"a snapshot received from the leader cannot be read: {error}") from None
    if sum(size for _name, size in files) != len(data) - offset:
        raise ValueError("a snapshot received from the leader is truncated: its files do not add up to its size")
    directory.mkdir(parents=True)
    for name, size in files:
        if not name or "/" in name or "\\" in name or name in {".", "..", _SNAPSHOT_METADATA}:
            raise ValueError(f"a snapshot received from the leader names the file {name[:64]!r}; refusing it")
        (directory / name).write_bytes(data[offset:offset + size])
        offset += size
    return processed, log_position, covered


def _is_leader(role: RoleChange) -> bool:
    return role.role is Role.LEADER


class ReplicatedPartition(Partition):
    """A partition replica: ``members`` are the node ids of the partition's replicas, ``transport`` carries
    this replica's Raft messages (``cluster.ClusterRaftTransport`` between brokers, ``InMemoryNetwork`` in
    tests)."""

    def __init__(self, partition_id: int, config: BrokerConfig, clock: EngineClock, job_streams: JobStreams,
                 on_jobs_available: Callable[[str], None],
                 push_job: Callable[[int, int, dict[str, Any]], bool],
                 sender: InterPartitionSender | None = None, *, node_id: int, members: Iterable[int],
                 transport: Transport, raft_config: RaftConfig | None = None,
                 rng: random.Random | None = None,
                 distribute_exporter_positions: Callable[[int, dict[str, int]], None] | None = None) -> None:
        super().__init__(partition_id, config, clock, job_streams, on_jobs_available, push_job, sender)
        self.node_id = node_id
        self.members = tuple(members)
        self.transport = transport
        # The cluster transport's frames (8 MiB, or max_message_size + 2 MiB) hold one entry of that size.
        self.raft_config = raft_config or RaftConfig(max_entry_bytes=config.max_raft_entry_bytes)
        self._max_batch_bytes = self.raft_config.max_entry_bytes - ENTRY_HEADER_BYTES
        self._rng = rng
        self.raft: RaftServer
        self.raft_log: PartitionRaftLog
        self.role: RoleChange | None = None
        """The Raft role this replica runs in (None before its Raft server started)."""
        self._state_trusted = False
        self._role_scope: trio.CancelScope | None = None
        self._role_exited = trio.Event()
        self._installed: trio.Event | None = None
        self.installed_snapshots = 0
        """How many snapshots this replica received from a leader (it was too far behind its log)."""
        self._distribute_exporter_positions = distribute_exporter_positions
        self.exporter_positions_heard: dict[str, int] | None = None
        """The newest exporter positions a leader sent (None: none heard since this replica started)."""

    @property
    def is_leader(self) -> bool:
        return self.role is not None and _is_leader(self.role) and self.healthy

    # -- life cycle --------------------------------------------------------------------------------

    async def _run_once(self, task_status: trio.TaskStatus[Partition]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.processor = None  # type: ignore[assignment]
        self.store = None  # type: ignore[assignment]
        self._state_trusted = False
        self.raft_log = PartitionRaftLog.open(self.directory / "raft", max_segment_bytes=self.config.log_segment_size,
                                              sync_blocks=self.config.fsync_in_thread)
        self.log = self.raft_log.log
        try:
            self.snapshots = SnapshotStore(self.directory / "snapshots")
            self.raft = RaftServer(self.node_id, self.members, self.raft_log, self.transport, self.raft_config,
                                   rng=self._rng, snapshot=self._raft_snapshot_at_start(),
                                   on_snapshot=self._install_snapshot)
            async with trio.open_nursery() as nursery:
                await nursery.start(self.raft.run)
                if not self._started:
                    self._started = True
                    task_status.started(self)
                await self._follow_roles()
        finally:
            self.healthy = False
            self.role = None
            if self.store is not None:
                self.store.close()
                self.store = None  # type: ignore[assignment]
            self.raft_log.close()

    async def _follow_roles(self) -> None:
        """One cancel scope per role: LEADER, or not (follower, candidates: replay only)."""
        while True:
            if self._installed is not None:
                await self._installed.wait()  # the raft loop goes on with the reset log right after
                self._installed = None
            role = self.raft.role
            leading = _is_leader(role)
            self.role = role
            self._role_exited = trio.Event()
            async with trio.open_nursery() as nursery:
                self._role_scope = nursery.cancel_scope
                nursery.start_soon(self._lead if leading else self._follow, role)
                seen = role
                while True:
                    seen = await self.raft.wait_role_change(seen)
                    if _is_leader(seen) != leading or (leading and seen.term != role.term):
                        break
                    self.role = seen  # the same kind of role: a new term or leader to point clients to
                log.info("partition %d, node %d: %s in term %d -> %s in term %d", self.partition_id, self.node_id,
                         role.role.value, role.term, seen.role.value, seen.term)
                nursery.cancel_scope.cancel()
            self._role_scope = None
            self._role_exited.set()

    def _raft_snapshot_at_start(self) -> RaftSnapshot | None:
        """The Raft snapshot the log continues after (the newest state snapshot, which covers it)."""
        if not self.raft_log.snapshot_index:
            return None
        latest = self.snapshots.latest()
        if latest is None:
            raise StartupError(
                f"partition {self.partition_id}: the Raft log of node {self.node_id} continues after a snapshot at"
                f" entry {self.raft_log.snapshot_index}, but {self.snapshots.directory} holds no snapshot; remove"
                f" {self.directory} to have the replica rejoin empty and receive the leader's snapshot")
        index = self.raft_log.snapshot_index
        try:
            covered = self.raft_log.high_position_at(index)
        except IndexError:
            covered = self.raft_log.position_floor
        return RaftSnapshot(index, self.raft_log.snapshot_term, pack_snapshot(latest, covered))

    async def _install_snapshot(self, snapshot: RaftSnapshot) -> None:
        """A leader's snapshot (this replica is behind its compacted log): stop the follower scope (nothing
        may read the log while Raft resets it after this returns), publish the snapshot, and have the next
        scope restore the state from it."""
        self._installed = installed = trio.Event()
        try:
            if self._role_scope is not None:
                self._role_scope.cancel()
                await self._role_exited.wait()
            tmp = self.snapshots.temporary()
            try:
                processed, log_position, covered = await self._blocking_io(unpack_snapshot, snapshot.data, tmp)
                await self._blocking_io(self.snapshots.publish, tmp, processed, log_position)
                # Before Raft resets the log, which forgets where the compacted entries' positions ended.
                await self._blocking_io(self.raft_log.set_position_floor, covered)
            except BaseException:
                with trio.CancelScope(shield=True):
                    await self._blocking_io(self.snapshots.discard, tmp)
                raise
            self._state_trusted = False
            self.installed_snapshots += 1
            log.info("partition %d, node %d: installed the leader's snapshot at entry %d (position %d)",
                     self.partition_id, self.node_id, snapshot.index, processed)
        finally:
            installed.set()

    def _open_state(self) -> EngineState:
        """The state store: kept when it holds only committed records, otherwise rebuilt from the newest
        snapshot (or empty) and replayed from the log by the processor."""
        if self.store is None or not self._state_trusted:
            if self.store is not None:
                self.store.close()
                self.store = None  # type: ignore[assignment]
            self.store, latest = self._restore_state()
            self._last_snapshot_position = latest.processed_position if latest else -1
            self._state_trusted = True
        state = EngineState(self.store, self.partition_id)
        self.engine = Engine(state, job_streams=self._job_streams, monotonic=time.monotonic,
                             max_element_instances_per_scope=self.config.max_element_instances_per_scope,
                             partition_count=self.config.partitions)
        return state

    async def _follow(self, role: RoleChange) -> None:
        self._open_state()
        self.log_stream = ReplicatedLogStream(self.log, self.partition_id, _RaftReplicator(self.raft, None),
                                              leader=False)
        self.processor = StreamProcessor(self.log_stream, self.store, self.engine, self.clock.now_ms,
                                         lambda effects: None, mode=StreamProcessorMode.REPLAY)
        async with trio.open_nursery() as nursery:
            await nursery.start(self.log_stream.run_flusher, self._io_limiter)
            await nursery.start(self.processor.run)
            nursery.start_soon(self._snapshot_periodically)

    async def _lead(self, role: RoleChange) -> None:
        # Entries of earlier terms commit beneath this leader's first own entry, its election no-op.
        try:
            await self.raft.wait_committed(self.raft_log.last_index)
        except ProposalLostError:
            await trio.sleep_forever()  # overwritten: this replica is no longer the leader; the role watcher moves on
        state = self._open_state()
        self._take_heard_exporter_positions(state)
        self.log_stream = ReplicatedLogStream(self.log, self.partition_id, _RaftReplicator(self.raft, role.term),
                                              leader=True, term=role.term)
        guard = CrashGuard(self.directory / CrashGuard.FILE, self.config.crash_guard_attempts)
        try:
            sender = self._build_processing(state, guard)
            # From the first processed command on, the state may run ahead of what a quorum holds.
            self._state_trusted = False
            async with trio.open_nursery() as nursery:
                await nursery.start(self.log_stream.run_flusher, self._io_limiter)
                await nursery.start(self.processor.run)
                await nursery.start(self.exporters.run)
                nursery.start_soon(self._redistribute_periodically, sender, state)
                nursery.start_soon(self._snapshot_periodically)
                nursery.start_soon(self._watch_health)
                if self._distribute_exporter_positions is not None:
                    nursery.start_soon(self._send_exporter_positions)
                self.healthy = True
                self.failure = None
                log.info("partition %d, node %d leads in term %d (last position %d)", self.partition_id,
                         self.node_id, role.term, self.log_stream.last_position)
        finally:
            self.healthy = False
            for pending in self._pending.values():
                pending.event.set()  # answered PARTITION_UNAVAILABLE: this replica no longer leads
            guard.close()

    # -- exporter positions ------------------------------------------------------------------------

    async def _send_exporter_positions(self) -> None:
        assert self._distribute_exporter_positions is not None
        while True:
            await trio.sleep(EXPORTER_POSITIONS_INTERVAL)
            self._distribute_exporter_positions(self.partition_id, self.exporters.positions())

    def receive_exporter_positions(self, positions: dict[str, int]) -> None:
        """The leader's exporter positions (ignored by a leader: its own exporters are the ones that move)."""
        if self.role is not None and _is_leader(self.role):
            return
        heard = dict(self.exporter_positions_heard or {})
        for exporter_id, position in positions.items():
            heard[exporter_id] = max(position, heard.get(exporter_id, position))
        # an exporter the leader no longer runs no longer holds the log back
        self.exporter_positions_heard = {exporter_id: heard[exporter_id] for exporter_id in positions}

    def _take_heard_exporter_positions(self, state: EngineState) -> None:
        """A new leader's exporters go on from where the previous leader's got to, when that is further."""
        heard = self.exporter_positions_heard or {}
        if not heard:
            return
        with self.store.transaction() as txn:
            state.bind(txn)
            for exporter_id, position in heard.items():
                if position > state.exporter_position(exporter_id):
                    state.set_exporter_position(exporter_id, position)

    # -- command API -------------------------------------------------------------------------------

    async def execute(self, command: BrokerCommand, timeout: float | None) -> Record:
        role = self.role
        if role is None or not _is_leader(role):
            leader = role.leader_id if role is not None else None
            where = leader_hint(leader)
            raise BrokerError(BrokerError.PARTITION_LEADER_MISMATCH,
                              f"Expected to execute the command on partition {self.partition_id}, but node"
                              f" {self.node_id} is not its leader ({where}); send it to the leader",
                              leader_id=leader)
        try:
            return await super().execute(command, timeout)
        except BrokerError as error:
            now = self.raft.role  # ahead of ``self.role``, which moves once the leader's scope has ended
            if error.code != BrokerError.PARTITION_UNAVAILABLE or now == role:
                raise
            leader = now.leader_id
            where = leader_hint(leader, now=True)
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                              f"Expected to execute the command on partition {self.partition_id}, but node"
                              f" {self.node_id} stopped leading it (term {role.term}) before the command was"
                              f" answered ({where}); it may or may not have been committed: retry it on the"
                              " leader", leader_id=leader) from None

    def health_problem(self) -> str | None:
        if self.role is not None and not _is_leader(self.role):
            return None if self.processor is not None else "not running (starting or shutting down)"
        return super().health_problem()

    def compact_log(self, snapshot_position: int) -> None:
        """Tell Raft that the entries before the one holding ``snapshot_position`` (and every exporter's
        position, on the leader) are in a snapshot: Raft compacts its log, which is the partition log, and
        sends the newest state snapshot to a follower that needs what was compacted. A follower keeps what
        the leader's exporters have not exported yet, as far as it heard (everything before it heard)."""
        keep_from = snapshot_position
        if self.role is not None and _is_leader(self.role):
            keep_from = min(keep_from, self.exporters.lowest_exported_position())
        elif self.config.exporter_settings():
            heard = self.exporter_positions_heard
            if heard is None:
                return
            keep_from = min(keep_from, min(heard.values(), default=keep_from))
        index = self.log.index_of_position(keep_from) if keep_from >= 0 else None
        latest = self.snapshots.latest()
        if index is None or latest is None:
            return
        covered = min(index - 1, self.raft.commit_index)
        if covered <= self.raft_log.snapshot_index or covered < self.log.first_index:
            return
        self.raft.snapshot_taken(RaftSnapshot(covered, self.raft_log.term_at(covered),
                                              pack_snapshot(latest, self.raft_log.high_position_at(covered))))

    def statistics(self) -> dict[str, Any]:
        raft = self.raft.statistics()
        return {**super().statistics(), "raft_role": raft.role.value, "raft_term": raft.term,
                "raft_commit_index": raft.commit_index, "raft_last_index": raft.last_index}


__all__ = ["ReplicatedPartition"]
