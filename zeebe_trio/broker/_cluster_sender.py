"""The inter-partition sender of a broker in a cluster: commands for a partition whose leader is another
broker cross the cluster transport, the rest go through this broker's own sender.

It implements the stream platform's ``InterPartitionSender`` port, so the engine does not know whether
a message subscription or a deployment distribution stays in the process or goes to another broker.
The leader of each partition comes from ``leader_of`` (the broker's view of the cluster: its own Raft
replicas and the others' membership announcements).

On the wire (channel ``partition-commands``): MessagePack ``[partition id, record batch]``, the batch
holding the one command as ``encode_batch`` writes it. The receiver checks the partition id, that the
batch is one COMMAND record, and that it leads the partition (a replica that is not the leader cannot
write to the log); then it appends the command as its own sender would.

Delivery stays fire-and-forget, as between Zeebe's brokers: no leader known, a full outbox, a receiver
that no longer leads, or a payload that does not decode loses the command, which is logged and counted;
the sending engine sends again what stays unacknowledged (command redistribution, pending
subscriptions).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Protocol

import msgpack
import trio

from zeebe_trio.cluster import ClusterTransport, Delivery
from zeebe_trio.protocol import Record, RecordType, decode_batch, encode_batch

from ._partition_sender import require_partition

__all__ = ["PARTITION_COMMANDS_CHANNEL", "ClusterPartitionSender"]

log = logging.getLogger(__name__)

PARTITION_COMMANDS_CHANNEL = "partition-commands"
LOSS_LOG_INTERVAL = 10.0


class LocalSender(Protocol):
    """This broker's own sender (``BrokerPartitionSender``): delivers to the partitions it runs."""

    def send_nowait(self, receiver_partition_id: int, command: Record) -> None: ...


class ClusterPartitionSender:
    def __init__(self, node_id: int, local: LocalSender, transport: ClusterTransport,
                 leader_of: Callable[[int], int | None], is_local_leader: Callable[[int], bool], *,
                 partition_count: int, max_command_bytes: int) -> None:
        self.node_id = node_id
        self._local = local
        self._transport = transport
        self._leader_of = leader_of
        self._is_local_leader = is_local_leader
        self.partition_count = partition_count
        self.max_command_bytes = max_command_bytes
        self._inbox = transport.open_channel(PARTITION_COMMANDS_CHANNEL, capacity=1024)
        self.sent_remote = 0
        self.received = 0
        self.lost = 0
        self._logged_at = -math.inf

    # -- sending (the InterPartitionSender port) ------------------------------------------------------

    async def send(self, receiver_partition_id: int, command: Record) -> None:
        await trio.lowlevel.checkpoint()
        self.send_nowait(receiver_partition_id, command)

    def send_nowait(self, receiver_partition_id: int, command: Record) -> None:
        require_partition(receiver_partition_id, command, self.partition_count)
        if command.record_type is not RecordType.COMMAND:
            raise ValueError(f"Expected a command to send to partition {receiver_partition_id}, but"
                             f" {command.value_type.name}.{command.intent.name} is a {command.record_type.name}")
        leader = self._leader_of(receiver_partition_id)
        if leader == self.node_id:
            self._local.send_nowait(receiver_partition_id, command)
            return
        if leader is None:
            self._lose(receiver_partition_id, command, "no leader of the partition is known")
            return
        fresh = Record(record_type=RecordType.COMMAND, value_type=command.value_type, intent=command.intent,
                       value=command.value, key=command.key, timestamp=command.timestamp)
        batch = encode_batch([fresh])
        if len(batch) > self.max_command_bytes:
            raise ValueError(f"Expected a command for partition {receiver_partition_id} of at most"
                             f" {self.max_command_bytes} bytes, but {command.value_type.name}.{command.intent.name}"
                             f" is {len(batch)} bytes")
        payload = msgpack.packb([receiver_partition_id, batch], use_bin_type=True)
        if self._transport.send_nowait(leader, PARTITION_COMMANDS_CHANNEL, payload):
            self.sent_remote += 1
        else:
            self._lose(receiver_partition_id, command, f"the outbox to node {leader} is full")

    # -- receiving ------------------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Hand the commands other brokers send to the partitions this broker leads, until cancelled."""
        task_status.started()
        async for delivery in self._inbox:
            self.deliver(delivery)

    def deliver(self, delivery: Delivery) -> None:
        try:
            partition_id, command = self._decode(delivery.payload)
        except ValueError as error:
            self.lost += 1
            self._log(f"a partition command from node {delivery.sender} does not decode: {error}")
            return
        if not self._is_local_leader(partition_id):
            self._lose(partition_id, command, f"node {self.node_id} no longer leads the partition")
            return
        self.received += 1
        self._local.send_nowait(partition_id, command)

    def _decode(self, payload: bytes) -> tuple[int, Record]:
        try:
            body = msgpack.unpackb(payload, raw=False, use_list=True)
        except Exception as error:
            raise ValueError(f"not MessagePack: {error}") from None
        if not (isinstance(body, list) and len(body) == 2 and type(body[0]) is int and type(body[1]) is bytes):
            raise ValueError("not a [partition id, record batch] pair")
        partition_id, batch = body
        if not 1 <= partition_id <= self.partition_count:
            raise ValueError(f"partition {partition_id} is not one of 1..{self.partition_count}")
        if len(batch) > self.max_command_bytes:
            raise ValueError(f"a {len(batch)}-byte command is over the limit of {self.max_command_bytes} bytes")
        try:
            records = decode_batch(batch)
        except Exception as error:
            raise ValueError(f"not a record batch: {error}") from None
        if len(records) != 1 or records[0].record_type is not RecordType.COMMAND:
            raise ValueError("the batch is not one command")
        return partition_id, records[0]

    def _lose(self, partition_id: int, command: Record, why: str) -> None:
        self.lost += 1
        self._log(f"{command.value_type.name}.{command.intent.name} (key {command.key}) for partition {partition_id}"
                  f" was lost: {why}; it is sent again while it stays pending")

    def _log(self, text: str) -> None:
        now = trio.current_time()
        if now - self._logged_at >= LOSS_LOG_INTERVAL:
            self._logged_at = now
            log.warning("%s", text)

    def statistics(self) -> dict[str, int]:
        return {"partition_commands_sent_to_other_brokers": self.sent_remote,
                "partition_commands_received_from_other_brokers": self.received,
                "partition_commands_lost_between_brokers": self.lost}
