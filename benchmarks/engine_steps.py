"""The engine alone, deterministically: one_task instances through an EngineHarness, one at a time.

    .venv/bin/python benchmarks/engine_steps.py [INSTANCES]

No broker, no log, no Trio, no replaying twin: each instance is created, its job activated and
completed, every command in its own transaction, in the same order on every run. So the instruction
count does not depend on how commands happened to batch (as engine_bench.py's does, by a few
percent): under callgrind, the difference of two runs (e.g. 300 and 100 instances) divided by 200 is
the engine's instructions per instance, repeatable to about 0.2%. Prints CPU per instance (a busy
machine distorts that one). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import time

from zeebe_trio.testing import one_task_bpmn
from zeebe_trio.testing._engine_harness import EngineHarness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="?", type=int, default=2000)
    args = parser.parse_args()
    with EngineHarness(check_replay=False) as harness:
        harness.deploy("p.bpmn", one_task_bpmn("p"))
        for i in range(8):  # warm-up: the process is compiled, the caches are filled
            harness.create_instance("p", {"i": i})
            for key in harness.activate_jobs("work", max_jobs=8):
                harness.complete_job(key)
        cpu0 = time.process_time()
        for i in range(args.instances):
            harness.create_instance("p", {"i": i})
            for key in harness.activate_jobs("work", max_jobs=1):
                harness.complete_job(key)
        cpu = time.process_time() - cpu0
    print(f"{args.instances} one_task instances, engine only: {cpu * 1000 / args.instances:.3f} ms CPU per instance")


if __name__ == "__main__":
    main()
