"""One partition: its log, state, engine, stream processor, scheduled work and snapshots,
supervised by one nursery. Also the partition's command API (client commands in, responses out)."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.engine import (
    COLUMN_FAMILIES,
    Engine,
    EngineState,
    JobStreams,
    SideEffects,
    due_commands,
    next_due_time,
)
from zeebe_trio.exporters import create_exporter_director
from zeebe_trio.gateway._port import BrokerCommand, BrokerError
from zeebe_trio.log import SegmentedLog
from zeebe_trio.protocol import JobIntent, Record, RecordType, ValueType, encode_batch
from zeebe_trio.state import StateStore
from zeebe_trio.stream import LogStream, SnapshotStore, StreamProcessor

from ._clock import EngineClock
from ._config import BrokerConfig

log = logging.getLogger(__name__)


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
        await committed.wait_until(position + 1)
        records = self._log_stream.read_after(position, max_records)
        return [record for record in records if record.position <= committed.value]


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
                 push_job: Callable[[int, int, dict[str, Any]], bool]) -> None:
        self.partition_id = partition_id
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
        self._due_pending: dict[tuple[int, int, int], int] = {}
        self.healthy = False
        self.log: SegmentedLog
        self.log_stream: LogStream
        self.store: StateStore
        self.engine: Engine
        self.processor: StreamProcessor
        self.snapshots: SnapshotStore
        self._last_snapshot_position = -1

    # -- life cycle --------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Partition] = trio.TASK_STATUS_IGNORED) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = SegmentedLog.open(self.directory / "log", max_segment_bytes=self.config.log_segment_size)
        try:
            if self.log.recovery is not None and self.log.recovery.entries_dropped:
                log.warning("partition %d: cut a torn log tail: %s", self.partition_id, self.log.recovery)
            self.snapshots = SnapshotStore(self.directory / "snapshots")
            latest = self.snapshots.latest()
            self.store = StateStore.restore(latest.path if latest else None, self.directory / "runtime",
                                            COLUMN_FAMILIES)
            self._last_snapshot_position = latest.processed_position if latest else -1
            state = EngineState(self.store, self.partition_id)
            self.engine = Engine(state, job_streams=self._job_streams)
            self.log_stream = LogStream(self.log, self.partition_id)
            self.processor = StreamProcessor(self.log_stream, self.store, self.engine, self.clock.now_ms,
                                             self._run_side_effects)
            self.exporters = create_exporter_director(
                partition_id=self.partition_id, exporters_config=self.config.exporter_settings(),
                reader=_CommittedReader(self.log_stream), position_store=_PositionStore(self.store, state),
                environ=os.environ)
            async with trio.open_nursery() as nursery:
                await nursery.start(partial(self.log_stream.run_flusher, self._io_limiter,
                                            in_thread=self.config.fsync_in_thread))
                await nursery.start(self.processor.run)
                await nursery.start(self.exporters.run)
                nursery.start_soon(self._check_due_dates)
                nursery.start_soon(self._snapshot_periodically)
                if self.config.stats_log_interval > 0:
                    nursery.start_soon(self._log_statistics)
                self.healthy = True
                log.info("partition %d is ready (last position %d)", self.partition_id, self.log_stream.last_position)
                task_status.started(self)
        finally:
            self.healthy = False
            with trio.CancelScope(shield=True):
                await self._close()

    async def _close(self) -> None:
        """Flush, snapshot and close whatever ``run`` got to open (it may have failed half-way)."""
        for pending in self._pending.values():
            pending.event.set()  # wakes waiters; they see no record and report the partition unavailable
        try:
            if getattr(self, "processor", None) is not None:
                await self.log_stream.flush(self._io_limiter, in_thread=self.config.fsync_in_thread)
                await self.take_snapshot()
        finally:
            if getattr(self, "store", None) is not None:
                self.store.close()
            self.log.close()

    # -- command API -------------------------------------------------------------------------------

    async def execute(self, command: BrokerCommand, timeout: float | None) -> Record:
        if not self.healthy:
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                              f"Expected to execute the command on partition {self.partition_id}, but it is not"
                              " available (starting or shutting down)")
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
            self.log_stream.append([record])
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
        self.log_stream.append([Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB,
                                       intent=JobIntent.YIELD, value={}, key=key, timestamp=now)
                                for key in job_keys])

    # -- scheduled work ----------------------------------------------------------------------------

    async def _check_due_dates(self) -> None:
        state = self.engine.state
        interval = self.config.due_date_check_interval
        while True:
            now = self.clock.now_ms()
            processed = self.processor.last_processed_position
            self._due_pending = {k: p for k, p in self._due_pending.items() if p > processed}
            with self.store.read() as txn:
                state.bind(txn)
                due = due_commands(state, now)
                next_time = next_due_time(state)
            commands = []
            for value_type, intent, key, value in due:
                if (int(value_type), int(intent), key) in self._due_pending:
                    continue
                commands.append(Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent,
                                       value=value, key=key, timestamp=now))
            if commands:
                high = self.log_stream.append(commands)
                for command in commands:
                    self._due_pending[(int(command.value_type), int(command.intent), command.key)] = high
            wake_at = trio.current_time() + interval
            if next_time is not None and next_time > now:
                wake_at = min(wake_at, self.clock.trio_time_at(next_time))
            await trio.sleep_until(wake_at)

    async def _log_statistics(self) -> None:
        """One machine-readable line per interval: positions, and how far each exporter lags."""
        while True:
            await trio.sleep(self.config.stats_log_interval)
            last = self.log_stream.last_position
            exported = {h.exporter_id: h.exported_position for h in self.exporters.health()}
            log.info("partition %d statistics: %s", self.partition_id, json.dumps({
                **self.statistics(), "exportedPosition": exported,
                "exporterLag": {exporter_id: last - position for exporter_id, position in exported.items()}}))

    async def _snapshot_periodically(self) -> None:
        while True:
            await trio.sleep(self.config.snapshot_period)
            await self.take_snapshot()

    async def take_snapshot(self) -> None:
        """Snapshot the state if it moved since the last one, then compact the log behind it."""
        txn = self.store.snapshot_transaction()
        try:
            self.engine.bind(txn)
            processed = self.engine.last_processed_position()
            if processed <= self._last_snapshot_position:
                return
            log_position = self.log_stream.last_position
            tmp = self.snapshots.temporary()
            await trio.to_thread.run_sync(self.store.write_snapshot, tmp, txn, limiter=self._io_limiter)
        finally:
            self.store.release(txn)
        await self.log_stream.committed.wait_until(log_position)
        await trio.to_thread.run_sync(self.snapshots.publish, tmp, processed, log_position, limiter=self._io_limiter)
        self._last_snapshot_position = processed
        self.compact_log(processed)
        log.info("partition %d: snapshot at position %d", self.partition_id, processed)

    @property
    def health(self) -> bool:
        """Healthy when processing runs and no exporter is failing or misconfigured."""
        return self.healthy and self.exporters.healthy

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
                **self.processor.statistics()}
