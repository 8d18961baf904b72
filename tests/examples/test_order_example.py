"""The order example (examples/order) runs as its README says: a real broker process, the example's
pyzeebe worker script, its starter script, and pyzeebe's ``run_process_with_result``.

The test is a plain (sync) function because pyzeebe runs on asyncio and pytest-trio's trio_mode would
otherwise run it under Trio; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "order"
STARTUP_SECONDS = 15.0
RESULT_SECONDS = 15.0


class _Lines:
    """The output of a child process, line by line, read on a thread so that a wait can have a deadline
    and the child never blocks on a full pipe."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stdout = process.stdout
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self._stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line so far, or to come, that matches ``pattern``; fails at the deadline or at EOF."""
        return self.wait_for_count(pattern, 1, timeout)[0]

    def wait_for_count(self, pattern: str, count: int, timeout: float) -> list[re.Match[str]]:
        """The first ``count`` lines so far, or to come, that match ``pattern``; fails at the deadline or at EOF."""
        matches = [m for line in self.seen if (m := re.search(pattern, line))]
        deadline = time.monotonic() + timeout
        while len(matches) < count:
            remaining = deadline - time.monotonic()
            try:
                next_line = self._queue.get(timeout=remaining) if remaining > 0 else None
            except queue.Empty:
                next_line = None
            if next_line is None:
                ended = "output ended" if remaining > 0 else f"{timeout} s passed"
                raise AssertionError(f"{ended} before {count} line(s) matched {pattern!r}:\n" + "\n".join(self.seen))
            self.seen.append(next_line)
            if match := re.search(pattern, next_line):
                matches.append(match)
        return matches[:count]


@contextmanager
def _child(args: list[str], env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], _Lines]]:
    """A child process with merged output; SIGTERM (then SIGKILL) on the way out."""
    process = subprocess.Popen(args, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process, _Lines(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _broker_env(data_dir: Path, gateway_port: int = 0) -> dict[str, str]:
    return {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(data_dir), "ZEEBE_TRIO_GATEWAY_PORT": str(gateway_port),
            "ZEEBE_TRIO_HOST": "127.0.0.1", "ZEEBE_TRIO_COMMAND_API_PORT": "0"}


@contextmanager
def _broker(data_dir: Path, gateway_port: int = 0) -> Iterator[str]:
    """A ``zeebe-trio broker`` process (port 0: the OS picks one, and it says which when ready),
    stopped with SIGTERM on the way out."""
    with _child([sys.executable, "-m", "zeebe_trio.cli", "broker"], _broker_env(data_dir, gateway_port)) as (
            process, output):
        ready = output.wait_for(r"broker ready: gateway (\S+:\d+)", STARTUP_SECONDS)
        yield ready.group(1)
        process.send_signal(signal.SIGTERM)
        output.wait_for("broker stopped", 10)
        assert process.wait(timeout=10) == 0


@pytest.fixture
def broker_address(tmp_path: Path) -> Iterator[str]:
    """A fresh broker process on a port the OS picks."""
    with _broker(tmp_path / "data") as address:
        yield address


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"order_example_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expected(start_orders: ModuleType, number: int, total: float) -> dict[str, Any]:
    """What an order looks like when it completes: the task-local variables (`lines`, `amount`,
    `address`, `valid`, ...) stay in their tasks; only the output mappings reach the instance."""
    order = start_orders.sample_order(number)
    return {**order, "total": total, "itemCount": len(order["items"]),
            "trackingNumber": f"DHL-{order['orderId']}", "carrier": "DHL"}


async def _run_with_results(address: str, start_orders: ModuleType) -> list[dict[str, Any]]:
    from pyzeebe import ZeebeClient, create_insecure_channel

    channel = create_insecure_channel(grpc_address=address)
    try:
        client = ZeebeClient(channel)
        small, big = await asyncio.wait_for(asyncio.gather(
            start_orders.start_order(client, 11, with_result=True, timeout_ms=int(RESULT_SECONDS * 1000)),
            start_orders.start_order(client, 12, with_result=True, timeout_ms=int(RESULT_SECONDS * 1000)),
        ), RESULT_SECONDS + 5)
        return [small, big]
    finally:
        await channel.close()


def test_the_order_example_completes_small_and_big_orders_with_the_expected_variables(broker_address: str) -> None:
    start_orders = _load("start_orders")
    with _child([sys.executable, str(EXAMPLE / "worker.py"), "--address", broker_address]) as (worker, worker_output):
        worker_output.wait_for("order worker polling", STARTUP_SECONDS)

        # The README's command: deploy, then start orders 1..3 without waiting (order 2 is big).
        starter = subprocess.run([sys.executable, str(EXAMPLE / "start_orders.py"), "--address", broker_address,
                                  "--count", "3"], capture_output=True, text=True, timeout=30)
        assert starter.returncode == 0, starter.stderr
        assert "deployed order-process version 1" in starter.stdout
        assert sorted(re.findall(r"started (ORD-\d+) as instance \d+", starter.stdout)) == [
            "ORD-0001", "ORD-0002", "ORD-0003"]

        small, big = asyncio.run(_run_with_results(broker_address, start_orders))

        for number in (1, 2, 3):  # the fire-and-forget orders reach the last task too
            worker_output.wait_for(rf"ship-order .* ORD-{number:04d}\b", RESULT_SECONDS)
        worker.send_signal(signal.SIGTERM)
        worker_output.wait_for("order worker stopped", 10)
        assert worker.wait(timeout=10) == 0

    assert small.pop("paymentId").startswith("PAY-") and small.pop("reservationId").startswith("RES-")
    assert small == _expected(start_orders, 11, start_orders.SMALL_TOTAL)
    assert big.pop("paymentId").startswith("PAY-") and big.pop("reservationId").startswith("RES-")
    assert big == {**_expected(start_orders, 12, start_orders.BIG_TOTAL),
                   "review": {"reviewer": "fraud-desk", "approved": True}}
    review_lines = [line for line in worker_output.seen if line.startswith("manual-review")]
    assert sorted(re.findall(r"ORD-\d+", " ".join(review_lines))) == ["ORD-0002", "ORD-0012"], \
        "\n".join(worker_output.seen)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_worker_survives_a_broker_restart_and_takes_its_address_from_zeebe_address(tmp_path: Path) -> None:
    port = _free_port()  # fixed, so that the restarted broker is where the worker looks
    address = f"127.0.0.1:{port}"
    client_env = {**os.environ, "ZEEBE_ADDRESS": address}

    def start_orders(count: int) -> str:
        starter = subprocess.run([sys.executable, str(EXAMPLE / "start_orders.py"), "--count", str(count)],
                                 env=client_env, capture_output=True, text=True, timeout=60)
        assert starter.returncode == 0, starter.stderr
        return starter.stdout

    with ExitStack() as worker_stack:
        with _broker(tmp_path / "data", port):
            worker, worker_output = worker_stack.enter_context(
                _child([sys.executable, str(EXAMPLE / "worker.py")], client_env))  # outlives this broker
            worker_output.wait_for(f"order worker polling {re.escape(address)} ", STARTUP_SECONDS)
            assert "started ORD-0001" in start_orders(1)
            worker_output.wait_for(r"ship-order .* ORD-0001\b", RESULT_SECONDS)

        # More failed polls (pyzeebe logs each) than pyzeebe's default max_connection_retries (10),
        # after which a worker with the defaults stops polling for good.
        worker_output.wait_for_count("Failed to activate jobs", 11, 60)

        with _broker(tmp_path / "data", port):  # the same data: order 1 is done, order 2 is new
            assert "started ORD-0002" in start_orders(2)
            worker_output.wait_for(r"ship-order .* ORD-0002\b", 60)
        worker.send_signal(signal.SIGTERM)
        worker_output.wait_for("order worker stopped", 10)
        assert worker.wait(timeout=10) == 0
