"""Raft messages on the cluster transport: every kind survives the wire, a payload that is not a Raft
message is dropped before the node sees it, the sender is the authenticated peer, and three Raft
servers over real loopback TCP elect a leader and commit."""

from __future__ import annotations

import random

import msgpack
import pytest
import trio

from zeebe_trio.cluster import (
    ClusterRaftTransport,
    ClusterTransport,
    RaftWireError,
    TransportLimits,
    decode_raft_message,
    encode_raft_message,
    raft_channel,
)
from zeebe_trio.raft import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    MemoryRaftLog,
    PreVoteRequest,
    PreVoteResponse,
    RaftConfig,
    RaftEntry,
    RaftMessage,
    RaftServer,
    Role,
    SnapshotChunk,
    SnapshotResponse,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)

MESSAGES: list[RaftMessage] = [
    PreVoteRequest(source=1, target=2, term=4, last_index=10, last_term=3),
    PreVoteResponse(source=1, target=2, term=4, granted=True),
    VoteRequest(source=1, target=2, term=4, last_index=10, last_term=3),
    VoteRequest(source=1, target=2, term=4, last_index=10, last_term=3, transfer=True),
    TimeoutNow(source=1, target=2, term=4),
    VoteResponse(source=1, target=2, term=4, granted=False),
    AppendRequest(source=1, target=2, term=4, prev_index=10, prev_term=3,
                  entries=(RaftEntry(11, 4, b""), RaftEntry(12, 4, b"\x00payload")), commit=9),
    AppendResponse(source=1, target=2, term=4, success=False, match_index=0, rejected_index=11, conflict_index=7,
                   conflict_term=None),
    AppendResponse(source=1, target=2, term=4, success=True, match_index=12, conflict_term=3),
    Heartbeat(source=1, target=2, term=4, commit=12),
    HeartbeatResponse(source=1, target=2, term=4),
    SnapshotChunk(source=1, target=2, term=4, snapshot_index=100, snapshot_term=3, offset=65536, data=b"chunk",
                  done=False),
    SnapshotResponse(source=1, target=2, term=4, snapshot_index=100, next_offset=0, done=True, match_index=100),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_raft_message_survives_the_wire(message: RaftMessage) -> None:
    assert decode_raft_message(encode_raft_message(message), source=1, target=2) == message


def test_the_source_is_the_connection_s_peer_not_a_field() -> None:
    payload = encode_raft_message(VoteRequest(source=1, target=2, term=4, last_index=0, last_term=0))
    assert decode_raft_message(payload, source=7, target=2).source == 7


@pytest.mark.parametrize(("payload", "problem"), [
    (b"\xc1", "not MessagePack"),
    (msgpack.packb({"kind": 1}), r"not a \[kind, term, fields...\] array"),
    (msgpack.packb([99, 1]), "unknown Raft message kind 99"),
    (msgpack.packb([3, 1, 5]), "VoteRequest has 1 fields, expected 3"),
    (msgpack.packb([3, 1, 5, 2, 1]), "VoteRequest.transfer must be true or false"),
    (msgpack.packb([3, -1, 5, 5, False]), "term must be a non-negative 64-bit integer"),
    (msgpack.packb([4, 1, 1]), "VoteResponse.granted must be true or false"),
    (msgpack.packb([5, 1, 10, 1, [[12, 1, b""]], 0]), "entry 0 has index 12, expected 11"),
    (msgpack.packb([5, 1, 10, 1, [[11, 1, "text"]], 0]), r"entry 0 must be \[index, term, data\]"),
    (msgpack.packb([9, 1, 1, 1, 0, "not bytes", True]), "SnapshotChunk.data must be bytes"),
])
def test_a_payload_that_is_not_a_raft_message_is_refused_naming_the_problem(payload: bytes, problem: str) -> None:
    with pytest.raises(RaftWireError, match=problem):
        decode_raft_message(payload, source=1, target=2)


async def test_a_malformed_raft_payload_is_dropped_and_the_next_message_arrives() -> None:
    limits = TransportLimits(min_backoff=0.01, max_backoff=0.05)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            receiver = ClusterTransport(0, host="127.0.0.1", port=0, limits=limits)
            raft = ClusterRaftTransport(receiver, partition_id=1)
            await nursery.start(receiver.run)
            sender = ClusterTransport(1, host="127.0.0.1", port=0, limits=limits,
                                      contact_points=[("127.0.0.1", receiver.port)])
            await nursery.start(sender.run)
            assert sender.send_nowait(0, raft_channel(1), b"\xc1garbage")
            message = Heartbeat(source=1, target=0, term=2, commit=0)
            assert sender.send_nowait(0, raft_channel(1), encode_raft_message(message))
            assert await raft.receive() == message
            assert raft.malformed == 1
            nursery.cancel_scope.cancel()


async def test_three_raft_servers_over_loopback_tcp_elect_a_leader_and_commit() -> None:
    limits = TransportLimits(min_backoff=0.01, max_backoff=0.05)
    config = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, tick_seconds=0.02)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            transports: list[ClusterTransport] = []
            for node in range(3):
                contacts = [("127.0.0.1", t.port) for t in transports]
                transport = ClusterTransport(node, host="127.0.0.1", port=0, limits=limits, contact_points=contacts)
                await nursery.start(transport.run)
                transports.append(transport)
            servers = [RaftServer(node, [0, 1, 2], MemoryRaftLog(), ClusterRaftTransport(transports[node], 1), config,
                                  rng=random.Random(node)) for node in range(3)]
            for server in servers:
                await nursery.start(server.run)
            leader_found = trio.Event()

            async def watch(server: RaftServer) -> None:
                async for change in server.role_changes():
                    if change.role is Role.LEADER:
                        leader_found.set()

            for server in servers:
                nursery.start_soon(watch, server)
            await leader_found.wait()
            leader = next(s for s in servers if s.role.role is Role.LEADER)
            index = await leader.propose(b"over the wire")
            await leader.wait_committed(index, term=leader.role.term)
            for server in servers:  # followers learn the commit index from the next heartbeat
                await server.wait_committed(index)
                assert [e.data for e in server.entries(index, index)] == [b"over the wire"]
            nursery.cancel_scope.cancel()
