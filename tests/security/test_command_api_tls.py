"""TLS on the command API: a standalone gateway that trusts the broker's CA drives a real broker over
TLS, with the shared-secret handshake on top; every mismatch is refused and said in one line."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.broker import Broker
from zeebe_trio.gateway import BrokerError, RemoteBrokerPort, serve_gateway
from zeebe_trio.gateway._remote import _ConnectionLost, complete_handshake, hello_frame, query_broker
from zeebe_trio.gateway._tls import client_context, pinned_context, server_context
from zeebe_trio.protocol import NONCE_SIZE, FrameDecoder, MessageType
from zeebe_trio.testing import one_task_bpmn

from ._material import Pki
from .conftest import LogWatch, broker_config, running_broker

SECRET = "a-shared-secret-for-the-tls-tests"
TIMEOUT = 10.0


def _command_api_tls(pki: Pki) -> dict[str, str]:
    return {"command_api_tls_certificate": str(pki.certificate), "command_api_tls_private_key": str(pki.private_key)}


@asynccontextmanager
async def tls_broker(tmp_path: Path, pki: Pki, **settings: Any) -> AsyncIterator[Broker]:
    config = broker_config(tmp_path / "data", embedded_gateway=False, **{**_command_api_tls(pki), **settings})
    async with running_broker(config) as broker:
        yield broker


@asynccontextmanager
async def remote(bound: int, **options: Any) -> AsyncIterator[RemoteBrokerPort]:
    port = RemoteBrokerPort(("localhost", bound), min_backoff=0.01, max_backoff=0.05, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(port.run)
        yield port
        nursery.cancel_scope.cancel()


async def test_a_gateway_trusting_the_ca_drives_the_broker_over_tls(tmp_path: Path, pki: Pki, clients) -> None:
    async with tls_broker(tmp_path, pki) as broker, remote(
            broker.command_api_port, ssl_context=client_context(pki.ca, setting="--broker-ca")) as port, \
            trio.open_nursery() as nursery:
        assert broker.command_api is not None
        grpc_port = await nursery.start(functools.partial(serve_gateway, port, host="127.0.0.1", grpc_port=0))
        with trio.fail_after(TIMEOUT):
            await port.wait_connected()
        client = clients(f"127.0.0.1:{grpc_port}")
        assert [b.nodeId for b in (await client.topology()).brokers] == [0]
        deployment = await client.call("DeployResource", pb.DeployResourceRequest(
            resources=[pb.Resource(name="one.bpmn", content=one_task_bpmn("one", "work"))]))
        assert deployment.deployments[0].process.bpmnProcessId == "one"
        created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="one", version=-1))
        assert created.processInstanceKey > 0
        assert broker.command_api.statistics()["tls_handshakes_failed"] == 0
        nursery.cancel_scope.cancel()


async def test_a_plaintext_gateway_is_refused_by_a_tls_command_api(tmp_path: Path, pki: Pki,
                                                                   log_watch: LogWatch) -> None:
    async with tls_broker(tmp_path, pki) as broker, remote(broker.command_api_port) as port:
        broker_side = await log_watch.wait_for("command API: TLS handshake with")
        gateway_side = await log_watch.wait_for("cannot reach the broker")
        assert port.connections_made == 0
        assert broker.command_api is not None
        assert broker.command_api.statistics()["tls_handshakes_failed"] >= 1
    assert "a gateway must connect with TLS (zeebe-trio gateway --broker-ca)" in broker_side
    assert "if its command API serves TLS, give the gateway --broker-ca" in gateway_side


async def test_a_tls_gateway_says_so_when_the_command_api_has_no_tls(tmp_path: Path, pki: Pki,
                                                                     log_watch: LogWatch) -> None:
    config = broker_config(tmp_path / "data", embedded_gateway=False)
    async with running_broker(config) as broker, remote(broker.command_api_port,
                                                        ssl_context=client_context(pki.ca, setting="--broker-ca")):
        gateway_side = await log_watch.wait_for("cannot reach the broker")
        broker_side = await log_watch.wait_for("refused a TLS client")
    assert f"cannot reach the broker at localhost:{broker.command_api_port}: the TLS handshake failed" in gateway_side
    assert "this command API has no TLS (command_api_tls_certificate)" in broker_side


async def test_a_gateway_that_does_not_trust_the_certificate_never_connects(tmp_path: Path, pki: Pki,
                                                                            log_watch: LogWatch) -> None:
    untrusting = client_context(pki.other_ca, setting="--broker-ca")
    async with tls_broker(tmp_path, pki) as broker, remote(broker.command_api_port, ssl_context=untrusting) as port:
        gateway_side = await log_watch.wait_for("cannot reach the broker")
        await log_watch.wait_for("command API: TLS handshake with")
        assert port.connections_made == 0
    assert "the certificate did not verify: unable to get local issuer certificate" in gateway_side


async def test_the_shared_secret_still_decides_for_peers_on_other_hosts(tmp_path: Path, pki: Pki) -> None:
    """Over TLS, a peer with no loopback address (a socket pair) is served only when it proves the secret."""
    async with tls_broker(tmp_path, pki, command_api_secret=SECRET) as broker:
        assert broker.command_api is not None
        server_tls = server_context(pki.certificate, pki.private_key, certificate_setting="c", key_setting="k")

        async def handshake(secret: str) -> list[Any] | str:
            async with trio.open_nursery() as nursery:  # serves the broker's side of the pair
                return await handshake_served(nursery, secret)

        async def handshake_served(nursery: trio.Nursery, secret: str) -> list[Any] | str:
            ours, theirs = trio.socket.socketpair()
            assert broker.command_api is not None
            nursery.start_soon(broker.command_api._serve_connection,
                               trio.SSLStream(trio.SocketStream(theirs), server_tls, server_side=True))
            stream = trio.SSLStream(trio.SocketStream(ours), client_context(pki.ca, setting="--broker-ca"),
                                    server_hostname="localhost")
            decoder = FrameDecoder()
            received: list[list[Any]] = []

            async def next_message() -> list[Any]:
                while not received:
                    data = await stream.receive_some(65536)
                    if not data:
                        raise _ConnectionLost("closed")
                    received.extend(decoder.feed(bytes(data)))
                return received.pop(0)

            nonce = os.urandom(NONCE_SIZE)
            try:
                with trio.fail_after(TIMEOUT):
                    await stream.send_all(hello_frame("remote", nonce))
                    return await complete_handshake(next_message, stream.send_all, name="remote", nonce=nonce,
                                                    secret=secret, address="socketpair")
            except _ConnectionLost as error:
                return str(error)
            finally:
                await trio.aclose_forcefully(stream)

        welcome = await handshake(SECRET)
        assert isinstance(welcome, list) and welcome[0] is MessageType.WELCOME
        refused = await handshake("")
        assert refused == "the broker at socketpair requires a shared secret: set ZEEBE_TRIO_COMMAND_API_SECRET to its" \
                          " command_api_secret"
        wrong = await handshake("not-the-secret-the-broker-has")
        assert isinstance(wrong, str) and "authentication failed" in wrong


def test_broker_ca_that_is_not_a_certificate_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zeebe_trio.cli import main

    (tmp_path / "ca.pem").write_text("nothing here\n")
    assert main(["gateway", "--broker-ca", str(tmp_path / "ca.pem"), "--port", "0"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith(f"--broker-ca: '{tmp_path / 'ca.pem'}' holds no PEM certificate (-----BEGIN"
                          " CERTIFICATE-----); set it to the CA certificate(s) the server's certificate was"
                          " issued by")
    assert len(error.splitlines()) == 1


async def test_sql_queries_reach_a_tls_command_api_trusting_the_brokers_own_certificate(
        tmp_path: Path, pki: Pki) -> None:
    """``query_broker`` (what ``zeebe-trio sql`` calls) pins the broker's certificate file, so it needs
    no CA and no host name: on the broker's host it reads the same settings the broker does."""
    pytest.importorskip("zeebe_trio_duckdb")
    async with tls_broker(tmp_path, pki, exporters=None) as broker:
        address = f"localhost:{broker.command_api_port}"
        pinned = pinned_context(pki.certificate, setting="command_api_tls_certificate")
        with trio.fail_after(TIMEOUT):
            while True:
                try:
                    columns, rows, _truncated, _by = await query_broker(address, "SELECT 41 + 1 AS answer",
                                                                        ssl_context=pinned)
                    break
                except BrokerError as error:
                    if "not open yet" not in error.message:  # the export opens just after the broker starts
                        raise
                    await trio.sleep(0.02)
        assert (columns, rows) == (["answer"], [[42]])
        with pytest.raises(BrokerError, match="the broker closed the connection \\(if its command API serves TLS"):
            await query_broker(address, "SELECT 1", timeout=TIMEOUT)
        other = tmp_path / "other.pem"
        other.write_bytes(pki.other_ca.read_bytes())  # any other certificate: refused
        with pytest.raises(BrokerError, match="the TLS handshake failed: the certificate did not verify"):
            await query_broker(address, "SELECT 1", ssl_context=pinned_context(other, setting="x"))


async def test_zeebe_trio_sql_reads_the_brokers_settings_and_queries_over_tls(
        tmp_path: Path, pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("zeebe_trio_duckdb")
    from zeebe_trio import cli

    async with tls_broker(tmp_path, pki, exporters=None) as broker:
        config = tmp_path / "broker.toml"
        config.write_text(f'[broker]\ndata_dir = "{tmp_path / "data"}"\ncommand_api_port = {broker.command_api_port}\n'
                          f'command_api_tls_certificate = "{pki.certificate}"\n'
                          f'command_api_tls_private_key = "{pki.private_key}"\n')
        with trio.fail_after(TIMEOUT):
            while True:  # the export opens just after the broker starts
                code = await trio.to_thread.run_sync(
                    functools.partial(cli.main, ["sql", "--config", str(config), "--broker",
                                                 f"localhost:{broker.command_api_port}", "SELECT 41 + 1 AS answer"]))
                out, err = capsys.readouterr()
                if code == 0 or "not open yet" not in err:
                    break
                await trio.sleep(0.05)
    assert code == 0, err
    assert "42" in out and "answered by the running broker" in out
