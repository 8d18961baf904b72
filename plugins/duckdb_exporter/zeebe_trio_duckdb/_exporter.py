"""The DuckDB exporter: batches records on the Trio side, writes them from a worker thread."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import trio

from zeebe_trio.exporters import (
    Exporter,
    ExporterArgument,
    ExporterConfigurationError,
    ExporterContext,
    ExporterController,
    ExporterQueryError,
    ScheduledTask,
)
from zeebe_trio.protocol import Record

from ._store import EncodedBatch, ExportStore, QueryRefused, build_batch

SNAPSHOT_COST_FACTOR = 20  # wait at least 20x as long as the last snapshot copy took

ARGUMENTS: dict[str, ExporterArgument] = {
    "path": ExporterArgument(str, None, "the DuckDB file to write; may contain {partitionId}", required=True),
    "batchSize": ExporterArgument(int, 1000, "records per transaction"),
    "flushDelay": ExporterArgument(float, 5.0, "seconds after a batch's first record at the latest"),
    # at least; spaced further as copies get slower (SNAPSHOT_COST_FACTOR)
    "snapshotInterval": ExporterArgument(float, 30.0, "seconds between read-only snapshots for other"
                                                      " processes; 0 = none"),
}
DEFAULT_ARGS: dict[str, Any] = {name: argument.default for name, argument in ARGUMENTS.items()}


def _number(context: ExporterContext, name: str, kind: type, minimum: float) -> Any:
    value = context.args.get(name, DEFAULT_ARGS[name])
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ExporterConfigurationError(
            f"exporter '{context.exporter_id}': args.{name} must be a {kind.__name__}, got {value!r}"
        )
    if value < minimum:
        raise ExporterConfigurationError(
            f"exporter '{context.exporter_id}': args.{name} must be at least {minimum}, got {value!r}"
        )
    return value


class DuckDbExporter(Exporter):
    """Exports records into a DuckDB file.

    ``export`` only appends to an in-memory batch; a batch is written when it reaches ``batchSize``
    records or ``flushDelay`` seconds after its first record, in a worker thread limited to one
    thread per exporter, and acknowledged only after its transaction committed. A snapshot for
    readers is published at most every ``snapshotInterval`` seconds (0 disables snapshots).
    """

    def __init__(self) -> None:
        self._path: Path | None = None
        self._partition_id = 0
        self._batch_size = DEFAULT_ARGS["batchSize"]
        self._flush_delay = DEFAULT_ARGS["flushDelay"]
        self._snapshot_interval = DEFAULT_ARGS["snapshotInterval"]
        self._snapshot_gap = self._snapshot_interval
        self._limiter = trio.CapacityLimiter(1)
        self._store: ExportStore | None = None
        self._controller: ExporterController | None = None
        self._batch: list[Record] = []
        self._encoded: list[EncodedBatch] = []  # ``_batch`` through build_batch, one part per export call
        self._last_buffered = -1
        self._committed = -1
        self._flush_task: ScheduledTask | None = None
        self._last_snapshot: float | None = None
        self._snapshot_due = False
        self._snapshot_task: ScheduledTask | None = None
        self._closing = False

    def configure(self, context: ExporterContext) -> None:
        path = context.args.get("path")
        if not path or not isinstance(path, str):
            raise ExporterConfigurationError(
                f"exporter '{context.exporter_id}': args.path is required: the DuckDB file to write, e.g."
                f" exporters.{context.exporter_id}.args.path = /var/lib/zeebe-trio/export.duckdb"
                f" (or ZEEBE_TRIO_EXPORTERS_{context.exporter_id.upper()}_ARGS_PATH)"
            )
        self._path = Path(path.replace("{partitionId}", str(context.partition_id)))
        self._partition_id = context.partition_id
        self._batch_size = _number(context, "batchSize", int, 1)
        self._flush_delay = float(_number(context, "flushDelay", float, 0))
        self._snapshot_interval = float(_number(context, "snapshotInterval", float, 0))
        self._snapshot_gap = self._snapshot_interval

    async def open(self, controller: ExporterController) -> None:
        assert self._path is not None, "configure() first"
        self._controller = controller
        self._closing = False
        self._store = await trio.to_thread.run_sync(ExportStore, self._path, self._partition_id,
                                                    limiter=self._limiter)
        self._committed = await trio.to_thread.run_sync(self._store.committed_position, limiter=self._limiter)
        self._last_buffered = self._committed
        if self._committed > controller.last_exported_position:
            # committed before a crash, acknowledged to the broker too late: nothing to redo
            controller.update_last_exported_position(self._committed)
        if self._snapshot_interval:
            await self._publish_snapshot()

    async def export(self, record: Record) -> None:
        await self.export_batch((record,))

    async def export_batch(self, records: Sequence[Record]) -> None:
        last = self._last_buffered
        fresh = [record for record in records if record.position > last]  # a retry must not buffer twice
        if fresh:
            # Encoded now, in the worker thread: a record that cannot be encoded fails this call and is
            # not buffered, so the director can retry it and, in the end, skip it; buffered, it would
            # fail every flush after it.
            encoded = await trio.to_thread.run_sync(build_batch, fresh, limiter=self._limiter)
            self._batch.extend(fresh)
            self._encoded.append(encoded)
            self._last_buffered = fresh[-1].position
        if len(self._batch) >= self._batch_size:
            await self.flush()
        elif self._batch and self._flush_task is None and self._controller is not None:
            self._flush_task = self._controller.schedule_delayed_task(self._flush_delay, self._scheduled_flush)

    async def _scheduled_flush(self) -> None:
        self._flush_task = None
        await self.flush()

    async def flush(self) -> None:
        """Write the pending batch and acknowledge it (no-op when nothing is pending)."""
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        if not self._batch:
            return
        assert self._store is not None and self._controller is not None
        batch, encoded = self._batch, self._encoded
        await trio.to_thread.run_sync(self._store.write_batch, batch, encoded, limiter=self._limiter)
        self._batch, self._encoded = [], []
        self._committed = batch[-1].position
        self._controller.update_last_exported_position(self._committed)
        now = trio.current_time()
        if self._snapshot_interval and (
            self._last_snapshot is None or now - self._last_snapshot >= self._snapshot_gap
        ):
            await self._publish_snapshot()
        elif self._snapshot_interval:
            self._snapshot_due = True
            if self._snapshot_task is None and not self._closing:  # close() publishes it itself
                remaining = self._last_snapshot + self._snapshot_gap - now
                self._snapshot_task = self._controller.schedule_delayed_task(remaining, self._scheduled_snapshot)

    async def _scheduled_snapshot(self) -> None:
        self._snapshot_task = None
        if self._snapshot_due and self._store is not None:
            await self._publish_snapshot()

    async def _publish_snapshot(self) -> None:
        assert self._store is not None
        started = time.perf_counter()
        await trio.to_thread.run_sync(self._store.publish_snapshot, limiter=self._limiter)
        # A snapshot copies the whole export, so its cost grows with it; keep the time spent copying
        # under 5% (and its disk writes away from the broker's log fsyncs) by spacing copies out.
        self._snapshot_gap = max(self._snapshot_interval, SNAPSHOT_COST_FACTOR * (time.perf_counter() - started))
        self._last_snapshot = trio.current_time()
        self._snapshot_due = False

    async def query(self, sql: str, max_rows: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        """Fresh, read-only SQL over the live export (served through the broker's command API)."""
        if self._store is None:
            raise ExporterQueryError("the DuckDB export is not open yet")
        await self.flush()  # what was exported so far is in the answer
        try:
            return await trio.to_thread.run_sync(self._store.read, sql, max_rows, limiter=self._limiter)
        except (duckdb.Error, QueryRefused) as error:
            raise ExporterQueryError(str(error)) from None

    async def close(self) -> None:
        if self._store is None:
            return
        # The director no longer runs scheduled tasks: the last flush must not ask for one.
        self._closing = True
        if self._snapshot_task is not None:
            self._snapshot_task.cancel()
            self._snapshot_task = None
        try:
            await self.flush()
            if self._snapshot_interval and self._snapshot_due:
                await self._publish_snapshot()
        finally:
            store, self._store = self._store, None
            await trio.to_thread.run_sync(store.close, limiter=self._limiter)
