"""The exporter director: runs every configured exporter of one partition over its committed records.

One Trio task per exporter reads committed records after the exporter's last acknowledged position
(at most ``read_batch_size`` at a time, which bounds the memory held per exporter), hands the ones
its filter accepts to ``export`` in log order and stores acknowledged positions in the position store.

Delivery is at-least-once: when ``open``, ``export`` or a scheduled task raises, the exporter is marked
FAILING, the error is logged and the same call is retried after a backoff (1 s, 2 s, 4 s ... capped at
60 s by default). Exporters run in their own tasks, so a failing exporter never blocks the stream
processor or the other exporters.

A record an exporter cannot take must not hold its partition forever (UNHEALTHY, the log never
compacted behind it, across restarts): after ``skipRecordAfterFailures`` failed attempts in a row (an
exporter setting, default ``DEFAULT_SKIP_RECORD_AFTER_FAILURES``; 0 retries for ever) the director
gives up on it. A batch (``export_batch``) that fails that often is delivered again one record at a
time, so only the records that fail on their own are skipped. A skipped record is logged as an ERROR
naming the exporter, its position, record type, value type, intent and the error, counted in the
exporter's health (``skipped_records``), and passed like a filtered one, so the position moves on.
With the default backoff, ten attempts take about four minutes per record: an exporter whose sink is
down that long loses the records it was given meanwhile (each one logged); set 0 for an exporter that
must never lose one. A misconfigured exporter (unknown type,
``configure`` raised) is reported as MISCONFIGURED and keeps holding its position, so fixing the
configuration resumes it without gaps.

Records an exporter's filter rejects are skipped; when nothing delivered is still unacknowledged,
the exporter's position moves past them so that a filtering exporter does not hold back log compaction.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from zeebe_trio.protocol import Record

from ._api import (
    ACCEPT_ALL,
    CommittedRecordReader,
    Exporter,
    ExporterConfigurationError,
    ExporterContext,
    ExporterFactory,
    ExporterPositionStore,
    ExporterQueryAnswer,
    ExporterQueryError,
    RecordFilter,
)
from ._config import ExporterSettings, merge_args

logger = logging.getLogger("zeebe_trio.exporters")

UNBOUNDED_POSITION = 2**63 - 1
"""``lowest_exported_position()`` when no exporter is configured: exporters do not limit compaction."""


class ExporterStatus(enum.Enum):
    STARTING = "STARTING"
    """Configured, not opened yet."""
    HEALTHY = "HEALTHY"
    """The last call to the exporter succeeded."""
    FAILING = "FAILING"
    """The last call raised; it is being retried with backoff."""
    MISCONFIGURED = "MISCONFIGURED"
    """Unknown type or ``configure`` raised; not retried, position held. Fix the configuration."""
    CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class ExporterHealth:
    """A snapshot of one exporter's health on one partition (for Topology / health endpoints)."""

    exporter_id: str
    exporter_type: str
    partition_id: int
    status: ExporterStatus
    exported_position: int
    last_error: str | None
    """The most recent error, kept after recovery (``status`` says whether it still applies)."""
    consecutive_failures: int
    total_failures: int
    skipped_records: int = 0
    """Records given up on after ``skipRecordAfterFailures`` failed attempts (never exported)."""
    last_skipped_position: int = -1

    @property
    def healthy(self) -> bool:
        return self.status in (ExporterStatus.STARTING, ExporterStatus.HEALTHY, ExporterStatus.CLOSED)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between retries of a failing exporter call."""

    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 60.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1-based)."""
        return min(self.initial_delay * self.multiplier ** (failures - 1), self.max_delay)


class _ScheduledTask:
    def __init__(self) -> None:
        self._scope = trio.CancelScope()
        self._done = False

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self._scope.cancel()

    @property
    def done(self) -> bool:
        return self._done


class _Controller:
    def __init__(self, runner: _ExporterRunner) -> None:
        self._runner = runner

    @property
    def last_exported_position(self) -> int:
        return self._runner.position

    def update_last_exported_position(self, position: int) -> None:
        self._runner.acknowledge(position)

    def schedule_delayed_task(self, delay: float, task: Callable[[], Awaitable[None]]) -> _ScheduledTask:
        return self._runner.schedule(delay, task)


class _ExporterRunner:
    def __init__(self, director: ExporterDirector, settings: ExporterSettings, factory: ExporterFactory | None) -> None:
        self._director = director
        self.settings = settings
        self.id = settings.id
        self._factory = factory
        self.position = director._position_store.get(settings.id)
        self._delivered = self.position  # last position whose export() returned
        self._handled = self.position  # last position exported or skipped by the filter
        self.status = ExporterStatus.STARTING
        self.last_error: str | None = None
        self.consecutive_failures = 0
        self.total_failures = 0
        self.skipped_records = 0
        self.last_skipped_position = -1
        self._exporter: Exporter | None = None
        self._filter: RecordFilter = ACCEPT_ALL
        self._lock = trio.Lock()  # serializes export() and scheduled tasks
        self._tasks: trio.Nursery | None = None
        self._log = logging.LoggerAdapter(
            logger, {"exporter_id": settings.id, "partition_id": director.partition_id}
        )

    def _describe(self) -> str:
        return f"exporter '{self.id}' (type '{self.settings.type}') on partition {self._director.partition_id}"

    # -- configuration -------------------------------------------------------------------------

    def configure(self) -> None:
        if self._factory is None:
            installed = ", ".join(sorted(self._director._factories)) or "none"
            self._misconfigured(
                f"type '{self.settings.type}' is not installed (installed: {installed});"
                f" install the plugin that provides it or fix exporters.{self.id}.type"
            )
            return
        try:
            exporter = self._factory.create()
            context = ExporterContext(
                exporter_id=self.id,
                partition_id=self._director.partition_id,
                args=merge_args(self._factory.default_args, self.settings.args),
                logger=logging.getLogger(f"zeebe_trio.exporters.{self.id}"),
            )
            exporter.configure(context)
        except ExporterConfigurationError as error:  # says what to fix: no traceback
            self._misconfigured(f"configuration failed: {error}")
            return
        except Exception as error:
            self._misconfigured(f"configuration failed: {error}", error)
            return
        self._exporter = exporter
        self._filter = context.record_filter.intersect(self.settings.record_filter)

    def _misconfigured(self, message: str, error: BaseException | None = None) -> None:
        self.status = ExporterStatus.MISCONFIGURED
        self.last_error = message
        self.total_failures += 1
        self._log.error("%s is misconfigured and will not export: %s", self._describe(), message, exc_info=error)

    # -- controller ----------------------------------------------------------------------------

    def acknowledge(self, position: int) -> None:
        if position > self.position:
            self._store(position)
        self._advance_if_idle()

    def _advance_if_idle(self) -> None:
        # Everything delivered is acknowledged: records handled since were all filtered out.
        if self.position >= self._delivered and self._handled > self.position:
            self._store(self._handled)

    def _store(self, position: int) -> None:
        self.position = position
        self._director._position_store.set(self.id, position)
        self._director._position_moved()

    def schedule(self, delay: float, task: Callable[[], Awaitable[None]]) -> _ScheduledTask:
        handle = _ScheduledTask()
        if self._tasks is None:
            handle.cancel()
            self._log.warning("%s scheduled a task while not open; ignored", self._describe())
        else:
            self._tasks.start_soon(self._run_scheduled, delay, task, handle)
        return handle

    async def _run_scheduled(self, delay: float, task: Callable[[], Awaitable[None]], handle: _ScheduledTask) -> None:
        with handle._scope:
            await trio.sleep(delay)
        if handle._scope.cancelled_caught or handle.done:
            return
        handle._done = True
        async with self._lock:
            await self._retrying("scheduled task", task)

    # -- running -------------------------------------------------------------------------------

    async def _retrying(self, what: str, call: Callable[[], Awaitable[Any]], *, give_up_after: int = 0) -> bool:
        """Call until it succeeds (True), backing off between attempts; with ``give_up_after``, return
        False after that many failed attempts in a row (the error is then ``last_error``)."""
        attempts = 0
        while True:
            try:
                await call()
            except Exception as error:
                attempts += 1
                self.consecutive_failures += 1
                self.total_failures += 1
                self.status = ExporterStatus.FAILING
                self.last_error = f"{what} failed: {error!r}"
                if give_up_after and attempts >= give_up_after:
                    self._log.warning("%s: %s failed (attempt %d of %d)", self._describe(), what, attempts,
                                      give_up_after, exc_info=error)
                    return False
                delay = self._director._retry.delay(self.consecutive_failures)
                self._log.warning(
                    "%s: %s failed (attempt %d), retrying in %.1f s",
                    self._describe(), what, self.consecutive_failures, delay, exc_info=error,
                )
                await trio.sleep(delay)
            else:
                if self.consecutive_failures:
                    self._log.info("%s recovered after %d failures", self._describe(), self.consecutive_failures)
                self.consecutive_failures = 0
                self.status = ExporterStatus.HEALTHY
                return True

    async def _deliver(self, call: Callable[[], Awaitable[Any]], record: Record) -> None:
        """Export one record, giving up on it after ``skipRecordAfterFailures`` failed attempts."""
        limit = self.settings.skip_record_after_failures
        if await self._retrying(f"exporting record at position {record.position}", call, give_up_after=limit):
            self._delivered = record.position
            return
        self.skipped_records += 1
        self.last_skipped_position = record.position
        self._log.error(
            "%s skipped the record at position %d (%s %s.%s) after %d failed attempts; it is not exported"
            " (exporters.%s.skipRecordAfterFailures = %d): %s", self._describe(), record.position,
            record.record_type.name, record.value_type.name, record.intent.name, limit, self.id, limit,
            self.last_error)
        self.last_error = (f"skipped the record at position {record.position} after {limit} failed attempts:"
                           f" {self.last_error}")
        # Given up on, the record is passed like a filtered one: the exporter takes the next ones.
        self.consecutive_failures = 0
        self.status = ExporterStatus.HEALTHY

    async def _deliver_batch(self, exporter: Exporter, records: list[Record]) -> None:
        if len(records) == 1:
            await self._deliver(functools.partial(exporter.export_batch, records), records[0])
            return
        limit = self.settings.skip_record_after_failures
        what = f"exporting records at positions {records[0].position}..{records[-1].position}"
        if await self._retrying(what, functools.partial(exporter.export_batch, records), give_up_after=limit):
            self._delivered = records[-1].position
            return
        self._log.warning("%s: delivering the %d records at positions %d..%d one at a time, to skip only those"
                          " that fail on their own", self._describe(), len(records), records[0].position,
                          records[-1].position)
        for record in records:
            await self._deliver(functools.partial(exporter.export_batch, [record]), record)

    async def run(self) -> None:
        exporter = self._exporter
        if exporter is None:
            await trio.sleep_forever()  # misconfigured: keep holding the position, visibly
            return
        opened = False
        try:
            async with trio.open_nursery() as tasks:
                self._tasks = tasks
                await self._retrying("open", lambda: exporter.open(_Controller(self)))
                opened = True
                await self._export_loop(exporter)
        finally:
            self._tasks = None
            if opened:
                with trio.CancelScope(shield=True) as scope:
                    scope.deadline = trio.current_time() + self._director._close_timeout
                    try:
                        await exporter.close()
                    except Exception:
                        self._log.exception("%s: close failed", self._describe())
                if scope.cancelled_caught:
                    self._log.error("%s: close took longer than %.0f s; abandoned",
                                    self._describe(), self._director._close_timeout)
            self.status = ExporterStatus.CLOSED

    async def _export_loop(self, exporter: Exporter) -> None:
        reader = self._director._reader
        batch: list[Record] = []

        async def read() -> None:
            nonlocal batch
            batch = await reader.read_after(self._handled, self._director._read_batch_size)

        # Exporters that override export_batch take a read batch in one call (DuckDB: no per-record
        # overhead on the partition's thread); the others get export() per record, so a failure
        # retries exactly the record that failed.
        batched = type(exporter).export_batch is not Exporter.export_batch
        while True:
            await self._retrying("reading committed records", read)
            fresh = [record for record in batch if record.position > self._handled]  # never twice in one run
            if batched:
                accepted = [record for record in fresh if self._filter.accepts(record)]
                if accepted:
                    async with self._lock:
                        await self._deliver_batch(exporter, accepted)
                if fresh:
                    self._handled = fresh[-1].position
                    self._director._position_moved()
            else:
                for record in fresh:
                    if self._filter.accepts(record):
                        async with self._lock:
                            await self._deliver(functools.partial(exporter.export, record), record)
                    self._handled = record.position
                    self._director._position_moved()
            self._advance_if_idle()

    def health(self) -> ExporterHealth:
        return ExporterHealth(
            exporter_id=self.id,
            exporter_type=self.settings.type,
            partition_id=self._director.partition_id,
            status=self.status,
            exported_position=self.position,
            last_error=self.last_error,
            consecutive_failures=self.consecutive_failures,
            total_failures=self.total_failures,
            skipped_records=self.skipped_records,
            last_skipped_position=self.last_skipped_position,
        )


class ExporterDirector:
    """Runs the enabled exporters of one partition. Create one per partition (per leadership term).

    ``await nursery.start(director.run)`` configures every exporter, then exports until cancelled;
    cancelling it closes the exporters (each ``close`` is shielded, up to ``close_timeout`` seconds).
    """

    def __init__(
        self,
        *,
        partition_id: int,
        reader: CommittedRecordReader,
        position_store: ExporterPositionStore,
        settings: Sequence[ExporterSettings],
        factories: Mapping[str, ExporterFactory],
        read_batch_size: int = 2000,
        retry: RetryPolicy = RetryPolicy(),
        close_timeout: float = 30.0,
    ) -> None:
        if read_batch_size < 1:
            raise ValueError(f"read_batch_size must be at least 1, got {read_batch_size}")
        self.partition_id = partition_id
        self._reader = reader
        self._position_store = position_store
        self._factories = dict(factories)
        self._read_batch_size = read_batch_size
        self._retry = retry
        self._close_timeout = close_timeout
        self._runners = [
            _ExporterRunner(self, item, self._factories.get(item.type)) for item in settings if item.enabled
        ]
        self._started = False
        self._moved = trio.Event()  # set (and replaced) whenever an exporter position moves

    async def run(self, *, task_status: trio.TaskStatus[ExporterDirector] = trio.TASK_STATUS_IGNORED) -> None:
        if self._started:
            raise RuntimeError(f"the exporter director of partition {self.partition_id} can run only once")
        self._started = True
        for runner in self._runners:
            runner.configure()
        async with trio.open_nursery() as nursery:
            for runner in self._runners:
                nursery.start_soon(runner.run, name=f"exporter {runner.id} partition {self.partition_id}")
            task_status.started(self)

    def _position_moved(self) -> None:
        self._moved.set()
        self._moved = trio.Event()

    async def wait_exported(self, position: int) -> None:
        """Return once every exporter acknowledged ``position`` (e.g. before a clean stop, or in tests)."""
        while self.lowest_exported_position() < position:
            await self._moved.wait()

    async def query(self, sql: str, *, exporter_id: str | None = None, max_rows: int = 1000) -> ExporterQueryAnswer:
        """Ask an exporter (the given one, else the first queryable one) to answer read-only SQL."""
        candidates = [r for r in self._runners if exporter_id is None or r.id == exporter_id]
        for runner in candidates:
            exporter = runner._exporter
            if exporter is None or type(exporter).query is Exporter.query:
                continue
            async with runner._lock:  # never interleaved with export calls (a query may flush)
                columns, rows, truncated = await exporter.query(sql, max_rows)
            return ExporterQueryAnswer(columns, rows, truncated, runner.id)
        if exporter_id is not None and not candidates:
            raise ExporterQueryError(f"no exporter '{exporter_id}' runs on partition {self.partition_id}")
        raise ExporterQueryError(f"no exporter on partition {self.partition_id} answers queries"
                                 + (f" ('{exporter_id}' does not)" if exporter_id else ""))

    async def wait_delivered(self, position: int) -> None:
        """Return once every exporter was handed every record up to ``position`` (acknowledged or not)."""
        while min((runner._handled for runner in self._runners), default=UNBOUNDED_POSITION) < position:
            await self._moved.wait()

    def lowest_exported_position(self) -> int:
        """The log may be compacted up to and including this position (``UNBOUNDED_POSITION`` if no
        exporter is enabled). Misconfigured and failing exporters hold it back."""
        return min((runner.position for runner in self._runners), default=UNBOUNDED_POSITION)

    def positions(self) -> dict[str, int]:
        """Each enabled exporter's acknowledged position, by exporter id."""
        return {runner.id: runner.position for runner in self._runners}

    def health(self) -> list[ExporterHealth]:
        """One entry per enabled exporter, in configuration order."""
        return [runner.health() for runner in self._runners]

    @property
    def healthy(self) -> bool:
        return all(runner.health().healthy for runner in self._runners)


def create_exporter_director(
    *,
    partition_id: int,
    exporters_config: Mapping[str, Any] | None,
    reader: CommittedRecordReader,
    position_store: ExporterPositionStore,
    environ: Mapping[str, str] | None = None,
    factories: Mapping[str, ExporterFactory] | None = None,
    **options: Any,
) -> ExporterDirector:
    """A director for ``partition_id`` from the broker's ``exporters`` config section, the environment
    (``ZEEBE_TRIO_EXPORTERS_*``; pass ``os.environ``) and the installed plugins."""
    from ._config import load_exporter_settings
    from ._plugins import exporter_factories

    factories = exporter_factories() if factories is None else factories
    return ExporterDirector(
        partition_id=partition_id,
        reader=reader,
        position_store=position_store,
        settings=load_exporter_settings(exporters_config, environ, factories),
        factories=factories,
        **options,
    )
