"""The engine path alone: one_task instances through the broker's command API, in-process, no gRPC.

    .venv/bin/python benchmarks/engine_bench.py [INSTANCES] [--profile]

Creates INSTANCES one_task instances from 8 concurrent creators while one worker activates (32 at a
time) and completes them; prints wall-clock throughput and CPU per instance. With --profile, prints
the top functions by own time (cProfile). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import trio

from zeebe_trio.testing import one_task_bpmn, open_broker


async def run(instances: int) -> None:
    async with open_broker(Path(tempfile.mkdtemp(prefix="zeebe-trio-engine-bench-"))) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        cpu0, wall0 = time.process_time(), time.perf_counter()

        async def creator(count: int) -> None:
            for i in range(count):
                await broker.create_instance("p", {"i": i})

        async def worker() -> None:
            done = 0
            while done < instances:
                jobs = await broker.activate("work", max_jobs=32)
                if not jobs:
                    await broker.partition.log_stream.appended.wait_until(broker.partition.log_stream.last_position + 1)
                    continue
                async with trio.open_nursery() as nursery:
                    for job_key, _job in jobs:
                        nursery.start_soon(broker.complete, job_key)
                done += len(jobs)

        async with trio.open_nursery() as nursery:
            for _ in range(8):
                nursery.start_soon(creator, instances // 8)
            nursery.start_soon(worker)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(f"{instances} one_task instances: {instances / wall:.0f} instances/s wall-clock,"
              f" {cpu * 1000 / instances:.2f} ms CPU per instance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="?", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    instances = args.instances - args.instances % 8
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(trio.run, run, instances)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    else:
        trio.run(run, instances)


if __name__ == "__main__":
    main()
