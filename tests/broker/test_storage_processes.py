"""Storage faults with real broker processes: damage found at start is one stderr line and exit 1
naming the partition, where, the positions and ``zeebe-trio repair-log``; the repair says what it
cuts and the broker then goes on without issuing a position or key twice; a command that crashes
the broker is rejected after three crashes; a real full file system (a small tmpfs) is answered
with RESOURCE_EXHAUSTED until space is back, and the broker never exits."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from _processes import (
    CRASHING_BROKER,
    BrokerProcess,
    complete_jobs,
    create_instance,
    deploy,
    free_port,
    running_broker,
    start_and_fail,
    zeebe_trio,
)
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.log import SegmentedLog
from zeebe_trio.log._segment import ENTRY_HEADER
from zeebe_trio.protocol import ProcessInstanceCreationIntent, RecordType, ValueType, decode_batch
from zeebe_trio.testing import one_task_bpmn

pytestmark = pytest.mark.slow


def log_dir(data_dir: Path) -> Path:
    return data_dir / "partition-1" / "log"


def read_log(data_dir: Path) -> list:  # type: ignore[type-arg]
    """Every record on partition 1's log (opens it, so only on a stopped broker's intact log)."""
    log = SegmentedLog.open(log_dir(data_dir))
    try:
        return [r for e in log.read(log.first_index) if e.carries_records for r in decode_batch(e.data, 1)]
    finally:
        log.close()


def partition_health(stub) -> str:  # type: ignore[no-untyped-def]
    topology = stub.Topology(pb.TopologyRequest(), timeout=10)
    return pb.Partition.PartitionBrokerHealth.Name(topology.brokers[0].partitions[0].health)


def test_a_log_tail_cut_after_a_graceful_stop_refuses_to_start_and_repair_log_continues_above_the_snapshot(
        tmp_path: Path) -> None:
    with running_broker(tmp_path) as broker:
        stub = broker.stub()
        deploy(stub, "p.bpmn", one_task_bpmn("p"))
        keys = [create_instance(stub, "p") for _ in range(150)]
        completed = complete_jobs(stub, "work", 50)
        assert len(completed) == 50
        busy = zeebe_trio("repair-log", "--data-dir", str(tmp_path))  # never under a running broker
        assert busy.returncode == 1 and busy.stdout == ""
        assert busy.stderr.strip() == (f"zeebe-trio repair-log: data directory '{tmp_path.resolve()}' is in use by the"
                                       f" broker with PID {broker.process.pid}; stop that broker first, a log is"
                                       " never repaired under a running broker")
        assert broker.stop() == 0  # flushed, and snapshotted at the stop
    before = read_log(tmp_path)
    [snapshot] = (tmp_path / "partition-1" / "snapshots").iterdir()
    processed, log_position = (int(part) for part in snapshot.name.split("-"))
    segment = sorted(log_dir(tmp_path).glob("*.log"))[-1]
    assert os.path.getsize(segment) > 60_000
    os.truncate(segment, os.path.getsize(segment) - 20_000)  # the fault: 20 KB of the tail are gone
    end = SegmentedLog.inspect(log_dir(tmp_path)).end_position

    code, line = start_and_fail(tmp_path)
    assert code == 1
    assert line.startswith(f"zeebe-trio broker: partition 1: the log is damaged at {segment}: offset ")
    assert f"its last intact position is {end} and the newest snapshot ({snapshot.name}) holds the state up to" \
           f" position {processed}, taken with the log durable to position {log_position}" in line
    assert line.endswith(f"run: zeebe-trio repair-log --data-dir {tmp_path} --partition 1")

    files = {p: p.read_bytes() for p in log_dir(tmp_path).iterdir()}
    shown = zeebe_trio("repair-log", "--data-dir", str(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert {p: p.read_bytes() for p in log_dir(tmp_path).iterdir()} == files  # without --yes nothing changes
    assert f"partition 1: damaged: {segment}: offset " in shown.stdout
    assert f"the records at positions {end + 1} to {log_position}; the snapshot's state reflects them" in shown.stdout
    assert f"the log continues above position {log_position}" in shown.stdout
    assert "run again with --yes" in shown.stdout
    repaired = zeebe_trio("repair-log", "--data-dir", str(tmp_path), "--yes")
    assert repaired.returncode == 0 and "partition 1: repaired" in repaired.stdout, repaired.stdout + repaired.stderr

    with running_broker(tmp_path) as broker:
        stub = broker.stub()
        assert partition_health(stub) == "HEALTHY"
        fresh = create_instance(stub, "p")
        assert fresh > max(keys)
        left = complete_jobs(stub, "work", 1000)
        assert sorted(left) == sorted(set(left)) and len(left) == 150 - 50 + 1  # the snapshot's state is whole
        assert not set(left) & set(completed)
        assert broker.stop() == 0
    after = read_log(tmp_path)
    new = after[len([r for r in after if r.position <= end]):]
    assert new and min(r.position for r in new) > log_position  # no position handed out twice
    assert {r.position for r in new}.isdisjoint({r.position for r in before})


def test_a_flipped_bit_mid_segment_refuses_to_start_naming_segment_and_offset_and_a_repair_reissues_nothing(
        tmp_path: Path) -> None:
    with running_broker(tmp_path) as broker:
        stub = broker.stub()
        deploy(stub, "p.bpmn", one_task_bpmn("p"))
        for _ in range(80):
            create_instance(stub, "p")
        assert len(complete_jobs(stub, "work", 60)) == 60
        broker.kill()  # kill -9: no snapshot, the state comes from the log alone
    log = SegmentedLog.open(log_dir(tmp_path))
    entries = list(log.read(log.first_index))
    highest_key = max(r.key for e in entries for r in decode_batch(e.data, 1))
    highest_position = log.last_position
    segment, = log.segment_paths
    log.close()
    victim = entries[len(entries) // 3]
    offset = 24 + sum(ENTRY_HEADER.size + len(e.data) for e in entries[: len(entries) // 3])
    with open(segment, "r+b") as f:  # one flipped bit in the victim's payload
        f.seek(offset + ENTRY_HEADER.size + len(victim.data) // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0x10]))

    size = os.path.getsize(segment)
    code, line = start_and_fail(tmp_path)
    assert code == 1
    assert line.startswith(f"zeebe-trio broker: partition 1: the log is damaged at {segment}: offset {offset}:"
                           f" checksum mismatch in the entry expected to be index {victim.index}")
    assert "an intact entry follows at offset" in line and "zeebe-trio repair-log" in line
    assert os.path.getsize(segment) == size  # nothing was cut

    repaired = zeebe_trio("repair-log", "--data-dir", str(tmp_path), "--partition", "1", "--yes")
    assert repaired.returncode == 0, repaired.stderr
    lost = len(entries) - len(entries) // 3
    assert f"entry {victim.index} and every entry after it ({lost} entries, {lost - 1} of them intact" in repaired.stdout
    assert f"the log continues above position {highest_position}" in repaired.stdout

    with running_broker(tmp_path) as broker:
        stub = broker.stub()
        fresh = create_instance(stub, "p")
        assert fresh > highest_key  # the keys the cut records had issued are not issued again
        assert broker.stop() == 0
    created = [r for r in read_log(tmp_path) if r.key == fresh]
    assert created and min(r.position for r in created) > highest_position


def test_a_command_that_crashes_the_broker_is_rejected_after_three_crashes_and_the_partition_goes_on(
        tmp_path: Path) -> None:
    port = free_port()
    with running_broker(tmp_path, port, script=CRASHING_BROKER) as broker:
        stub = broker.stub()
        deploy(stub, "p.bpmn", one_task_bpmn("p"))
        create_instance(stub, "p")
        with pytest.raises(grpc.RpcError):
            create_instance(stub, "p", '{"crashTheBroker": true}', timeout=10)
        assert broker.wait_exit() == 137  # killed while processing it
    for _ in range(2):  # every restart processes the same command again, and dies again
        restarted = BrokerProcess(tmp_path, port, script=CRASHING_BROKER)
        if restarted.wait_ready_or_exit() is None:
            restarted.wait_exit(30)
        assert restarted.process.returncode == 137, restarted.output
    with running_broker(tmp_path, port, script=CRASHING_BROKER) as broker:
        stub = broker.stub()
        assert create_instance(stub, "p") > 0  # the partition goes on
        assert partition_health(stub) == "HEALTHY"
        assert "crashed the broker 3 times while it was processed; rejecting it" in broker.output
        assert broker.stop() == 0
    [rejection] = [r for r in read_log(tmp_path) if r.record_type is RecordType.COMMAND_REJECTION
                   and r.value_type is ValueType.PROCESS_INSTANCE_CREATION]
    assert rejection.intent is ProcessInstanceCreationIntent.CREATE
    assert rejection.rejection_type.name == "PROCESSING_ERROR"
    assert "processing this command crashed the broker 3 times; it is rejected so the partition can go on" \
        in rejection.rejection_reason


# ------------------------------------------------------------------------------ a real full file system


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-fs"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for a real full disk: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill_up(directory: Path) -> Path:
    """Write a file until the file system is full."""
    filler = directory / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (256 * 1024))
                f.flush()
        except OSError:
            pass
    return filler


def no_exporters(tmp_path: Path) -> Path:
    config = tmp_path / "broker.toml"
    config.write_text("[broker]\n[exporters]\n")
    return config


def test_a_full_disk_answers_resource_exhausted_the_broker_stays_up_and_resumes_by_itself(
        tmp_path: Path, small_filesystem: Path) -> None:
    data_dir = small_filesystem / "data"
    with running_broker(data_dir, config=no_exporters(tmp_path), disk_free_space_processing="0") as broker:
        stub = broker.stub()
        deploy(stub, "p.bpmn", one_task_bpmn("p"))
        create_instance(stub, "p")
        filler = fill_up(small_filesystem)
        refusals = []
        for _ in range(50):
            try:
                create_instance(stub, "p", '{"padding": "' + "x" * 20_000 + '"}', timeout=3)
            except grpc.RpcError as error:
                refusals.append(error)
                if error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                    break
        exhausted = [e for e in refusals if e.code() is grpc.StatusCode.RESOURCE_EXHAUSTED]
        assert exhausted, [(e.code(), e.details()) for e in refusals]
        assert "Broker is out of disk space" in (exhausted[0].details() or "")
        assert broker.process.poll() is None, broker.output  # the broker is still up
        filler.unlink()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert create_instance(stub, "p", timeout=5) > 0
                break
            except grpc.RpcError:
                assert time.monotonic() < deadline, broker.output
                time.sleep(0.5)
        deadline = time.monotonic() + 10
        while partition_health(stub) != "HEALTHY":
            assert time.monotonic() < deadline, broker.output
            time.sleep(0.2)
        assert broker.stop() == 0, broker.output
    assert "Traceback" not in broker.output, broker.output


def test_below_the_free_space_watermark_commands_are_refused_until_space_is_back(
        tmp_path: Path, small_filesystem: Path) -> None:
    data_dir = small_filesystem / "data"
    with running_broker(data_dir, config=no_exporters(tmp_path), disk_free_space_processing=str(16 * 1024 * 1024),
                        disk_monitoring_interval="0.1") as broker:
        stub = broker.stub()
        deploy(stub, "p.bpmn", one_task_bpmn("p"))
        create_instance(stub, "p")
        ballast = small_filesystem / "ballast"
        ballast.write_bytes(b"\0" * (40 * 1024 * 1024))  # leaves less than 16 MiB free
        time.sleep(0.5)
        assert partition_health(stub) == "UNHEALTHY"
        with pytest.raises(grpc.RpcError) as refused:
            create_instance(stub, "p")
        assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        details = refused.value.details() or ""
        assert "Cannot accept requests for partition 1. Broker is out of disk space: " in details
        assert f"on the file system of {data_dir / 'partition-1'}, 16777216 needed (disk_free_space_processing)" in details
        ballast.unlink()
        time.sleep(0.5)
        assert partition_health(stub) == "HEALTHY"
        assert create_instance(stub, "p") > 0
        assert broker.stop() == 0
