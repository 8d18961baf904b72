"""End-to-end benchmark: a real broker process, real gRPC creators and workers, one command.

    .venv/bin/python benchmarks/run.py                       # both scenarios, both modes, 20 s each
    .venv/bin/python benchmarks/run.py --scenario one_task --mode saturation --duration 30 --profile py-spy
    .venv/bin/python benchmarks/run.py --mode rate --rate 150 --duration 30

Every run (scenario x mode) gets a fresh broker (``python -m zeebe_trio.cli broker`` on 127.0.0.1, a
temporary data dir), so the peak RSS (VmHWM) and the record count belong to that run alone.

Scenarios: ``one_task`` (start -> one service task -> end) and ``ten_tasks`` (ten service tasks in a row,
all of job type ``ten``). Modes:

- ``saturation``: closed loop. ``--creators`` processes each keep ``--inflight`` instances going; as one
  completes the next is created. Measures the most instances/s the broker sustains.
- ``rate``: open loop. ``--rate`` instances/s spread over the creator processes, sent on a fixed
  schedule whatever the answers do; latency counts from the *scheduled* send time, so a stalled broker
  cannot hide its queueing (no coordinated omission). At most ``--max-pending`` per process are
  outstanding; sends beyond that are counted as skipped.

Latency is create -> completion as the client sees it: one ``CreateProcessInstanceWithResult`` call,
which returns once the instance has completed, so it includes activation by a worker, the worker's
CompleteJob and every engine step in between.

Workers: ``--workers`` processes, each with ``--pollers`` concurrent ``ActivateJobs`` long polls
(maxJobsToActivate ``--max-jobs``, requestTimeout 1 s) completing each batch with concurrent
``CompleteJob`` calls; ``--stream`` uses ``StreamActivatedJobs`` instead.

Throughput counts completions inside the measurement window (after ``--warmup``). records/s counts the
records in the broker's log whose timestamp falls in that window (the log is read after the broker
stopped). Broker CPU is utime+stime from /proc over the window, in cores.

``--profile py-spy`` samples the broker during the window (both threads: Trio's engine thread and the
gateway's asyncio thread) and prints where the CPU goes; see ``benchmarks/profile_summary.py``.
``--profile cprofile`` runs the broker under cProfile (main thread only: it misses the gateway thread).

``--standalone-gateway`` runs the two-process deployment instead: the broker with its embedded gateway
off, and a ``zeebe-trio gateway`` process in front of its command API (clients talk to that). The
gateway process's CPU is reported next to the broker's, and CPU per instance counts both.

Not part of the test suite; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import queue
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {"one_task": ("bench_one_task", ["one"]), "ten_tasks": ("bench_ten_tasks", ["ten"] * 10)}
JOB_TYPE = {"one_task": "one", "ten_tasks": "ten"}
READY_TIMEOUT = 60.0
DRAIN_TIMEOUT = 15.0  # seconds in-flight instances get to finish after the load stops
INSTANCE_TIMEOUT_MS = 30_000


# ------------------------------------------------------------------------------------------ the broker


@dataclass
class BrokerProcess:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    stderr_path: Path
    rss_samples: list[int] = field(default_factory=list)
    gateway: subprocess.Popen[str] | None = None  # the standalone gateway process, if any

    @property
    def pid(self) -> int:
        return self.process.pid

    def proc_status(self, name: str) -> int:
        """A kB figure from /proc/<pid>/status (VmHWM, VmRSS), 0 once the process is gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def cpu_seconds(self) -> float:
        """utime + stime of the broker (all threads)."""
        return process_cpu_seconds(self.pid)

    def gateway_cpu_seconds(self) -> float:
        """utime + stime of the standalone gateway process (0 without one)."""
        return process_cpu_seconds(self.gateway.pid) if self.gateway is not None else 0.0

    def thread_cpu_seconds(self) -> dict[str, float]:
        """utime + stime per thread: "main" (the Trio thread) and the others by comm name and tid."""
        result = {}
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                head, tail = (task / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            fields = tail.split()
            name = "main (trio)" if task.name == str(self.pid) else f"{head.split('(', 1)[1]}[{task.name}]"
            result[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return result

    def runqueue_wait_seconds(self) -> float:
        """Time the broker's threads were runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat)."""
        total = 0
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return total / 1e9

    def stop(self, timeout: float = 20.0) -> int:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGINT)
            try:
                self.gateway.wait(timeout)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
                self.gateway.wait(5)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(data_dir: Path, profile: str, profile_out: Path, *, plugins: bool = True,
                 switch_interval: float | None = None, standalone_gateway: bool = False,
                 partitions: int = 1) -> BrokerProcess:
    port = free_port()
    command_port = free_port() if standalone_gateway else 0
    env = dict(os.environ, ZEEBE_TRIO_DATA_DIR=str(data_dir), ZEEBE_TRIO_GATEWAY_PORT=str(port),
               ZEEBE_TRIO_HOST="127.0.0.1", PYTHONUNBUFFERED="1", ZEEBE_TRIO_COMMAND_API_HOST="127.0.0.1",
               ZEEBE_TRIO_COMMAND_API_PORT=str(command_port), ZEEBE_TRIO_STATS_LOG_INTERVAL="1",
               ZEEBE_TRIO_PARTITIONS=str(partitions))
    if standalone_gateway:
        env["ZEEBE_TRIO_EMBEDDED_GATEWAY"] = "false"
    if not plugins:
        env["ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no entry-point exporters (e.g. duckdb)
    command = [sys.executable]
    if profile == "cprofile":
        command += ["-m", "cProfile", "-o", str(profile_out)]
    if switch_interval is None:
        command += ["-m", "zeebe_trio.cli", "broker"]
    else:  # an experiment: how much of the latency is GIL hand-over between the Trio and asyncio threads
        command += ["-c", f"import sys; sys.setswitchinterval({switch_interval}); from zeebe_trio.cli import main;"
                          " sys.exit(main(['broker']))"]
    stderr_path = data_dir.parent / f"{data_dir.name}.broker.log"
    stderr = stderr_path.open("w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    stderr.close()
    wait_for_line(process, "broker ready", stderr_path)
    broker = BrokerProcess(process, port, data_dir, stderr_path)
    if standalone_gateway:
        gateway_log = data_dir.parent / f"{data_dir.name}.gateway.log"
        with gateway_log.open("w") as gateway_stderr:
            broker.gateway = subprocess.Popen(
                [sys.executable, "-m", "zeebe_trio.cli", "gateway", "--broker", f"127.0.0.1:{command_port}",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=ROOT, stdout=subprocess.PIPE, stderr=gateway_stderr,
                text=True)
        try:
            wait_for_line(broker.gateway, "gateway ready", gateway_log)
        except BaseException:
            broker.stop()
            raise
    return broker


def wait_for_line(process: subprocess.Popen[str], text: str, log_path: Path) -> None:
    """Wait until ``process`` prints a line containing ``text``; then keep draining its output."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise SystemExit(f"no '{text}' within {READY_TIMEOUT:.0f} s; see {log_path}") from None
        if line is None:
            raise SystemExit(f"exited with {process.wait()} before printing '{text}'; see {log_path}")
        if text in line:
            return


def deploy(port: int, scenario: str) -> None:
    import grpc
    from pyzeebe.proto import gateway_pb2 as pb
    from pyzeebe.proto import gateway_pb2_grpc

    from zeebe_trio.testing import service_tasks_bpmn

    process_id, job_types = SCENARIOS[scenario]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        stub.DeployResource(pb.DeployResourceRequest(resources=[
            pb.Resource(name=f"{process_id}.bpmn", content=service_tasks_bpmn(process_id, job_types))]), timeout=30)


def count_records(data_dir: Path, window: tuple[float, float]) -> tuple[int, int]:
    """(records in the whole log, records whose timestamp lies in the window) of every partition, read
    after the broker stopped."""
    from zeebe_trio.log import SegmentedLog
    from zeebe_trio.protocol import decode_batch

    low, high = window[0] * 1000, window[1] * 1000
    total = in_window = 0
    for directory in sorted(data_dir.glob("partition-*")):
        log = SegmentedLog.open(directory / "log")
        try:
            for entry in log.read(log.first_index):
                if not entry.carries_records:
                    continue
                for record in decode_batch(entry.data):
                    total += 1
                    in_window += low <= record.timestamp < high
        finally:
            log.close()
    return total, in_window


# -------------------------------------------------------------------------------------- load processes


def _run_worker(port: int, job_type: str, pollers: int, max_jobs: int, stream: bool, stop: Any,
                hard_deadline: float, results: Any) -> None:
    asyncio.run(_worker(port, job_type, pollers, max_jobs, stream, stop, hard_deadline, results))


async def _worker(port: int, job_type: str, pollers: int, max_jobs: int, stream: bool, stop: Any,
                  hard_deadline: float, results: Any) -> None:
    import grpc
    from pyzeebe.proto import gateway_pb2 as pb
    from pyzeebe.proto import gateway_pb2_grpc

    completed: dict[int, int] = {}  # 100 ms bucket (wall clock) -> jobs completed
    errors: dict[str, int] = {}

    def done() -> bool:
        return stop.is_set() or time.monotonic() > hard_deadline

    async def complete(stub: Any, key: int) -> None:
        try:
            await stub.CompleteJob(pb.CompleteJobRequest(jobKey=key, variables="{}"), timeout=30)
        except grpc.aio.AioRpcError as error:
            errors[error.code().name] = errors.get(error.code().name, 0) + 1
            return
        bucket = int(time.time() * 10)
        completed[bucket] = completed.get(bucket, 0) + 1

    async def poll(stub: Any) -> None:
        request = pb.ActivateJobsRequest(type=job_type, worker="bench", timeout=INSTANCE_TIMEOUT_MS,
                                         maxJobsToActivate=max_jobs, requestTimeout=1000)
        while not done():
            keys: list[int] = []
            try:
                async for response in stub.ActivateJobs(request, timeout=10):
                    keys.extend(job.key for job in response.jobs)
            except grpc.aio.AioRpcError as error:
                errors["activate " + error.code().name] = errors.get("activate " + error.code().name, 0) + 1
                await asyncio.sleep(0.1)
            if keys:
                await asyncio.gather(*(complete(stub, key) for key in keys))

    async def streamed(stub: Any) -> None:
        limit = asyncio.Semaphore(64)
        tasks: set[asyncio.Task[None]] = set()

        async def one(key: int) -> None:
            async with limit:
                await complete(stub, key)

        call = stub.StreamActivatedJobs(pb.StreamActivatedJobsRequest(
            type=job_type, worker="bench", timeout=INSTANCE_TIMEOUT_MS))

        async def watch() -> None:
            # `stop` is a multiprocessing.Event set by the parent process: nothing to await, so poll it.
            while not done():  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            call.cancel()

        watcher = asyncio.create_task(watch())
        try:
            async for job in call:
                task = asyncio.create_task(one(job.key))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        watcher.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        await asyncio.gather(*((streamed if stream else poll)(stub) for _ in range(pollers)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(("worker", {"completed": completed, "errors": errors, "cpu": usage.ru_utime + usage.ru_stime}))


def _run_creator(port: int, process_id: str, mode: str, inflight: int, rate: float, phase: float,
                 start_at: float, end_at: float, max_pending: int, results: Any) -> None:
    asyncio.run(_creator(port, process_id, mode, inflight, rate, phase, start_at, end_at, max_pending, results))


async def _creator(port: int, process_id: str, mode: str, inflight: int, rate: float, phase: float,
                   start_at: float, end_at: float, max_pending: int, results: Any) -> None:
    """start_at/end_at are wall-clock (time.time()); latencies use perf_counter."""
    import grpc
    from pyzeebe.proto import gateway_pb2 as pb
    from pyzeebe.proto import gateway_pb2_grpc

    samples: list[tuple[float, float]] = []  # (wall time of completion, latency s)
    errors: dict[str, int] = {}
    skipped = 0
    request = pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId=process_id, version=-1, variables='{"n":1}'),
        requestTimeout=INSTANCE_TIMEOUT_MS)

    async def one(stub: Any, sent: float) -> None:
        try:
            await stub.CreateProcessInstanceWithResult(request, timeout=INSTANCE_TIMEOUT_MS / 1000 + 5)
        except grpc.aio.AioRpcError as error:
            errors[error.code().name] = errors.get(error.code().name, 0) + 1
            return
        samples.append((time.time(), time.perf_counter() - sent))

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        await channel.channel_ready()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        stop = time.perf_counter() + (end_at - time.time())
        if mode == "saturation":
            async def loop() -> None:
                while time.perf_counter() < stop:
                    await one(stub, time.perf_counter())

            await asyncio.gather(*(loop() for _ in range(inflight)))
        else:
            pending: set[asyncio.Task[None]] = set()
            interval = 1.0 / rate
            first = time.perf_counter() + phase * interval
            n = 0
            while True:
                scheduled = first + n * interval
                if scheduled >= stop:
                    break
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                n += 1
                if len(pending) >= max_pending:
                    skipped += 1
                    continue
                task = asyncio.create_task(one(stub, scheduled))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(("creator", {"samples": samples, "errors": errors, "skipped": skipped,
                             "cpu": usage.ru_utime + usage.ru_stime}))


# ----------------------------------------------------------------------------------------- one run


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def run_once(args: argparse.Namespace, scenario: str, mode: str, work_dir: Path) -> dict[str, Any]:
    name = f"{scenario}-{mode}"
    data_dir = work_dir / name
    profile_out = work_dir / f"{name}.{'cprofile' if args.profile == 'cprofile' else 'pyspy.txt'}"
    broker = start_broker(data_dir, args.profile, profile_out, plugins=not args.no_plugins,
                          switch_interval=args.switch_interval, standalone_gateway=args.standalone_gateway,
                          partitions=args.partitions)
    context = mp.get_context("spawn")
    results = context.Queue()
    stop_workers = context.Event()
    processes: list[Any] = []
    spy: subprocess.Popen[bytes] | None = None
    try:
        deploy(broker.port, scenario)
        process_id, _ = SCENARIOS[scenario]
        start_at = time.time() + 2.0  # every process connected and waiting by then
        end_at = start_at + args.warmup + args.duration
        window = (start_at + args.warmup, end_at)
        hard_deadline = time.monotonic() + 2.0 + args.warmup + args.duration + DRAIN_TIMEOUT + 30
        for _ in range(args.workers):
            processes.append(context.Process(target=_run_worker, daemon=True, args=(
                broker.port, JOB_TYPE[scenario], args.pollers, args.max_jobs, args.stream, stop_workers,
                hard_deadline, results)))
        for i in range(args.creators):
            processes.append(context.Process(target=_run_creator, daemon=True, args=(
                broker.port, process_id, mode, args.inflight, args.rate / args.creators, i / args.creators,
                start_at, end_at, args.max_pending, results)))
        for process in processes:
            process.start()

        time.sleep(max(0.0, window[0] - time.time()))
        cpu0, rss0, threads0 = broker.cpu_seconds(), broker.proc_status("VmRSS"), broker.thread_cpu_seconds()
        gateway_cpu0 = broker.gateway_cpu_seconds()
        wait0 = broker.runqueue_wait_seconds()
        if args.profile == "py-spy":
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(broker.pid), "--rate", "200",
                 "--nonblocking", "--threads", "--format", "raw", "--output", str(profile_out),
                 "--duration", str(max(1, int(args.duration)))],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while time.time() < window[1]:
            broker.rss_samples.append(broker.proc_status("VmRSS"))
            time.sleep(min(0.5, max(0.0, window[1] - time.time())))
        cpu1, threads1 = broker.cpu_seconds(), broker.thread_cpu_seconds()
        gateway_cpu1 = broker.gateway_cpu_seconds()
        wait1 = broker.runqueue_wait_seconds()
        load = os.getloadavg()[0]

        creators_left, reports = args.creators, []
        deadline = time.monotonic() + DRAIN_TIMEOUT + 10
        while creators_left and time.monotonic() < deadline:
            try:
                kind, report = results.get(timeout=1.0)
            except queue.Empty:
                continue
            reports.append((kind, report))
            creators_left -= kind == "creator"
        stop_workers.set()
        workers_left = sum(kind == "worker" for kind, _ in reports)
        deadline = time.monotonic() + 15
        while workers_left < args.workers and time.monotonic() < deadline:
            try:
                kind, report = results.get(timeout=1.0)
            except queue.Empty:
                continue
            reports.append((kind, report))
            workers_left += kind == "worker"
        hwm_kb = broker.proc_status("VmHWM")
        if spy is not None:
            try:
                _, spy_err = spy.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                _, spy_err = spy.communicate()
            if spy.returncode:
                print(f"py-spy failed: {spy_err.decode(errors='replace')[-500:]}", file=sys.stderr)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        if spy is not None and spy.poll() is None:
            spy.kill()
        broker.stop()

    total_records, window_records = count_records(data_dir, window)
    export_lag = exporter_lag(broker.stderr_path)
    seconds = window[1] - window[0]
    latencies = sorted(lat for kind, r in reports if kind == "creator" for done, lat in r["samples"]
                       if window[0] <= done < window[1])
    all_samples = sum(len(r["samples"]) for kind, r in reports if kind == "creator")
    jobs = sum(count for kind, r in reports if kind == "worker" for bucket, count in r["completed"].items()
               if window[0] * 10 <= bucket < window[1] * 10)
    errors: dict[str, int] = {}
    for kind, r in reports:
        for code, count in r["errors"].items():
            errors[f"{kind}:{code}"] = errors.get(f"{kind}:{code}", 0) + count
    result = {
        "scenario": scenario, "mode": mode, "window_s": round(seconds, 1),
        "instances_per_s": round(len(latencies) / seconds, 1),
        "jobs_per_s": round(jobs / seconds, 1),
        "records_per_s": round(window_records / seconds, 1),
        "records_total": total_records,
        "records_per_instance": round(window_records / len(latencies), 1) if latencies else None,
        "latency_ms": {p: round(percentile(latencies, q) * 1000, 1)
                       for p, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "instances_completed_total": all_samples,
        "skipped": sum(r.get("skipped", 0) for kind, r in reports if kind == "creator"),
        "errors": errors,
        "broker_cpu_cores": round((cpu1 - cpu0) / seconds, 2),
        "broker_cpu_ms_per_instance": round(1000 * (cpu1 - cpu0) / len(latencies), 2) if latencies else None,
        "broker_cpu_ms_per_job": round(1000 * (cpu1 - cpu0) / jobs, 2) if jobs else None,
        "standalone_gateway": args.standalone_gateway,
        "gateway_cpu_cores": round((gateway_cpu1 - gateway_cpu0) / seconds, 2),
        "total_cpu_ms_per_instance": (round(1000 * (cpu1 - cpu0 + gateway_cpu1 - gateway_cpu0) / len(latencies), 2)
                                      if latencies else None),
        "broker_runqueue_wait_cores": round((wait1 - wait0) / seconds, 2),
        "machine_load_1min": round(load, 2),
        "broker_thread_cpu_cores": dict(sorted(
            ((name, round((threads1[name] - threads0.get(name, 0.0)) / seconds, 2)) for name in threads1
             if threads1[name] - threads0.get(name, 0.0) >= 0.01 * seconds), key=lambda kv: -kv[1])),
        "broker_rss_mb": {"start_of_window": round(rss0 / 1024, 1),
                          "end_of_window": round((broker.rss_samples or [0])[-1] / 1024, 1),
                          "peak_VmHWM": round(hwm_kb / 1024, 1)},
        "loadgen_cpu_s": {kind: round(sum(r["cpu"] for k, r in reports if k == kind), 1)
                          for kind in ("creator", "worker")},
        "reports": {kind: sum(k == kind for k, _ in reports) for kind in ("creator", "worker")},
        "exporter_lag_records": export_lag,
    }
    if args.profile == "py-spy" and profile_out.exists():
        result["profile"] = str(profile_out)
    elif args.profile == "cprofile":
        result["profile"] = str(profile_out)
    return result


def exporter_lag(broker_log: Path) -> dict[str, dict[str, int]]:
    """Per exporter: the export lag (records behind the log end) sampled once a second by the
    broker's statistics log: max and last. A lag that keeps growing means the exporter cannot keep up."""
    samples: dict[str, list[int]] = {}
    for line in broker_log.read_text(errors="replace").splitlines():
        marker = "statistics: "
        if "partition 1 statistics" in line and marker in line:
            for exporter_id, lag in json.loads(line.split(marker, 1)[1])["exporterLag"].items():
                samples.setdefault(exporter_id, []).append(int(lag))
    return {exporter_id: {"max": max(lags), "last": lags[-1], "samples": len(lags)}
            for exporter_id, lags in samples.items()}


def print_result(result: dict[str, Any]) -> None:
    lat = result["latency_ms"]
    rss = result["broker_rss_mb"]
    print(f"\n== {result['scenario']} / {result['mode']} ({result['window_s']} s window)")
    print(f"   process instances/s {result['instances_per_s']:>8}   jobs/s {result['jobs_per_s']:>8}"
          f"   records/s {result['records_per_s']:>8}  ({result['records_per_instance']} records/instance)")
    print(f"   create->completion latency (CreateProcessInstanceWithResult): p50 {lat['p50']} ms"
          f"  p90 {lat['p90']} ms  p99 {lat['p99']} ms  max {lat['max']} ms")
    print(f"   broker: CPU {result['broker_cpu_cores']} cores, RSS {rss['start_of_window']} -> {rss['end_of_window']}"
          f" MB, peak (VmHWM) {rss['peak_VmHWM']} MB; load generator CPU {result['loadgen_cpu_s']} s")
    print(f"   broker CPU per instance {result['broker_cpu_ms_per_instance']} ms, per job"
          f" {result['broker_cpu_ms_per_job']} ms (the figure a busy machine distorts least)")
    print(f"   broker CPU per thread (cores): {result['broker_thread_cpu_cores']}")
    if result["standalone_gateway"]:
        print(f"   standalone gateway process: CPU {result['gateway_cpu_cores']} cores; broker + gateway CPU per"
              f" instance {result['total_cpu_ms_per_instance']} ms")
    print(f"   broker threads waiting for a CPU (run queue): {result['broker_runqueue_wait_cores']} cores;"
          f" machine load average {result['machine_load_1min']}")
    for exporter_id, lag in result["exporter_lag_records"].items():
        print(f"   exporter '{exporter_id}' lag behind the log end: max {lag['max']} records,"
              f" at the end {lag['last']} ({lag['samples']} one-second samples)")
    if result["errors"] or result["skipped"]:
        print(f"   errors {result['errors']}  skipped sends {result['skipped']}")
    if "profile" in result:
        print(f"   profile: {result['profile']}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--mode", choices=["saturation", "rate", "all"], default="all")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per run (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--rate", type=float, default=150.0, help="instances/s in rate mode (default 150)")
    parser.add_argument("--creators", type=int, default=2, help="creator processes (default 2)")
    parser.add_argument("--inflight", type=int, default=32,
                        help="instances each creator keeps in flight in saturation mode (default 32)")
    parser.add_argument("--max-pending", type=int, default=2000,
                        help="rate mode: outstanding instances per creator before sends are skipped")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--pollers", type=int, default=4, help="concurrent ActivateJobs per worker (default 4)")
    parser.add_argument("--max-jobs", type=int, default=32, help="maxJobsToActivate (default 32)")
    parser.add_argument("--stream", action="store_true", help="workers use StreamActivatedJobs")
    parser.add_argument("--profile", choices=["none", "py-spy", "cprofile"], default="none")
    parser.add_argument("--no-plugins", action="store_true",
                        help="ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD=1: no entry-point exporters such as duckdb")
    parser.add_argument("--switch-interval", type=float,
                        help="experiment: sys.setswitchinterval(S) in the broker (default: Python's 0.005)")
    parser.add_argument("--partitions", type=int, default=1,
                        help="partitions in the broker (default 1; they share its one process and disk)")
    parser.add_argument("--standalone-gateway", action="store_true",
                        help="broker without its embedded gateway + a `zeebe-trio gateway` process in front of it")
    parser.add_argument("--work-dir", type=Path, help="keep data dirs, logs and profiles here (default: temp)")
    parser.add_argument("--json", action="store_true", help="also print each result as one JSON line")
    args = parser.parse_args(argv)
    if args.profile == "py-spy" and shutil.which("py-spy", path=str(Path(sys.executable).parent)) is None:
        parser.error("--profile py-spy needs py-spy next to this python (pip install py-spy)")

    scenarios = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    modes = ["saturation", "rate"] if args.mode == "all" else [args.mode]
    keep = args.work_dir is not None
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="zeebe-trio-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"zeebe-trio benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{args.creators} creator and {args.workers} worker processes"
          f" ({'StreamActivatedJobs' if args.stream else f'{args.pollers} ActivateJobs pollers each'}); "
          f"work dir {work_dir}; exporter plugins {'off' if args.no_plugins else 'autoloaded'};"
          f" {args.partitions} partition(s)"
          f"; gateway {'standalone process' if args.standalone_gateway else 'embedded'}"
          + (f"; switch interval {args.switch_interval}" if args.switch_interval else ""), flush=True)
    try:
        for scenario in scenarios:
            for mode in modes:
                result = run_once(args, scenario, mode, work_dir)
                print_result(result)
                if args.profile == "py-spy" and "profile" in result:
                    from profile_summary import summarize

                    summarize(Path(result["profile"]), top=15)
                if args.json:
                    print(json.dumps(result))
    finally:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
