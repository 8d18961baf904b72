"""SIGNAL.BROADCAST: a signal triggers every open subscription of its name (Zeebe's
``SignalBroadcastProcessor``).

The broadcast is written as BROADCASTED first; then each subscription of the signal's name and tenant,
oldest first, is triggered with the signal's variables: a signal start event creates an instance of
its process, a catch event of an element instance that still takes events is triggered there. The
client (a BroadcastSignal request) gets BROADCASTED as its response.

With several partitions the broadcast is then distributed, unordered, to every other partition
(``_distribution``), each of which writes BROADCASTED under the same key, triggers the catch events of
its own instances (never its signal start events: as in Zeebe, a signal starts instances on the
partition it was broadcast to only) and acknowledges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import DEFAULT_TENANT, Record, RejectionType, SignalIntent, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import ElementContext, EventTriggerBehavior
from ..bpmn.model import ExecutableCatchEvent, ExecutableProcess, ExecutableStartEvent
from ._distribution import CommandDistributionBehavior

__all__ = ["SignalProcessors"]

StartInstance = Callable[[Batch, ExecutableProcess, dict, ExecutableStartEvent, dict], Any]


class SignalProcessors:
    """``start_instance`` creates an instance at a start event (``TimerProcessors.start_instance``)."""

    def __init__(self, triggers: EventTriggerBehavior, start_instance: StartInstance,
                 distribution: CommandDistributionBehavior | None = None) -> None:
        self.triggers = triggers
        self.start_instance = start_instance
        self.distribution = distribution

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.SIGNAL, SignalIntent.BROADCAST, self.broadcast)

    def broadcast(self, batch: Batch, command: Record) -> None:
        distribution = self.distribution
        distributed = distribution is not None and distribution.is_distributed(batch, command)
        if distributed and distribution is not None and distribution.received_before(batch, command):
            distribution.acknowledge(batch, command)  # a copy sent again: broadcast here once already
            return
        value = dict(command.value)
        name = value.get("signalName") or ""
        if not name:
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         "Expected a signal name, but it was empty; name the signal to broadcast")
            return
        variables = value.get("variables") or {}
        value["variables"] = variables
        value.setdefault("tenantId", DEFAULT_TENANT)
        state = batch.state
        subscriptions = state.signal_subscriptions(name, value["tenantId"])
        key = command.key if distributed else batch.next_key()
        broadcasted = batch.event(ValueType.SIGNAL, SignalIntent.BROADCASTED, key, value)
        for _key, subscription in subscriptions:
            process = state.processes.get(subscription["processDefinitionKey"])
            assert process is not None, f"process definition {subscription['processDefinitionKey']} is not deployed"
            catch_event = process.flow_node(subscription["catchEventId"])
            instance_key = subscription["catchEventInstanceKey"]
            if instance_key <= 0:
                if distributed:
                    continue
                assert isinstance(catch_event, ExecutableStartEvent)
                self.start_instance(batch, process, subscription, catch_event, variables)
                continue
            assert isinstance(catch_event, ExecutableCatchEvent)
            instance = state.element_instance(instance_key)
            if instance is not None and self.triggers.can_trigger(batch, instance_key):
                self.triggers.trigger(batch, catch_event, ElementContext(instance.key, instance.value), variables)
        batch.respond(command, broadcasted)
        if distribution is None:
            return
        if distributed:
            distribution.acknowledge(batch, command)
        else:
            distribution.distribute(batch, key, ValueType.SIGNAL, SignalIntent.BROADCAST, value)
