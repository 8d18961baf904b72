"""The two-process deployment: a broker with its embedded gateway off, and a ``zeebe-trio gateway``
process in front of its command API, driven by a real gRPC client (pyzeebe's grpcio stubs).

Synchronisation is on what the processes print ("broker ready", "gateway ready", the gateway's
"connected to broker" / "connection to the broker ... lost" log lines), never on sleeps; every wait
is bounded.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.testing import one_task_bpmn

pytestmark = pytest.mark.slow

TIMEOUT = 30.0  # seconds any single wait may take


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A child process whose merged output is read by a thread, so the test can wait for lines."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen([sys.executable, "-m", "zeebe_trio.cli", *args], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> str:
        """The next output line containing ``text``; fails if the process ends or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout} s; output:\n{''.join(self.output)}") from None
            if line is None:
                raise AssertionError(f"process exited ({self.popen.wait()}) before printing {text!r}:\n"
                                     f"{''.join(self.output)}")
            self.output.append(line)
            if text in line:
                return line

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout=TIMEOUT)


@contextmanager
def running(args: list[str], env: dict[str, str], ready: str) -> Iterator[Process]:
    process = Process(args, env)
    try:
        process.wait_for(ready)
        yield process
    finally:
        if process.popen.poll() is None:
            process.popen.kill()
        process.popen.wait(timeout=TIMEOUT)


def broker_env(data_dir: Path, command_port: int) -> dict[str, str]:
    return {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(data_dir), "ZEEBE_TRIO_EMBEDDED_GATEWAY": "false",
            "ZEEBE_TRIO_COMMAND_API_HOST": "127.0.0.1", "ZEEBE_TRIO_COMMAND_API_PORT": str(command_port),
            "ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONUNBUFFERED": "1"}


def test_a_standalone_gateway_serves_a_broker_in_another_process_and_survives_its_restart(tmp_path: Path) -> None:
    command_port, grpc_port = _free_port(), _free_port()
    env = broker_env(tmp_path, command_port)
    gateway_args = ["gateway", "--broker", f"127.0.0.1:{command_port}", "--host", "127.0.0.1", "--port", str(grpc_port)]
    broker = Process(["broker"], env)
    try:
        broker.wait_for("broker ready")
        with running(gateway_args, {**os.environ, "PYTHONUNBUFFERED": "1"}, "gateway ready") as gateway, \
                grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel, ThreadPoolExecutor(4) as pool:
            stub = gateway_pb2_grpc.GatewayStub(channel)
            topology = stub.Topology(pb.TopologyRequest(), timeout=TIMEOUT)
            assert [p.partitionId for b in topology.brokers for p in b.partitions] == [1]

            # A long poll that is waiting before the process even exists is answered by the broker's
            # jobs-available notification, across the process boundary (requestTimeout > the gRPC deadline:
            # only a notification can answer it in time).
            long_poll = pool.submit(lambda: [j for r in stub.ActivateJobs(pb.ActivateJobsRequest(
                type="work", worker="poller", timeout=60_000, maxJobsToActivate=1, requestTimeout=120_000),
                timeout=TIMEOUT) for j in r.jobs])
            stub.DeployResource(pb.DeployResourceRequest(resources=[
                pb.Resource(name="p.bpmn", content=one_task_bpmn("p", "work")),
                pb.Resource(name="s.bpmn", content=one_task_bpmn("s", "streamed"))]), timeout=TIMEOUT)
            created = stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(
                bpmnProcessId="p", version=-1, variables='{"a": 1}'), timeout=TIMEOUT)
            [job] = long_poll.result(timeout=TIMEOUT)
            assert job.processInstanceKey == created.processInstanceKey and json.loads(job.variables) == {"a": 1}
            stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"b": 2}'), timeout=TIMEOUT)

            # Create with result: answered when the instance completes (a worker completes its job).
            with_result = pool.submit(stub.CreateProcessInstanceWithResult, pb.CreateProcessInstanceWithResultRequest(
                request=pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables='{"c": 3}'),
                requestTimeout=int(TIMEOUT * 1000)), timeout=TIMEOUT)
            [second] = [j for r in stub.ActivateJobs(pb.ActivateJobsRequest(
                type="work", worker="w", timeout=60_000, maxJobsToActivate=5, requestTimeout=int(TIMEOUT * 1000)),
                timeout=TIMEOUT) for j in r.jobs]
            stub.CompleteJob(pb.CompleteJobRequest(jobKey=second.key, variables='{"d": 4}'), timeout=TIMEOUT)
            assert json.loads(with_result.result(timeout=TIMEOUT).variables) == {"c": 3, "d": 4}

            # A rejection keeps its gRPC status through both processes.
            with pytest.raises(grpc.RpcError) as rejected:
                stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key), timeout=TIMEOUT)
            assert rejected.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.RpcError) as missing:
                stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="nope"), timeout=TIMEOUT)
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND

            # A job stream: the broker pushes the job to the gateway, which hands it to the client.
            stream = stub.StreamActivatedJobs(pb.StreamActivatedJobsRequest(
                type="streamed", worker="streamer", timeout=60_000), timeout=TIMEOUT)
            try:
                pushed_instance = stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(
                    bpmnProcessId="s", version=-1), timeout=TIMEOUT)
                pushed = pool.submit(next, stream).result(timeout=TIMEOUT)
            finally:
                stream.cancel()
            assert pushed.processInstanceKey == pushed_instance.processInstanceKey and pushed.worker == "streamer"
            stub.CompleteJob(pb.CompleteJobRequest(jobKey=pushed.key), timeout=TIMEOUT)

            # Kill the broker: the gateway stays up and answers UNAVAILABLE.
            broker.popen.kill()
            broker.popen.wait(timeout=TIMEOUT)
            gateway.wait_for("connection to the broker at")
            with pytest.raises(grpc.RpcError) as unavailable:
                stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1),
                                           timeout=TIMEOUT)
            assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE

            # Restart it on the same data: the gateway reconnects, and requests work again.
            broker = Process(["broker"], env)
            broker.wait_for("broker ready")
            gateway.wait_for("connected to broker")
            again = stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1),
                                               timeout=TIMEOUT)
            assert again.processInstanceKey > created.processInstanceKey

            assert gateway.stop(signal.SIGINT) == 0
            gateway.wait_for("gateway stopped")
        assert broker.stop(signal.SIGTERM) == 0
    finally:
        if broker.popen.poll() is None:
            broker.popen.kill()
        broker.popen.wait(timeout=TIMEOUT)


def test_several_gateways_can_front_one_broker(tmp_path: Path) -> None:
    command_port = _free_port()
    grpc_ports = [_free_port(), _free_port()]
    with running(["broker"], broker_env(tmp_path, command_port), "broker ready"):
        gateways = [running(["gateway", "--broker", f"127.0.0.1:{command_port}", "--host", "127.0.0.1",
                             "--port", str(port)], {**os.environ, "PYTHONUNBUFFERED": "1"}, "gateway ready")
                    for port in grpc_ports]
        with gateways[0], gateways[1], grpc.insecure_channel(f"127.0.0.1:{grpc_ports[0]}") as first, \
                grpc.insecure_channel(f"127.0.0.1:{grpc_ports[1]}") as second:
            one, two = gateway_pb2_grpc.GatewayStub(first), gateway_pb2_grpc.GatewayStub(second)
            one.DeployResource(pb.DeployResourceRequest(resources=[
                pb.Resource(name="p.bpmn", content=one_task_bpmn("p", "work"))]), timeout=TIMEOUT)
            created = two.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1),
                                                timeout=TIMEOUT)
            [job] = [j for r in one.ActivateJobs(pb.ActivateJobsRequest(
                type="work", worker="w", timeout=60_000, maxJobsToActivate=5, requestTimeout=int(TIMEOUT * 1000)),
                timeout=TIMEOUT) for j in r.jobs]
            assert job.processInstanceKey == created.processInstanceKey
            two.CompleteJob(pb.CompleteJobRequest(jobKey=job.key), timeout=TIMEOUT)


def test_a_standalone_gateway_refuses_requests_over_its_max_message_size(tmp_path: Path) -> None:
    command_port, grpc_port = _free_port(), _free_port()
    with running(["broker"], broker_env(tmp_path / "data", command_port), "broker ready"), \
            running(["gateway", "--broker", f"127.0.0.1:{command_port}", "--host", "127.0.0.1", "--port",
                     str(grpc_port), "--max-message-size", "100000"], {**os.environ, "PYTHONUNBUFFERED": "1"},
                    "gateway ready"):
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = gateway_pb2_grpc.GatewayStub(channel)
            small = pb.Resource(name="p.bpmn", content=one_task_bpmn("p"))
            assert stub.DeployResource(pb.DeployResourceRequest(resources=[small]), timeout=TIMEOUT).deployments
            with pytest.raises(grpc.RpcError) as refused:
                stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(
                    bpmnProcessId="p", version=-1, variables='{"a": "' + "x" * 200_000 + '"}'), timeout=TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
