"""The inter-partition sender of one broker: commands a partition addresses to another partition of
the same process, delivered through the receiver's log as if over the network.

It implements the stream platform's ``InterPartitionSender`` port, so a cluster's sender over its
transport can replace it and nothing else changes. Delivery is fire-and-forget, as between Zeebe's
brokers: a receiver that is not running (starting, restarting after a storage failure, out of disk
space) or whose log refuses the write loses the command, which is logged and counted; the sender's
engine sends again what stays unacknowledged (command redistribution, pending subscriptions).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import trio

from zeebe_trio.log import LogClosedError
from zeebe_trio.protocol import Record
from zeebe_trio.stream import LocalPartitionSender, UnknownPartitionError

if TYPE_CHECKING:
    from ._partition import Partition

log = logging.getLogger(__name__)


def require_partition(receiver_partition_id: int, command: Record, partition_count: int) -> None:
    """``UnknownPartitionError`` naming the command unless the receiver is one of ``1..partition_count``."""
    if not 1 <= receiver_partition_id <= partition_count:
        raise UnknownPartitionError(
            f"Expected to send {command.value_type.name}.{command.intent.name} (key {command.key}) to partition"
            f" {receiver_partition_id}, but the partitions are 1..{partition_count}")


class BrokerPartitionSender:
    """Delivers commands to the partitions of this broker (the sender's own included)."""

    def __init__(self, partitions: Mapping[int, Partition], partition_count: int, *,
                 max_command_bytes: int) -> None:
        self._partitions = partitions  # filled in as the broker starts its partitions
        self.partition_count = partition_count
        self.max_command_bytes = max_command_bytes
        self.sent = 0
        self.lost = 0

    async def send(self, receiver_partition_id: int, command: Record) -> None:
        await trio.lowlevel.checkpoint()
        self.send_nowait(receiver_partition_id, command)

    def send_nowait(self, receiver_partition_id: int, command: Record) -> None:
        require_partition(receiver_partition_id, command, self.partition_count)
        partition = self._partitions.get(receiver_partition_id)
        if partition is None or not partition.healthy or partition.disk_space_low is not None:
            self._lose(receiver_partition_id, command, "the partition is not running")
            return
        # the receiver's log, as a client's command is written there (size checked, a fresh command)
        target = LocalPartitionSender({receiver_partition_id: partition.log_stream},
                                      max_command_bytes=self.max_command_bytes)
        try:
            target.send_nowait(receiver_partition_id, command)
        except (OSError, LogClosedError) as error:
            self._lose(receiver_partition_id, command, f"its log refused the write: {error}")
            return
        self.sent += 1

    def _lose(self, receiver: int, command: Record, why: str) -> None:
        self.lost += 1
        log.warning("%s.%s (key %d) for partition %d was lost: %s; it is sent again while it stays pending",
                    command.value_type.name, command.intent.name, command.key, receiver, why)

    def statistics(self) -> dict[str, int]:
        return {"partition_commands_sent": self.sent, "partition_commands_lost": self.lost}
