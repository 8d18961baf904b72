"""The inter-partition sender: commands one partition's processing addresses to another partition.

Zeebe's ``InterPartitionCommandSender``: the engine asks for a command on another partition (a message
subscription to open, a deployment to distribute) by putting ``(receiver partition id, command)`` in a
batch's side effects (``SideEffects.partition_commands``); once that batch is durable the stream processor
hands each one to its ``InterPartitionSender``. Delivery is fire-and-forget, as in Zeebe: a command that
cannot be delivered is logged and dropped, and the engine's own retries (re-sent when still pending) make
up for it.

``LocalPartitionSender`` delivers to the partitions of this process by appending the command to the
receiver's log stream, the way client commands are written: a fresh command (no position, no source, no
request), within the size limit of a command. On a one-partition broker that is the partition's own log.
A cluster will swap in a sender over its transport, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import trio

from zeebe_trio.protocol import Record, RecordType, encode_batch

from ._logstream import LogStream

DEFAULT_MAX_COMMAND_BYTES = 4 * 1024 * 1024


class UnknownPartitionError(LookupError):
    """A command was addressed to a partition that does not exist."""


class InterPartitionSender(Protocol):
    """Delivers commands to partitions (this one included)."""

    async def send(self, receiver_partition_id: int, command: Record) -> None:
        """Deliver ``command`` (a COMMAND record without a position) to ``receiver_partition_id``'s log.

        Raises ``UnknownPartitionError`` for a partition that does not exist and ``ValueError`` for a
        record that is not a command or is too large; OSError when the receiver's log refuses the write."""
        ...


class LocalPartitionSender:
    """An ``InterPartitionSender`` for the partitions of this process: appends to the receiver's log."""

    def __init__(self, log_streams: Mapping[int, LogStream], *,
                 max_command_bytes: int = DEFAULT_MAX_COMMAND_BYTES) -> None:
        self._log_streams = dict(log_streams)
        self.max_command_bytes = max_command_bytes
        self.sent = 0

    @property
    def partition_ids(self) -> list[int]:
        return sorted(self._log_streams)

    async def send(self, receiver_partition_id: int, command: Record) -> None:
        await trio.lowlevel.checkpoint()
        self.send_nowait(receiver_partition_id, command)

    def send_nowait(self, receiver_partition_id: int, command: Record) -> None:
        """``send`` without the checkpoint: the append is a synchronous write to the OS."""
        log_stream = self._log_streams.get(receiver_partition_id)
        if log_stream is None:
            raise UnknownPartitionError(
                f"Expected to send {command.value_type.name}.{command.intent.name} (key {command.key}) to partition"
                f" {receiver_partition_id}, but the partitions are {self.partition_ids}")
        if command.record_type is not RecordType.COMMAND:
            raise ValueError(f"Expected a command to send to partition {receiver_partition_id}, but"
                             f" {command.value_type.name}.{command.intent.name} is a {command.record_type.name}")
        # A fresh command on the receiver's log, as a client's would be: processed in its own right.
        fresh = Record(record_type=RecordType.COMMAND, value_type=command.value_type, intent=command.intent,
                       value=command.value, key=command.key, timestamp=command.timestamp)
        size = len(encode_batch([fresh]))  # before its position is set: a few bytes short of the logged size
        if size > self.max_command_bytes:
            raise ValueError(f"Expected a command for partition {receiver_partition_id} of at most"
                             f" {self.max_command_bytes} bytes, but {command.value_type.name}.{command.intent.name}"
                             f" is {size} bytes")
        log_stream.append([fresh])
        self.sent += 1

    def statistics(self) -> dict[str, int]:
        return {"partition_commands_sent": self.sent}
