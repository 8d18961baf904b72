"""Fixtures for the security tests: a PKI made at run time, a broker with settings, blocking grpcio
clients awaited from Trio, and a local HTTP server for JWKS URLs."""

from __future__ import annotations

import functools
import http.server
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.broker import Broker, BrokerConfig

from ._material import Pki, make_pki

_limiter = trio.CapacityLimiter(8)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def broker_config(data_dir: Path, **settings: Any) -> BrokerConfig:
    return BrokerConfig(**{"data_dir": data_dir, "gateway_port": 0, "host": "127.0.0.1", "exporters": {},
                           "command_api_port": 0, **settings})


@asynccontextmanager
async def running_broker(config: BrokerConfig) -> AsyncIterator[Broker]:
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        try:
            yield broker
        finally:
            nursery.cancel_scope.cancel()


class Client:
    """A grpcio Zeebe client (pyzeebe's stubs) on a plaintext or TLS channel; calls run in threads."""

    def __init__(self, address: str, *, ca: Path | None = None, token: str | None = None,
                 server_name: str | None = None) -> None:
        if ca is None:
            self.channel = grpc.insecure_channel(address)
        else:
            options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
            credentials = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes())
            self.channel = grpc.secure_channel(address, credentials, options=options)
        self.stub = gateway_pb2_grpc.GatewayStub(self.channel)
        self.token = token

    async def call(self, rpc: str, request: Any, *, token: str | None = None,
                   metadata: list[tuple[str, str]] | None = None, timeout: float = 10.0) -> Any:
        method = getattr(self.stub, rpc)
        token = token if token is not None else self.token
        if metadata is None:
            metadata = [("authorization", f"Bearer {token}")] if token else []
        return await trio.to_thread.run_sync(functools.partial(method, request, timeout=timeout, metadata=metadata),
                                             limiter=_limiter)

    async def topology(self, **kwargs: Any) -> Any:
        return await self.call("Topology", pb.TopologyRequest(), **kwargs)

    async def error(self, rpc: str = "Topology", request: Any = None, **kwargs: Any) -> grpc.RpcError:
        """The RpcError a call ends with (the test fails if it succeeds)."""
        try:
            await self.call(rpc, request if request is not None else pb.TopologyRequest(), **kwargs)
        except grpc.RpcError as error:
            return error
        raise AssertionError(f"{rpc} succeeded")

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
def clients() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(address: str, **kwargs: Any) -> Client:
        client = Client(address, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


class JwksServer:
    """An HTTP server on 127.0.0.1 serving a JWKS the test can change; counts the fetches."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.status = 200
        self.fetches = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.fetches += 1
                body = json.dumps(server.document).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


class LogWatch(logging.Handler):
    """Collects zeebe_trio's warnings; ``wait_for(text)`` returns once one contains ``text``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self._changed = trio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if threading.current_thread() is threading.main_thread():  # Trio's thread; others are seen later
            self._changed.set()
            self._changed = trio.Event()

    async def wait_for(self, text: str, timeout: float = 10.0) -> str:
        with trio.fail_after(timeout):
            while True:
                for message in self.messages:
                    if text in message:
                        return message
                await self._changed.wait()


@pytest.fixture
def log_watch() -> Iterator[LogWatch]:
    watch = LogWatch()
    logger = logging.getLogger("zeebe_trio")
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)
