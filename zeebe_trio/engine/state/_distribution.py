"""Command distribution state (Zeebe's ``DistributionState``): what this partition distributes to the
others and has not had acknowledged yet, the per-partition queues that keep ordered distributions
(deployments, resource deletions) in order, and the distributed commands this partition received.

Read by the distribution processors and the redistributor; changed only by the COMMAND_DISTRIBUTION
appliers (and, for received commands, by the appliers of the events a distributed command writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from zeebe_trio.protocol import partition_of

if TYPE_CHECKING:
    from ._engine_state import EngineState

DISTRIBUTION_COLUMN_FAMILIES = [
    "distributions",  # (distributionKey,) -> COMMAND_DISTRIBUTION STARTED value (the command to distribute)
    "pending_distributions",  # (distributionKey, partitionId) -> None: not acknowledged yet
    "retriable_distributions",  # (distributionKey, partitionId) -> None: sent, retried until acknowledged
    "queued_distributions",  # (queueId, partitionId, distributionKey) -> None: ordered, oldest first
    "received_distributions",  # (sourcePartitionId, distributionKey) -> None: distributed commands processed here
    "received_distribution_counts",  # (sourcePartitionId,) -> how many received_distributions hold
]

MAX_RECEIVED_PER_PARTITION = 100_000
"""Distributed commands remembered per distributing partition, to recognise copies sent again; past it
the oldest (lowest key) is forgotten. A copy can only come while its distribution is still pending, that
is, soon after the first one."""


class DistributionState:
    """The distribution column families of one partition, over its ``EngineState``'s transaction."""

    def __init__(self, state: EngineState | Any) -> None:
        # ``Any``: processors hand in their read view, which is this same EngineState
        self._state = state
        f = state.store.family
        self._distributions = f("distributions")
        self._pending = f("pending_distributions")
        self._retriable = f("retriable_distributions")
        self._queued = f("queued_distributions")
        self._received = f("received_distributions")
        self._received_counts = f("received_distribution_counts")

    @property
    def _txn(self) -> Any:
        return self._state.txn

    # -- reads -------------------------------------------------------------------------------------

    def distribution(self, key: int) -> dict[str, Any] | None:
        """The STARTED value of a distribution this partition has not finished."""
        value: dict[str, Any] | None = self._txn.get(self._distributions, key)
        return value

    def has_pending(self, key: int, partition_id: int | None = None) -> bool:
        """Whether ``partition_id`` (any partition, when None) has not acknowledged distribution ``key``."""
        if partition_id is not None:
            return bool(self._txn.exists(self._pending, key, partition_id))
        return any(True for _ in self._txn.items(self._pending, key))

    def retriable(self) -> Iterator[tuple[int, int]]:
        """(distribution key, partition id) of every distribution sent and not acknowledged."""
        for stored_key, _ in self._txn.items(self._retriable):
            yield stored_key[0], stored_key[1]

    def next_in_queue(self, queue_id: str, partition_id: int) -> int | None:
        """The oldest distribution key waiting in ``queue_id`` for ``partition_id``."""
        for stored_key, _ in self._txn.items(self._queued, queue_id, partition_id):
            return int(stored_key[2])
        return None

    def received(self, key: int) -> bool:
        """Whether the distributed command with this key was processed here already."""
        return bool(self._txn.exists(self._received, partition_of(key), key))

    # -- changes (appliers only) -------------------------------------------------------------------

    def start(self, key: int, value: dict[str, Any]) -> None:
        self._txn.put(self._distributions, (key,), value)

    def enqueue(self, key: int, queue_id: str, partition_id: int) -> None:
        self._txn.put(self._pending, (key, partition_id), None)
        self._txn.put(self._queued, (queue_id, partition_id, key), None)

    def distributing(self, key: int, partition_id: int) -> None:
        self._txn.put(self._pending, (key, partition_id), None)
        self._txn.put(self._retriable, (key, partition_id), None)

    def acknowledged(self, key: int, partition_id: int) -> None:
        self._txn.delete(self._pending, key, partition_id)
        self._txn.delete(self._retriable, key, partition_id)
        started = self.distribution(key)
        queue_id = (started or {}).get("queueId") or ""
        if queue_id:
            self._txn.delete(self._queued, queue_id, partition_id, key)

    def finish(self, key: int) -> None:
        self._txn.delete(self._distributions, key)

    def mark_received(self, key: int) -> None:
        source = partition_of(key)
        if self._txn.exists(self._received, source, key):
            return
        self._txn.put(self._received, (source, key), None)
        count = (self._txn.get(self._received_counts, source) or 0) + 1
        if count > MAX_RECEIVED_PER_PARTITION:
            for stored_key, _ in self._txn.items(self._received, source):
                self._txn.delete(self._received, *stored_key)
                break
            count -= 1
        self._txn.put(self._received_counts, (source,), count)

