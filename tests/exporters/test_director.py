"""The exporter director: order, retries without skipping, resume, filters, positions, health."""

from __future__ import annotations

import logging

import pytest
import trio

from zeebe_trio.exporters import (
    UNBOUNDED_POSITION,
    Exporter,
    ExporterConfigurationError,
    ExporterContext,
    ExporterController,
    ExporterDirector,
    ExporterFactory,
    ExporterSettings,
    ExporterStatus,
    RecordFilter,
    RetryPolicy,
)
from zeebe_trio.exporters.testing import InMemoryCommittedLog, InMemoryPositionStore, RecordBuilder
from zeebe_trio.protocol import Record, RecordType, ValueType


class Recording(Exporter):
    """Acknowledges every record immediately unless ``ack`` is False; can fail on chosen positions."""

    def __init__(self, *, fail_times: dict[int, int] | None = None, ack: bool = True,
                 record_filter: RecordFilter | None = None, fail_open: int = 0) -> None:
        self.exported: list[tuple[float, int]] = []
        self.attempts: list[tuple[float, int]] = []
        self.fail_times = dict(fail_times or {})
        self.fail_open = fail_open
        self.ack = ack
        self.record_filter = record_filter
        self.controller: ExporterController | None = None
        self.events: list[str] = []

    def configure(self, context: ExporterContext) -> None:
        self.events.append("configure")
        if context.args.get("broken"):
            raise ExporterConfigurationError("args.broken must not be set")
        if self.record_filter is not None:
            context.set_filter(self.record_filter)

    async def open(self, controller: ExporterController) -> None:
        self.events.append("open")
        if self.fail_open:
            self.fail_open -= 1
            raise OSError("disk not mounted")
        self.controller = controller

    async def export(self, record: Record) -> None:
        self.attempts.append((trio.current_time(), record.position))
        if self.fail_times.get(record.position, 0) > 0:
            self.fail_times[record.position] -= 1
            raise RuntimeError(f"sink refused {record.position}")
        self.exported.append((trio.current_time(), record.position))
        if self.ack:
            assert self.controller is not None
            self.controller.update_last_exported_position(record.position)

    async def close(self) -> None:
        self.events.append("close")


def records(count: int) -> list[Record]:
    builder = RecordBuilder()
    definition = builder.deploy_process("order")
    while len(builder.records) < count:
        builder.process_instance("order", definition)
    return builder.records[:count]


def director(exporters: dict[str, Exporter], log: InMemoryCommittedLog, store: InMemoryPositionStore,
             settings: list[ExporterSettings] | None = None, **options) -> ExporterDirector:
    factories = {name: ExporterFactory(name, lambda exporter=exporter: exporter) for name, exporter in exporters.items()}
    settings = settings or [ExporterSettings(id=name, type=name) for name in exporters]
    return ExporterDirector(partition_id=1, reader=log, position_store=store, settings=settings,
                            factories=factories, **options)


async def wait_exported(exporter: Recording, count: int) -> None:
    """Poll in virtual time (autojump clock), so waiting costs no wall time."""
    while len(exporter.exported) < count:  # noqa: ASYNC110 - the exporter has no event to wait on
        await trio.sleep(0.001)


async def test_records_are_exported_in_log_order_and_positions_stored(autojump_clock):
    log, store, exporter = InMemoryCommittedLog(records(40)), InMemoryPositionStore(), Recording()
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": exporter}, log, store, read_batch_size=7).run)
        await wait_exported(exporter, 40)
        log.commit(records(45)[40:])
        await wait_exported(exporter, 45)
        assert [position for _, position in exporter.exported] == list(range(1, 46))
        assert store.get("a") == 45
        assert running.lowest_exported_position() == 45
        nursery.cancel_scope.cancel()
    assert exporter.events == ["configure", "open", "close"]


async def test_a_raising_exporter_is_retried_with_backoff_and_never_skips_the_record(autojump_clock):
    log, store = InMemoryCommittedLog(records(5)), InMemoryPositionStore()
    exporter = Recording(fail_times={3: 3})
    other = Recording()
    async with trio.open_nursery() as nursery:
        running = await nursery.start(
            director({"a": exporter, "b": other}, log, store, retry=RetryPolicy(1.0, 2.0, 60.0)).run
        )
        await wait_exported(other, 5)
        assert [t for t, _ in other.exported] == [0] * 5  # the healthy exporter is not held back
        health = {item.exporter_id: item for item in running.health()}
        assert health["a"].status is ExporterStatus.FAILING
        assert "sink refused 3" in health["a"].last_error
        assert running.lowest_exported_position() == 2
        await wait_exported(exporter, 5)
        nursery.cancel_scope.cancel()
    # attempts on record 3 at t=0, then after 1 s, 2 s and 4 s of backoff
    assert [t for t, position in exporter.attempts if position == 3] == [0, 1, 3, 7]
    assert [position for _, position in exporter.exported] == [1, 2, 3, 4, 5]
    after = running.health()[0]
    assert after.status is ExporterStatus.CLOSED and after.total_failures == 3
    assert after.consecutive_failures == 0


async def test_a_record_that_fails_every_attempt_is_skipped_after_the_limit_logged_and_counted(
        autojump_clock, caplog):
    log, store = InMemoryCommittedLog(records(5)), InMemoryPositionStore()
    exporter = Recording(fail_times={3: 1000})
    settings = [ExporterSettings(id="a", type="a", skip_record_after_failures=4)]
    with caplog.at_level(logging.WARNING, logger="zeebe_trio.exporters"):
        async with trio.open_nursery() as nursery:
            running = await nursery.start(
                director({"a": exporter}, log, store, settings, retry=RetryPolicy(1.0, 2.0, 60.0)).run)
            await wait_exported(exporter, 4)
            health = running.health()[0]
            assert health.status is ExporterStatus.HEALTHY  # it moved on: the partition is not held UNHEALTHY
            assert health.skipped_records == 1 and health.last_skipped_position == 3
            assert "skipped the record at position 3 after 4 failed attempts" in health.last_error
            assert "sink refused 3" in health.last_error
            assert running.lowest_exported_position() == 5  # compaction is not held behind it
            nursery.cancel_scope.cancel()
    # four attempts, 1 s, 2 s and 4 s apart, then the next record at once
    assert [t for t, position in exporter.attempts if position == 3] == [0, 1, 3, 7]
    assert [position for _, position in exporter.exported] == [1, 2, 4, 5]
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith(
        "exporter 'a' (type 'a') on partition 1 skipped the record at position 3 (EVENT"
        " PROCESS_INSTANCE_CREATION.CREATED) after 4 failed attempts; it is not exported"
        " (exporters.a.skipRecordAfterFailures = 4): exporting record at position 3 failed: RuntimeError('sink"
        " refused 3')")


async def test_with_skipping_off_a_failing_record_is_retried_for_ever(autojump_clock):
    log, store = InMemoryCommittedLog(records(5)), InMemoryPositionStore()
    exporter = Recording(fail_times={3: 25})
    settings = [ExporterSettings(id="a", type="a", skip_record_after_failures=0)]
    async with trio.open_nursery() as nursery:
        running = await nursery.start(
            director({"a": exporter}, log, store, settings, retry=RetryPolicy(0.01, 2.0, 0.05)).run)
        await wait_exported(exporter, 5)
        nursery.cancel_scope.cancel()
    assert [position for _, position in exporter.exported] == [1, 2, 3, 4, 5]
    assert running.health()[0].skipped_records == 0 and running.health()[0].total_failures == 25


class BatchRecording(Recording):
    """Takes read batches in one call; a batch with a failing position fails as a whole."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.calls: list[list[int]] = []

    async def export_batch(self, records) -> None:
        self.calls.append([record.position for record in records])
        for record in records:
            if self.fail_times.get(record.position, 0) > 0:
                self.fail_times[record.position] -= 1
                raise RuntimeError(f"cannot encode {record.position}")
        for record in records:
            self.exported.append((trio.current_time(), record.position))
        assert self.controller is not None
        self.controller.update_last_exported_position(records[-1].position)


async def test_a_failing_batch_is_delivered_one_record_at_a_time_and_only_the_bad_record_skipped(autojump_clock):
    log, store = InMemoryCommittedLog(records(6)), InMemoryPositionStore()
    exporter = BatchRecording(fail_times={4: 1000})
    settings = [ExporterSettings(id="a", type="a", skip_record_after_failures=2)]
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": exporter}, log, store, settings).run)
        await wait_exported(exporter, 5)
        nursery.cancel_scope.cancel()
    assert exporter.calls == [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1], [2], [3], [4], [4], [5], [6]]
    assert [position for _, position in exporter.exported] == [1, 2, 3, 5, 6]
    assert running.health()[0].skipped_records == 1
    assert store.get("a") == 6


async def test_backoff_is_capped():
    policy = RetryPolicy(initial_delay=1.0, multiplier=2.0, max_delay=60.0)
    assert [policy.delay(n) for n in (1, 2, 3, 6, 7, 20)] == [1, 2, 4, 32, 60, 60]


async def test_a_restarted_director_resumes_after_the_last_acknowledged_position(autojump_clock):
    log, store = InMemoryCommittedLog(records(10)), InMemoryPositionStore()
    first = Recording()
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": first}, log, store).run)
        await wait_exported(first, 10)
        nursery.cancel_scope.cancel()
    log.commit(records(15)[10:])
    second = Recording()
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": second}, log, store).run)
        await wait_exported(second, 5)
        nursery.cancel_scope.cancel()
    assert [position for _, position in second.exported] == [11, 12, 13, 14, 15]


async def test_unacknowledged_records_are_delivered_again_after_restart(autojump_clock):
    log, store = InMemoryCommittedLog(records(6)), InMemoryPositionStore()
    lazy = Recording(ack=False)
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": lazy}, log, store).run)
        await wait_exported(lazy, 6)
        lazy.controller.update_last_exported_position(4)
        assert running.lowest_exported_position() == 4
        nursery.cancel_scope.cancel()
    again = Recording()
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": again}, log, store).run)
        await wait_exported(again, 2)
        nursery.cancel_scope.cancel()
    assert [position for _, position in again.exported] == [5, 6]


async def test_acknowledging_a_lower_position_is_ignored(autojump_clock):
    log, store = InMemoryCommittedLog(records(3)), InMemoryPositionStore()
    exporter = Recording()
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": exporter}, log, store).run)
        await wait_exported(exporter, 3)
        exporter.controller.update_last_exported_position(1)
        assert exporter.controller.last_exported_position == 3
        nursery.cancel_scope.cancel()


async def test_the_exporters_own_filter_and_the_configured_filter_both_apply(autojump_clock):
    all_records = records(60)
    log, store = InMemoryCommittedLog(all_records), InMemoryPositionStore()
    jobs_and_incidents = Recording(record_filter=RecordFilter.of(value_types=[ValueType.JOB, ValueType.INCIDENT]))
    settings = [ExporterSettings(id="a", type="a", record_filter=RecordFilter.of(record_types=[RecordType.EVENT]))]
    expected = [r.position for r in all_records if r.is_event and r.value_type is ValueType.JOB]
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": jobs_and_incidents}, log, store, settings=settings).run)
        await wait_exported(jobs_and_incidents, len(expected))
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert [position for _, position in jobs_and_incidents.exported] == expected
    # skipped records after the last acknowledged one do not hold back compaction
    assert running.lowest_exported_position() == 60


async def test_skipped_records_do_not_advance_past_unacknowledged_ones(autojump_clock):
    all_records = records(30)
    log, store = InMemoryCommittedLog(all_records), InMemoryPositionStore()
    lazy = Recording(ack=False, record_filter=RecordFilter.of(value_types=[ValueType.JOB]))
    jobs = [r.position for r in all_records if r.value_type is ValueType.JOB]
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": lazy}, log, store).run)
        await wait_exported(lazy, len(jobs))
        await trio.sleep(1)
        assert running.lowest_exported_position() == -1
        lazy.controller.update_last_exported_position(jobs[0])
        assert running.lowest_exported_position() == jobs[0]
        lazy.controller.update_last_exported_position(jobs[-1])
        assert running.lowest_exported_position() == 30  # everything after the last job was skipped
        nursery.cancel_scope.cancel()


async def test_lowest_exported_position_is_the_minimum_over_exporters(autojump_clock):
    log, store = InMemoryCommittedLog(records(8)), InMemoryPositionStore({"slow": 2})
    fast, slow = Recording(), Recording(ack=False)
    running = director({"fast": fast, "slow": slow}, log, store)
    assert running.lowest_exported_position() == -1  # "fast" never exported
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await wait_exported(fast, 8)
        await wait_exported(slow, 6)
        assert running.lowest_exported_position() == 2
        slow.controller.update_last_exported_position(7)
        assert running.lowest_exported_position() == 7
        nursery.cancel_scope.cancel()


async def test_without_exporters_compaction_is_not_limited():
    running = director({}, InMemoryCommittedLog(), InMemoryPositionStore())
    assert running.lowest_exported_position() == UNBOUNDED_POSITION
    assert running.health() == [] and running.healthy


async def test_disabled_exporters_are_not_run(autojump_clock):
    log, store, exporter = InMemoryCommittedLog(records(3)), InMemoryPositionStore(), Recording()
    settings = [ExporterSettings(id="a", type="a", enabled=False)]
    running = director({"a": exporter}, log, store, settings=settings)
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert exporter.events == [] and running.health() == []


async def test_an_unknown_exporter_type_is_reported_and_holds_its_position(autojump_clock, caplog):
    log, store, good = InMemoryCommittedLog(records(3)), InMemoryPositionStore({"ghost": 1}), Recording()
    settings = [ExporterSettings(id="a", type="a"), ExporterSettings(id="ghost", type="duckdbb")]
    running = director({"a": good}, log, store, settings=settings)
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await wait_exported(good, 3)
        nursery.cancel_scope.cancel()
    ghost = running.health()[1]
    assert ghost.status is ExporterStatus.MISCONFIGURED and not ghost.healthy
    assert "type 'duckdbb' is not installed (installed: a)" in ghost.last_error
    assert running.lowest_exported_position() == 1
    assert "exporter 'ghost' (type 'duckdbb') on partition 1 is misconfigured" in caplog.text


async def test_a_configure_error_is_reported_in_health_and_logs(autojump_clock, caplog):
    caplog.set_level(logging.ERROR)
    exporter = Recording()
    settings = [ExporterSettings(id="a", type="a", args={"broken": True})]
    running = director({"a": exporter}, InMemoryCommittedLog(records(2)), InMemoryPositionStore(), settings=settings)
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await trio.sleep(5)
        nursery.cancel_scope.cancel()
    health = running.health()[0]
    assert health.status is ExporterStatus.MISCONFIGURED
    assert health.last_error == "configuration failed: args.broken must not be set"
    assert exporter.events == ["configure"] and not running.healthy
    assert "args.broken must not be set" in caplog.text
    assert "Traceback" not in caplog.text  # the message says what to fix


async def test_a_failing_open_is_retried_with_backoff(autojump_clock):
    exporter = Recording(fail_open=2)
    running = director({"a": exporter}, InMemoryCommittedLog(records(2)), InMemoryPositionStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await wait_exported(exporter, 2)
        assert exporter.exported[0][0] == 3  # 1 s + 2 s of backoff
        assert running.health()[0].status is ExporterStatus.HEALTHY
        assert running.health()[0].last_error == "open failed: OSError('disk not mounted')"
        nursery.cancel_scope.cancel()


class Batching(Exporter):
    """Acknowledges in a scheduled flush task, like a real batching exporter."""

    def __init__(self, delay: float, failing_flushes: int = 0) -> None:
        self.delay = delay
        self.failing_flushes = failing_flushes
        self.pending: list[int] = []
        self.flushes: list[tuple[float, list[int]]] = []
        self.task = None

    async def open(self, controller: ExporterController) -> None:
        self.controller = controller

    async def export(self, record: Record) -> None:
        self.pending.append(record.position)
        if self.task is None:
            self.task = self.controller.schedule_delayed_task(self.delay, self.flush)

    async def flush(self) -> None:
        if self.failing_flushes:
            self.failing_flushes -= 1
            raise OSError("flush failed")
        self.flushes.append((trio.current_time(), list(self.pending)))
        self.controller.update_last_exported_position(self.pending[-1])
        self.pending.clear()
        self.task = None


async def test_scheduled_tasks_run_after_their_delay_and_acknowledge(autojump_clock):
    log, store = InMemoryCommittedLog(records(3)), InMemoryPositionStore()
    exporter = Batching(delay=5.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": exporter}, log, store).run)
        await trio.sleep(6)
        assert exporter.flushes == [(5.0, [1, 2, 3])] and store.get("a") == 3
        log.commit(records(4)[3:])
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    assert exporter.flushes == [(5.0, [1, 2, 3]), (11.0, [4])]


async def test_a_failing_scheduled_task_is_retried_with_backoff(autojump_clock):
    exporter = Batching(delay=5.0, failing_flushes=2)
    running = director({"a": exporter}, InMemoryCommittedLog(records(2)), InMemoryPositionStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        await trio.sleep(5.5)
        assert running.health()[0].status is ExporterStatus.FAILING
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    assert exporter.flushes == [(8.0, [1, 2])]  # 5 s delay, then 1 s and 2 s of backoff


async def test_cancelled_scheduled_tasks_do_not_run(autojump_clock):
    exporter = Batching(delay=5.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(director({"a": exporter}, InMemoryCommittedLog(records(1)), InMemoryPositionStore()).run)
        await trio.sleep(1)
        exporter.task.cancel()
        assert exporter.task.done
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    assert exporter.flushes == []


async def test_a_director_runs_only_once(autojump_clock):
    running = director({}, InMemoryCommittedLog(), InMemoryPositionStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(running.run)
        with pytest.raises(RuntimeError, match="can run only once"):
            await running.run()
        nursery.cancel_scope.cancel()


async def test_an_exporter_with_export_batch_gets_read_batches_and_a_failed_batch_is_retried_whole(autojump_clock):
    from zeebe_trio.exporters import Exporter

    class Batching(Exporter):
        def __init__(self) -> None:
            self.calls: list[list[int]] = []
            self.fail_once = True

        async def export(self, record):  # pragma: no cover - the director uses export_batch
            raise AssertionError("export() must not be called when export_batch is overridden")

        async def export_batch(self, records):
            self.calls.append([r.position for r in records])
            if self.fail_once:
                self.fail_once = False
                raise RuntimeError("disk full")
            self.controller.update_last_exported_position(records[-1].position)

        async def open(self, controller):
            self.controller = controller

    log, store = InMemoryCommittedLog(records(6)), InMemoryPositionStore()
    exporter = Batching()
    async with trio.open_nursery() as nursery:
        running = await nursery.start(director({"a": exporter}, log, store, retry=RetryPolicy(1.0, 2.0, 60.0)).run)
        await running.wait_exported(6)
        nursery.cancel_scope.cancel()
    assert exporter.calls == [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]]  # one call per read batch; retried whole
    assert store.get("a") == 6
