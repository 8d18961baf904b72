"""The broker-to-broker transport over real loopback TCP: brokers find each other from contact points,
payloads arrive in order on their channels, queues are bounded, connections come back after a broker
restarts, and a peer that is not a broker of this cluster is refused without harm to the others."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from zeebe_trio.cluster import ClusterTransport, TransportLimits, parse_address
from zeebe_trio.cluster._wire import CLUSTER_WIRE_VERSION, ClusterMessage, decode_cluster_message
from zeebe_trio.protocol import HTTP2_PREFACE, FrameDecoder, WireError, encode_frame

TIMEOUT = 20  # seconds: a safety net only, nothing waits for it
FAST = TransportLimits(min_backoff=0.01, max_backoff=0.05, hello_timeout=2.0)


@asynccontextmanager
async def running(*transports: ClusterTransport) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        for transport in transports:
            await nursery.start(transport.run)
        yield nursery
        nursery.cancel_scope.cancel()


def transport(node_id: int, *contacts: ClusterTransport, **options: Any) -> ClusterTransport:
    options.setdefault("limits", FAST)
    return ClusterTransport(node_id, host="127.0.0.1", port=0,
                            contact_points=[("127.0.0.1", c.port) for c in contacts], **options)


async def wait_until(condition: Callable[[], bool], *transports: ClusterTransport) -> None:
    """Wait for a change of any of the transports' connections until ``condition`` holds."""
    while not condition():
        async with trio.open_nursery() as nursery:
            async def first_change(t: ClusterTransport) -> None:
                await t.wait_changed()
                nursery.cancel_scope.cancel()
            for t in transports:
                nursery.start_soon(first_change, t)


async def test_brokers_that_each_know_one_other_broker_end_up_connected_to_all_of_them() -> None:
    with trio.fail_after(TIMEOUT):
        first = transport(0)
        async with running(first) as nursery:
            second = transport(1, first)
            await nursery.start(second.run)
            third = transport(2, second)
            await nursery.start(third.run)
            # third dials second, which dials it back; first hears of nobody but second: it learns the
            # third from no one, so only the pairs joined by some handshake connect
            await wait_until(lambda: third.is_connected(1) and second.is_connected(2), second, third)
            await wait_until(lambda: second.is_connected(0) and first.is_connected(1), first, second)
            assert not first.is_connected(2)
            first.learn(2, parse_address(third.advertised_address))  # what the membership gossip does
            await wait_until(lambda: first.is_connected(2) and third.is_connected(0), first, third)
            assert first.known_nodes() == [1, 2]


async def test_payloads_arrive_in_order_on_their_channel_with_the_sender() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        inbox = receiver.open_channel("raft/1", capacity=64)
        async with running(receiver) as nursery:
            sender = transport(1, receiver)
            await nursery.start(sender.run)
            for i in range(500):
                await sender.send(0, "raft/1", i.to_bytes(4, "big"))
            received = [await inbox.receive() for _ in range(500)]
            assert [d.sender for d in received] == [1] * 500
            assert [int.from_bytes(d.payload, "big") for d in received] == list(range(500))


async def test_a_payload_for_a_channel_nobody_listens_to_is_counted_and_the_rest_still_arrives() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        inbox = receiver.open_channel("membership")
        async with running(receiver) as nursery:
            sender = transport(1, receiver)
            await nursery.start(sender.run)
            assert sender.send_nowait(0, "raft/9", b"lost")
            assert sender.send_nowait(0, "membership", b"hello")
            assert (await inbox.receive()).payload == b"hello"
            assert receiver.statistics()["unknown_channel_messages"] == 1


async def test_a_payload_over_the_frame_limit_is_refused_naming_the_limit() -> None:
    sender = ClusterTransport(1, limits=TransportLimits(max_frame_size=1024))
    with pytest.raises(ValueError, match="over the cluster transport's frame limit of 1024 bytes"):
        sender.send_nowait(0, "raft/1", b"x" * 2000)
    with pytest.raises(ValueError, match="node 1 is this broker"):
        sender.send_nowait(1, "raft/1", b"x")


async def test_a_full_outbox_refuses_more_and_a_slow_receiver_pushes_back_on_the_sender() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        inbox = receiver.open_channel("raft/1", capacity=1)
        limits = TransportLimits(outbox_capacity=8, write_batch_bytes=1024, min_backoff=0.01, max_backoff=0.05)
        async with running(receiver) as nursery:
            sender = transport(1, receiver, limits=limits)
            await nursery.start(sender.run)
            await sender.wait_connected(0)
            payload = b"p" * 60_000
            accepted = 0
            # nobody reads the inbox: the receiver's reader waits, TCP buffers fill, then the outbox
            for _ in range(10_000):
                if sender.send_nowait(0, "raft/1", payload):
                    accepted += 1
                else:
                    await trio.testing.wait_all_tasks_blocked()  # let the writer move what it can
                    if not sender.send_nowait(0, "raft/1", payload):
                        break
                    accepted += 1
            else:
                pytest.fail("the outbox never filled up")
            assert sender.statistics()["peers"][0]["dropped"] >= 1
            assert accepted < 10_000
            got = 0
            while got < accepted:  # everything accepted arrives once the receiver reads again
                delivery = await inbox.receive()
                assert delivery.payload == payload
                got += 1


async def test_a_restarted_broker_is_reconnected_to_and_gets_what_was_queued_while_it_was_down() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        receiver_scope = trio.CancelScope()

        async def run_receiver(task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
            with receiver_scope:
                await receiver.run(task_status=task_status)

        async with trio.open_nursery() as nursery:
            port = await nursery.start(run_receiver)
            sender = transport(1, receiver)
            await nursery.start(sender.run)
            await sender.wait_connected(0)
            receiver_scope.cancel()
            await wait_until(lambda: not sender.is_connected(0), sender)
            for i in range(5):
                assert sender.send_nowait(0, "raft/1", bytes([i]))
            restarted = ClusterTransport(0, host="127.0.0.1", port=port, limits=FAST)
            inbox = restarted.open_channel("raft/1")
            await nursery.start(restarted.run)
            received = [(await inbox.receive()).payload for _ in range(5)]
            assert received == [bytes([i]) for i in range(5)]
            assert sender.is_connected(0)
            nursery.cancel_scope.cancel()


async def test_a_broker_of_another_cluster_is_refused() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        async with running(receiver) as nursery:
            stranger = transport(1, receiver, cluster_name="other-cluster")
            await nursery.start(stranger.run)
            await wait_until(lambda: receiver.statistics()["refused_connections"] >= 1, receiver)
            assert not stranger.is_connected(0)
            assert receiver.known_nodes() == []


async def test_brokers_with_the_same_secret_connect_and_a_wrong_secret_is_refused() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0, secret="s3cret")
        inbox = receiver.open_channel("raft/1")
        async with running(receiver) as nursery:
            friend = transport(1, receiver, secret="s3cret")
            impostor = transport(2, receiver, secret="guess")
            await nursery.start(friend.run)
            await nursery.start(impostor.run)
            assert friend.send_nowait(0, "raft/1", b"friend")
            assert (await inbox.receive()) == (1, b"friend")
            await wait_until(lambda: receiver.statistics()["refused_connections"] >= 1, receiver)
            assert not impostor.is_connected(0)


async def test_a_contact_point_that_is_the_broker_itself_is_dropped() -> None:
    with trio.fail_after(TIMEOUT):
        node = transport(0)
        async with running(node):
            node.contact_points.append(("127.0.0.1", node.port))
            # dialing itself ends after the CHALLENGE names its own node id
            await node._dial(None, ("127.0.0.1", node.port))
            assert node.known_nodes() == []


async def _talk(port: int, data: bytes) -> bytes:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(data)
        received = b""
        with trio.move_on_after(5):
            while chunk := await stream.receive_some(65536):
                received += chunk
        return received


@pytest.mark.parametrize("garbage", [
    b"\xff\xff\xff\xff" + b"x" * 100,  # announces a 4 GiB frame
    b"\x00\x00\x00\x03abc",  # not MessagePack of a message
    encode_frame([ClusterMessage.MESSAGE, "raft/1", b"before any HELLO"]),
    encode_frame([ClusterMessage.HELLO, CLUSTER_WIRE_VERSION + 7, "zeebe-cluster", 5, "127.0.0.1:1", b"n" * 16]),
])
async def test_garbage_on_the_cluster_port_closes_that_connection_and_others_carry_on(garbage: bytes) -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        inbox = receiver.open_channel("raft/1")
        async with running(receiver) as nursery:
            answer = await _talk(receiver.port, garbage)
            goodbye = FrameDecoder(decode=decode_cluster_message).feed(answer)
            assert goodbye and goodbye[-1][0] is ClusterMessage.GOODBYE
            sender = transport(1, receiver)
            await nursery.start(sender.run)
            assert sender.send_nowait(0, "raft/1", b"still here")
            assert (await inbox.receive()).payload == b"still here"


async def test_a_grpc_client_on_the_cluster_port_is_told_which_port_it_wants() -> None:
    with trio.fail_after(TIMEOUT):
        receiver = transport(0)
        async with running(receiver):
            answer = await _talk(receiver.port, HTTP2_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            assert b"internal cluster port" in answer and b"26500" in answer


def test_a_cluster_frame_that_is_not_one_is_a_wire_error_naming_the_problem() -> None:
    with pytest.raises(WireError, match="unknown cluster message kind 99"):
        FrameDecoder(decode=decode_cluster_message).feed(encode_frame([99]))
    with pytest.raises(WireError, match="HELLO has 2 fields, expected 5"):
        FrameDecoder(decode=decode_cluster_message).feed(encode_frame([ClusterMessage.HELLO, 1, 2]))
    with pytest.raises(WireError, match="MESSAGE needs a channel name"):
        FrameDecoder(decode=decode_cluster_message).feed(encode_frame([ClusterMessage.MESSAGE, 7, b""]))


@pytest.mark.parametrize(("text", "expected"), [
    ("broker-1:26502", ("broker-1", 26502)), ("10.0.0.7", ("10.0.0.7", 26502)), ("[::1]:3000", ("::1", 3000)),
])
def test_addresses_parse_with_the_internal_port_as_default(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("", "an empty address"), ("host:http", "is not a number"), ("host:70000", "out of range"), (":1", "no host"),
])
def test_a_bad_address_names_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_address(text)
