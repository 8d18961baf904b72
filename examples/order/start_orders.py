"""Deploy ``order.bpmn`` and start order instances, with pyzeebe's ``ZeebeClient``.

    python examples/order/start_orders.py [--count 5] [--with-result] [--address HOST:PORT]

Every second order is over 1000 and so goes through manual review. With ``--with-result`` each
instance is created with ``run_process_with_result``: the call returns when the instance has completed
(so run ``worker.py`` first) and prints the instance's final variables.

The gateway is ``--address``, else ``ZEEBE_ADDRESS``, else localhost:26500. While the broker is still
(re)starting, the deployment is retried for up to ``--wait`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pyzeebe import ZeebeClient, create_insecure_channel
from pyzeebe.errors import ZeebeGatewayUnavailableError
from pyzeebe.grpc_internals.types import DeployResourceResponse

BPMN = Path(__file__).with_name("order.bpmn")
PROCESS_ID = "order-process"

_CUSTOMERS = (
    {"id": "C-100", "name": "Ada Lovelace", "address": "12 St James's Square, London"},
    {"id": "C-200", "name": "Grace Hopper", "address": "1 Navy Yard, Arlington"},
    {"id": "C-300", "name": "Edsger Dijkstra", "address": "Plataanstraat 5, Nuenen"},
)
_SMALL_CART = ({"sku": "mouse", "quantity": 2, "price": 24.99}, {"sku": "usb-cable", "quantity": 3, "price": 9.5})
_BIG_CART = ({"sku": "laptop", "quantity": 1, "price": 1299.0}, {"sku": "dock", "quantity": 1, "price": 189.9})
SMALL_TOTAL = 78.48  # 2 x 24.99 + 3 x 9.5
BIG_TOTAL = 1488.9  # 1299.0 + 189.9


def sample_order(number: int) -> dict[str, Any]:
    """The variables of order ``number`` (1-based): even numbers are big (over 1000), odd ones small."""
    big = number % 2 == 0
    return {
        "orderId": f"ORD-{number:04d}",
        "customer": dict(_CUSTOMERS[number % len(_CUSTOMERS)]),
        "items": [dict(item) for item in (_BIG_CART if big else _SMALL_CART)],
    }


async def deploy(client: ZeebeClient, path: Path = BPMN, wait: float = 0.0) -> None:
    """Deploy ``path``, retrying for up to ``wait`` seconds while no gateway answers (deploying the
    same file twice is harmless: the second time is a duplicate of version 1)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            response = await client.deploy_resource(str(path))
            break
        except ZeebeGatewayUnavailableError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.5)
    for process in response.deployments:
        if not isinstance(process, DeployResourceResponse.ProcessMetadata):
            continue
        print(f"deployed {process.bpmn_process_id} version {process.version}"
              f" (key {process.process_definition_key}) from {process.resource_name}", flush=True)


async def start_order(client: ZeebeClient, number: int, with_result: bool = False,
                      timeout_ms: int = 30_000) -> dict[str, Any] | None:
    """Start order ``number``; with ``with_result``, wait for it and return its final variables."""
    variables = sample_order(number)
    if not with_result:
        created = await client.run_process(PROCESS_ID, variables)
        print(f"started {variables['orderId']} as instance {created.process_instance_key}", flush=True)
        return None
    completed = await client.run_process_with_result(PROCESS_ID, variables, timeout=timeout_ms)
    print(f"completed {variables['orderId']} (instance {completed.process_instance_key}):"
          f" {json.dumps(completed.variables, sort_keys=True)}", flush=True)
    return dict(completed.variables)


async def run(address: str, count: int, with_result: bool, timeout_ms: int, wait: float = 0.0) -> None:
    channel = create_insecure_channel(grpc_address=address)
    try:
        # -1: pyzeebe would otherwise close the channel for good after 10 failed requests.
        client = ZeebeClient(channel, max_connection_retries=-1)
        await deploy(client, wait=wait)
        # Concurrently: with results, each call waits for the worker to finish its instance.
        await asyncio.gather(*(start_order(client, number, with_result, timeout_ms)
                               for number in range(1, count + 1)))
    finally:
        await channel.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", help="gateway address (default: $ZEEBE_ADDRESS, else localhost:26500)")
    parser.add_argument("--count", type=int, default=5, help="how many orders to start (default 5)")
    parser.add_argument("--with-result", action="store_true",
                        help="wait for each instance to complete and print its variables (needs worker.py)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="with --with-result: seconds to wait for an instance (default 30)")
    parser.add_argument("--wait", type=float, default=30.0,
                        help="seconds to keep trying while no gateway answers yet (default 30)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    address = args.address or os.environ.get("ZEEBE_ADDRESS") or "localhost:26500"
    asyncio.run(run(address, args.count, args.with_result, int(args.timeout * 1000), args.wait))
    return 0


if __name__ == "__main__":
    sys.exit(main())
