"""Membership gossip: brokers learn of each other through announcements, a silent broker is down after
the failure timeout, a restarted one is believed over its old news, and garbage is dropped. Over an
in-memory network under a MockClock (the transport itself is tested over TCP on its own), plus one
run over the real transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgpack
import pytest
import trio
import trio.testing

from zeebe_trio.cluster import (
    MEMBERSHIP_CHANNEL,
    ClusterTransport,
    Delivery,
    MemberInfo,
    Membership,
    PartitionStatus,
    TransportLimits,
)


class Network:
    """Delivers at once to every running node; a node can be cut off (it neither sends nor receives)."""

    def __init__(self) -> None:
        self.nodes: dict[int, FakeTransport] = {}
        self.cut: set[int] = set()


class FakeTransport:
    def __init__(self, network: Network, node_id: int, knows: tuple[int, ...] = ()) -> None:
        self.network = network
        self.node_id = node_id
        self.peers = set(knows)
        self.channels: dict[str, trio.MemorySendChannel[Delivery]] = {}
        network.nodes[node_id] = self

    def open_channel(self, name: str, capacity: int = 256) -> trio.MemoryReceiveChannel[Delivery]:
        send, receive = trio.open_memory_channel[Delivery](capacity)
        self.channels[name] = send
        return receive

    def send_nowait(self, node_id: int, channel: str, payload: bytes) -> bool:
        target = self.network.nodes.get(node_id)
        if target is None or {self.node_id, node_id} & self.network.cut:
            return True  # sent into the void, as over a broken connection
        try:
            target.channels[channel].send_nowait(Delivery(self.node_id, payload))
        except trio.WouldBlock:
            return False
        return True

    def learn(self, node_id: int, address: tuple[str, int]) -> None:
        self.peers.add(node_id)

    def known_nodes(self) -> list[int]:
        return sorted(self.peers)


def info(node_id: int, **changes: object) -> MemberInfo:
    return MemberInfo(node_id=node_id, internal_address=f"broker-{node_id}:26502", version="8.8.0", **changes)  # type: ignore[arg-type]


@asynccontextmanager
async def gossiping(*members: Membership) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        for member in members:
            await nursery.start(member.run)
        yield nursery
        nursery.cancel_scope.cancel()


def up_nodes(membership: Membership) -> list[int]:
    return [m.info.node_id for m in membership.members() if m.up]


async def test_brokers_that_know_one_contact_learn_of_all_the_others(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    members = [Membership(FakeTransport(network, 0), info(0)),
               Membership(FakeTransport(network, 1, knows=(0,)), info(1)),
               Membership(FakeTransport(network, 2, knows=(0,)), info(2))]
    async with gossiping(*members):
        for member in members:
            await member.wait_for(lambda m=member: up_nodes(m) == [0, 1, 2])
    assert network.nodes[1].known_nodes() == [0, 2]  # learned of 2 through 0's announcement
    assert [m.info.internal_address for m in members[1].members()] == [f"broker-{n}:26502" for n in range(3)]


async def test_a_change_is_announced_at_once_and_reaches_the_others(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    first = Membership(FakeTransport(network, 0, knows=(1,)), info(0), announce_interval=60.0)
    second = Membership(FakeTransport(network, 1, knows=(0,)), info(1), announce_interval=60.0)
    async with gossiping(first, second):
        await second.wait_for(lambda: second.member(0) is not None)
        started = trio.current_time()
        first.update(partitions=(PartitionStatus(1, "LEADER", 3, "HEALTHY"),))
        await second.wait_for(lambda: (m := second.member(0)) is not None and bool(m.info.partitions))
        assert trio.current_time() == started  # not at the next 60 s round
        member = second.member(0)
        assert member is not None and member.info.partitions == (PartitionStatus(1, "LEADER", 3, "HEALTHY"),)


async def test_a_broker_not_heard_from_within_the_failure_timeout_is_down_then_up_again(
        autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    first = Membership(FakeTransport(network, 0, knows=(1,)), info(0), failure_timeout=5.0)
    second = Membership(FakeTransport(network, 1, knows=(0,)), info(1), failure_timeout=5.0)
    async with gossiping(first, second):
        await first.wait_for(lambda: up_nodes(first) == [0, 1])
        network.cut.add(1)
        cut_at = trio.current_time()
        await first.wait_for(lambda: up_nodes(first) == [0])
        assert 5.0 <= trio.current_time() - cut_at <= 5.0 + first.announce_interval
        member = first.member(1)
        assert member is not None and not member.up  # still named, with what it said last
        network.cut.clear()
        await first.wait_for(lambda: up_nodes(first) == [0, 1])


async def test_a_restarted_broker_is_believed_over_what_it_said_before(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    observer = Membership(FakeTransport(network, 0, knows=(1,)), info(0))
    before = Membership(FakeTransport(network, 1, knows=(0,)), info(1, gateway_address="old:26500"), incarnation=1)
    async with gossiping(observer) as nursery:
        with trio.CancelScope() as scope:
            nursery.start_soon(before.run)
            await observer.wait_for(lambda: (m := observer.member(1)) is not None and m.info.gateway_address == "old:26500")
            await trio.sleep(10)  # many announcements: a high sequence number
            scope.cancel()
        after = Membership(FakeTransport(network, 1, knows=(0,)), info(1, gateway_address="new:26500"), incarnation=2)
        await nursery.start(after.run)
        await observer.wait_for(lambda: (m := observer.member(1)) is not None and m.info.gateway_address == "new:26500")


@pytest.mark.parametrize("payload", [
    b"\xc1garbage",
    msgpack.packb([1, 2, 3]),
    msgpack.packb({"node": 9, "incarnation": 1, "sequence": 1, "internal": "x:1", "version": "8.8.0"}),  # not the sender
    msgpack.packb({"node": 1, "incarnation": 1, "sequence": "one", "internal": "x:1", "version": "8.8.0"}),
    msgpack.packb({"node": 1, "incarnation": 1, "sequence": 1, "internal": "x:1", "version": "8.8.0",
                   "partitions": [[1]]}),
    b"\x00" * 70_000,
])
async def test_a_malformed_announcement_is_dropped_and_counted(autojump_clock: trio.testing.MockClock,
                                                               payload: bytes) -> None:
    network = Network()
    transport = FakeTransport(network, 0)
    membership = Membership(transport, info(0))
    async with gossiping(membership):
        transport.channels[MEMBERSHIP_CHANNEL].send_nowait(Delivery(1, payload))
        await trio.testing.wait_all_tasks_blocked()
        assert membership.malformed_announcements == 1
        assert [m.info.node_id for m in membership.members()] == [0]


async def test_more_brokers_than_the_limit_are_not_tracked(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    observer = Membership(FakeTransport(network, 0, knows=(1, 2, 3)), info(0), max_members=2)
    others = [Membership(FakeTransport(network, n, knows=(0,)), info(n)) for n in (1, 2, 3)]
    async with gossiping(observer, *others):
        await trio.sleep(5)
        assert len(observer.members()) == 3  # itself and two others
        assert observer.dropped_members >= 1


async def test_membership_over_the_real_transport() -> None:
    limits = TransportLimits(min_backoff=0.01, max_backoff=0.05)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            first = ClusterTransport(0, host="127.0.0.1", port=0, limits=limits)
            first_members = Membership(first, info(0), announce_interval=0.05)
            await nursery.start(first.run)
            second = ClusterTransport(1, host="127.0.0.1", port=0, limits=limits, contact_points=[("127.0.0.1", first.port)])
            second_members = Membership(second, info(1), announce_interval=0.05)
            await nursery.start(second.run)
            await nursery.start(first_members.run)
            await nursery.start(second_members.run)
            await first_members.wait_for(lambda: up_nodes(first_members) == [0, 1])
            await second_members.wait_for(lambda: up_nodes(second_members) == [0, 1])
            nursery.cancel_scope.cancel()
