"""Job workers for the order process (``order.bpmn``), written with pyzeebe, the Python Zeebe client.

    python examples/order/worker.py [--address HOST:PORT]

One handler per job type: validate-order, manual-review, charge-payment, reserve-stock, ship-order.
Each prints what it does; Ctrl-C (or SIGTERM) stops the worker after the jobs it holds are done.
The gateway is ``--address``, else ``ZEEBE_ADDRESS``, else localhost:26500. The worker rides out a
broker restart: it keeps polling, and gets jobs again once the broker is back.

Nothing here knows about zeebe-trio: the same script drives a Camunda/Zeebe 8 cluster.
"""

# No ``from __future__ import annotations`` in this file: pyzeebe finds the ``job: Job`` parameter of a
# handler by comparing annotations with the ``Job`` class, and postponed annotations are plain strings.

import argparse
import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pyzeebe import Job, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import BusinessError

JOB_TYPES = ("validate-order", "manual-review", "charge-payment", "reserve-stock", "ship-order")
# gRPC retries a lost connection with a back-off that grows to two minutes; cap it so that the worker
# is back within seconds of the broker.
CHANNEL_OPTIONS = (("grpc.max_reconnect_backoff_ms", 5_000),)


class InvalidOrder(BusinessError):
    """An order the process cannot fulfil: thrown as BPMN error 'invalid-order'.

    ``order.bpmn`` has no error catch event (zeebe-trio has none yet), so the error raises an incident
    on the task, which Operate-style tooling (or ``ResolveIncident``) deals with.
    """

    def __init__(self, order_id: str, reason: str) -> None:
        super().__init__("invalid-order", f"order {order_id}: {reason}")


_print_lock = threading.Lock()


def print_line(line: str) -> None:
    """print() from the handler threads, one whole line at a time (print writes the text and the newline
    separately, so two threads could otherwise splice their lines)."""
    with _print_lock:
        print(line, flush=True)


def build_worker(grpc_channel: Any, name: str = "order-worker",
                 say: Callable[[str], None] = print_line) -> ZeebeWorker:
    """A worker with a handler for every job type of ``order.bpmn``; ``say`` receives one line per job."""
    # pyzeebe gives up for good after 10 failed requests (max_connection_retries=10, counted over the
    # worker's lifetime, so a few seconds of broker downtime); -1 keeps it polling.
    worker = ZeebeWorker(grpc_channel, name=name, max_connection_retries=-1)

    # Plain functions: pyzeebe runs them in a thread pool, so a real handler may call a blocking API
    # (a payment provider's SDK). Each returns the variables to complete its job with; an exception
    # fails the job (Zeebe retries it while retries last, then raises an incident).

    # The input mappings of the task decide the names: the worker sees `orderId` and `lines`, and
    # only `total` and `itemCount` leave the task (its output mappings).
    @worker.task(task_type="validate-order")
    def validate_order(orderId: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        if not lines:
            raise InvalidOrder(orderId, "has no items")
        # Decimal so that 3 x 19.99 is 59.97, not 59.970000000000006.
        total = sum((Decimal(str(line["price"])) * line["quantity"] for line in lines), Decimal(0))
        say(f"validate-order  {orderId}: {len(lines)} line(s), total {total}")
        return {"total": float(total), "valid": True}

    @worker.task(task_type="manual-review")
    def manual_review(orderId: str, total: float, job: Job) -> dict[str, Any]:
        team = job.custom_headers.get("team", "back-office")
        say(f"manual-review   {orderId}: total {total} reviewed by {team}: approved")
        return {"reviewer": team, "approved": True}

    @worker.task(task_type="charge-payment")
    def charge_payment(customerId: str, amount: float, job: Job) -> dict[str, Any]:
        currency = job.custom_headers.get("currency", "EUR")
        payment_id = f"PAY-{job.key}"
        say(f"charge-payment  customer {customerId}: {amount} {currency} -> {payment_id}")
        return {"paymentId": payment_id}

    @worker.task(task_type="reserve-stock")
    def reserve_stock(lines: list[dict[str, Any]], job: Job) -> dict[str, Any]:
        reservation_id = f"RES-{job.key}"
        skus = ", ".join(f"{line['quantity']} x {line['sku']}" for line in lines)
        say(f"reserve-stock   {skus} -> {reservation_id}")
        return {"reservationId": reservation_id}

    @worker.task(task_type="ship-order")
    def ship_order(orderId: str, address: str, job: Job) -> dict[str, Any]:
        carrier = job.custom_headers["carrier"]
        service_level = job.custom_headers.get("serviceLevel", "standard")
        tracking_number = f"{carrier}-{orderId}"
        say(f"ship-order      {orderId}: {service_level} with {carrier} to {address} -> {tracking_number}")
        return {"trackingNumber": tracking_number, "carrier": carrier}

    return worker


async def run(address: str) -> None:
    channel = create_insecure_channel(grpc_address=address, channel_options=CHANNEL_OPTIONS)
    worker = build_worker(channel)
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: stopping.add(loop.create_task(worker.stop())))
    print(f"order worker polling {address} for {', '.join(JOB_TYPES)}", flush=True)
    try:
        await worker.work()
    finally:
        await channel.close()
    print("order worker stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", help="gateway address (default: $ZEEBE_ADDRESS, else localhost:26500)")
    args = parser.parse_args(argv)
    # Line-buffered so that the progress shows up at once when piped (and in tests).
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    asyncio.run(run(args.address or os.environ.get("ZEEBE_ADDRESS") or "localhost:26500"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
