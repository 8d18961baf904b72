"""One partition: its log, state, engine, stream processor (which runs the scheduled work and the
inter-partition sender it is given) and snapshots, supervised by one nursery. Also the partition's command API (client commands in, responses out).

Storage it cannot trust stops the start with one ``StartupError`` line that names the partition, what
is wrong and the way out (``zeebe-trio repair-log``, or a backup): a damaged log, a log that ends below
the snapshot (positions and keys would be issued twice), or a compacted log that no usable snapshot
covers. A damaged snapshot is skipped for an older one when the log still reaches back to it.

While running, a full disk is an answer, never a crash: below ``disk_free_space_processing`` free bytes
client commands are refused with RESOURCE_EXHAUSTED and processing pauses, until the space is back; a
write that fails with ENOSPC fails its command; a storage failure that leaves the log or the state
unusable (a failed fsync) closes the partition and opens it again once the disk has room. ``health``
says UNHEALTHY meanwhile, and when processing or flushing stalls.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.engine import (
    COLUMN_FAMILIES,
    REDISTRIBUTION_INTERVAL_MS,
    Engine,
    EngineState,
    JobStreams,
    ScheduledChecks,
    SideEffects,
)
from zeebe_trio.exporters import create_exporter_director
from zeebe_trio.gateway._port import BrokerCommand, BrokerError
from zeebe_trio.log import LogClosedError, LogCorruptedError, SegmentedLog
from zeebe_trio.protocol import JobIntent, Record, RecordType, ValueType, encode_batch
from zeebe_trio.state import StateRestoreError, StateStore
from zeebe_trio.stream import (
    CrashGuard,
    InterPartitionSender,
    LocalPartitionSender,
    LogStream,
    ScheduleService,
    Snapshot,
    SnapshotStore,
    StateCommitError,
    StreamProcessor,
    StreamProcessorPhase,
    is_disk_full,
    verify_snapshot,
)

from ._clock import EngineClock
from ._config import BrokerConfig
from ._errors import StartupError

log = logging.getLogger(__name__)

STALL_SECONDS = 30.0
"""A partition with commands to process (or records to flush) that made no progress for this long is
reported UNHEALTHY."""
RESTART_DELAY_SECONDS = 1.0
"""After a storage failure, how long the partition waits before it opens its storage again."""


def free_disk_space(path: Path) -> int:
    """Free bytes on the file system holding `path` (what an unprivileged process may use)."""
    return shutil.disk_usage(path).free


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _storage_failure(error: BaseException) -> BaseException | None:
    """The storage failure in `error` that reopening the partition can cure (a full disk, a log made
    unusable by a failed write or fsync, a state commit that failed after its append), or None."""
    for leaf in _leaves(error):
        if is_disk_full(leaf) or isinstance(leaf, StateCommitError | LogClosedError):
            return leaf
        if isinstance(leaf, OSError) and leaf.errno == errno.EIO:
            return leaf
    return None


class _Pending:
    __slots__ = ("event", "record", "accepted")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.record: Record | None = None
        self.accepted: Record | None = None  # what the command created while its response is awaited


def _timeout_reason(command: BrokerCommand, timeout: float | None, accepted: Record | None) -> str:
    if accepted is not None and accepted.value_type is ValueType.PROCESS_INSTANCE_CREATION:
        value = accepted.value
        return (f"Expected process instance {accepted.key} of '{value.get('bpmnProcessId')}' (version"
                f" {value.get('version')}), created by this request, to complete within {timeout:g} s, but it"
                " has not; the instance keeps running")
    return (f"Expected a response to {command.value_type.name}.{command.intent.name} within {timeout} s,"
            " but none arrived")


class _CommittedReader:
    """The exporter director's view of the log: committed records only."""

    def __init__(self, log_stream: LogStream) -> None:
        self._log_stream = log_stream

    async def read_after(self, position: int, max_records: int) -> list[Record]:
        committed = self._log_stream.committed
        while True:
            await committed.wait_until(position + 1)
            records = self._log_stream.read_after(position, max_records)
            records = [record for record in records if record.position <= committed.value]
            if records:
                return records
            # Only positions a repair reserved (no records) up to the committed one: wait beyond them.
            position = max(position, committed.value)


class _PositionStore:
    """Exporter positions in the partition's state store, so snapshots carry them."""

    def __init__(self, store: StateStore, state: EngineState) -> None:
        self._store = store
        self._state = state

    def get(self, exporter_id: str) -> int:
        with self._store.read() as txn:
            self._state.bind(txn)
            return self._state.exporter_position(exporter_id)

    def set(self, exporter_id: str, position: int) -> None:
        with self._store.transaction() as txn:
            self._state.bind(txn)
            self._state.set_exporter_position(exporter_id, position)


class Partition:
    def __init__(self, partition_id: int, config: BrokerConfig, clock: EngineClock, job_streams: JobStreams,
                 on_jobs_available: Callable[[str], None],
                 push_job: Callable[[int, int, dict[str, Any]], bool],
                 sender: InterPartitionSender | None = None) -> None:
        self.partition_id = partition_id
        # Commands for partitions: the broker's sender (every partition of this process); without one,
        # this partition's own log only (a one-partition broker).
        self._sender = sender
        # The most bytes one command's records may take (None: the log takes any; a Raft entry has a limit).
        self._max_batch_bytes: int | None = None
        self.config = config
        self.directory = Path(config.data_dir) / f"partition-{partition_id}"
        self.clock = clock
        self._job_streams = job_streams
        self._on_jobs_available = on_jobs_available
        self._push_job = push_job
        self._pending: dict[int, _Pending] = {}
        self._request_ids = itertools.count(1)
        # Request ids restart with every run, but a create-with-result registration outlives a restart
        # in state: stamp commands with this run's stream id (Zeebe's requestStreamId) and answer only
        # responses addressed to it, so an old instance's result never reaches a new request.
        self._request_stream = clock.now_ms() & 0x7FFFFFFF
        self._io_limiter = trio.CapacityLimiter(1)
        self.healthy = False
        self.failure: str | None = None
        """Why the partition is not running (a storage failure it restarts from), or None."""
        self.disk_space_low: str | None = None
        """Set while free disk space is below ``disk_free_space_processing``: the reason commands are refused."""
        self.restarts = 0
        self._started = False
        self._stalled_since: float | None = None
        self._stalled: str | None = None
        self._progress_marker: tuple[int, int] = (-1, -1)
        self._health_problem: str | None = None
        self.log: SegmentedLog
        self.log_stream: LogStream
        self.store: StateStore
        self.engine: Engine
        self.processor: StreamProcessor
        self.snapshots: SnapshotStore
        self._last_snapshot_position = -1

    # -- life cycle --------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Partition] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the partition until cancelled. Failing to start raises (``StartupError`` for storage it
        cannot trust or a full disk); a storage failure after it started closes it and opens it again."""
        delay = RESTART_DELAY_SECONDS
        while True:
            try:
                await self._run_once(task_status)
            except Exception as error:
                failure = _storage_failure(error)
                if failure is None:
                    raise
                if not self._started:
                    if is_disk_full(failure):
                        raise StartupError(f"partition {self.partition_id} cannot start: {failure}; free disk space"
                                           f" on the file system of {self.directory}") from error
                    raise
                self.failure = f"storage failure: {failure}"
                self.restarts += 1
                log.error("partition %d stopped after a storage failure (%s); it opens its storage again in %g s",
                          self.partition_id, failure, delay)
                await trio.sleep(delay)
                delay = min(delay * 2, 30.0)
            else:
                return

    async def _run_once(self, task_status: trio.TaskStatus[Partition]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.processor = None  # type: ignore[assignment]  # what this run opened, for _close
        self.store = None  # type: ignore[assignment]
        self._stalled_since = None
        try:
            self.log = SegmentedLog.open(self.directory / "log", max_segment_bytes=self.config.log_segment_size)
        except LogCorruptedError as error:
            raise self._damaged_log(error) from None
        guard = None
        running = False
        try:
            if self.log.recovery is not None and self.log.recovery.entries_dropped:
                log.warning("partition %d: cut a torn log tail: %s", self.partition_id, self.log.recovery)
            self.snapshots = SnapshotStore(self.directory / "snapshots")
            self.store, latest = self._restore_state()
            self._last_snapshot_position = latest.processed_position if latest else -1
            state = EngineState(self.store, self.partition_id)
            # The FEEL time budget's clock: it only makes an evaluation give up, as an incident on the log.
            self.engine = Engine(state, job_streams=self._job_streams, monotonic=time.monotonic,
                                 max_element_instances_per_scope=self.config.max_element_instances_per_scope,
                                 partition_count=self.config.partitions)
            self.log_stream = LogStream(self.log, self.partition_id)
            self._check_log_reaches_snapshot(latest)
            guard = CrashGuard(self.directory / CrashGuard.FILE, self.config.crash_guard_attempts)
            # Scheduled work runs while the processor processes (here: always, but paused with it while disk
            # space is low).
            sender = self._build_processing(state, guard)
            async with trio.open_nursery() as nursery:
                await nursery.start(partial(self.log_stream.run_flusher, self._io_limiter,
                                            in_thread=self.config.fsync_in_thread))
                await nursery.start(self.processor.run)
                await nursery.start(self.exporters.run)
                nursery.start_soon(self._snapshot_periodically)
                nursery.start_soon(self._redistribute_periodically, sender, state)
                nursery.start_soon(self._watch_health)
                if self.config.stats_log_interval > 0:
                    nursery.start_soon(self._log_statistics)
                self.healthy = running = True
                self.failure = None
                log.info("partition %d is ready (last position %d)", self.partition_id, self.log_stream.last_position)
                if not self._started:
                    self._started = True
                    task_status.started(self)
        except Exception as error:
            if running and _storage_failure(error) is not None:
                running = False  # do not snapshot a state that may not match the log
            raise
        finally:
            self.healthy = False
            with trio.CancelScope(shield=True):
                await self._close(snapshot=running)
            if guard is not None:
                guard.close()

    def _build_processing(self, state: EngineState, guard: CrashGuard) -> InterPartitionSender:
        """The exporters, the schedule service and the stream processor over ``self.log_stream``, as the
        partition runs them when it processes; returns the inter-partition sender they use (the
        broker's, else one to this partition alone)."""
        self.exporters = create_exporter_director(
            partition_id=self.partition_id, exporters_config=self.config.exporter_settings(),
            reader=_CommittedReader(self.log_stream), position_store=_PositionStore(self.store, state),
            environ=os.environ)
        schedule = ScheduleService(self.log_stream, self.store, ScheduledChecks(state), self.clock,
                                   check_interval=self.config.due_date_check_interval)
        sender = self._sender or LocalPartitionSender({self.partition_id: self.log_stream},
                                                      max_command_bytes=self.config.max_message_size)
        self.processor = StreamProcessor(self.log_stream, self.store, self.engine, self.clock.now_ms,
                                         self._run_side_effects, crash_guard=guard, schedule=schedule,
                                         sender=sender, max_batch_bytes=self._max_batch_bytes)
        return sender

    def _repair_hint(self) -> str:
        return (f"to see what a repair would cut, run: zeebe-trio repair-log --data-dir {self.config.data_dir}"
                f" --partition {self.partition_id}")

    def _snapshot_summary(self) -> str:
        snapshots = SnapshotStore(self.directory / "snapshots").list()
        if not snapshots:
            return "there is no snapshot"
        newest = snapshots[-1]
        return (f"the newest snapshot ({newest.path.name}) holds the state up to position {newest.processed_position},"
                f" taken with the log durable to position {newest.log_position}")

    def _damaged_log(self, error: LogCorruptedError) -> StartupError:
        """One line: the partition, where the log is damaged, its last intact position, the snapshot, the fix."""
        damage = error.damage
        if damage is None:
            return StartupError(f"partition {self.partition_id}: the log cannot be opened: {error}; restore this"
                                " partition from a backup")
        end = SegmentedLog.inspect(self.directory / "log").end_position
        return StartupError(
            f"partition {self.partition_id}: the log is damaged at {damage.path}: offset {damage.offset}: {damage.problem};"
            f" its last intact position is {end} and {self._snapshot_summary()}; refusing to start so that nothing"
            f" durable is lost or issued twice; restore the partition from a backup, or {self._repair_hint()}")

    def _log_start_position(self) -> int:
        """The first position the log still holds (compaction removes older ones): the first entry's low
        position, or the next position when the log holds no entry."""
        if self.log.last_index >= self.log.first_index:
            return self.log.entry(self.log.first_index).low_position
        return self.log.last_position + 1

    def _restore_state(self) -> tuple[StateStore, Snapshot | None]:
        """The newest snapshot that verifies and that the log reaches back to (replay needs every record
        after its position); older ones when newer ones are damaged, logging what happened."""
        runtime = self.directory / "runtime"
        start = self._log_start_position()
        skipped: list[str] = []
        for snapshot in reversed(self.snapshots.list()):
            if start > snapshot.processed_position + 1:
                skipped.append(f"{snapshot.path.name} is older than the log, which starts at position {start}")
                break  # older snapshots are further behind still
            problem = verify_snapshot(snapshot)
            if problem is None:
                try:
                    store = StateStore.restore(snapshot.path, runtime, COLUMN_FAMILIES)
                except StateRestoreError as error:
                    problem = str(error)
                else:
                    if skipped:
                        log.warning("partition %d: restored the older snapshot %s because %s; replaying the log"
                                    " from position %d", self.partition_id, snapshot.path.name, "; ".join(skipped),
                                    snapshot.processed_position + 1)
                    return store, snapshot
            log.warning("partition %d: snapshot %s is damaged: %s", self.partition_id, snapshot.path.name, problem)
            skipped.append(f"snapshot {snapshot.path.name} is damaged ({problem})")
        if start > 1:
            found = "; ".join(skipped) if skipped else f"{self.snapshots.directory} holds no snapshot"
            raise StartupError(
                f"partition {self.partition_id}: the log starts at position {start} (older records were compacted"
                f" into snapshots) but no usable snapshot covers them: {found}; refusing to start with a state that"
                f" would miss them. Restore {self.snapshots.directory} from a backup")
        if skipped:
            log.warning("partition %d: no usable snapshot (%s); rebuilding the state from the whole log",
                        self.partition_id, "; ".join(skipped))
        return StateStore.restore(None, runtime, COLUMN_FAMILIES), None

    def _check_log_reaches_snapshot(self, snapshot: Snapshot | None) -> None:
        """The snapshot is the floor: a log that ends below the position it was taken at lost durable
        records, and continuing would hand out their positions (and keys) again."""
        end = self.log_stream.last_position
        if snapshot is None or end >= snapshot.log_position:
            return
        raise StartupError(
            f"partition {self.partition_id}: the log ends at position {end} but snapshot {snapshot.path.name} holds"
            f" the state up to position {snapshot.processed_position} and was taken with the log durable to position"
            f" {snapshot.log_position}: {snapshot.log_position - end} positions of durable records are missing from"
            " the log's end; refusing to start so that positions and keys are not issued twice; restore the"
            f" partition from a backup, or {self._repair_hint()}")

    async def _close(self, *, snapshot: bool) -> None:
        """Flush, snapshot (when ``snapshot``: the partition ran and stops cleanly) and close whatever
        ``_run_once`` got to open (it may have failed half-way)."""
        for pending in self._pending.values():
            pending.event.set()  # wakes waiters; they see no record and report the partition unavailable
        try:
            if snapshot and self.processor is not None:
                await self.log_stream.flush(self._io_limiter, in_thread=self.config.fsync_in_thread)
                await self.take_snapshot()
        except Exception as error:
            if _storage_failure(error) is None:
                raise
            log.error("partition %d: could not flush and snapshot while closing: %s", self.partition_id, error)
        finally:
            if self.store is not None:
                self.store.close()
            try:
                self.log.close()
            except OSError as error:
                log.error("partition %d: closing the log failed: %s", self.partition_id, error)

    # -- command API -------------------------------------------------------------------------------

    async def execute(self, command: BrokerCommand, timeout: float | None) -> Record:
        if not self.healthy:
            why = (f"{self.failure}; it opens its storage again by itself" if self.failure
                   else "starting or shutting down")
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                              f"Expected to execute the command on partition {self.partition_id}, but it is not"
                              f" available ({why})")
        if self.disk_space_low is not None:
            raise BrokerError(BrokerError.RESOURCE_EXHAUSTED, self._out_of_disk_space(self.disk_space_low))
        if len(self._pending) >= self.config.max_inflight_requests:
            raise BrokerError(BrokerError.RESOURCE_EXHAUSTED,
                              f"Expected to handle the request, but partition {self.partition_id} is over its"
                              f" limit of {self.config.max_inflight_requests} requests in flight; retry later")
        request_id = next(self._request_ids)
        record = Record(record_type=RecordType.COMMAND, value_type=command.value_type, intent=command.intent,
                        value=command.value, key=command.key, request_id=request_id, request_stream_id=self._request_stream,
                        timestamp=self.clock.now_ms())
        size = len(encode_batch([record]))
        if size > self.config.max_message_size:
            raise BrokerError(BrokerError.MALFORMED_REQUEST,
                              f"Expected the command to be at most {self.config.max_message_size} bytes, but it"
                              f" is {size} bytes")
        pending = self._pending[request_id] = _Pending()
        try:
            try:
                self.log_stream.append([record])
            except OSError as error:
                if not is_disk_full(error):
                    raise
                raise BrokerError(BrokerError.RESOURCE_EXHAUSTED, self._out_of_disk_space(
                    f"writing the command failed: {error.strerror or error}")) from None
            except LogClosedError:
                raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                                  f"Expected to execute the command on partition {self.partition_id}, but its log"
                                  " failed a write; the partition opens its storage again by itself") from None
            with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
                await pending.event.wait()
        finally:
            del self._pending[request_id]
        if scope.cancelled_caught:
            raise BrokerError(BrokerError.TIMEOUT, _timeout_reason(command, timeout, pending.accepted))
        if pending.record is None:
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                              f"Partition {self.partition_id} shut down before the command was answered")
        return pending.record

    def _out_of_disk_space(self, detail: str) -> str:
        # Zeebe's words, then ours: how much is free, how much is needed, and the setting.
        return f"Cannot accept requests for partition {self.partition_id}. Broker is out of disk space: {detail}"

    def _run_side_effects(self, effects: SideEffects) -> None:
        for stream_id, request_id, record in effects.responses:
            if stream_id != self._request_stream:
                continue  # addressed to a previous run of this broker
            pending = self._pending.get(request_id)
            if pending is not None:
                pending.record = record
                pending.event.set()
        for stream_id, request_id, record in effects.accepted:
            pending = self._pending.get(request_id) if stream_id == self._request_stream else None
            if pending is not None:
                pending.accepted = record
        for job_type in effects.jobs_available:
            self._on_jobs_available(job_type)
        refused = [job_key for stream_id, job_key, job in effects.job_pushes
                   if not self._push_job(stream_id, job_key, job)]
        if refused:
            self.yield_jobs(refused)

    def yield_jobs(self, job_keys: list[int]) -> None:
        """Jobs pushed to a stream that could not deliver them: make them activatable again."""
        if not self.healthy:
            return  # they come back when their timeout passes
        now = self.clock.now_ms()
        try:
            self.log_stream.append([Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB,
                                           intent=JobIntent.YIELD, value={}, key=key, timestamp=now)
                                    for key in job_keys])
        except (OSError, LogClosedError) as error:
            log.warning("partition %d: could not yield %d jobs (%s); they come back when their timeout passes",
                        self.partition_id, len(job_keys), error)

    async def _log_statistics(self) -> None:
        """One machine-readable line per interval: positions, and how far each exporter lags."""
        while True:
            await trio.sleep(self.config.stats_log_interval)
            last = self.log_stream.last_position
            exported = {h.exporter_id: h.exported_position for h in self.exporters.health()}
            log.info("partition %d statistics: %s", self.partition_id, json.dumps({
                **self.statistics(), "exportedPosition": exported,
                "exporterLag": {exporter_id: last - position for exporter_id, position in exported.items()}}))

    async def _redistribute_periodically(self, sender: InterPartitionSender, state: EngineState) -> None:
        """Zeebe's ``CommandRedistributor`` and pending-subscription checkers: every
        ``REDISTRIBUTION_INTERVAL_MS``, while this partition processes (the leader's work), send again
        the distributions no partition acknowledged and the subscription commands not answered yet."""
        interval = REDISTRIBUTION_INTERVAL_MS / 1000
        while True:
            await trio.sleep(interval)
            if self.processor.phase is not StreamProcessorPhase.PROCESSING:
                continue
            # read synchronously, between two batches (the processor binds the state to its own transaction)
            with self.store.read() as txn:
                state.bind(txn)
                commands = self.engine.commands_to_resend()
            for receiver, command in commands:
                try:
                    await sender.send(receiver, command)
                except (LookupError, ValueError) as error:
                    log.error("partition %d: could not send a distribution again to partition %d: %s",
                              self.partition_id, receiver, error)

    async def _snapshot_periodically(self) -> None:
        while True:
            await trio.sleep(self.config.snapshot_period)
            try:
                await self.take_snapshot()
            except OSError as error:  # a full disk: the next period tries again
                if not is_disk_full(error):
                    raise
                log.error("partition %d: could not take a snapshot: %s; trying again in %g s", self.partition_id,
                          error, self.config.snapshot_period)

    async def _blocking_io(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking file work (snapshot copies and their fsyncs) in a worker thread, or inline
        when ``fsync_in_thread`` is off: under a mock clock a waited-for thread lets virtual time run
        away, and the run loop spins until the thread is done."""
        if self.config.fsync_in_thread:
            return await trio.to_thread.run_sync(fn, *args, limiter=self._io_limiter)
        await trio.lowlevel.checkpoint()
        return fn(*args)

    async def take_snapshot(self) -> None:
        """Snapshot the state if it moved since the last one, then compact the log behind it."""
        txn: Any = self.store.snapshot_transaction()
        tmp = None
        try:
            self.engine.bind(txn)
            processed = self.engine.last_processed_position()
            if processed <= self._last_snapshot_position:
                return
            log_position = self.log_stream.last_position
            tmp = self.snapshots.temporary()
            await self._blocking_io(self.store.write_snapshot, tmp, txn)
            self.store.release(txn)
            txn = None
            await self.log_stream.committed.wait_until(log_position)
            await self._blocking_io(self.snapshots.publish, tmp, processed, log_position)
            tmp = None
        finally:
            if txn is not None:
                self.store.release(txn)
            if tmp is not None:
                with trio.CancelScope(shield=True):
                    await self._blocking_io(self.snapshots.discard, tmp)
        self._last_snapshot_position = processed
        snapshots = self.snapshots.list()
        # Behind the oldest snapshot kept, so that the log still reaches back to it if the newest one
        # turns out damaged.
        self.compact_log(snapshots[0].processed_position if snapshots else processed)
        log.info("partition %d: snapshot at position %d", self.partition_id, processed)

    async def _watch_health(self) -> None:
        """Every ``disk_monitoring_interval`` seconds: the disk watermark (pause processing and refuse
        commands below it, resume above it) and stalls; log every change of health."""
        while True:
            if self.config.disk_monitoring_enabled:
                self._check_disk_space()
            self._check_progress(trio.current_time())
            problem = self.health_problem()
            if problem != self._health_problem:
                if problem is None:
                    log.info("partition %d is healthy again", self.partition_id)
                else:
                    log.warning("partition %d is unhealthy: %s", self.partition_id, problem)
                self._health_problem = problem
            await trio.sleep(self.config.disk_monitoring_interval)

    def _check_disk_space(self) -> None:
        try:
            free = free_disk_space(self.directory)
        except OSError as error:
            log.warning("partition %d: cannot tell the free disk space of %s: %s", self.partition_id,
                        self.directory, error)
            return
        needed = self.config.disk_free_space_processing
        if free < needed:
            self.disk_space_low = (f"{free} bytes free on the file system of {self.directory}, {needed} needed"
                                   " (disk_free_space_processing)")
            self.processor.pause()
        elif self.disk_space_low is not None:
            self.disk_space_low = None
            self.processor.resume()

    def _check_progress(self, now: float) -> None:
        """Note since when records have waited to be processed or flushed without any progress."""
        marker = (self.processor.read_position, self.log_stream.committed.value)
        pending = self.log_stream.last_position > min(marker)
        if not pending:
            self._stalled_since = None
        elif marker != self._progress_marker or self._stalled_since is None:
            self._stalled_since = now
        self._progress_marker = marker
        self._stalled = None
        if self._stalled_since is not None and now - self._stalled_since >= STALL_SECONDS:
            self._stalled = (f"no progress for {now - self._stalled_since:.0f} s: processed up to position"
                             f" {marker[0]}, durable up to {marker[1]}, the log ends at {self.log_stream.last_position}")

    def health_problem(self) -> str | None:
        """Why the partition is not healthy, or None: not running (a storage failure it recovers from),
        out of disk space, processing stopped or stalled, or an exporter failing."""
        if not self.healthy:
            return self.failure or "not running (starting or shutting down)"
        if self.disk_space_low is not None:
            return f"out of disk space: {self.disk_space_low}; client commands are refused and processing pauses"
        if self.processor.stalled is not None:
            return self.processor.stalled
        if self._stalled is not None:
            return self._stalled
        if not self.exporters.healthy:
            return "an exporter is failing or misconfigured"
        return None

    @property
    def health(self) -> bool:
        """Healthy when processing runs and makes progress, disk space is above the watermark and no
        exporter is failing or misconfigured (``health_problem`` says what is wrong)."""
        return self.health_problem() is None

    def compact_log(self, snapshot_position: int) -> None:
        """Drop log segments wholly behind the snapshot and every exporter's position: replay needs
        the records after the snapshot, and an exporter that is down may not lose a record."""
        keep_from = min(snapshot_position, self.exporters.lowest_exported_position())
        if keep_from < 0:
            return
        index = self.log.index_of_position(keep_from)
        if index is not None:
            self.log.compact(index)

    def statistics(self) -> dict[str, Any]:
        return {"inflight_requests": len(self._pending), **self.log_stream.statistics(),
                **self.processor.statistics(), "restarts": self.restarts,
                "distributions_resent": self.engine.redistributor.retried,
                **self.engine.pending_subscriptions.statistics()}
