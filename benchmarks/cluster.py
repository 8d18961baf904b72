"""A cluster on this machine: throughput with 1 and with 3 partitions on 3 brokers, and failover time.

    .venv/bin/python benchmarks/cluster.py                        # both, 20 s of load per partition count
    .venv/bin/python benchmarks/cluster.py --partitions 3 --duration 30 --failovers 5

Each run starts 3 broker processes (``python -m zeebe_trio.cli broker``, replication factor 3, each its
own temporary data dir, fsync on) and loads them as ``benchmarks/run.py --mode saturation`` does:
``--creators`` processes keep ``--inflight`` CreateProcessInstanceWithResult calls going, a worker
process per broker completes the jobs; creator and worker i talk to broker i % 3's embedded gateway,
which routes to the partitions' leaders. Printed: instances/s, create->completion latency percentiles,
CPU of the three brokers together (cores, and ms per instance), and each broker's peak RSS.

Failover (``--failovers N``, on the last partition count): with the cluster idle but for a probe,
``kill -9`` the leader of partition 1; the probe publishes a message whose correlation key belongs to
partition 1 through another broker's gateway every 10 ms, and the failover time is from the kill to the
first publish that partition's new leader acknowledges. The killed broker is started again, and the next
round waits until every partition is led by its primary again (priority election hands leadership back). Printed: each time, and the median and maximum.

Not part of the test suite; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import run as single  # benchmarks/run.py: the load generator processes and helpers

BROKERS = 3


class Cluster:
    def __init__(self, work_dir: Path, partitions: int, *, plugins: bool) -> None:
        self.work_dir = work_dir
        self.partitions = partitions
        self.plugins = plugins
        self.gateway_ports = [single.free_port() for _ in range(BROKERS)]
        self.internal_ports = [single.free_port() for _ in range(BROKERS)]
        self.command_ports = [single.free_port() for _ in range(BROKERS)]
        self.processes: list[subprocess.Popen[str] | None] = [None] * BROKERS

    def start(self, node: int) -> None:
        data_dir = self.work_dir / f"node-{node}"
        env = dict(os.environ, PYTHONUNBUFFERED="1", ZEEBE_TRIO_DATA_DIR=str(data_dir),
                   ZEEBE_TRIO_HOST="127.0.0.1", ZEEBE_TRIO_GATEWAY_PORT=str(self.gateway_ports[node]),
                   ZEEBE_TRIO_COMMAND_API_HOST="127.0.0.1", ZEEBE_TRIO_COMMAND_API_PORT=str(self.command_ports[node]),
                   ZEEBE_TRIO_NODE_ID=str(node), ZEEBE_TRIO_CLUSTER_SIZE=str(BROKERS),
                   ZEEBE_TRIO_PARTITIONS=str(self.partitions), ZEEBE_TRIO_REPLICATION_FACTOR=str(BROKERS),
                   ZEEBE_TRIO_INTERNAL_HOST="127.0.0.1", ZEEBE_TRIO_INTERNAL_PORT=str(self.internal_ports[node]),
                   ZEEBE_TRIO_ADVERTISED_HOST="127.0.0.1",
                   ZEEBE_TRIO_INITIAL_CONTACT_POINTS=",".join(f"127.0.0.1:{p}" for p in self.internal_ports))
        if not self.plugins:
            env["ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        log_path = self.work_dir / f"node-{node}.log"
        with log_path.open("a") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "zeebe_trio.cli", "broker"], env=env, cwd=single.ROOT,
                                       stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.processes[node] = process
        single.wait_for_line(process, "broker ready", log_path)

    def start_all(self) -> None:
        for node in range(BROKERS):
            self.start(node)
        self.wait_for_leaders()

    def stub(self, node: int) -> Any:
        import grpc
        from pyzeebe.proto import gateway_pb2_grpc

        return gateway_pb2_grpc.GatewayStub(grpc.insecure_channel(f"127.0.0.1:{self.gateway_ports[node]}"))

    def leaders(self, via: int) -> dict[int, list[int]]:
        from pyzeebe.proto import gateway_pb2 as pb

        leaders: dict[int, list[int]] = {}
        for broker in self.stub(via).Topology(pb.TopologyRequest(), timeout=5).brokers:
            for partition in broker.partitions:
                if partition.role == pb.Partition.PartitionBrokerRole.LEADER:
                    leaders.setdefault(partition.partitionId, []).append(broker.nodeId)
        return leaders

    def wait_for_leaders(self, timeout: float = 60) -> dict[int, int]:
        import grpc

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for via in self.alive():
                try:
                    leaders = self.leaders(via)
                except grpc.RpcError:
                    continue
                if len(leaders) == self.partitions and all(len(nodes) == 1 for nodes in leaders.values()):
                    return {partition: nodes[0] for partition, nodes in leaders.items()}
            time.sleep(0.05)
        raise SystemExit(f"no leader for every partition within {timeout} s; see {self.work_dir}/node-*.log")

    def wait_for_primaries(self, timeout: float = 60) -> None:
        """Until every partition is led by its primary, node (p-1) % 3 (priority election hands leadership
        back to a broker that restarted), so that a kill interrupts a settled cluster."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.wait_for_leaders() == {p: (p - 1) % BROKERS for p in range(1, self.partitions + 1)}:
                return
            time.sleep(0.1)
        raise SystemExit(f"the partitions' primaries did not lead within {timeout} s; see {self.work_dir}/node-*.log")

    def alive(self) -> list[int]:
        return [node for node, process in enumerate(self.processes) if process is not None and process.poll() is None]

    def kill(self, node: int) -> None:
        process = self.processes[node]
        assert process is not None
        process.kill()
        process.wait(10)

    def cpu_seconds(self) -> list[float]:
        """Each broker's CPU seconds so far (utime + stime)."""
        return [single.process_cpu_seconds(p.pid) if p is not None else 0.0 for p in self.processes]

    def peak_rss_mb(self) -> list[float]:
        peaks = []
        for process in self.processes:
            kb = 0
            if process is not None:
                try:
                    status = Path(f"/proc/{process.pid}/status").read_text()
                    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
                except (OSError, StopIteration):
                    pass
            peaks.append(round(kb / 1024, 1))
        return peaks

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def throughput(args: argparse.Namespace, partitions: int, work_dir: Path) -> dict[str, Any]:
    cluster = Cluster(work_dir / f"partitions-{partitions}", partitions, plugins=not args.no_plugins)
    cluster.work_dir.mkdir(parents=True)
    cluster.start_all()
    cluster.wait_for_primaries()
    context = mp.get_context("spawn")
    results = context.Queue()
    stop_workers = context.Event()
    processes: list[Any] = []
    try:
        single.deploy(cluster.gateway_ports[0], "one_task")
        process_id, _ = single.SCENARIOS["one_task"]
        start_at = time.time() + 2.0
        end_at = start_at + args.warmup + args.duration
        window = (start_at + args.warmup, end_at)
        hard_deadline = time.monotonic() + 2.0 + args.warmup + args.duration + single.DRAIN_TIMEOUT + 30
        for node in range(BROKERS):
            processes.append(context.Process(target=single._run_worker, daemon=True, args=(
                cluster.gateway_ports[node], "one", args.pollers, 32, False, stop_workers, hard_deadline, results)))
        for i in range(args.creators):
            processes.append(context.Process(target=single._run_creator, daemon=True, args=(
                cluster.gateway_ports[i % BROKERS], process_id, "saturation", args.inflight, 0.0, i / args.creators,
                start_at, end_at, 2000, results)))
        for process in processes:
            process.start()
        time.sleep(max(0.0, window[0] - time.time()))
        cpu0 = cluster.cpu_seconds()
        time.sleep(max(0.0, window[1] - time.time()))
        cpu1 = cluster.cpu_seconds()
        leaders = cluster.wait_for_leaders()
        reports = collect(results, args.creators, stop_workers)
        peaks = cluster.peak_rss_mb()
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        cluster.stop()
    seconds = window[1] - window[0]
    latencies = sorted(lat for kind, r in reports if kind == "creator" for done, lat in r["samples"]
                       if window[0] <= done < window[1])
    per_broker = [round((after - before) / seconds, 2) for before, after in zip(cpu0, cpu1, strict=True)]
    errors: dict[str, int] = {}
    for kind, r in reports:
        for code, count in r["errors"].items():
            errors[f"{kind}:{code}"] = errors.get(f"{kind}:{code}", 0) + count
    return {
        "partitions": partitions, "window_s": round(seconds, 1),
        "instances_per_s": round(len(latencies) / seconds, 1),
        "latency_ms": {p: round(single.percentile(latencies, q) * 1000, 1)
                       for p, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "brokers_cpu_cores": round(sum(per_broker), 2), "cpu_cores_per_broker": per_broker,
        "leaders": leaders,
        "brokers_cpu_ms_per_instance": (round(1000 * sum(per_broker) * seconds / len(latencies), 2)
                                        if latencies else None),
        "peak_rss_mb": peaks, "errors": errors, "machine_load_1min": round(os.getloadavg()[0], 2),
    }


def collect(results: Any, creators: int, stop_workers: Any) -> list[tuple[str, dict[str, Any]]]:
    reports: list[tuple[str, dict[str, Any]]] = []
    deadline = time.monotonic() + single.DRAIN_TIMEOUT + 10
    while sum(kind == "creator" for kind, _ in reports) < creators and time.monotonic() < deadline:
        try:
            reports.append(results.get(timeout=1.0))
        except queue.Empty:
            continue
    stop_workers.set()
    deadline = time.monotonic() + 15
    while sum(kind == "worker" for kind, _ in reports) < BROKERS and time.monotonic() < deadline:
        try:
            reports.append(results.get(timeout=1.0))
        except queue.Empty:
            continue
    return reports


def failovers(args: argparse.Namespace, partitions: int, work_dir: Path) -> list[float]:
    import grpc
    from pyzeebe.proto import gateway_pb2 as pb

    from zeebe_trio.protocol import partition_for_correlation_key

    key = next(f"probe-{i}" for i in range(1000) if partition_for_correlation_key(f"probe-{i}", partitions) == 1)
    cluster = Cluster(work_dir / f"failover-{partitions}", partitions, plugins=not args.no_plugins)
    cluster.work_dir.mkdir(parents=True)
    cluster.start_all()
    times = []
    try:
        for _ in range(args.failovers):
            cluster.wait_for_primaries()
            victim = cluster.wait_for_leaders()[1]
            probe = cluster.stub(next(node for node in cluster.alive() if node != victim))
            request = pb.PublishMessageRequest(name="probe", correlationKey=key, timeToLive=0)
            probe.PublishMessage(request, timeout=10)  # the route is warm
            killed_at = time.monotonic()
            cluster.kill(victim)
            while True:
                try:
                    probe.PublishMessage(request, timeout=2)
                    break
                except grpc.RpcError:
                    time.sleep(0.01)
            times.append(time.monotonic() - killed_at)
            print(f"   failover {len(times)}: node {victim} killed; partition 1 acknowledged a command again after"
                  f" {times[-1]:.2f} s")
            cluster.start(victim)
    finally:
        cluster.stop()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", default="1,3", help="partition counts to measure (default 1,3)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per run (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--creators", type=int, default=3, help="creator processes (default 3)")
    parser.add_argument("--inflight", type=int, default=32, help="instances each creator keeps going (default 32)")
    parser.add_argument("--pollers", type=int, default=4, help="concurrent ActivateJobs per worker (default 4)")
    parser.add_argument("--failovers", type=int, default=3, help="leader kills to time (default 3; 0: none)")
    parser.add_argument("--no-plugins", action="store_true", help="no entry-point exporters (e.g. duckdb)")
    parser.add_argument("--json", action="store_true", help="also print each result as one JSON line")
    args = parser.parse_args(argv)
    counts = [int(text) for text in args.partitions.split(",") if text.strip()]
    print(f"{BROKERS} brokers, replication factor {BROKERS}, on {os.cpu_count()} cores; fsync on")
    with tempfile.TemporaryDirectory(prefix="zeebe-trio-cluster-bench-") as tmp:
        for partitions in counts:
            result = throughput(args, partitions, Path(tmp))
            lat = result["latency_ms"]
            print(f"\n== {partitions} partition(s) on {BROKERS} brokers ({result['window_s']} s window)")
            print(f"   process instances/s {result['instances_per_s']}; create->completion latency p50 {lat['p50']}"
                  f" ms  p90 {lat['p90']} ms  p99 {lat['p99']} ms  max {lat['max']} ms")
            print(f"   brokers' CPU {result['brokers_cpu_cores']} cores together (per broker"
                  f" {result['cpu_cores_per_broker']}; partition leaders {result['leaders']}),"
                  f" {result['brokers_cpu_ms_per_instance']} ms per instance; peak RSS per broker"
                  f" {result['peak_rss_mb']} MB; machine load {result['machine_load_1min']}")
            if result["errors"]:
                print(f"   errors {result['errors']}")
            if args.json:
                print(json.dumps(result))
            sys.stdout.flush()
        if args.failovers and counts:
            print(f"\n== failover: kill -9 of partition 1's leader ({counts[-1]} partition(s))")
            times = failovers(args, counts[-1], Path(tmp))
            print(f"   median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} kills")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
