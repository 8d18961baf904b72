"""The cluster's inter-partition sender: a command for a partition another broker leads crosses the
cluster transport (real loopback TCP here) and is appended there; one this broker leads stays local;
without a leader, or at a broker that no longer leads, it is lost and counted (the sending engine sends
it again while it stays pending)."""

from __future__ import annotations

import re

import msgpack
import pytest
import trio

from zeebe_trio.broker._cluster_sender import PARTITION_COMMANDS_CHANNEL, ClusterPartitionSender
from zeebe_trio.cluster import ClusterTransport, Delivery, TransportLimits
from zeebe_trio.protocol import MessageSubscriptionIntent, Record, RecordType, ValueType, encode_batch
from zeebe_trio.stream import UnknownPartitionError

LIMITS = TransportLimits(min_backoff=0.01, max_backoff=0.05)


def command(key: int = 7) -> Record:
    return Record(record_type=RecordType.COMMAND, value_type=ValueType.MESSAGE_SUBSCRIPTION,
                  intent=MessageSubscriptionIntent.CREATE, key=key, value={"messageName": "paid"})


class Appended:
    """What a broker's own sender was given (partition id, command)."""

    def __init__(self) -> None:
        self.commands: list[tuple[int, Record]] = []
        self.changed = trio.Event()

    def send_nowait(self, receiver_partition_id: int, command: Record) -> None:
        self.commands.append((receiver_partition_id, command))
        self.changed.set()
        self.changed = trio.Event()


def sender(transport: ClusterTransport, local: Appended, leaders: dict[int, int | None]) -> ClusterPartitionSender:
    return ClusterPartitionSender(transport.node_id, local, transport, leaders.get,
                                  lambda p: leaders.get(p) == transport.node_id, partition_count=3,
                                  max_command_bytes=4096)


async def test_a_command_for_a_partition_another_broker_leads_is_appended_there() -> None:
    leaders: dict[int, int | None] = {1: 0, 2: 1, 3: None}
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            first = ClusterTransport(0, host="127.0.0.1", port=0, limits=LIMITS)
            first_local = Appended()
            first_sender = sender(first, first_local, leaders)
            await nursery.start(first.run)
            second = ClusterTransport(1, host="127.0.0.1", port=0, limits=LIMITS,
                                      contact_points=[("127.0.0.1", first.port)])
            second_local = Appended()
            second_sender = sender(second, second_local, leaders)
            await nursery.start(second.run)
            await nursery.start(second_sender.serve)
            await first.wait_connected(1)

            first_sender.send_nowait(1, command(1))  # this broker leads partition 1: its own log
            assert [(p, c.key) for p, c in first_local.commands] == [(1, 1)]
            first_sender.send_nowait(2, command(2))  # node 1 leads partition 2
            while not second_local.commands:
                await second_local.changed.wait()
            (partition, received), = second_local.commands
            assert (partition, received.key, received.value, received.intent) == (
                2, 2, {"messageName": "paid"}, MessageSubscriptionIntent.CREATE)
            assert (first_sender.sent_remote, second_sender.received) == (1, 1)

            first_sender.send_nowait(3, command(3))  # nobody leads partition 3
            assert first_sender.lost == 1
            nursery.cancel_scope.cancel()


async def test_a_command_at_a_broker_that_no_longer_leads_is_lost_and_counted() -> None:
    local = Appended()
    receiver = sender(ClusterTransport(1), local, {2: 0})  # node 0 leads partition 2 now, not node 1
    payload = msgpack.packb([2, encode_batch([command()])], use_bin_type=True)
    receiver.deliver(Delivery(0, payload))
    assert local.commands == [] and receiver.lost == 1


@pytest.mark.parametrize("payload", [
    b"\xc1",
    msgpack.packb([2]),
    msgpack.packb([9, encode_batch([command()])], use_bin_type=True),
    msgpack.packb([2, b"not a batch"], use_bin_type=True),
    msgpack.packb([2, encode_batch([command(), command(8)])], use_bin_type=True),
    msgpack.packb([2, encode_batch([Record(record_type=RecordType.EVENT, value_type=ValueType.MESSAGE_SUBSCRIPTION,
                                           intent=MessageSubscriptionIntent.CREATED, key=1, value={})])],
                  use_bin_type=True),
])
async def test_a_payload_that_is_not_one_command_for_a_known_partition_is_dropped(payload: bytes) -> None:
    local = Appended()
    receiver = sender(ClusterTransport(1), local, {2: 1})
    receiver.deliver(Delivery(0, payload))
    assert local.commands == [] and receiver.lost == 1


def test_an_unknown_partition_or_a_record_that_is_no_command_is_refused_as_the_local_sender_refuses_it() -> None:
    origin = sender(ClusterTransport(0), Appended(), {1: 0})
    with pytest.raises(UnknownPartitionError, match="partitions are 1..3"):
        origin.send_nowait(4, command())
    event = Record(record_type=RecordType.EVENT, value_type=ValueType.MESSAGE_SUBSCRIPTION,
                   intent=MessageSubscriptionIntent.CREATED, key=1, value={})
    with pytest.raises(ValueError, match="is a EVENT"):
        origin.send_nowait(1, event)
    assert PARTITION_COMMANDS_CHANNEL == "partition-commands"


@pytest.mark.parametrize(("payload", "problem"), [
    (b"\xc1", "not MessagePack"),
    (msgpack.packb({"partition": 1}), "not a [partition id, positions] pair"),
    (msgpack.packb([1, {"duckdb": "12"}]), "not a map of exporter ids to positions"),
    (msgpack.packb([1, {str(i): i for i in range(300)}]), "not a map of exporter ids to positions"),
])
def test_exporter_positions_from_another_broker_that_do_not_decode_are_refused_naming_the_problem(
        payload: bytes, problem: str) -> None:
    from zeebe_trio.broker._cluster import _decode_positions

    with pytest.raises(ValueError, match=re.escape(problem)):
        _decode_positions(payload)
    assert _decode_positions(msgpack.packb([2, {"duckdb": 41}])) == (2, {"duckdb": 41})
