"""Deploy the shipping decisions and process with pyzeebe, evaluate the decision once directly, then
ship a few parcels: each instance's business rule task evaluates the ``shipping`` decision (which
needs ``size`` first) and the script task prints a label. No job worker is needed: the engine
evaluates decisions and scripts itself.

    python examples/decisions/ship_parcels.py [--address localhost:26500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from pyzeebe import ZeebeClient, create_insecure_channel

HERE = Path(__file__).resolve().parent
PARCELS = [
    {"parcelId": "P-1", "weight": 0.4, "express": False},
    {"parcelId": "P-2", "weight": 5, "express": True},
    {"parcelId": "P-3", "weight": 50, "express": False},
]


async def ship(client: ZeebeClient) -> list[dict[str, Any]]:
    deployment = await client.deploy_resource(str(HERE / "shipping.dmn"), str(HERE / "shipping.bpmn"))
    for deployed in deployment.deployments:
        print("deployed", type(deployed).__name__, deployed)
    evaluated = await client.evaluate_decision(None, "shipping", variables={"weight": 1, "express": False})
    rules = [(d.decision_id, [rule.rule_id for rule in d.matched_rules]) for d in evaluated.evaluated_decisions]
    print(f"shipping for 1 kg: {json.dumps(evaluated.decision_output)} (matched rules {rules})")
    results = []
    for parcel in PARCELS:
        result = await client.run_process_with_result("ship-parcel", variables=parcel, timeout=10_000)
        print(f"{parcel['parcelId']}: {result.variables['label']}, {result.variables['shippingPrice']}")
        results.append(result.variables)
    return results


async def main(address: str) -> list[dict[str, Any]]:
    channel = create_insecure_channel(grpc_address=address)
    try:
        return await ship(ZeebeClient(channel))
    finally:
        await channel.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="localhost:26500")
    asyncio.run(main(parser.parse_args().address))
