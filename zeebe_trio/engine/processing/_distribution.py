"""Command distribution (Zeebe's ``CommandDistributionBehavior``): a command processed on one partition
is sent, with the same key, to the other partitions, each of which acknowledges it back.

On the distributing partition: COMMAND_DISTRIBUTION STARTED (the command and its value, key = the
distribution key, ``partitionId`` = this partition); per other partition, for an ordered distribution
(``queue``: deployments and resource deletions share Zeebe's ``DEPLOYMENT`` queue) ENQUEUED, and,
when nothing older waits in that partition's queue, DISTRIBUTING (``partitionId`` = the receiver) with
the command sent after the batch is durable. The receiver processes the command (its key, issued by
another partition, is what makes it a distributed command: ``is_distributed``) and sends
COMMAND_DISTRIBUTION ACKNOWLEDGE back. ACKNOWLEDGE writes ACKNOWLEDGED, starts the next queued
distribution for that partition, and once no partition is pending writes FINISH, whose FINISHED ends the
distribution. An ACKNOWLEDGE without a pending distribution (a duplicate) is rejected with NOT_FOUND.

Sending is fire-and-forget; ``CommandRedistributor`` (run by the partition leader every
``REDISTRIBUTION_INTERVAL_MS``) sends every distribution not acknowledged yet again, backing off per
distribution from 10 s doubling up to 5 min, as Zeebe's ``CommandRedistributor`` does. A receiver that
gets a copy it processed already (``DistributionState.received``) only acknowledges it again.
"""

from __future__ import annotations

import logging
from typing import Any

from zeebe_trio.protocol import (
    INTENTS_BY_VALUE_TYPE,
    CommandDistributionIntent,
    Intent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
    partition_of,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..state import DistributionState, EngineState

__all__ = ["DEPLOYMENT_QUEUE", "REDISTRIBUTION_INTERVAL_MS", "CommandDistributionBehavior",
           "CommandDistributionProcessors", "CommandRedistributor"]

log = logging.getLogger(__name__)

_CD = ValueType.COMMAND_DISTRIBUTION
DEPLOYMENT_QUEUE = "DEPLOYMENT"
"""Zeebe's ``DistributionQueue.DEPLOYMENT``: deployments and resource deletions reach each partition in order."""
REDISTRIBUTION_INTERVAL_MS = 10_000
"""Zeebe's ``COMMAND_REDISTRIBUTION_INTERVAL``: how often the leader looks for unacknowledged distributions."""
MAX_RETRY_BACKOFF_MS = 300_000
"""Zeebe's ``RETRY_MAX_BACKOFF_DURATION``: the longest wait between two retries of one distribution."""


class CommandDistributionBehavior:
    """Distributes commands to the other partitions and acknowledges distributed ones."""

    def __init__(self, partition_count: int) -> None:
        self.partition_count = partition_count

    @staticmethod
    def is_distributed(batch: Batch, command: Record) -> bool:
        """Whether ``command`` was distributed here by another partition (its key was issued there)."""
        return command.key > 0 and partition_of(command.key) != batch.partition_id

    @staticmethod
    def received_before(batch: Batch, command: Record) -> bool:
        """Whether this distributed command was processed here already (a copy sent again)."""
        return DistributionState(batch.state).received(command.key)

    def distribute(self, batch: Batch, key: int, value_type: ValueType, intent: Intent, value: dict[str, Any], *,
                   queue: str | None = None) -> None:
        """Distribute the command ``(value_type, intent, key, value)`` to every other partition."""
        others = [p for p in range(1, self.partition_count + 1) if p != batch.partition_id]
        if not others:
            return
        started = {"partitionId": batch.partition_id, "queueId": queue or "", "valueType": value_type.name,
                   "intent": intent.name, "commandValue": value}
        batch.event(_CD, CommandDistributionIntent.STARTED, key, started)
        distributions = DistributionState(batch.state)
        for partition_id in others:
            if queue:
                batch.event(_CD, CommandDistributionIntent.ENQUEUED, key,
                            {"partitionId": partition_id, "queueId": queue, "valueType": value_type.name,
                             "intent": intent.name, "commandValue": {}})
                if distributions.next_in_queue(queue, partition_id) != key:
                    continue  # an older distribution goes first; its acknowledgement starts this one
            self._start_distributing(batch, key, partition_id, value_type, intent, value)

    @staticmethod
    def _start_distributing(batch: Batch, key: int, partition_id: int, value_type: ValueType, intent: Intent,
                            value: dict[str, Any]) -> None:
        # as Zeebe: DISTRIBUTING leaves the value out (the batch's size); STARTED holds it
        batch.event(_CD, CommandDistributionIntent.DISTRIBUTING, key,
                    {"partitionId": partition_id, "queueId": "", "valueType": value_type.name,
                     "intent": intent.name, "commandValue": {}})
        batch.send_to_partition(partition_id, value_type, intent, key, value)

    @staticmethod
    def acknowledge(batch: Batch, command: Record) -> None:
        """Tell the distributing partition that ``command`` was processed here."""
        batch.send_to_partition(partition_of(command.key), _CD, CommandDistributionIntent.ACKNOWLEDGE, command.key,
                                {"partitionId": batch.partition_id, "queueId": "",
                                 "valueType": command.value_type.name, "intent": command.intent.name,
                                 "commandValue": {}})

    def distribute_next_in_queue(self, batch: Batch, queue: str, partition_id: int) -> None:
        distributions = DistributionState(batch.state)
        key = distributions.next_in_queue(queue, partition_id)
        if key is None:
            return
        started = distributions.distribution(key)
        assert started is not None, f"distribution {key} is queued but was never started"
        value_type, intent = _command_of(started)
        self._start_distributing(batch, key, partition_id, value_type, intent, started["commandValue"])


def _command_of(started: dict[str, Any]) -> tuple[ValueType, Intent]:
    value_type = ValueType[started["valueType"]]
    return value_type, INTENTS_BY_VALUE_TYPE[value_type][started["intent"]]


class CommandDistributionProcessors:
    """COMMAND_DISTRIBUTION ACKNOWLEDGE and FINISH."""

    def __init__(self, distribution: CommandDistributionBehavior) -> None:
        self.distribution = distribution

    def register(self, processors: CommandProcessors) -> None:
        processors.add(_CD, CommandDistributionIntent.ACKNOWLEDGE, self.acknowledge)
        processors.add(_CD, CommandDistributionIntent.FINISH, self.finish)

    def acknowledge(self, batch: Batch, command: Record) -> None:
        key = command.key
        partition_id = command.value.get("partitionId", -1)
        distributions = DistributionState(batch.state)
        if not distributions.has_pending(key, partition_id):
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to find pending distribution with key {key} for partition {partition_id}, but"
                         " no pending distribution was found.")
            return
        started = distributions.distribution(key) or {}
        queue = started.get("queueId") or ""
        batch.event(_CD, CommandDistributionIntent.ACKNOWLEDGED, key, dict(command.value))
        if queue:
            self.distribution.distribute_next_in_queue(batch, queue, partition_id)
        if not distributions.has_pending(key):
            batch.command(_CD, CommandDistributionIntent.FINISH, key,
                          {"partitionId": batch.partition_id, "queueId": queue,
                           "valueType": command.value.get("valueType", ""), "intent": command.value.get("intent", ""),
                           "commandValue": {}})

    @staticmethod
    def finish(batch: Batch, command: Record) -> None:
        batch.event(_CD, CommandDistributionIntent.FINISHED, command.key, dict(command.value))


class CommandRedistributor:
    """Sends distributions that were not acknowledged again (Zeebe's ``CommandRedistributor``).

    ``retry_cycle`` is one run (the leader calls it every ``REDISTRIBUTION_INTERVAL_MS``): each pending
    distribution counts its cycles from 0 when first seen, and is sent again at cycles 1, 2, 4, 8, 16
    (10 s doubling), then every 30 cycles (5 min). The counts live in memory only, as in Zeebe: a new
    leader starts them over."""

    def __init__(self) -> None:
        self._cycles: dict[tuple[int, int], int] = {}
        self.retried = 0

    def retry_cycle(self, state: EngineState) -> list[tuple[int, Record]]:
        """The commands to send again now, as (receiver partition id, command)."""
        distributions = DistributionState(state)
        seen: set[tuple[int, int]] = set()
        commands: list[tuple[int, Record]] = []
        max_cycles = MAX_RETRY_BACKOFF_MS // REDISTRIBUTION_INTERVAL_MS
        for key, partition_id in distributions.retriable():
            seen.add((key, partition_id))
            cycle = self._cycles[(key, partition_id)] = self._cycles.get((key, partition_id), -1) + 1
            due = cycle % max_cycles == 0 if cycle >= max_cycles else cycle.bit_count() == 1
            if not due:
                continue
            started = distributions.distribution(key)
            if started is None:
                continue
            value_type, intent = _command_of(started)
            log.info("partition %d: retrying to distribute command %d (%s.%s) to partition %d", state.partition_id,
                     key, value_type.name, intent.name, partition_id)
            commands.append((partition_id, Record(record_type=RecordType.COMMAND, value_type=value_type,
                                                  intent=intent, key=key, value=started["commandValue"],
                                                  partition_id=partition_id)))
        self._cycles = {k: v for k, v in self._cycles.items() if k in seen}
        self.retried += len(commands)
        return commands
