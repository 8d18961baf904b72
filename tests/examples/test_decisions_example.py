"""The decisions example runs as its README says: pyzeebe deploys the DMN and the process, evaluates
the decision directly, and three parcels get the carrier and price the decision tables give them."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
import trio

from zeebe_trio.broker import Broker, BrokerConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "decisions"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ship_parcels_example", EXAMPLE / "ship_parcels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    config = BrokerConfig(data_dir=tmp_path, gateway_port=0, host="127.0.0.1", exporters={}, command_api_port=0)
    async with trio.open_nursery() as nursery:
        running = await nursery.start(Broker(config).run)
        yield running
        nursery.cancel_scope.cancel()


async def test_the_decisions_example_ships_parcels_by_the_decision(broker: Broker,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    example = _load()
    results = await trio.to_thread.run_sync(asyncio.run, example.main(f"127.0.0.1:{broker.gateway_port}"))
    assert [(r["carrier"], r["shippingPrice"], r["label"]) for r in results] == [
        ("Post", 2.5, "Post: P-1"), ("DHL", 14.9, "DHL: P-2"), ("Freight", 60, "Freight: P-3")]
    out = capsys.readouterr().out
    assert ('shipping for 1 kg: {"carrier": "Post", "price": 2.5} (matched rules [(\'size\', [\'size-small\']),'
            " ('shipping', ['shipping-letter'])])") in out
