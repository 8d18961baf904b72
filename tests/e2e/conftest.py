"""End-to-end fixtures: a real broker with its embedded gateway, and real gRPC clients.

The client is pyzeebe's generated grpcio stub (``gateway_pb2_grpc.GatewayStub``) on a loopback
channel; its blocking calls run in worker threads so the broker keeps running on the Trio thread.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.broker import Broker, BrokerConfig

_limiter = trio.CapacityLimiter(16)


class Client:
    """A blocking grpcio Zeebe client whose calls are awaited from Trio."""

    def __init__(self, address: str, compression: grpc.Compression | None = None) -> None:
        self.address = address
        self.channel = grpc.insecure_channel(address, compression=compression)
        self.stub = gateway_pb2_grpc.GatewayStub(self.channel)

    async def call(self, rpc: str, request: Any, timeout: float = 20.0) -> Any:
        method = getattr(self.stub, rpc)
        return await trio.to_thread.run_sync(functools.partial(method, request, timeout=timeout), limiter=_limiter)

    async def stream(self, rpc: str, request: Any, timeout: float = 20.0) -> list[Any]:
        method = getattr(self.stub, rpc)
        return await trio.to_thread.run_sync(lambda: list(method(request, timeout=timeout)), limiter=_limiter)

    async def deploy(self, name: str, content: bytes) -> Any:
        return await self.call("DeployResource", pb.DeployResourceRequest(
            resources=[pb.Resource(name=name, content=content)]))

    async def activate(self, job_type: str, max_jobs: int = 10, request_timeout_ms: int = -1,
                       timeout_ms: int = 60_000) -> list[Any]:
        responses = await self.stream("ActivateJobs", pb.ActivateJobsRequest(
            type=job_type, worker="e2e", timeout=timeout_ms, maxJobsToActivate=max_jobs,
            requestTimeout=request_timeout_ms))
        return [job for response in responses for job in response.jobs]

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    config = BrokerConfig(data_dir=tmp_path, gateway_port=0, host="127.0.0.1", exporters={}, command_api_port=0)
    async with trio.open_nursery() as nursery:
        running = await nursery.start(Broker(config).run)
        yield running
        nursery.cancel_scope.cancel()


@pytest.fixture
async def client(broker: Broker) -> AsyncIterator[Client]:
    c = Client(f"127.0.0.1:{broker.gateway_port}")
    c.broker = broker  # type: ignore[attr-defined]  # for tests that must read the log (incident keys)
    yield c
    c.close()
