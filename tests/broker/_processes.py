"""Real broker processes for storage tests: start one on a data directory, talk gRPC to it, stop it
gracefully or kill it, and run other ``zeebe-trio`` commands (not a test module)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

CRASHING_BROKER = Path(__file__).with_name("crashing_broker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def broker_env(data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    return {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(data_dir), "ZEEBE_TRIO_GATEWAY_PORT": str(port),
            "ZEEBE_TRIO_HOST": "127.0.0.1", "ZEEBE_TRIO_COMMAND_API_PORT": "0",
            "ZEEBE_TRIO_COMMAND_API_HOST": "127.0.0.1",
            **{f"ZEEBE_TRIO_{name.upper()}": value for name, value in settings.items()}}


class BrokerProcess:
    """A started broker process; ``output`` collects everything it printed (stdout and stderr)."""

    def __init__(self, data_dir: Path, port: int, *, script: Path | None = None, config: Path | None = None,
                 **settings: str) -> None:
        self.port = port
        argv = [sys.executable, str(script)] if script else [sys.executable, "-m", "zeebe_trio.cli"]
        argv += ["broker"] + (["--config", str(config)] if config else [])
        self.process = subprocess.Popen(argv, env=broker_env(data_dir, port, **settings), text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "broker ready" in line:
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready_or_exit(self, timeout: float = 60) -> int | None:
        """None once the broker is ready; its exit code if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.is_set():
                return None
            code = self.process.poll()
            if code is not None:
                self._reader.join(timeout=5)
                return None if self.ready.is_set() else code
            time.sleep(0.02)
        raise AssertionError(f"broker neither ready nor exited within {timeout} s:\n{self.output}")

    def wait_exit(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def stop(self) -> int:
        """SIGTERM: a graceful stop (flush, snapshot)."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit(30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait_exit(30)

    def stub(self) -> gateway_pb2_grpc.GatewayStub:
        return gateway_pb2_grpc.GatewayStub(grpc.insecure_channel(f"127.0.0.1:{self.port}"))


@contextmanager
def running_broker(data_dir: Path, port: int | None = None, **options: object) -> Iterator[BrokerProcess]:
    """A broker that must become ready; killed at the end unless the block stopped it."""
    broker = BrokerProcess(data_dir, port or free_port(), **options)  # type: ignore[arg-type]
    try:
        code = broker.wait_ready_or_exit()
        assert code is None, f"broker exited with {code} before it was ready:\n{broker.output}"
        yield broker
    finally:
        broker.kill()


def start_and_fail(data_dir: Path, **settings: str) -> tuple[int, str]:
    """Start a broker that must refuse to start: (exit code, the one stderr line it printed)."""
    broker = BrokerProcess(data_dir, free_port(), **settings)
    try:
        code = broker.wait_ready_or_exit()
        assert code is not None, f"the broker started:\n{broker.output}"
    finally:
        broker.kill()
    assert "Traceback" not in broker.output, broker.output
    errors = [line.rstrip("\n") for line in broker.lines if line.startswith("zeebe-trio broker:")]
    assert len(errors) == 1, broker.output
    return code, errors[0]


def zeebe_trio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zeebe_trio.cli", *args], text=True, capture_output=True,
                          timeout=120)


def deploy(stub: gateway_pb2_grpc.GatewayStub, name: str, content: bytes) -> None:
    stub.DeployResource(pb.DeployResourceRequest(resources=[pb.Resource(name=name, content=content)]), timeout=20)


def create_instance(stub: gateway_pb2_grpc.GatewayStub, process_id: str, variables: str = "{}",
                    timeout: float = 20) -> int:
    return int(stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(
        bpmnProcessId=process_id, version=-1, variables=variables), timeout=timeout).processInstanceKey)


def complete_jobs(stub: gateway_pb2_grpc.GatewayStub, job_type: str, count: int) -> list[int]:
    """Activate and complete up to `count` jobs; the keys of the acknowledged completions."""
    done: list[int] = []
    while len(done) < count:
        jobs = [job for response in stub.ActivateJobs(pb.ActivateJobsRequest(
            type=job_type, worker="storage-test", timeout=60_000, maxJobsToActivate=min(32, count - len(done)),
            requestTimeout=1_000), timeout=20) for job in response.jobs]
        if not jobs:
            break
        for job in jobs:
            stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key), timeout=20)
            done.append(job.key)
    return done
