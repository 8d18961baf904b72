"""Kill -9 a real broker process while instances are in flight; nothing acknowledged may be lost,
and the DuckDB export ends up with every record exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import grpc
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.log import SegmentedLog
from zeebe_trio.protocol import JobIntent, ProcessInstanceIntent, ValueType, decode_batch
from zeebe_trio.testing import one_task_bpmn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def broker_process(data_dir: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(data_dir), "ZEEBE_TRIO_GATEWAY_PORT": str(port),
           "ZEEBE_TRIO_HOST": "127.0.0.1", "ZEEBE_TRIO_COMMAND_API_PORT": "0"}
    process = subprocess.Popen([sys.executable, "-m", "zeebe_trio.cli", "broker"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # blocks until the broker says it is ready (or dies)
            if "broker ready" in line:
                break
        else:
            raise AssertionError(f"broker exited with {process.wait()} before it was ready")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining its output
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _log_records(data_dir: Path) -> list:  # type: ignore[type-arg]
    log = SegmentedLog.open(data_dir / "partition-1" / "log")
    try:
        return [r for entry in log.read(log.first_index) for r in decode_batch(entry.data, 1)]
    finally:
        log.close()


def test_kill_9_loses_no_acknowledged_command_and_every_instance_finishes(tmp_path: Path) -> None:
    port = _free_port()
    acknowledged_instances: set[int] = set()
    acknowledged_completions: set[int] = set()
    with broker_process(tmp_path, port) as process:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = gateway_pb2_grpc.GatewayStub(channel)
        stub.DeployResource(pb.DeployResourceRequest(resources=[pb.Resource(name="p.bpmn", content=one_task_bpmn("p"))]),
                            timeout=10)
        stop = threading.Event()
        errors: list[grpc.RpcError] = []

        def creator() -> None:
            while not stop.is_set():
                try:
                    response = stub.CreateProcessInstance(
                        pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables='{"n": 1}'), timeout=5)
                    acknowledged_instances.add(response.processInstanceKey)
                except grpc.RpcError as error:
                    errors.append(error)
                    return

        def worker() -> None:
            while not stop.is_set():
                try:
                    for response in stub.ActivateJobs(pb.ActivateJobsRequest(
                            type="work", worker="w", timeout=2_000, maxJobsToActivate=20, requestTimeout=-1), timeout=5):
                        for job in response.jobs:
                            stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"done": true}'), timeout=5)
                            acknowledged_completions.add(job.key)
                except grpc.RpcError as error:
                    errors.append(error)
                    return

        threads = [threading.Thread(target=creator) for _ in range(4)] + [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        # Let real load build up (bounded: 60 s), then pull the plug mid-flight.
        for _ in range(6000):
            if len(acknowledged_instances) >= 200 and len(acknowledged_completions) >= 100 or errors:
                break
            threading.Event().wait(0.01)
        assert not errors, f"a client failed before the kill: {errors[0]}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        channel.close()
    assert acknowledged_instances and acknowledged_completions

    # Restart on the same data: the torn tail (if any) is cut, state is replayed; finish everything.
    with broker_process(tmp_path, port) as process:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = gateway_pb2_grpc.GatewayStub(channel)
        # Jobs activated just before the kill come back when their 2 s timeout passes: long-poll for
        # them, and stop once 5 s pass without any job.
        while True:
            jobs = [job for response in stub.ActivateJobs(pb.ActivateJobsRequest(
                type="work", worker="after-restart", timeout=60_000, maxJobsToActivate=100, requestTimeout=5_000),
                timeout=15) for job in response.jobs]
            if not jobs:
                break
            for job in jobs:
                assert job.key not in acknowledged_completions, "a job whose completion was acknowledged came back"
                stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key), timeout=10)
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    records = _log_records(tmp_path)
    created = {r.key for r in records if r.value_type is ValueType.PROCESS_INSTANCE
               and r.intent is ProcessInstanceIntent.ELEMENT_ACTIVATED and r.value["bpmnElementType"] == "PROCESS"}
    completed = {r.key for r in records if r.value_type is ValueType.PROCESS_INSTANCE
                 and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED and r.value["bpmnElementType"] == "PROCESS"}
    job_completions = [r.key for r in records if r.value_type is ValueType.JOB and r.intent is JobIntent.COMPLETED]
    assert acknowledged_instances <= created, "an acknowledged instance is missing from the log"
    assert created == completed, "every instance on the log finished after the restart"
    assert acknowledged_completions <= set(job_completions)
    assert len(job_completions) == len(set(job_completions)), "no job completed twice"

    # The DuckDB analytics exporter (on by default) was killed mid-export too: after the restart
    # and a clean stop, its records table holds every record of the log exactly once.
    with duckdb.connect(str(tmp_path / "analytics.duckdb"), read_only=True) as db:
        exported = db.execute("SELECT position FROM records WHERE partition_id = 1 ORDER BY position").fetchall()
    assert [row[0] for row in exported] == [r.position for r in records]
