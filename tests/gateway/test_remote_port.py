"""RemoteBrokerPort against the broker's command API over loopback TCP, both sides in one Trio run.

Most tests put the command API in front of the scripted ``FakeBroker`` (plus ``yield_job``), so each
part of the contract can be driven exactly; the last ones use a real broker and a real gRPC client.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.broker._command_api import CommandApiServer
from zeebe_trio.gateway import BrokerCommand, BrokerError, JobStreamSpec, RemoteBrokerPort, serve_gateway
from zeebe_trio.gateway._jobs import JobStreamBuffer
from zeebe_trio.gateway._remote import hello_frame, query_broker
from zeebe_trio.protocol import (
    HTTP2_PREFACE,
    WIRE_VERSION,
    DeploymentIntent,
    FrameDecoder,
    JobBatchIntent,
    JobIntent,
    MessageType,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    RejectionType,
    ValueType,
    WireError,
    auth_proof,
    encode_frame,
    encode_key,
    foreign_protocol,
    foreign_server_protocol,
)
from zeebe_trio.testing import one_task_bpmn, open_broker

TIMEOUT = 10  # seconds any single wait in these tests may take


@pytest.fixture
def backend(broker: Any) -> Any:
    """The scripted broker (conftest's ``FakeBroker``), plus what the command API needs beyond the
    port: yielding jobs."""
    broker.partition_ids = [1, 2]
    broker.yielded = []

    def yield_job(job_key: int) -> None:
        broker.yielded.append(job_key)
        broker._touch()

    broker.yield_job = yield_job
    return broker


@asynccontextmanager
async def command_api(backend: Any, port: int = 0, **options: Any) -> AsyncIterator[tuple[CommandApiServer, int]]:
    server = CommandApiServer(backend, host="127.0.0.1", port=port, **options)
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(server.run)
        yield server, bound
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def remote(bound: int, **options: Any) -> AsyncIterator[RemoteBrokerPort]:
    port = RemoteBrokerPort(("127.0.0.1", bound), min_backoff=0.01, max_backoff=0.05, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(port.run)
        yield port
        nursery.cancel_scope.cancel()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create(process_id: str = "order") -> BrokerCommand:
    return BrokerCommand(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                         {"bpmnProcessId": process_id, "version": -1, "variables": {}})


# -- the wire format ----------------------------------------------------------------------------------

def test_frames_survive_any_split_of_the_byte_stream() -> None:
    frames = b"".join(encode_frame([MessageType.JOB, 1, n, {"n": n, "blob": b"x" * n}]) for n in range(50))
    for chunk in (1, 3, 7, 64, len(frames)):
        decoder = FrameDecoder()
        messages = [m for i in range(0, len(frames), chunk) for m in decoder.feed(frames[i:i + chunk])]
        assert [m[2] for m in messages] == list(range(50))
        assert all(m[0] is MessageType.JOB for m in messages) and decoder.buffered == 0


@pytest.mark.parametrize("data, problem", [
    (b"\xff\xff\xff\xff", "over the limit"),
    (b"\x00\x00\x00\x02\xc1\xc1", "not MessagePack"),
    (encode_frame({"not": "a list"}), "not a [message type"),  # type: ignore[arg-type]
    (encode_frame([99, "x"]), "unknown message type 99"),
])
def test_a_frame_that_is_not_one_is_a_wire_error_that_names_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(WireError, match=problem.replace("[", r"\[")):
        FrameDecoder(max_frame_size=1024).feed(data)


# -- commands ------------------------------------------------------------------------------------------

async def test_concurrent_requests_share_one_connection_and_get_their_own_answers_out_of_order(backend: Any) -> None:
    release = {n: trio.Event() for n in range(20)}

    async def answer(partition_id: int, command: BrokerCommand) -> Any:
        n = command.value["variables"]["n"]
        await release[n].wait()
        return backend.event(command, ProcessInstanceCreationIntent.CREATED, {"n": n, "partition": partition_id},
                             key=encode_key(partition_id, n + 1))

    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, answer)
    results: dict[int, Any] = {}
    async with command_api(backend) as (server, bound), remote(bound) as port:
        assert port.connected and list(port.partition_ids) == [1, 2]

        async def one(n: int) -> None:
            command = BrokerCommand(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                                    {"bpmnProcessId": "order", "variables": {"n": n}})
            results[n] = await port.execute(n % 2 + 1, command)

        with trio.fail_after(TIMEOUT):
            async with trio.open_nursery() as nursery:
                for n in range(20):
                    nursery.start_soon(one, n)
                await backend.wait_until(lambda: len(backend.commands) == 20)
                assert server.statistics()["connections"] == 1
                for n in reversed(range(20)):  # answer in the reverse order
                    release[n].set()
    assert {n: (r.value, r.key, r.partition_id) for n, r in results.items()} == {
        n: ({"n": n, "partition": n % 2 + 1}, encode_key(n % 2 + 1, n + 1), n % 2 + 1) for n in range(20)}


async def test_rejections_and_broker_errors_cross_the_wire_intact(backend: Any) -> None:
    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                    lambda _p, c: backend.rejection(c, RejectionType.NOT_FOUND, "no process 'order'"))
    backend.respond(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                    lambda _p, _c: BrokerError(BrokerError.RESOURCE_EXHAUSTED, "partition 1 is busy"))
    async with command_api(backend) as (_server, bound), remote(bound) as port:
        with trio.fail_after(TIMEOUT):
            record = await port.execute(1, create())
            assert record.is_rejection and record.rejection_type is RejectionType.NOT_FOUND
            assert record.rejection_reason == "no process 'order'"
            with pytest.raises(BrokerError) as error:
                await port.execute(1, BrokerCommand(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {}))
    assert (error.value.code, error.value.message) == (BrokerError.RESOURCE_EXHAUSTED, "partition 1 is busy")


async def test_a_cancelled_request_is_cancelled_on_the_broker_too(backend: Any) -> None:
    cancelled = trio.Event()

    async def hang(_partition_id: int, _command: BrokerCommand) -> Any:
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, hang)
    async with command_api(backend) as (_server, bound), remote(bound) as port:
        with trio.fail_after(TIMEOUT):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(port.execute, 1, create())
                await backend.wait_until(lambda: len(backend.commands) == 1)
                nursery.cancel_scope.cancel()
            await cancelled.wait()
            assert port.statistics()["requests_in_flight"] == 0


async def test_the_topology_comes_from_the_broker_and_lists_no_broker_while_disconnected(backend: Any) -> None:
    backend.partition_ids = [1, 2, 3]
    async with command_api(backend) as (_server, bound), remote(bound, topology_refresh_interval=0.05) as port:
        topology = port.topology()
        assert [(p.partition_id, p.health.name) for p in topology.brokers[0].partitions] == [
            (1, "HEALTHY"), (2, "HEALTHY"), (3, "UNHEALTHY")]
        assert (topology.partitions_count, topology.brokers[0].port) == (3, 26501)
    disconnected = RemoteBrokerPort(("127.0.0.1", free_port()))
    assert disconnected.topology().brokers == () and list(disconnected.partition_ids) == []


# -- jobs ----------------------------------------------------------------------------------------------

async def _until(condition: Any) -> None:
    """Wait (bounded) for a condition another task makes true across the loopback connection."""
    for _ in range(2000):
        if condition():
            return
        await trio.sleep(0.005)
    raise AssertionError("the condition never came true")


async def test_jobs_available_notifications_reach_only_gateways_that_watch_the_job_type(backend: Any) -> None:
    async with command_api(backend) as (server, bound), remote(bound) as watching, remote(bound) as idle:
        heard: list[str] = []
        idle_heard: list[str] = []
        arrived = trio.Event()

        def listener(job_type: str) -> None:
            heard.append(job_type)
            arrived.set()

        watching.add_jobs_available_listener(listener)
        idle.add_jobs_available_listener(idle_heard.append)
        with trio.fail_after(TIMEOUT):
            await watching.wait_connected()
            await idle.wait_connected()
        unwatch = watching.watch_job_type("payment")
        second_unwatch = watching.watch_job_type("payment")  # watches of one type may overlap
        await _until(lambda: "payment" in server._watchers)
        backend.make_jobs_available(1, "shipping")  # nobody watches it: nothing is sent
        backend.make_jobs_available(1, "payment")
        with trio.fail_after(TIMEOUT):
            await arrived.wait()
        unwatch()
        assert "payment" in server._watchers  # the other watch is still open
        second_unwatch()
        await _until(lambda: "payment" not in server._watchers)
    assert heard == ["payment"]
    assert idle_heard == []  # an idle gateway costs the broker nothing per job


async def test_a_reconnected_gateway_watches_its_job_types_again(backend: Any) -> None:
    async with command_api(backend) as (server, bound):
        async with remote(bound) as port:
            with trio.fail_after(TIMEOUT):
                await port.wait_connected()
            port.watch_job_type("payment")
            await _until(lambda: "payment" in server._watchers)
            for connection in list(server._connections.values()):
                await connection._stream.aclose()  # the broker side drops the connection
            await _until(lambda: port.connections_made == 2 and "payment" in server._watchers)


async def test_a_job_stream_receives_pushes_and_refused_or_undelivered_jobs_are_yielded(backend: Any) -> None:
    async with command_api(backend) as (_server, bound), remote(bound, job_stream_window=4) as port:
        buffer = JobStreamBuffer(capacity=2)
        spec = JobStreamSpec("payment", "w1", 30_000, ("amount",), ("<default>",))
        close = port.open_job_stream(spec, buffer)
        with trio.fail_after(TIMEOUT):
            await backend.wait_until(lambda: len(backend.streams) == 1)
            opened = backend.streams[0]
            assert opened.spec == spec
            # Broker side: the window of 4 is all it may push before the gateway grants more.
            assert [opened.sink.push(encode_key(1, n), backend.job_value()) for n in range(1, 6)] == [True] * 4 + [False]
            # Gateway side: the buffer takes 2; the other 2 are refused there and yielded back.
            await backend.wait_until(lambda: len(backend.yielded) == 2)
            assert backend.yielded == [encode_key(1, 3), encode_key(1, 4)]
            first_key, first_job = await buffer.__aiter__().receive()
            assert first_key == encode_key(1, 1) and first_job["customHeaders"] == {"method": "card"}
            # Credit came back for the jobs that arrived, so pushes flow again.
            await backend.wait_until(lambda: opened.sink.push(encode_key(1, 9), backend.job_value()))
            close(buffer.close())
            await opened.closed.wait()
    assert opened.undelivered == [encode_key(1, 2)] or opened.undelivered == [encode_key(1, 2), encode_key(1, 9)]


# -- connection trouble --------------------------------------------------------------------------------

async def test_requests_fail_as_unavailable_while_the_broker_is_down_and_work_once_it_is_back(backend: Any) -> None:
    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                    lambda _p, c: backend.event(c, ProcessInstanceCreationIntent.CREATED, {}))
    bound = free_port()
    async with remote(bound) as port:
        assert not port.connected
        with pytest.raises(BrokerError) as error:
            await port.execute(1, create())
        assert error.value.code == BrokerError.PARTITION_UNAVAILABLE and f"127.0.0.1:{bound}" in error.value.message
        with trio.fail_after(TIMEOUT):
            async with command_api(backend, bound):
                await port.wait_connected()
                assert (await port.execute(1, create())).is_event
            await port.wait_disconnected()
            with pytest.raises(BrokerError) as error:
                await port.execute(1, create())
            assert error.value.code == BrokerError.PARTITION_UNAVAILABLE
            async with command_api(backend, bound):
                await port.wait_connected()
                assert (await port.execute(1, create())).is_event
        assert port.connections_made == 2


async def test_a_request_in_flight_when_the_connection_drops_fails_as_unavailable_and_streams_reopen(backend: Any) -> None:
    async def hang(_partition_id: int, _command: BrokerCommand) -> Any:
        await trio.sleep_forever()

    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, hang)
    bound = free_port()
    failures: list[BrokerError] = []

    async def doomed(port: RemoteBrokerPort) -> None:
        with pytest.raises(BrokerError) as error:
            await port.execute(1, create())
        failures.append(error.value)

    async with remote(bound) as port:
        port.open_job_stream(JobStreamSpec("payment", "w1", 1000), JobStreamBuffer())
        with trio.fail_after(TIMEOUT):
            async with trio.open_nursery() as nursery:
                async with command_api(backend, bound):
                    await port.wait_connected()
                    await backend.wait_until(lambda: len(backend.streams) == 1)
                    nursery.start_soon(doomed, port)
                    await backend.wait_until(lambda: len(backend.commands) == 1)
                # The broker side stopped: the request in flight fails.
            await port.wait_disconnected()
            async with command_api(backend, bound):
                await backend.wait_until(lambda: len(backend.streams) == 2)  # the stream is opened again
    [failure] = failures
    assert failure.code == BrokerError.PARTITION_UNAVAILABLE
    assert "lost before the command was answered" in failure.message
    assert backend.streams[1].spec.job_type == "payment"


@pytest.mark.parametrize("garbage", [
    b"\x00\x00\x00\x03\xc1\xc1\xc1",  # 0xc1 is never MessagePack (HTTP/1 is answered in HTTP: see below)
    b"\x7f\xff\xff\xff" + b"x" * 100,
    encode_frame([MessageType.HELLO, WIRE_VERSION, "t"]) + encode_frame([MessageType.JOB, 1, 2, {}]),
    encode_frame([MessageType.HELLO, WIRE_VERSION, "t"]) + encode_frame([MessageType.EXECUTE, "x"]),
    encode_frame([MessageType.HELLO, WIRE_VERSION + 1, "t"]),
])
async def test_a_misbehaving_connection_is_closed_and_others_carry_on(backend: Any, garbage: bytes) -> None:
    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                    lambda _p, c: backend.event(c, ProcessInstanceCreationIntent.CREATED, {}))
    async with command_api(backend) as (server, bound), remote(bound) as port:
        with trio.fail_after(TIMEOUT):
            stream = await trio.open_tcp_stream("127.0.0.1", bound)
            await stream.send_all(garbage)
            received = b""
            while chunk := await stream.receive_some(65536):  # until the broker closes it
                received += chunk
            await stream.aclose()
            messages = FrameDecoder().feed(received)
            assert messages[-1][0] is MessageType.GOODBYE and "protocol error" in messages[-1][1]
            assert (await port.execute(1, create())).is_event
            assert server.statistics()["connections"] == 1


# -- a real broker -------------------------------------------------------------------------------------

async def test_a_gateway_over_a_remote_port_serves_a_real_broker(tmp_path: Path) -> None:
    async with open_broker(tmp_path, command_api_enabled=True, command_api_port=0,
                           command_api_host="127.0.0.1") as harness:
        async with remote(harness.broker.command_api_port) as port, trio.open_nursery() as nursery:
            grpc_port = await nursery.start(partial(serve_gateway, port, host="127.0.0.1", grpc_port=0))
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                stub = gateway_pb2_grpc.GatewayStub(channel)

                def scenario() -> tuple[Any, Any, Any]:
                    stub.DeployResource(pb.DeployResourceRequest(
                        resources=[pb.Resource(name="p.bpmn", content=one_task_bpmn("p", "work"))]), timeout=TIMEOUT)
                    result = stub.CreateProcessInstanceWithResult.future(pb.CreateProcessInstanceWithResultRequest(
                        request=pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables='{"a": 1}'),
                        requestTimeout=TIMEOUT * 1000), timeout=TIMEOUT)
                    [job] = [j for r in stub.ActivateJobs(pb.ActivateJobsRequest(
                        type="work", worker="w", timeout=60_000, maxJobsToActivate=5, requestTimeout=TIMEOUT * 1000),
                        timeout=TIMEOUT) for j in r.jobs]
                    stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key, variables='{"b": 2}'), timeout=TIMEOUT)
                    with pytest.raises(grpc.RpcError) as missing:
                        stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="nope"),
                                                   timeout=TIMEOUT)
                    return job, result.result(), missing.value

                job, result, missing = await trio.to_thread.run_sync(scenario)
            nursery.cancel_scope.cancel()
    assert json.loads(job.variables) == {"a": 1}
    assert json.loads(result.variables) == {"a": 1, "b": 2}
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_a_job_a_remote_stream_cannot_deliver_is_yielded_by_the_real_broker(tmp_path: Path) -> None:
    async with open_broker(tmp_path, command_api_enabled=True, command_api_port=0,
                           command_api_host="127.0.0.1") as harness:
        await harness.deploy("p.bpmn", one_task_bpmn("p", "pushed"))
        async with remote(harness.broker.command_api_port) as port:
            refusing = Refusing()
            close = port.open_job_stream(JobStreamSpec("pushed", "w", 60_000), refusing)
            with trio.fail_after(TIMEOUT):
                await harness.broker.job_streams.wait_until_open("pushed")
                created = await port.execute(1, create("p"))
                yielded = await harness.wait_for_record(lambda r: r.intent is JobIntent.YIELDED)
            close()
    assert created.is_event and refusing.keys == [yielded.key]
    assert yielded.value["processInstanceKey"] == created.value["processInstanceKey"]


class Refusing:
    """A stream sink that never has room."""

    def __init__(self) -> None:
        self.keys: list[int] = []

    def push(self, job_key: int, job: dict[str, Any]) -> bool:
        self.keys.append(job_key)
        return False


# -- a client on the wrong port is told so in its own protocol -----------------------------------------

async def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` and read until the server closes the connection."""
    received = bytearray()
    with trio.fail_after(TIMEOUT):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(data)
            while chunk := await stream.receive_some(65536):
                received += chunk
    return bytes(received)


async def test_an_http2_client_on_the_command_api_gets_a_goaway_naming_the_gateway_port(backend: Any) -> None:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
                            (":path", "/gateway_protocol.Gateway/Topology"), ("content-type", "application/grpc")],
                        end_stream=True)
    async with command_api(backend) as (server, bound):
        answer = await _exchange(bound, client.data_to_send())
        assert server.statistics()["foreign_clients_refused"] == 1
    goaways = [e for e in client.receive_data(answer) if isinstance(e, h2.events.ConnectionTerminated)]
    assert len(goaways) == 1 and goaways[0].error_code == 1  # PROTOCOL_ERROR
    assert b"command API" in goaways[0].additional_data and b"26500" in goaways[0].additional_data


async def test_an_http1_client_on_the_command_api_gets_a_400_that_says_what_the_port_is(backend: Any) -> None:
    async with command_api(backend) as (_, bound):
        answer = await _exchange(bound, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"command API" in answer and b"gRPC port (26500" in answer


async def test_refused_clients_are_logged_once_per_interval_not_once_each(backend: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="zeebe_trio.broker._command_api"):
        async with command_api(backend) as (server, bound):
            for _ in range(5):
                await _exchange(bound, HTTP2_PREFACE)
            assert server.statistics()["foreign_clients_refused"] == 5
    assert len([r for r in caplog.records if "refused a HTTP/2 client" in r.getMessage()]) == 1


async def test_a_gateway_still_connects_after_foreign_clients_were_refused(backend: Any) -> None:
    async with command_api(backend) as (_, bound):
        await _exchange(bound, HTTP2_PREFACE)
        async with remote(bound) as port:
            with trio.fail_after(TIMEOUT):
                await port.wait_connected()


class _CallOnRecord(logging.Handler):
    def __init__(self, on_record: Any) -> None:
        super().__init__(logging.WARNING)
        self.on_record = on_record

    def emit(self, record: logging.LogRecord) -> None:
        self.on_record(record)


async def test_a_standalone_gateway_pointed_at_a_grpc_port_says_it_answered_in_http2(backend: Any) -> None:
    async with trio.open_nursery() as nursery:
        grpc_port = await nursery.start(partial(serve_gateway, backend, host="127.0.0.1", grpc_port=0))
        logged = trio.Event()
        handler = _CallOnRecord(lambda record: "answered in HTTP/2" in record.getMessage() and logged.set())
        logging.getLogger("zeebe_trio.gateway").addHandler(handler)
        try:
            async with remote(grpc_port):
                with trio.fail_after(TIMEOUT):
                    await logged.wait()
        finally:
            logging.getLogger("zeebe_trio.gateway").removeHandler(handler)
        with pytest.raises(BrokerError, match="answered in HTTP/2, not as a broker's command API: is it a gateway's"
                                              " gRPC port"):
            await query_broker(f"127.0.0.1:{grpc_port}", "SELECT 1", timeout=TIMEOUT)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(("first_bytes", "protocol"), [
    (HTTP2_PREFACE, "HTTP/2"),
    (HTTP2_PREFACE[:8], "HTTP/2"),
    (b"GET / HTTP/1.1\r\n", "HTTP/1"),
    (b"POST /gateway_protocol.Gateway/Topology HTTP/1.0\n", "HTTP/1"),
    (b"\x16\x03\x01\x02\x00", "TLS"),
    (encode_frame([MessageType.HELLO, WIRE_VERSION, "gw"]), None),
    (b"\x00\x00", None),
])
def test_the_first_bytes_of_a_client_name_its_protocol(first_bytes: bytes, protocol: str | None) -> None:
    assert foreign_protocol(first_bytes) == protocol


@pytest.mark.parametrize(("first_bytes", "protocol"), [
    (b"\x00\x00\x12\x04\x00\x00\x00\x00\x00" + b"\x00" * 18, "HTTP/2"),  # a server's SETTINGS frame
    (b"HTTP/1.1 400 Bad Request\r\n", "HTTP/1"),
    (b"\x15\x03\x03\x00\x02\x02\x46", "TLS"),
    (encode_frame([MessageType.WELCOME, WIRE_VERSION, {}]), None),
])
def test_the_first_bytes_of_a_server_name_its_protocol(first_bytes: bytes, protocol: str | None) -> None:
    assert foreign_server_protocol(first_bytes) == protocol


# -- hostile or unauthorised peers on the command API -----------------------------------------------------

SECRET = "a-shared-secret-for-the-tests"


async def _raw_handshake(stream: trio.SocketStream, *, name: str = "raw", secret: str = "") -> list[Any]:
    """HELLO (and AUTH) by hand; returns the broker's answer: WELCOME, or GOODBYE."""
    decoder, received = FrameDecoder(), []

    async def next_message() -> list[Any]:
        while not received:
            data = await stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("closed")
            received.extend(decoder.feed(data))
        return received.pop(0)

    nonce = b"\x01" * 16
    await stream.send_all(hello_frame(name, nonce))
    answer = await next_message()
    if answer[0] is MessageType.CHALLENGE:
        await stream.send_all(encode_frame([MessageType.AUTH, auth_proof(secret, "gateway", answer[1], nonce, name)]))
        answer = await next_message()
    return answer


def _served_over_socketpair(nursery: trio.Nursery, server: CommandApiServer) -> trio.SocketStream:
    """A peer with no IP address (a socket pair), which the broker treats as another host; the
    broker's side of it is served in ``nursery``."""
    ours, theirs = trio.socket.socketpair()
    nursery.start_soon(server._serve_connection, trio.SocketStream(theirs))
    return trio.SocketStream(ours)


async def test_a_peer_on_another_host_is_refused_without_a_shared_secret(backend: Any) -> None:
    async with command_api(backend) as (server, _), trio.open_nursery() as nursery:
        stream = _served_over_socketpair(nursery, server)
        with trio.fail_after(TIMEOUT):
            answer = await _raw_handshake(stream)
        await stream.aclose()
    assert answer[0] is MessageType.GOODBYE and "command_api_secret" in answer[1]
    assert server.statistics()["refused_unauthenticated"] == 1


async def test_with_a_shared_secret_a_remote_gateway_that_proves_it_is_served(backend: Any) -> None:
    backend.respond(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                    lambda _p, c: backend.event(c, ProcessInstanceCreationIntent.CREATED, {}))
    async with command_api(backend, secret=SECRET) as (server, bound):
        async with trio.open_nursery() as nursery:
            stream = _served_over_socketpair(nursery, server)
            with trio.fail_after(TIMEOUT):
                assert (await _raw_handshake(stream, secret=SECRET))[0] is MessageType.WELCOME
            await stream.aclose()
        async with remote(bound, secret=SECRET) as port:
            with trio.fail_after(TIMEOUT):
                await port.wait_connected()
                assert (await port.execute(1, create())).is_event


@pytest.mark.parametrize(("broker_secret", "gateway_secret", "problem"), [
    (SECRET, "not-the-right-secret-at-all", "authentication failed"),
    (SECRET, "", "requires a shared secret"),
    ("", SECRET, "did not ask for the shared secret"),
])
async def test_a_gateway_and_broker_whose_secrets_differ_never_connect(
        backend: Any, broker_secret: str, gateway_secret: str, problem: str) -> None:
    logged = trio.Event()
    handler = _CallOnRecord(lambda record: problem in record.getMessage() and logged.set())
    logging.getLogger("zeebe_trio").addHandler(handler)
    try:
        async with command_api(backend, secret=broker_secret) as (_, bound), remote(bound, secret=gateway_secret) as port:
            with trio.fail_after(TIMEOUT):
                await logged.wait()
            assert port.connections_made == 0
    finally:
        logging.getLogger("zeebe_trio").removeHandler(handler)


@pytest.mark.parametrize(("value_type", "intent", "value"), [
    (ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, {}),  # a waiting task "completes"
    (ValueType.JOB, JobIntent.YIELD, {}),  # another worker's job handed on
    (ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ACTIVATE_ELEMENT, {"bpmnProcessId": "p"}),  # a chosen key
])
async def test_a_gateway_may_send_only_client_commands(backend: Any, value_type: ValueType, intent: int,
                                                       value: dict[str, Any]) -> None:
    async with command_api(backend) as (_, bound), remote(bound) as port:
        with pytest.raises(BrokerError) as refused:
            await port.execute(1, BrokerCommand(value_type, intent, value, key=encode_key(1, 7)))
    assert refused.value.code == BrokerError.MALFORMED_REQUEST
    assert "written only by the engine itself" in refused.value.message
    assert backend.commands == []  # never reached a partition


async def test_a_command_for_another_tenant_is_refused(backend: Any) -> None:
    async with command_api(backend) as (_, bound), remote(bound) as port:
        with pytest.raises(BrokerError, match="tenant identifier 'acme', but multi-tenancy is disabled"):
            await port.execute(1, BrokerCommand(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                                                {"bpmnProcessId": "p", "tenantId": "acme"}))
    assert backend.commands == []


async def test_connections_beyond_the_limit_are_refused_at_once(backend: Any) -> None:
    async with command_api(backend, max_connections=2) as (server, bound):
        async with remote(bound) as first, remote(bound) as second:
            with trio.fail_after(TIMEOUT):
                await first.wait_connected()
                await second.wait_connected()
            answer = await _exchange(bound, b"")
            assert b"too many connections" in answer and b"command_api_max_connections" in answer
            assert server.statistics()["refused_over_limit"] == 1


async def test_before_the_handshake_a_peer_may_announce_only_a_small_frame(backend: Any) -> None:
    async with command_api(backend, max_frame_size=8 * 1024 * 1024) as (server, bound):
        answer = await _exchange(bound, (1024 * 1024).to_bytes(4, "big") + b"x" * 1000)
        assert server.statistics()["buffered_bytes"] == 0
    assert b"over the limit of 65536 bytes" in answer


async def test_partial_frames_of_all_connections_share_one_budget(backend: Any) -> None:
    async with command_api(backend, max_frame_size=1024 * 1024, max_buffered_bytes=200_000) as (server, bound):
        streams = []
        for name, size in (("one", 150_000), ("two", 60_000)):
            stream = await trio.open_tcp_stream("127.0.0.1", bound)
            streams.append(stream)
            with trio.fail_after(TIMEOUT):
                assert (await _raw_handshake(stream, name=name))[0] is MessageType.WELCOME
            await stream.send_all((500_000).to_bytes(4, "big") + b"x" * size)  # a frame begun, not ended
            if name == "one":
                await _until(lambda: server.statistics()["buffered_bytes"] == 150_004)
        received = b""
        with trio.fail_after(TIMEOUT):
            while chunk := await streams[1].receive_some(65536):
                received += chunk
        assert b"over its budget of 200000 (" in received and b"command_api_max_buffered_bytes" in received
        await _until(lambda: server.statistics()["connections"] == 1)
        assert server.statistics()["buffered_bytes"] <= 150_004
        for stream in streams:
            await stream.aclose()
        await _until(lambda: server.statistics()["buffered_bytes"] == 0)


async def test_a_half_written_frame_times_out(autojump_clock: Any, backend: Any) -> None:
    async with command_api(backend, frame_timeout=30.0) as (server, bound):
        stream = await trio.open_tcp_stream("127.0.0.1", bound)
        assert (await _raw_handshake(stream))[0] is MessageType.WELCOME
        await stream.send_all((100).to_bytes(4, "big") + b"x" * 10)
        started = trio.current_time()
        received = b""
        while chunk := await stream.receive_some(65536):
            received += chunk
        assert trio.current_time() - started == pytest.approx(30.0, abs=0.01)
        assert b"a frame was not completed within 30.0 s (14 bytes of it arrived)" in received
        await stream.aclose()


async def test_tenant_ids_that_are_not_a_list_are_a_malformed_request(backend: Any) -> None:
    async with command_api(backend) as (_, bound), remote(bound) as port:
        with pytest.raises(BrokerError) as refused:
            await port.execute(1, BrokerCommand(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE,
                                                {"type": "work", "tenantIds": 7}))
    assert refused.value.code == BrokerError.MALFORMED_REQUEST and "'tenantIds' to be a list" in refused.value.message
