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
from collections.abc import Callable, Iterator
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


# -- a cluster of broker processes -----------------------------------------------------------------


class ProcessCluster:
    """``size`` broker processes on loopback forming one cluster (each with its own data directory,
    gateway, command API and internal port); ``start``/``stop``/``kill``/``pause``/``resume`` one of them.
    Raft's timing is shortened (election timeout 1 s) so that failovers are quick."""

    def __init__(self, root: Path, *, size: int = 3, partitions: int = 3, replication_factor: int = 3,
                 **settings: str) -> None:
        self.root = root
        self.size = size
        self.partitions = partitions
        self.gateway_ports = [free_port() for _ in range(size)]
        self.internal_ports = [free_port() for _ in range(size)]
        self.command_ports = [free_port() for _ in range(size)]
        contact_points = ",".join(f"127.0.0.1:{port}" for port in self.internal_ports)
        self.settings = {"cluster_size": str(size), "partitions": str(partitions),
                         "replication_factor": str(replication_factor), "initial_contact_points": contact_points,
                         "internal_host": "127.0.0.1", "advertised_host": "127.0.0.1",
                         "election_timeout": "1.0", "heartbeat_interval": "0.1", **settings}
        self.brokers: list[BrokerProcess | None] = [None] * size

    def start(self, node: int) -> BrokerProcess:
        assert self.brokers[node] is None or self.brokers[node].process.poll() is not None  # type: ignore[union-attr]
        broker = BrokerProcess(self.root / f"node-{node}", self.gateway_ports[node], node_id=str(node),
                               internal_port=str(self.internal_ports[node]),
                               command_api_port=str(self.command_ports[node]), **self.settings)
        self.brokers[node] = broker
        return broker

    def start_all(self) -> None:
        for node in range(self.size):
            self.start(node)
        for node in range(self.size):
            self.wait_ready(node)
        self.wait_for_primaries()

    def wait_for_primaries(self, timeout: float = 60) -> None:
        """Until every partition is led by its primary, node (p-1) % size: the brokers start one after the
        other, so the first ones lead at first and hand leadership over (priority election) soon after."""
        primaries = {partition: (partition - 1) % self.size for partition in range(1, self.partitions + 1)}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.wait_for_leaders(timeout=deadline - time.monotonic()) == primaries:
                return
            time.sleep(0.05)
        raise AssertionError(f"the primaries {primaries} did not all lead within {timeout} s")

    def wait_ready(self, node: int) -> None:
        broker = self.broker(node)
        code = broker.wait_ready_or_exit()
        assert code is None, f"broker {node} exited with {code} before it was ready:\n{broker.output}"

    def broker(self, node: int) -> BrokerProcess:
        broker = self.brokers[node]
        assert broker is not None, f"broker {node} was never started"
        return broker

    def running(self) -> list[int]:
        return [node for node, broker in enumerate(self.brokers) if broker is not None and broker.process.poll() is None]

    def stop(self, node: int) -> int:
        return self.broker(node).stop()

    def kill(self, node: int) -> None:
        self.broker(node).kill()

    def pause(self, node: int) -> None:
        self.broker(node).process.send_signal(signal.SIGSTOP)

    def resume(self, node: int) -> None:
        self.broker(node).process.send_signal(signal.SIGCONT)

    def stub(self, node: int) -> gateway_pb2_grpc.GatewayStub:
        return gateway_pb2_grpc.GatewayStub(grpc.insecure_channel(f"127.0.0.1:{self.gateway_ports[node]}"))

    def roles(self, via: int) -> dict[int, list[tuple[int, str]]]:
        """Partition id -> [(node id, role)] as the gateway of ``via`` shows the topology."""
        topology = self.stub(via).Topology(pb.TopologyRequest(), timeout=5)
        roles: dict[int, list[tuple[int, str]]] = {}
        for broker in topology.brokers:
            for partition in broker.partitions:
                role = pb.Partition.PartitionBrokerRole.Name(partition.role)
                roles.setdefault(partition.partitionId, []).append((broker.nodeId, role))
        return roles

    def leaders(self, via: int) -> dict[int, list[int]]:
        """Partition id -> the nodes that say they lead it (as the gateway of ``via`` shows them)."""
        return {partition: [node for node, role in members if role == "LEADER"]
                for partition, members in self.roles(via).items()}

    def wait_for_leaders(self, *, via: int | None = None, besides: frozenset[int] = frozenset(),
                         timeout: float = 60) -> dict[int, int]:
        """Wait until every partition has exactly one leader, none of them in ``besides``; partition -> leader."""
        deadline = time.monotonic() + timeout
        seen: object = None
        while time.monotonic() < deadline:
            gateway = via if via is not None else next(n for n in self.running() if n not in besides)
            try:
                seen = leaders = self.leaders(gateway)
            except grpc.RpcError as error:
                seen = error
            else:
                if (len(leaders) == self.partitions and all(len(nodes) == 1 for nodes in leaders.values())
                        and not any(nodes[0] in besides for nodes in leaders.values())):
                    return {partition: nodes[0] for partition, nodes in leaders.items()}
            time.sleep(0.05)
        raise AssertionError(f"no single leader for every partition within {timeout} s; last seen: {seen}")

    def close(self) -> None:
        for broker in self.brokers:
            if broker is not None:
                if broker.process.poll() is None:
                    broker.process.send_signal(signal.SIGCONT)
                broker.kill()


@contextmanager
def process_cluster(root: Path, **options: object) -> Iterator[ProcessCluster]:
    cluster = ProcessCluster(root, **options)  # type: ignore[arg-type]
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.close()


_RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED)


class InstanceLoad:
    """One-task instances created and worked through the gateways of a ``ProcessCluster``, from threads,
    as a client under load does it: a request that fails as clients retry (UNAVAILABLE, RESOURCE_EXHAUSTED,
    DEADLINE_EXCEEDED) goes to the next gateway; only acknowledged creates count. ``done`` holds the
    instances whose job a worker completed (or found completed already: NOT_FOUND)."""

    def __init__(self, cluster: ProcessCluster, process_id: str = "p", job_type: str = "work", *,
                 creators: int = 2, workers: int = 2, job_timeout_ms: int = 3_000) -> None:
        self.cluster = cluster
        self.process_id = process_id
        self.job_type = job_type
        self.job_timeout_ms = job_timeout_ms
        self.unreachable: set[int] = set()  # nodes the test paused or killed: not asked
        self.created: list[int] = []
        self.done: set[int] = set()
        self.unexpected: list[str] = []
        self._lock = threading.Lock()
        self._creating = threading.Event()
        self._stop = threading.Event()
        self._stubs: dict[int, gateway_pb2_grpc.GatewayStub] = {}
        self._turn = 0
        self._threads = [threading.Thread(target=self._create_loop, daemon=True) for _ in range(creators)]
        self._threads += [threading.Thread(target=self._work_loop, daemon=True) for _ in range(workers)]

    def __enter__(self) -> InstanceLoad:
        self._creating.set()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._creating.clear()
        for thread in self._threads:
            thread.join(timeout=30)

    def stop_creating(self) -> None:
        self._creating.clear()

    def _gateway(self) -> gateway_pb2_grpc.GatewayStub:
        with self._lock:
            nodes = [n for n in self.cluster.running() if n not in self.unreachable] or [0]
            self._turn += 1
            node = nodes[self._turn % len(nodes)]
            if node not in self._stubs:
                self._stubs[node] = self.cluster.stub(node)
            return self._stubs[node]

    def _create_loop(self) -> None:
        while not self._stop.is_set():
            if not self._creating.wait(timeout=0.1):
                continue
            try:
                key = create_instance(self._gateway(), self.process_id, timeout=5)
            except grpc.RpcError as error:
                if error.code() not in _RETRIED:
                    self.unexpected.append(f"create: {error.code()} {error.details()}")
                continue
            with self._lock:
                self.created.append(key)

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            stub = self._gateway()
            try:
                jobs = [job for response in stub.ActivateJobs(pb.ActivateJobsRequest(
                    type=self.job_type, worker="load", timeout=self.job_timeout_ms, maxJobsToActivate=32,
                    requestTimeout=500), timeout=5) for job in response.jobs]
            except grpc.RpcError as error:
                if error.code() not in _RETRIED:
                    self.unexpected.append(f"activate: {error.code()} {error.details()}")
                continue
            for job in jobs:
                if self._complete(job.key):
                    with self._lock:
                        self.done.add(job.processInstanceKey)

    def _complete(self, job_key: int) -> bool:
        """Complete the job, asking again (another gateway) while the answer is unknown: a completion whose
        answer was lost is NOT_FOUND the next time, which also means done."""
        for _ in range(50):
            try:
                self._gateway().CompleteJob(pb.CompleteJobRequest(jobKey=job_key), timeout=5)
                return True
            except grpc.RpcError as error:
                if error.code() is grpc.StatusCode.NOT_FOUND:
                    return True
                if error.code() not in _RETRIED:
                    self.unexpected.append(f"complete: {error.code()} {error.details()}")
                    return False
            if self._stop.is_set():
                return False
            time.sleep(0.1)
        return False

    def wait_created(self, count: int, timeout: float = 120) -> None:
        self._wait(lambda: len(self.created) >= count, timeout, f"{count} acknowledged creates")

    def wait_all_done(self, timeout: float = 120) -> None:
        """Until every acknowledged instance's job was completed."""
        self._wait(lambda: set(self.created) <= self.done, timeout, "every acknowledged instance to complete")

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition():
                    return
            time.sleep(0.05)
        with self._lock:
            missing = sorted(set(self.created) - self.done)
        raise AssertionError(f"no {what} within {timeout} s: {len(self.created)} created, {len(missing)} not done"
                             f" ({missing[:10]}); unexpected answers: {self.unexpected[:10]}")
