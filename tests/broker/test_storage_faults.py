"""Damaged storage and a full disk, in-process: a broker never starts on storage it cannot trust
(one StartupError line naming the partition, what is wrong and the way out), falls back to an older
snapshot when the newest is damaged, refuses commands below the disk watermark and after ENOSPC
without dying, restarts a partition whose storage failed, and says UNHEALTHY while any of it lasts.
Faults that need a real process (exit codes, the CLI, kills, a real full file system) are in
test_storage_processes.py."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import trio

import zeebe_trio.broker._partition as partition_module
from zeebe_trio.broker import StartupError
from zeebe_trio.gateway import BrokerError
from zeebe_trio.log import SegmentedLog
from zeebe_trio.protocol import JobIntent, PartitionHealth, RecordType, ValueType
from zeebe_trio.stream import plan_repair
from zeebe_trio.testing import one_task_bpmn, open_broker

GiB = 1024**3


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


async def startup_error(data_dir: Path, **settings: object) -> str:
    """The StartupError a broker on `data_dir` fails with (the test fails if it starts)."""
    try:
        async with open_broker(data_dir, **settings):
            pass
    except BaseException as error:  # noqa: BLE001 - looking for the StartupError inside groups
        found = [leaf for leaf in leaves(error) if isinstance(leaf, StartupError)]
        if not found:
            raise
        message = str(found[0])
        assert "\n" not in message
        return message
    raise AssertionError("the broker started")


def size_of(path: Path) -> int:
    return os.path.getsize(path)


def partition_dir(data_dir: Path) -> Path:
    return data_dir / "partition-1"


def snapshots(data_dir: Path) -> list[Path]:
    return sorted(p for p in (partition_dir(data_dir) / "snapshots").iterdir() if not p.name.startswith("tmp-"))


def health(broker) -> PartitionHealth:  # type: ignore[no-untyped-def]
    return broker.broker.topology().brokers[0].partitions[0].health


async def fill_log(broker, at_least_bytes: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Create instances until the log holds `at_least_bytes`; their keys."""
    keys = []
    while sum(size_of(p) for p in broker.partition.log.segment_paths) < at_least_bytes:
        keys.append((await broker.create_instance("p", {"n": len(keys)})).key)
    return keys


def max_key(data_dir: Path) -> int:
    log = SegmentedLog.open(partition_dir(data_dir) / "log")
    try:
        from zeebe_trio.protocol import decode_batch

        return max(r.key for e in log.read(log.first_index) if e.carries_records for r in decode_batch(e.data, 1))
    finally:
        log.close()


# -------------------------------------------------------------------------------- the log below the snapshot


async def test_a_log_that_ends_below_the_snapshot_refuses_to_start_and_a_repair_continues_above_it(
        tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        keys = await fill_log(broker, 60_000)
    # The graceful stop took a snapshot of everything. Cut 20 KB from the newest segment and drop the
    # durability mark as well (a log from before marks): the cut now looks like a write torn by a crash.
    [snapshot] = snapshots(tmp_path)
    segment = sorted((partition_dir(tmp_path) / "log").glob("*.log"))[-1]
    os.truncate(segment, size_of(segment) - 20_000)
    (partition_dir(tmp_path) / "log" / "durable.meta").unlink()
    processed, log_position = (int(part) for part in snapshot.name.split("-"))

    message = await startup_error(tmp_path)
    end = SegmentedLog.inspect(partition_dir(tmp_path) / "log").end_position
    assert message.startswith(f"partition 1: the log ends at position {end} but snapshot {snapshot.name} holds the"
                              f" state up to position {processed} and was taken with the log durable to position"
                              f" {log_position}: {log_position - end} positions")
    assert f"zeebe-trio repair-log --data-dir {tmp_path} --partition 1" in message

    plan = plan_repair(1, partition_dir(tmp_path))
    assert plan.needed and plan.damage is None and plan.reserve_up_to == log_position
    text = "\n".join(plan.describe())
    assert f"the records at positions {end + 1} to {log_position}; the snapshot's state reflects them" in text
    plan.apply()
    async with open_broker(tmp_path) as broker:
        assert health(broker) is PartitionHealth.HEALTHY
        await trio.sleep(0.05)
        processor = broker.partition.processor
        assert processor.read_position == broker.partition.log_stream.last_position == log_position  # idle, not spinning
        after = await broker.create_instance("p")
        assert after.position > log_position  # no position handed out twice
        assert after.key > max(keys)  # nor a key (the snapshot's key generator)
        jobs = await broker.activate("work", max_jobs=1000)
        assert len(jobs) == len(keys) + 1  # the snapshot's state is whole


# -------------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize("manifest", [True, False], ids=["verified-by-manifest", "older-format-caught-by-lmdb"])
async def test_a_truncated_newest_snapshot_falls_back_to_the_older_one_and_replays_the_log(
        tmp_path: Path, manifest: bool, caplog: pytest.LogCaptureFixture) -> None:
    async with open_broker(tmp_path, log_segment_size=4096) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        first = await broker.create_instance("p")
        await broker.partition.take_snapshot()
        second = await broker.create_instance("p")  # only in the newest snapshot (taken at the stop) and the log
    older, newest = snapshots(tmp_path)
    data = newest / "data.mdb"
    os.truncate(data, size_of(data) // 3)
    if not manifest:
        metadata = json.loads((newest / "snapshot.json").read_text())
        del metadata["files"]
        (newest / "snapshot.json").write_text(json.dumps(metadata))
    caplog.set_level(logging.WARNING, logger="zeebe_trio.broker._partition")
    async with open_broker(tmp_path, log_segment_size=4096) as broker:
        jobs = await broker.activate("work")
        assert sorted(job["processInstanceKey"] for _, job in jobs) == [first.key, second.key]
    warnings = [r.getMessage() for r in caplog.records]
    assert any(f"snapshot {newest.name} is damaged" in w for w in warnings), warnings
    assert any(f"restored the older snapshot {older.name}" in w for w in warnings), warnings


async def test_deleted_snapshots_with_a_compacted_log_refuse_to_start_naming_the_first_position(
        tmp_path: Path) -> None:
    async with open_broker(tmp_path, log_segment_size=4096) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        for _ in range(20):
            await broker.create_instance("p")
        await broker.partition.take_snapshot()
        await broker.create_instance("p")
    assert SegmentedLog.inspect(partition_dir(tmp_path) / "log").first_index > 1  # compacted
    shutil.rmtree(partition_dir(tmp_path) / "snapshots")
    message = await startup_error(tmp_path, log_segment_size=4096)
    assert message.startswith("partition 1: the log starts at position ")
    assert "(older records were compacted into snapshots) but no usable snapshot covers them" in message
    assert f"{partition_dir(tmp_path) / 'snapshots'} holds no snapshot" in message


async def test_a_damaged_newest_snapshot_with_a_log_that_no_longer_reaches_the_older_one_is_refused(
        tmp_path: Path) -> None:
    async with open_broker(tmp_path, log_segment_size=4096) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        for _ in range(20):
            await broker.create_instance("p")
    [newest] = snapshots(tmp_path)
    async with open_broker(tmp_path, log_segment_size=4096) as broker:
        for _ in range(20):
            await broker.create_instance("p")
    # Two snapshots now, the log compacted behind the older one; lose the older one, damage the newer.
    older, newest = snapshots(tmp_path)
    shutil.rmtree(older)
    os.truncate(newest / "data.mdb", 100)
    message = await startup_error(tmp_path, log_segment_size=4096)
    assert "no usable snapshot covers them" in message and f"snapshot {newest.name} is damaged" in message


# -------------------------------------------------------------------------------- a full disk


async def test_below_the_disk_watermark_commands_are_refused_and_processing_pauses_until_space_is_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock) -> None:
    free = {"bytes": 10 * GiB}
    monkeypatch.setattr(partition_module, "free_disk_space", lambda path: free["bytes"])
    async with open_broker(tmp_path, fsync_in_thread=False, disk_free_space_processing=GiB,
                           disk_monitoring_interval=1.0) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        free["bytes"] = 100 * 1024 * 1024
        await trio.sleep(1.5)  # the next check (every disk_monitoring_interval)
        assert health(broker) is PartitionHealth.UNHEALTHY
        assert broker.partition.processor.paused
        with pytest.raises(BrokerError) as refused:
            await broker.create_instance("p")
        assert refused.value.code == BrokerError.RESOURCE_EXHAUSTED
        assert refused.value.message == (
            "Cannot accept requests for partition 1. Broker is out of disk space: 104857600 bytes free on the file"
            f" system of {partition_dir(tmp_path)}, 1073741824 needed (disk_free_space_processing)")
        free["bytes"] = 10 * GiB
        await trio.sleep(1.5)
        assert health(broker) is PartitionHealth.HEALTHY and not broker.partition.processor.paused
        assert (await broker.create_instance("p")).record_type is RecordType.EVENT


def fail_appends_with_enospc(monkeypatch: pytest.MonkeyPatch, failing: dict[str, bool]) -> None:
    real_append = SegmentedLog.append

    def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if failing["on"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_append(self, *args, **kwargs)

    monkeypatch.setattr(SegmentedLog, "append", append)


async def test_a_write_failing_with_enospc_refuses_the_command_and_the_broker_stays_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock) -> None:
    failing = {"on": False}
    fail_appends_with_enospc(monkeypatch, failing)
    async with open_broker(tmp_path, fsync_in_thread=False) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        failing["on"] = True
        with pytest.raises(BrokerError) as refused:
            await broker.create_instance("p")
        assert refused.value.code == BrokerError.RESOURCE_EXHAUSTED
        assert "Broker is out of disk space: writing the command failed: No space left on device" in refused.value.message
        failing["on"] = False
        assert (await broker.create_instance("p")).record_type is RecordType.EVENT


async def test_processing_that_hits_enospc_waits_reports_unhealthy_and_goes_on_when_space_is_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock) -> None:
    failing = {"on": False}
    fail_appends_with_enospc(monkeypatch, failing)
    async with open_broker(tmp_path, fsync_in_thread=False) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        stream = broker.partition.log_stream

        def append_the_command_then_fill_the_disk(records, encoded=None):  # type: ignore[no-untyped-def]
            del stream.append
            position = stream.append(records, encoded)  # the client's command reaches the log ...
            failing["on"] = True  # ... but the disk is full when the records it produces are written
            return position

        stream.append = append_the_command_then_fill_the_disk
        created = []

        async def create() -> None:
            created.append(await broker.create_instance("p", timeout=None))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(create)
            await trio.sleep(3)
            assert not created  # not acknowledged: the command rolled back, processing waits
            assert broker.partition.processor.stalled is not None
            assert health(broker) is PartitionHealth.UNHEALTHY
            failing["on"] = False
        [instance] = created
        assert instance.record_type is RecordType.EVENT
        assert health(broker) is PartitionHealth.HEALTHY
        assert [r.intent for r in broker.records() if r.value_type is ValueType.PROCESS_INSTANCE_CREATION] == [
            instance.intent.__class__.CREATE, instance.intent]  # processed exactly once


async def test_a_failed_fsync_restarts_the_partition_instead_of_stopping_the_broker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, fsync_in_thread=False) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        before = await broker.create_instance("p")
        real_sync = SegmentedLog.sync
        failures = {"left": 1}

        def sync(self):  # type: ignore[no-untyped-def]
            if failures["left"]:
                failures["left"] -= 1
                self._broken = OSError(errno.EIO, "Input/output error")
                raise self._broken
            return real_sync(self)

        monkeypatch.setattr(SegmentedLog, "sync", sync)
        with pytest.raises(BrokerError) as unavailable:
            await broker.create_instance("p", timeout=5)
        assert unavailable.value.code in (BrokerError.PARTITION_UNAVAILABLE, BrokerError.TIMEOUT)
        await trio.sleep(0.1)
        assert health(broker) is PartitionHealth.UNHEALTHY
        await trio.sleep(2)  # the partition opened its storage again
        assert broker.partition.restarts == 1
        assert health(broker) is PartitionHealth.HEALTHY
        jobs = await broker.activate("work")
        assert before.key in [job["processInstanceKey"] for _, job in jobs]
        assert (await broker.create_instance("p")).record_type is RecordType.EVENT


# -------------------------------------------------------------------------------- honest health


async def test_a_partition_whose_log_stops_being_flushed_reports_unhealthy(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, fsync_in_thread=False) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        stream = broker.partition.log_stream
        stuck = trio.Event()
        real_flush = stream.flush

        async def hanging_flush(*args, **kwargs):  # type: ignore[no-untyped-def]
            await stuck.wait()  # an fsync that does not return (a failing disk, a hung NFS server)
            await real_flush(*args, **kwargs)

        stream.flush = hanging_flush
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: broker.create_instance("p", timeout=None))
            await trio.sleep(20)
            assert health(broker) is PartitionHealth.HEALTHY  # not yet: 30 s without progress
            await trio.sleep(15)
            assert health(broker) is PartitionHealth.UNHEALTHY
            assert "no progress for" in (broker.partition.health_problem() or "")
            stuck.set()
            stream.flush = real_flush
            await trio.sleep(2)
            assert health(broker) is PartitionHealth.HEALTHY


async def test_a_job_yield_that_cannot_be_written_is_logged_not_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    failing = {"on": False}
    fail_appends_with_enospc(monkeypatch, failing)
    async with open_broker(tmp_path) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        record = await broker.wait_for_record(lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.CREATED)
        failing["on"] = True
        broker.partition.yield_jobs([record.key])
        failing["on"] = False
    assert any("could not yield 1 jobs" in r.getMessage() for r in caplog.records)


# -------------------------------------------------------------------------------- the crash guard


def test_the_crash_guard_counts_only_attempts_that_never_reached_the_next_command(tmp_path: Path) -> None:
    from zeebe_trio.stream import CrashGuard

    guard = CrashGuard(tmp_path / "processing.guard", max_attempts=3)
    assert guard.begin(10) == 1
    assert guard.begin(12) == 1  # 10 finished: the next command began
    guard.close()
    attempts = []
    for _ in range(4):  # four processes in a row die while processing 12
        guard = CrashGuard(tmp_path / "processing.guard", max_attempts=3)
        attempts.append(guard.begin(12))
        guard.close()
    assert attempts == [2, 3, 4, 5]
    assert [CrashGuard(tmp_path / "processing.guard", 3).exhausted(n) for n in (3, 4)] == [False, True]
    (tmp_path / "processing.guard").write_bytes(b"garbage")
    assert CrashGuard(tmp_path / "processing.guard", 3).begin(12) == 1  # unreadable: counting starts over
