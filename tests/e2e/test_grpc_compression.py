"""gRPC compression: clients that compress (gzip, deflate) drive every RPC, through the embedded and the
standalone gateway; unknown encodings, zip bombs and oversized messages get gRPC's answers.

The Camunda 8 JS SDK compresses every request with gzip; grpcio's ``compression=`` channel option is the
real, independent client here (pyzeebe's generated stubs). grpcio sends a message uncompressed when
compressing would not make it smaller (an empty ``TopologyRequest``), so the raw HTTP/2 client below
(the ``h2`` package) forces compressed messages, sends what no real client would (an unknown encoding, a
bomb, a lying length), and reads the response headers and message flags grpcio hides.

The standalone gateway is the one ``zeebe-trio gateway`` runs (``run_standalone_gateway``: gRPC in front
of a ``RemoteBrokerPort`` over the broker's TCP command API), started in this process so a test can read
the broker's log (incident keys are not in any gRPC response).
"""

from __future__ import annotations

import json
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
import trio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.gateway import run_standalone_gateway
from zeebe_trio.protocol import IncidentIntent, ValueType
from zeebe_trio.testing import BrokerHarness, one_task_bpmn

from .conftest import Client

TIMEOUT = 20.0  # seconds any single call or wait may take
LIMIT = 4 * 1024 * 1024  # the gateway's default max_message_size
#: Compressible variables, large enough that grpcio really compresses the requests carrying them.
BIG = {"note": "compress me " * 400}
WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass
class Gateway:
    broker: Broker
    port: int


@pytest.fixture(params=["embedded", "standalone"])
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    standalone = request.param == "standalone"
    config = BrokerConfig(data_dir=tmp_path, host="127.0.0.1", gateway_port=0, exporters={},
                          embedded_gateway=not standalone, command_api_host="127.0.0.1", command_api_port=0)
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        if standalone:
            port = await nursery.start(partial(run_standalone_gateway, ("127.0.0.1", broker.command_api_port),
                                               host="127.0.0.1", grpc_port=0))
        else:
            port = broker.gateway_port
        yield Gateway(broker, port)
        nursery.cancel_scope.cancel()


@pytest.fixture(params=[grpc.Compression.Gzip, grpc.Compression.Deflate], ids=["gzip", "deflate"])
def client(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[Client]:
    c = Client(f"127.0.0.1:{gateway.port}", compression=request.param)
    yield c
    c.close()


def _vars(**values: object) -> str:
    return json.dumps({**BIG, **values})


async def _incident_key(broker: Broker, job_key: int) -> int:
    with trio.fail_after(TIMEOUT):
        record = await BrokerHarness(broker).wait_for_record(
            lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED
            and r.value["jobKey"] == job_key)
    return int(record.key)


# -- every RPC, through a real compressing client -----------------------------------------------------

async def test_topology_and_health_answer_a_compressing_client(client: Client) -> None:
    topology = await client.call("Topology", pb.TopologyRequest())
    assert [p.partitionId for b in topology.brokers for p in b.partitions] == [1]
    health = health_pb2_grpc.HealthStub(client.channel)
    response = await trio.to_thread.run_sync(
        partial(health.Check, health_pb2.HealthCheckRequest(service="gateway_protocol.Gateway"), timeout=TIMEOUT))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_process_runs_from_deployment_to_result_with_compressed_messages(client: Client) -> None:
    deployed = await client.deploy("p.bpmn", one_task_bpmn("p", "work"))
    assert deployed.deployments[0].process.bpmnProcessId == "p"
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=_vars(a=1)))
    [job] = await client.activate("work")
    assert job.processInstanceKey == created.processInstanceKey
    assert json.loads(job.variables) == {**BIG, "a": 1}
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables=_vars(b=2)))

    results = []

    async def create_with_result() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables=_vars(c=3)),
            requestTimeout=int(TIMEOUT * 1000))))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create_with_result)
        [second] = await client.activate("work", request_timeout_ms=int(TIMEOUT * 1000))
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=second.key, variables=_vars(d=4)))
    [result] = results
    assert json.loads(result.variables) == {**BIG, "c": 3, "d": 4}


async def test_failing_throwing_and_updating_jobs_with_compressed_messages(client: Client, gateway: Gateway) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "flaky"))
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=_vars()))
    [job] = await client.activate("flaky")
    await client.call("FailJob", pb.FailJobRequest(jobKey=job.key, retries=0, errorMessage="down " * 300))
    incident_key = await _incident_key(gateway.broker, job.key)
    await client.call("UpdateJobRetries", pb.UpdateJobRetriesRequest(jobKey=job.key, retries=2))
    await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident_key))
    [again] = await client.activate("flaky")
    assert (again.key, again.retries) == (job.key, 2)

    await client.call("UpdateJobTimeout", pb.UpdateJobTimeoutRequest(jobKey=again.key, timeout=120_000))
    response = await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=instance.processInstanceKey, variables=_vars(set=True)))
    assert response.key > 0
    await client.call("ThrowError", pb.ThrowErrorRequest(
        jobKey=again.key, errorCode="NOT_PAID", errorMessage="no money " * 300))
    with pytest.raises(grpc.RpcError) as error:  # a rejection keeps its status through compression
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=again.key, variables=_vars()))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_job_stream_pushes_compressed_jobs(client: Client, gateway: Gateway) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "pushed"))
    stream = client.stub.StreamActivatedJobs(
        pb.StreamActivatedJobsRequest(type="pushed", worker="streamer " * 100, timeout=60_000), timeout=TIMEOUT)
    try:
        with trio.fail_after(TIMEOUT):
            await gateway.broker.job_streams.wait_until_open("pushed")
        created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=_vars(n=1)))
        job = await trio.to_thread.run_sync(next, stream)
    finally:
        stream.cancel()
    assert job.processInstanceKey == created.processInstanceKey
    assert json.loads(job.variables) == {**BIG, "n": 1}
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))


async def test_messages_signals_and_cancelling_with_compressed_messages(client: Client) -> None:
    message = await client.call("PublishMessage", pb.PublishMessageRequest(
        name="paid", correlationKey="order-1", timeToLive=60_000, variables=_vars()))
    assert message.key > 0
    signal = await client.call("BroadcastSignal", pb.BroadcastSignalRequest(signalName="stop", variables=_vars()))
    assert signal.key > 0
    await client.deploy("p.bpmn", one_task_bpmn("p", "never"))
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=_vars()))
    await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
        processInstanceKey=instance.processInstanceKey))
    assert await client.activate("never") == []


# -- on the wire, with a raw HTTP/2 client -------------------------------------------------------------

@dataclass
class Answer:
    headers: dict[str, str]
    messages: list[tuple[int, bytes]] = field(default_factory=list)  # (compressed flag, bytes as sent)
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> grpc.StatusCode:
        code = int((self.trailers or self.headers)["grpc-status"])
        return next(s for s in grpc.StatusCode if s.value[0] == code)

    @property
    def message(self) -> str:
        from urllib.parse import unquote

        return unquote((self.trailers or self.headers).get("grpc-message", ""))


def frame(payload: bytes, flag: int) -> bytes:
    return struct.pack(">BI", flag, len(payload)) + payload


def compress(data: bytes, encoding: str) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, WBITS[encoding])
    return compressor.compress(data) + compressor.flush()


def raw_call(port: int, path: str, body: bytes, headers: list[tuple[str, str]], *, end_stream: bool = True) -> Answer:
    """One gRPC call over a fresh HTTP/2 connection: send ``body`` (framed messages) as is, read the answer."""
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:

        def events() -> list[h2.events.Event]:
            data = sock.recv(65536)
            assert data, "the gateway closed the connection"
            received = connection.receive_data(data)
            sock.sendall(connection.data_to_send())
            return received

        connection.initiate_connection()
        stream_id = connection.get_next_available_stream_id()
        connection.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", f"127.0.0.1:{port}"),
            ("content-type", "application/grpc"), ("te", "trailers"), *headers])
        sock.sendall(connection.data_to_send())
        pending: list[h2.events.Event] = []
        sent = 0
        while sent < len(body):
            size = min(connection.local_flow_control_window(stream_id), connection.max_outbound_frame_size,
                       len(body) - sent)
            if size <= 0:
                pending += events()  # wait for the gateway's window updates
                continue
            connection.send_data(stream_id, body[sent:sent + size])
            sock.sendall(connection.data_to_send())
            sent += size
        if end_stream:
            connection.end_stream(stream_id)
            sock.sendall(connection.data_to_send())

        answer: Answer | None = None
        data = b""
        while True:
            for event in pending or events():
                if isinstance(event, h2.events.ResponseReceived):
                    answer = Answer(dict(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    assert answer is not None
                    answer.trailers = dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    assert answer is not None, f"the stream ended without an answer: {event}"
                    while data:
                        flag, length = struct.unpack(">BI", data[:5])
                        answer.messages.append((flag, data[5:5 + length]))
                        data = data[5 + length:]
                    return answer
            pending = []


async def call_raw(port: int, path: str, body: bytes, headers: list[tuple[str, str]], **kwargs: bool) -> Answer:
    return await trio.to_thread.run_sync(partial(raw_call, port, path, body, headers, **kwargs))


TOPOLOGY = "/gateway_protocol.Gateway/Topology"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_request_is_answered_compressed_in_its_encoding(gateway: Gateway, encoding: str) -> None:
    # An empty TopologyRequest compressed anyway, as the JS SDK sends it.
    answer = await call_raw(gateway.port, TOPOLOGY, frame(compress(b"", encoding), 1),
                            [("grpc-encoding", encoding), ("grpc-accept-encoding", "identity,deflate,gzip")])
    assert answer.status == grpc.StatusCode.OK
    assert answer.headers["grpc-encoding"] == encoding
    assert set(answer.headers["grpc-accept-encoding"].split(",")) == {"gzip", "deflate", "identity"}
    [(flag, payload)] = answer.messages
    assert flag == 1
    topology = pb.TopologyResponse.FromString(zlib.decompress(payload, WBITS[encoding]))
    assert [p.partitionId for b in topology.brokers for p in b.partitions] == [1]


async def test_streamed_activate_jobs_responses_are_compressed(gateway: Gateway) -> None:
    client = Client(f"127.0.0.1:{gateway.port}")
    try:
        await client.deploy("p.bpmn", one_task_bpmn("p", "work"))
        await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=_vars()))
    finally:
        client.close()
    request = pb.ActivateJobsRequest(type="work", worker="raw", timeout=60_000, maxJobsToActivate=1,
                                     requestTimeout=int(TIMEOUT * 1000)).SerializeToString()
    answer = await call_raw(gateway.port, "/gateway_protocol.Gateway/ActivateJobs", frame(compress(request, "gzip"), 1),
                            [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")])
    assert answer.status == grpc.StatusCode.OK and answer.headers["grpc-encoding"] == "gzip"
    [(flag, payload)] = answer.messages
    assert flag == 1 and len(payload) < len(BIG["note"])
    [job] = pb.ActivateJobsResponse.FromString(zlib.decompress(payload, WBITS["gzip"])).jobs
    assert json.loads(job.variables) == BIG


@pytest.mark.parametrize("accept", [None, "identity", "deflate"])
async def test_a_client_that_does_not_accept_the_request_encoding_is_answered_uncompressed(
        gateway: Gateway, accept: str | None) -> None:
    headers = [("grpc-encoding", "gzip")] + ([("grpc-accept-encoding", accept)] if accept else [])
    answer = await call_raw(gateway.port, TOPOLOGY, frame(compress(b"", "gzip"), 1), headers)
    assert answer.status == grpc.StatusCode.OK
    assert "grpc-encoding" not in answer.headers and "grpc-accept-encoding" in answer.headers
    [(flag, payload)] = answer.messages
    assert flag == 0 and pb.TopologyResponse.FromString(payload).brokers


async def test_an_uncompressed_message_under_a_compressed_encoding_is_accepted(gateway: Gateway) -> None:
    # The flag is per message: grpcio sends small messages this way.
    answer = await call_raw(gateway.port, TOPOLOGY, frame(b"", 0),
                            [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")])
    assert answer.status == grpc.StatusCode.OK and answer.messages[0][0] == 1


async def test_an_unknown_encoding_is_unimplemented_naming_it_and_listing_what_is_supported(gateway: Gateway) -> None:
    answer = await call_raw(gateway.port, TOPOLOGY, frame(b"\x00\x01", 1), [("grpc-encoding", "snappy")])
    assert answer.status == grpc.StatusCode.UNIMPLEMENTED
    assert answer.message.startswith("Can't find decompressor for snappy")
    assert set(answer.headers["grpc-accept-encoding"].split(",")) == {"gzip", "deflate", "identity"}


async def test_a_gzip_bomb_over_the_limit_is_resource_exhausted(gateway: Gateway) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, WBITS["gzip"])
    zeros = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(zeros) for _ in range(16)) + compressor.flush()  # 16 MiB -> 16 KiB
    answer = await call_raw(gateway.port, TOPOLOGY, frame(bomb, 1), [("grpc-encoding", "gzip")])
    assert answer.status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.message.startswith(f"Decompressed gRPC message exceeds maximum size {LIMIT}")


async def test_a_message_announced_over_the_limit_is_refused_before_it_is_read(gateway: Gateway) -> None:
    # Only the 5-byte prefix is sent, and the stream is left open: the answer cannot wait for the rest.
    answer = await call_raw(gateway.port, TOPOLOGY, struct.pack(">BI", 0, LIMIT + 1), [], end_stream=False)
    assert answer.status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.message.startswith(f"gRPC message exceeds maximum size {LIMIT}: {LIMIT + 1}")


@pytest.mark.parametrize(("body", "headers", "words"), [
    (frame(b"\x1f\x8b not gzip", 1), [("grpc-encoding", "gzip")], "Could not decompress the gzip request message"),
    (frame(compress(b"x" * 100, "gzip")[:-6], 1), [("grpc-encoding", "gzip")], "ends before the stream does"),
    (frame(compress(b"", "gzip"), 1), [], "compression not configured"),
    (frame(b"", 2), [], "gRPC frame header malformed"),
], ids=["not-gzip", "truncated", "compressed-without-encoding", "bad-flag"])
async def test_malformed_compressed_messages_are_internal_errors_saying_why(
        gateway: Gateway, body: bytes, headers: list[tuple[str, str]], words: str) -> None:
    answer = await call_raw(gateway.port, TOPOLOGY, body, headers)
    assert answer.status == grpc.StatusCode.INTERNAL
    assert words in answer.message
