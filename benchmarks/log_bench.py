"""Measure the segmented log on this disk: appends/s and MB/s for 1 KiB entries with one sync per 100
appends, append-only throughput, the cost of one fsync (append one entry + sync), and read throughput.

Run: .venv/bin/python benchmarks/log_bench.py [directory]   (defaults to a temporary directory)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from zeebe_trio.log import SegmentedLog

ENTRY = 1024


def bench_appends(directory: Path, count: int, sync_every: int | None) -> tuple[float, float]:
    log = SegmentedLog.open(directory)
    data = b"x" * ENTRY
    start = time.perf_counter()
    for i in range(1, count + 1):
        log.append(1, data, i, i)
        if sync_every and i % sync_every == 0:
            log.sync()
    log.sync()
    elapsed = time.perf_counter() - start
    log.close()
    return count / elapsed, count * ENTRY / elapsed / 1e6


def bench_fsync(directory: Path, rounds: int) -> list[float]:
    log = SegmentedLog.open(directory)
    costs = []
    for i in range(1, rounds + 1):
        log.append(1, b"y" * ENTRY, i, i)
        start = time.perf_counter()
        log.sync()
        costs.append(time.perf_counter() - start)
    log.close()
    return costs


def bench_reads(directory: Path) -> tuple[int, float]:
    log = SegmentedLog.open(directory, cache_max_entries=1)
    start = time.perf_counter()
    count = sum(1 for _ in log.read(1))
    elapsed = time.perf_counter() - start
    log.close()
    return count, count / elapsed


def main() -> None:
    if len(sys.argv) > 1:
        run(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory(prefix="log-bench-") as tmp:
            run(Path(tmp))


def run(base: Path) -> None:
    count = 100_000
    rate, mbps = bench_appends(base / "sync100", count, 100)
    print(f"1 KiB appends, sync every 100: {rate:,.0f} appends/s, {mbps:,.1f} MB/s ({count} entries)")
    rate, mbps = bench_appends(base / "nosync", count, None)
    print(f"1 KiB appends, one sync at end: {rate:,.0f} appends/s, {mbps:,.1f} MB/s")
    costs = bench_fsync(base / "fsync", 300)
    print(
        f"append 1 KiB + sync: median {statistics.median(costs) * 1e3:.3f} ms,"
        f" p90 {statistics.quantiles(costs, n=10)[-1] * 1e3:.3f} ms, max {max(costs) * 1e3:.3f} ms"
    )
    read, read_rate = bench_reads(base / "sync100")
    print(f"sequential read from disk (page cache) of {read} entries: {read_rate:,.0f} entries/s")


if __name__ == "__main__":
    main()
