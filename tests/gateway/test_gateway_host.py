"""The host: serving over loopback, health, UNIMPLEMENTED, clean shutdown (real grpcio clients)."""

from __future__ import annotations

import socket
from functools import partial

import grpc
import pytest
import trio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pyzeebe.proto import gateway_pb2, gateway_pb2_grpc

from zeebe_trio.gateway import serve_gateway


async def test_topology_lists_brokers_partitions_roles_and_health(gateway):
    response = await gateway.call("Topology", gateway_pb2.TopologyRequest())

    assert response.clusterSize == 1
    assert response.partitionsCount == 3
    assert response.replicationFactor == 1
    assert response.gatewayVersion == "8.8.0"
    (broker,) = response.brokers
    assert (broker.nodeId, broker.host, broker.port, broker.version) == (0, "127.0.0.1", 26501, "8.8.0")
    assert [(p.partitionId, p.role, p.health) for p in broker.partitions] == [
        (1, gateway_pb2.Partition.LEADER, gateway_pb2.Partition.HEALTHY),
        (2, gateway_pb2.Partition.LEADER, gateway_pb2.Partition.HEALTHY),
        (3, gateway_pb2.Partition.LEADER, gateway_pb2.Partition.UNHEALTHY),
    ]


async def test_health_service_answers_serving(gateway):
    stub = health_pb2_grpc.HealthStub(gateway.channel)
    for service in ("", "gateway_protocol.Gateway"):
        response = await trio.to_thread.run_sync(
            partial(stub.Check, health_pb2.HealthCheckRequest(service=service), timeout=10)
        )
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_check_of_an_unknown_service_is_not_found(gateway):
    stub = health_pb2_grpc.HealthStub(gateway.channel)
    with pytest.raises(grpc.RpcError) as caught:
        await trio.to_thread.run_sync(
            partial(stub.Check, health_pb2.HealthCheckRequest(service="nope"), timeout=10)
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def _raw_call(gateway, path: str) -> bytes:
    """A unary call by method path with an empty (default) request: reaches RPCs of Zeebe's protocol
    that pyzeebe's stubs do not know."""
    call = gateway.channel.unary_unary(path)
    return await trio.to_thread.run_sync(partial(call, b"", timeout=10))


# RPCs of Zeebe 8.8's gateway protocol that zeebe-trio does not serve yet
@pytest.mark.parametrize("rpc", ["EvaluateConditional"])
async def test_unsupported_rpcs_answer_unimplemented_naming_the_rpc(gateway, rpc):
    with pytest.raises(grpc.RpcError) as caught:
        await _raw_call(gateway, f"/gateway_protocol.Gateway/{rpc}")
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert caught.value.details() == f"The RPC '{rpc}' is not supported by zeebe-trio yet"


async def test_an_unknown_method_path_answers_unimplemented(gateway):
    with pytest.raises(grpc.RpcError) as caught:
        await _raw_call(gateway, "/gateway_protocol.Gateway/NoSuchRpc")
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_starting_on_a_taken_port_raises_the_os_error(broker):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            await serve_gateway(broker, host="127.0.0.1", grpc_port=taken.getsockname()[1])


async def test_cancelling_the_gateway_answers_pending_calls_unavailable_and_stops_listening(broker):
    outcome: list[grpc.RpcError] = []
    async with trio.open_nursery() as clients:
        async with trio.open_nursery() as gateway_nursery:
            port = await gateway_nursery.start(partial(serve_gateway, broker, host="127.0.0.1", grpc_port=0))
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = gateway_pb2_grpc.GatewayStub(channel)

            def long_poll() -> None:
                request = gateway_pb2.ActivateJobsRequest(
                    type="payment", worker="w", timeout=1000, maxJobsToActivate=1
                )
                try:
                    list(stub.ActivateJobs(request, timeout=30))
                except grpc.RpcError as error:
                    outcome.append(error)

            clients.start_soon(partial(trio.to_thread.run_sync, long_poll))
            # The request is parked in long polling once every partition was asked once.
            await broker.wait_until(lambda: len(broker.commands) == 3)
            gateway_nursery.cancel_scope.cancel()
        # serve_gateway has returned: the asyncio thread has ended (abandon_on_cancel=False).
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", port))
    assert len(outcome) == 1
    assert outcome[0].code() is grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in outcome[0].details()
    channel.close()


def test_the_listening_socket_says_tcp_so_grpclib_disables_nagle():
    # grpclib sets TCP_NODELAY only on sockets whose proto is TCP; without it each unary call
    # waited ~40 ms on a delayed ACK (measured: 22 calls/s instead of ~500 calls/s).
    from zeebe_trio.gateway._host import _listening_socket

    with _listening_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_a_status_raised_anywhere_leaves_with_its_message_capped(gateway):
    from grpclib import GRPCError
    from grpclib.const import Status

    def topology():
        raise GRPCError(Status.UNAVAILABLE, "x" * 1_000_000)  # not built by _errors: the host still caps it

    gateway.broker.topology = topology
    with pytest.raises(grpc.RpcError) as refused:
        await gateway.call("Topology", gateway_pb2.TopologyRequest())
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(refused.value.details().encode()) <= 4096 and "message cut: 1000000 bytes" in refused.value.details()
