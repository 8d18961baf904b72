"""The event subscriptions of a migrated element instance, as Zeebe's
``ProcessInstanceMigrationCatchEventBehaviour`` handles them.

An element instance that is active (not still ACTIVATING) holds subscriptions for the catch events it
waits for: itself (an intermediate catch event, a receive task), its boundary events, the start
events of its event subprocesses, an event-based gateway's events. The mapping instructions decide
what becomes of each:

- a subscription whose catch event is mapped is migrated: PROCESS_MESSAGE_SUBSCRIPTION MIGRATED (and a
  MESSAGE_SUBSCRIPTION MIGRATE command to the message's partition, which answers MIGRATED), TIMER
  MIGRATED (the due date is kept), SIGNAL_SUBSCRIPTION MIGRATED;
- a subscription whose catch event is not mapped is closed, as leaving the element closes it
  (PROCESS_MESSAGE_SUBSCRIPTION DELETING with MESSAGE_SUBSCRIPTION DELETE, TIMER CANCELED,
  SIGNAL_SUBSCRIPTION DELETED), messages first, then timers, then signals;
- a catch event of the target element that no mapping instruction targets is subscribed to, as
  activating the element would (not when the element's flow scope was interrupted).

``plan`` checks and evaluates everything (the rejections of Zeebe's precondition checks, the new
subscriptions' expressions) before ``write`` writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    MessageSubscriptionIntent,
    ProcessMessageSubscriptionIntent,
    RejectionType,
    SignalSubscriptionIntent,
    TimerIntent,
    ValueType,
)

from .._batch import Batch
from ..bpmn.behaviors import CatchEventBehavior, ElementContext, ElementFailure
from ..bpmn.behaviors._events import SUBSCRIBE_ORDER
from ..bpmn.behaviors._messages import PreparedMessage, message_subscription_command, subscription_interrupts
from ..bpmn.model import ExecutableCatchEvent, ExecutableFlowNode
from ..state import ElementInstance

__all__ = ["CatchEventPlan", "MigrationRefused", "check_catch_event_mappings", "plan", "write"]

PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION
MS = ValueType.MESSAGE_SUBSCRIPTION


class MigrationRefused(Exception):
    """A precondition of the migration failed: the command is rejected with this type and reason."""

    def __init__(self, rejection_type: RejectionType, reason: str) -> None:
        super().__init__(reason)
        self.rejection_type = rejection_type
        self.reason = reason


def _refuse(reason: str) -> MigrationRefused:
    return MigrationRefused(RejectionType.INVALID_STATE, reason)


@dataclass(slots=True)
class CatchEventPlan:
    """What ``write`` does for one element instance, everything already checked and evaluated."""

    close_messages: list[dict[str, Any]] = field(default_factory=list)
    close_timers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    close_signals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    subscribe: list[tuple[ExecutableCatchEvent, Any]] = field(default_factory=list)
    migrate_messages: list[tuple[dict[str, Any], str, bool | None]] = field(default_factory=list)
    migrate_timers: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)
    migrate_signals: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)


def check_catch_event_mappings(pik: int, element_id: str, target_id: str, source_element: ExecutableFlowNode,
                               target_element: ExecutableFlowNode, mapped: dict[str, str],
                               target_elements: dict[str, Any]) -> None:
    """Zeebe's three checks of the mapped catch events of an element: each stays attached to the
    element, no two are merged into one, none changes its event type."""
    source_events = source_element.catch_events
    target_event_ids = {event.id for event in target_element.catch_events}
    for event in source_events:
        target_event_id = mapped.get(event.id)
        if target_event_id is not None and target_event_id not in target_event_ids:
            raise _refuse(f"Expected to migrate process instance '{pik}' but active element with id '{element_id}' is"
                          f" mapped to an element with id '{target_id}' and has a catch event with id '{event.id}'"
                          f" that is mapped to a catch event with id '{target_event_id}'. These mappings detach the"
                          " catch event from the element in the target process. Catch events must stay attached to"
                          " the same element instance.")
    by_target: dict[str, list[str]] = {}
    for event in source_events:
        if event.id in mapped:
            by_target.setdefault(mapped[event.id], []).append(event.id)
    for target_event_id, sources in by_target.items():
        if len(sources) > 1:
            quoted = "', '".join(sorted(sources))
            raise _refuse(f"Expected to migrate process instance '{pik}' but active element with id '{element_id}'"
                          f" has a catch event attached that is mapped to a catch event with id '{target_event_id}'."
                          f" There are multiple mapping instructions that target this catch event:"
                          f" '{quoted}'."
                          " Catch events cannot be merged by process instance migration. Please ensure the mapping"
                          " instructions target a catch event only once.")
    for event in source_events:
        target_event_id = mapped.get(event.id)
        if target_event_id is None:
            continue
        target_event = target_elements.get(target_event_id)
        target_type = getattr(target_event, "event_type", "UNSPECIFIED")
        if event.event_type != target_type:
            raise _refuse(f"Expected to migrate process instance '{pik}' but active element with id '{element_id}'"
                          f" has a catch event with id '{event.id}' that is mapped to a catch event with id"
                          f" '{target_event_id}'. These catch events have different event types: '{event.event_type}'"
                          f" and '{target_type}'. The event type of a catch event cannot be changed by process"
                          " instance migration. Please ensure the event type of the catch event remains the same or"
                          " remove the mapping instruction for these catch events.")


def plan(batch: Batch, catch_events: CatchEventBehavior, pik: int, instance: ElementInstance, target_id: str,
         target_element: ExecutableFlowNode, mapped: dict[str, str], migrated_value: dict[str, Any]) -> CatchEventPlan:
    """The subscriptions to close, open and migrate for ``instance`` becoming ``target_element``;
    raises ``MigrationRefused`` with Zeebe's reasons."""
    state = batch.state
    result = CatchEventPlan()
    element_id = instance.element_id
    for subscription in state.process_message_subscriptions_of(instance.key):
        if subscription["state"] == "DELETING":
            continue  # already on its way out
        record = subscription["record"]
        if record["elementId"] in mapped:
            result.migrate_messages.append((subscription, mapped[record["elementId"]], None))
        else:
            result.close_messages.append(subscription)
    for timer_key in state.timers_of(instance.key):
        timer = state.timer(timer_key)
        if timer is None:
            continue
        if timer["targetElementId"] in mapped:
            result.migrate_timers.append((timer_key, timer, mapped[timer["targetElementId"]]))
        else:
            result.close_timers.append((timer_key, timer))
    for key, record in state.signal_subscriptions_of(instance.key):
        if record["catchEventId"] in mapped:
            result.migrate_signals.append((key, record, mapped[record["catchEventId"]]))
        else:
            result.close_signals.append((key, record))

    mapped_targets = set(mapped.values())
    interrupting: dict[str, bool] = {}
    to_open: list[ExecutableCatchEvent] = []
    for event in target_element.catch_events:
        definition = event.event_definition
        if definition is None or definition.kind not in catch_events.subscribers:
            continue
        if event.id in mapped_targets:
            interrupting[event.id] = subscription_interrupts(event)
            continue
        if state.interrupting_element(instance.key) is not None:
            continue  # an interrupted flow scope waits for nothing any more
        to_open.append(event)
    context = ElementContext(instance.key, migrated_value)
    tenant = migrated_value.get("tenantId", DEFAULT_TENANT)
    for event in to_open:
        kind = event.event_definition.kind  # type: ignore[union-attr]
        try:
            prepared = catch_events.subscribers[kind].prepare(batch, event, context)
        except ElementFailure as failure:
            raise _refuse(f"Expected to migrate process instance '{pik}' but active element with id '{element_id}' is"
                          f" mapped to element with id '{target_id}' that must be subscribed to a catch event."
                          f" {failure.message}") from None
        if isinstance(prepared, PreparedMessage):
            existing = state.process_message_subscription(instance.key, prepared.name)
            if existing is not None and existing["record"].get("tenantId", DEFAULT_TENANT) == tenant:
                raise _refuse(f"Expected to migrate process instance '{pik}' but active element with id"
                              f" '{element_id}' attempts to subscribe to a message it is already subscribed to with"
                              f" name '{prepared.name}'. Migrating active elements that subscribe to a message they"
                              " are already subscribed to is not possible yet. Please provide a mapping instruction"
                              f" to message catch event with id '{event.id}' to migrate the respective message"
                              " subscription.")
        result.subscribe.append((event, prepared))
    # grouped by kind in the order activating an element subscribes (messages, timers, signals)
    result.subscribe.sort(key=lambda pair: SUBSCRIBE_ORDER.index(pair[0].event_definition.kind)  # type: ignore[union-attr]
                          if pair[0].event_definition.kind in SUBSCRIBE_ORDER else len(SUBSCRIBE_ORDER))  # type: ignore[union-attr]
    result.migrate_messages = [(subscription, target_event_id, interrupting.get(target_event_id))
                               for subscription, target_event_id, _ in result.migrate_messages]
    return result


def write(batch: Batch, catch_events: CatchEventBehavior, planned: CatchEventPlan, instance_key: int,
          migrated_value: dict[str, Any], target_key: int, target_process_id: str) -> None:
    """Close, open and migrate the subscriptions ``planned`` for the element instance ``instance_key``."""
    for subscription in planned.close_messages:
        record = subscription["record"]
        batch.event(PMS, ProcessMessageSubscriptionIntent.DELETING, subscription["key"], record)
        batch.send_to_partition(record["subscriptionPartitionId"], MS, MessageSubscriptionIntent.DELETE, -1,
                                message_subscription_command(record))
    for timer_key, timer in planned.close_timers:
        batch.event(ValueType.TIMER, TimerIntent.CANCELED, timer_key, timer)
    for key, record in planned.close_signals:
        batch.event(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.DELETED, key, record)

    context = ElementContext(instance_key, migrated_value)
    for event, prepared in planned.subscribe:
        catch_events.subscribers[event.event_definition.kind].subscribe(batch, event, prepared, context)  # type: ignore[union-attr]

    for subscription, target_event_id, interrupting in planned.migrate_messages:
        record = dict(subscription["record"])
        if interrupting is not None:
            record["interrupting"] = interrupting
        record["bpmnProcessId"] = target_process_id
        record["elementId"] = target_event_id
        batch.event(PMS, ProcessMessageSubscriptionIntent.MIGRATED, subscription["key"], record)
        command = message_subscription_command(record)
        partition = record["subscriptionPartitionId"]
        if partition == batch.partition_id:
            batch.command(MS, MessageSubscriptionIntent.MIGRATE, subscription["key"], command)
        else:
            batch.send_to_partition(partition, MS, MessageSubscriptionIntent.MIGRATE, subscription["key"], command)
    for timer_key, timer, target_event_id in planned.migrate_timers:
        batch.event(ValueType.TIMER, TimerIntent.MIGRATED, timer_key,
                    {**timer, "processDefinitionKey": target_key, "targetElementId": target_event_id})
    for key, record, target_event_id in planned.migrate_signals:
        batch.event(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.MIGRATED, key, {
            **record, "processDefinitionKey": target_key, "catchEventId": target_event_id,
            "bpmnProcessId": target_process_id})
