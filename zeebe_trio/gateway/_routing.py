"""Which partition a request goes to, and sending it there.

- commands about an existing entity (job, incident, instance, element instance) go to the partition
  encoded in its key (``partition_of``: the top 13 bits);
- deployments and signal broadcasts go to the first partition, which distributes them;
- new process instances go round-robin over the partitions;
- messages go to ``message_partition(correlation_key)``: Zeebe's own hash, so the engine can route
  message subscriptions to the same partition with the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import trio
from grpclib import GRPCError
from grpclib.const import Status

from zeebe_trio.protocol import Record, partition_of

from . import _errors
from ._port import BrokerCommand, BrokerError, BrokerPort


def java_string_hash(data: bytes) -> int:
    """Java's ``String.hashCode`` over the bytes (signed bytes, 32-bit wrap-around), as Zeebe computes it."""
    hash_code = 0
    for byte in data:
        signed = byte - 256 if byte > 127 else byte
        hash_code = (31 * hash_code + signed) & 0xFFFFFFFF
    return hash_code - (1 << 32) if hash_code & 0x80000000 else hash_code


def message_partition(correlation_key: str, partition_ids: Sequence[int]) -> int:
    """The partition a message (and every subscription to it) lives on.

    Zeebe's ``SubscriptionUtil.getSubscriptionPartitionId``: ``abs(hash % count)`` of Java's string hash
    over the UTF-8 bytes of the correlation key, indexed into the sorted partition ids (``1..count``).
    """
    ordered = sorted(partition_ids)
    return ordered[abs(java_string_hash(correlation_key.encode("utf-8"))) % len(ordered)]


# Seconds the gateway waits beyond a request timeout for the broker's own timeout answer.
BROKER_TIMEOUT_GRACE = 1.0


class Router:
    """Picks partitions and sends commands, turning broker answers into gRPC errors."""

    def __init__(self, port: BrokerPort) -> None:
        self._port = port
        self._next_index = 0
        # Job activation rotates on its own, so that polling for jobs does not skew where creates go.
        self._next_poll_index = 0

    @property
    def partition_ids(self) -> list[int]:
        ids = sorted(self._port.partition_ids)
        if not ids:
            raise GRPCError(Status.UNAVAILABLE, "The gateway does not know any partitions yet; retry shortly")
        return ids

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        """Ask the broker for jobs-available notifications of ``job_type``; returns the unwatch."""
        return self._port.watch_job_type(job_type)

    def first_partition(self) -> int:
        return self.partition_ids[0]

    def round_robin(self) -> int:
        ids = self.partition_ids
        partition_id = ids[self._next_index % len(ids)]
        self._next_index += 1
        return partition_id

    def round_robin_order(self) -> list[int]:
        """All partitions, starting at the next round-robin position (job activation spreads load)."""
        ids = self.partition_ids
        start = self._next_poll_index % len(ids)
        self._next_poll_index += 1
        return ids[start:] + ids[:start]

    def for_message(self, correlation_key: str) -> int:
        return message_partition(correlation_key, self.partition_ids)

    def for_key(self, key: int, field: str, action: str) -> int:
        """The partition that owns ``key``; ``action`` completes "Expected to <action> with key ..."."""
        partition_id = partition_of(key)
        if partition_id == 0:
            raise _errors.invalid_argument(
                f"Expected to {action} with key '{key}', but '{field}' is not a valid key: keys are positive "
                "numbers handed out by the broker"
            )
        ids = self.partition_ids
        if partition_id not in ids:
            raise _errors.not_found(
                f"Expected to {action} with key '{key}', but no such entity can exist: the key belongs to "
                f"partition {partition_id}, and this cluster has partitions {ids[0]}..{ids[-1]}"
            )
        return partition_id

    async def execute(  # `timeout` mirrors BrokerPort.execute, which forwards it to the broker
        self,
        partition_id: int,
        command: BrokerCommand,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Record:
        """The response event, or a ``GRPCError`` for a rejection, a broker error or a timeout."""
        try:
            if timeout is None:
                record = await self._port.execute(partition_id, command)
            else:
                # The broker answers a timeout itself, saying what it knows (the instance a
                # create-with-result made); waiting a little longer lets that answer arrive first.
                with trio.move_on_after(timeout + BROKER_TIMEOUT_GRACE) as scope:
                    record = await self._port.execute(partition_id, command, timeout=timeout)
                if scope.cancelled_caught:
                    raise _errors.timeout_error(f"command '{command.intent.name}'", timeout)
        except BrokerError as error:
            raise _errors.broker_error(error) from None
        if record.is_rejection:
            raise _errors.rejection_error(record)
        return record
