"""Summarize a py-spy ``--format raw --threads`` profile of the broker: where the CPU goes.

    .venv/bin/python benchmarks/profile_summary.py PROFILE.txt [--top 15]

Each line of the raw format is ``thread (tid): name;frame;frame;... count`` with frames written as
``function (path:line)``. py-spy samples only threads that are running (not idle), so a sample is a
slice of CPU. Time spent in C extensions (lmdb, msgpack, hpack's C-free parts are Python) shows up
in the Python function that called them, so ``state._store`` self time is mostly LMDB and
``protocol._codec`` self time mostly msgpack.

Printed: samples per thread; self time per layer (the leaf frame's module, grouped as below); top
functions by self time; top functions and zeebe_trio modules by cumulative (inclusive) time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")

# (path fragment, layer); the first match wins, so specific entries come first.
LAYERS = [
    ("zeebe_trio/gateway/_generated", "gateway: betterproto generated code"),
    ("betterproto", "betterproto (protobuf encode/decode)"),
    ("grpclib", "grpclib"),
    ("h2/", "h2 (HTTP/2)"),
    ("hpack", "hpack"),
    ("zeebe_trio/gateway", "gateway: zeebe_trio (mappers, routing, host bridge)"),
    ("asyncio", "asyncio event loop"),
    ("zeebe_trio/engine/feel", "engine: FEEL"),
    ("zeebe_trio/engine/bpmn", "engine: BPMN model"),
    ("zeebe_trio/engine/_state", "engine: state views (engine/_state.py)"),
    ("zeebe_trio/engine", "engine: processors/appliers"),
    ("zeebe_trio/state", "state: LMDB store (incl. lmdb C calls)"),
    ("zeebe_trio/protocol/_codec", "protocol codec (incl. msgpack C calls)"),
    ("zeebe_trio/protocol", "protocol (records, enums)"),
    ("zeebe_trio/log", "log (segments, fsync)"),
    ("zeebe_trio/stream", "stream processor / log stream"),
    ("zeebe_trio/exporters", "exporters (director, built-ins)"),
    ("zeebe_trio_duckdb", "exporter: duckdb plugin"),
    ("duckdb", "duckdb"),
    ("zeebe_trio/broker", "broker (partition, command API)"),
    ("zeebe_trio", "zeebe_trio other"),
    ("trio/", "trio scheduling/runtime"),
    ("outcome/", "trio scheduling/runtime"),
    ("msgpack", "msgpack"),
    ("json/", "json"),
    ("enum.py", "stdlib enum"),
    ("dataclasses", "stdlib dataclasses"),
    ("logging/", "logging"),
    ("threading.py", "threading"),
    ("selectors.py", "selectors (I/O wait)"),
    ("socket.py", "socket"),
    ("lmdb", "lmdb"),
]


# Frames every stack of a thread passes through (thread start, run loops): left out of the cumulative
# rankings, which would otherwise open with them.
_PLUMBING = ("threading.py:", "<frozen runpy>:", "zeebe_trio/cli.py:", "outcome/_impl.py:capture",
             "trio/_core/_thread_cache.py:", "trio/_threads.py:to_thread_run_sync", "asyncio/runners.py:",
             "asyncio/base_events.py:BaseEventLoop.run_", "asyncio/base_events.py:BaseEventLoop._run_once",
             "asyncio/events.py:Handle._run", "trio/_core/_run.py:run", "trio/_core/_run.py:unrolled_run",
             "zeebe_trio/gateway/_host.py:_AsyncioHost._thread_main")


def parse_frame(frame: str) -> tuple[str, str]:
    """(function label "module:function", path) for one frame text."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    path = match.group("path")
    short = path
    for marker in ("site-packages/", "/lib/python3"):
        if marker in short:
            short = short.split(marker, 1)[1]
            if marker == "/lib/python3":
                short = short.split("/", 1)[1] if "/" in short else short
    if "/work/main/" in short:
        short = short.split("/work/main/", 1)[1]
    return f"{short}:{match.group('func')}", path


def layer_of(path: str) -> str:
    for fragment, layer in LAYERS:
        if fragment in path:
            return layer
    if path.startswith("<"):
        return "generated/builtin code (<string>, <frozen>)"
    return "other: " + (path.rsplit("/", 1)[-1] or "?")


def thread_name(first: str) -> str:
    # "thread (1234): MainThread" -> "MainThread"; Trio's worker threads are grouped.
    name = first.split(": ", 1)[1] if ": " in first else first
    return "Trio worker threads (fsync, to_thread)" if name.startswith("Trio thread") else name


def load(path: Path) -> list[tuple[str, list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        line = line.rstrip()
        if not line:
            continue
        body, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = body.split(";")
        stacks.append((thread_name(frames[0]), frames[1:], int(count)))
    return stacks


def summarize(path: Path, top: int = 15) -> None:
    stacks = load(path)
    total = sum(count for _, _, count in stacks)
    if not total:
        print(f"   {path}: no samples")
        return
    threads: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for thread, frames, count in stacks:
        threads[thread] += count
        if not frames:
            continue
        leaf_label, leaf_path = parse_frame(frames[-1])
        layers[layer_of(leaf_path)] += count
        self_time[leaf_label] += count
        seen: set[str] = set()
        seen_modules: set[str] = set()
        for frame in frames:
            label, frame_path = parse_frame(frame)
            if label.startswith(_PLUMBING):
                continue
            if label not in seen:
                seen.add(label)
                cumulative[label] += count
            if "zeebe_trio" in frame_path:
                module = label.split(":", 1)[0]
                if module not in seen_modules:
                    seen_modules.add(module)
                    modules[module] += count

    def show(title: str, counter: Counter[str], n: int) -> None:
        print(f"   -- {title}")
        for name, count in counter.most_common(n):
            print(f"   {100 * count / total:5.1f}%  {name}")

    print(f"   profile {path.name}: {total} samples (py-spy, running threads only)")
    show("samples per thread", threads, 10)
    show("self time per layer (leaf frame)", layers, 30)
    show(f"top {top} functions by self time", self_time, top)
    show(f"top {top} functions by cumulative time", cumulative, top + 10)
    show(f"top {top} zeebe_trio modules by cumulative time", modules, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    summarize(args.profile, args.top)


if __name__ == "__main__":
    main()
