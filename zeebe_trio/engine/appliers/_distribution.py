"""Appliers of command distribution: COMMAND_DISTRIBUTION STARTED keeps the command to distribute,
ENQUEUED puts a partition's copy in its queue, DISTRIBUTING marks it sent (and retried until
acknowledged), ACKNOWLEDGED forgets that partition's copy, FINISHED the distribution.

On a receiving partition the events a distributed command writes (DEPLOYMENT CREATED, SIGNAL
BROADCASTED, RESOURCE_DELETION DELETED, under the distribution's key, which another partition issued)
also note that the command was received, so that a copy sent again is acknowledged without being
processed twice.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    CommandDistributionIntent,
    DeploymentIntent,
    Record,
    ResourceDeletionIntent,
    SignalIntent,
    ValueType,
    partition_of,
)

from ..state import DistributionState, EngineState
from ._registry import EventAppliers

_CD = ValueType.COMMAND_DISTRIBUTION


def _started(state: EngineState, record: Record) -> None:
    DistributionState(state).start(record.key, record.value)


def _enqueued(state: EngineState, record: Record) -> None:
    DistributionState(state).enqueue(record.key, record.value.get("queueId") or "", record.value["partitionId"])


def _distributing(state: EngineState, record: Record) -> None:
    DistributionState(state).distributing(record.key, record.value["partitionId"])


def _acknowledged(state: EngineState, record: Record) -> None:
    DistributionState(state).acknowledged(record.key, record.value["partitionId"])


def _finished(state: EngineState, record: Record) -> None:
    DistributionState(state).finish(record.key)


def _received_if_distributed(state: EngineState, record: Record) -> None:
    if record.key > 0 and partition_of(record.key) != state.partition_id:
        DistributionState(state).mark_received(record.key)


def register(appliers: EventAppliers) -> None:
    appliers.register(_CD, CommandDistributionIntent.STARTED, _started)
    appliers.register(_CD, CommandDistributionIntent.ENQUEUED, _enqueued)
    appliers.register(_CD, CommandDistributionIntent.DISTRIBUTING, _distributing)
    appliers.register(_CD, CommandDistributionIntent.ACKNOWLEDGED, _acknowledged)
    appliers.register(_CD, CommandDistributionIntent.FINISHED, _finished)
    # the receiving side: these events changed no state before distribution
    for value_type, intent in ((ValueType.DEPLOYMENT, DeploymentIntent.CREATED),
                               (ValueType.SIGNAL, SignalIntent.BROADCASTED),
                               (ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETED)):
        appliers.override(value_type, intent, _received_if_distributed)

