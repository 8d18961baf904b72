"""Appliers of message subscription events, on both sides of a correlation.

The message partition holds MESSAGE_SUBSCRIPTION (by name and correlation key, and whether a message
is on its way to the element: CORRELATING until the element's CORRELATE comes back) and remembers
which process each message correlated to (a message correlates once per process). The process
instance's partition holds PROCESS_MESSAGE_SUBSCRIPTION per element instance and message name, in
the states CREATING, CREATED and DELETING. An interrupting subscription is gone once correlated.
MESSAGE_START_EVENT_SUBSCRIPTION lists the message start events of the latest process versions; a
correlation with a correlation key locks that key for the process until the instance ends.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    MessageStartEventSubscriptionIntent,
    MessageSubscriptionIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    ValueType,
)

from ..state import EngineState
from ._registry import EventAppliers

MS = ValueType.MESSAGE_SUBSCRIPTION
PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION
MSES = ValueType.MESSAGE_START_EVENT_SUBSCRIPTION
_M = MessageSubscriptionIntent
_P = ProcessMessageSubscriptionIntent


def _subscription_created(state: EngineState, record: Record) -> None:
    state.put_message_subscription(record.key, dict(record.value), correlating=False)


def _subscription_correlating(state: EngineState, record: Record) -> None:
    state.put_message_subscription(record.key, dict(record.value), correlating=True)
    state.put_message_correlation(record.value["messageKey"], record.value["bpmnProcessId"])


def _subscription_correlated(state: EngineState, record: Record) -> None:
    if record.value.get("interrupting", True):
        state.remove_message_subscription(record.key)
    elif state.message_subscription(record.key) is not None:
        state.put_message_subscription(record.key, dict(record.value), correlating=False)


def _subscription_rejected(state: EngineState, record: Record) -> None:
    """The element did not take the message: it may correlate to the process again."""
    state.remove_message_correlation(record.value["messageKey"], record.value["bpmnProcessId"])
    stored = state.message_subscription(record.key)
    if stored is not None:
        state.put_message_subscription(record.key, stored["record"], correlating=False)


def _subscription_deleted(state: EngineState, record: Record) -> None:
    state.remove_message_subscription(record.key)


def _process_subscription(state_name: str):  # type: ignore[no-untyped-def]
    def apply(state: EngineState, record: Record) -> None:
        value = record.value
        state.put_process_message_subscription(value["elementInstanceKey"], value["messageName"], record.key,
                                               state_name, dict(value))
    return apply


def _process_subscription_correlated(state: EngineState, record: Record) -> None:
    value = record.value
    if value.get("interrupting", True):
        state.remove_process_message_subscription(value["elementInstanceKey"], value["messageName"])
        return
    stored = state.process_message_subscription(value["elementInstanceKey"], value["messageName"])
    if stored is not None:  # open again, remembering the last message it took
        state.put_process_message_subscription(value["elementInstanceKey"], value["messageName"], stored["key"],
                                               "CREATED", {**stored["record"], "messageKey": value["messageKey"]})


def _process_subscription_deleted(state: EngineState, record: Record) -> None:
    state.remove_process_message_subscription(record.value["elementInstanceKey"], record.value["messageName"])


def _start_subscription_created(state: EngineState, record: Record) -> None:
    state.put_message_start_subscription({**record.value, "subscriptionKey": record.key})


def _start_subscription_deleted(state: EngineState, record: Record) -> None:
    state.remove_message_start_subscription(record.value)


def _start_subscription_correlated(state: EngineState, record: Record) -> None:
    value = record.value
    state.put_message_correlation(value["messageKey"], value["bpmnProcessId"])
    if value.get("correlationKey"):
        state.put_active_message_instance(value.get("tenantId", DEFAULT_TENANT), value["bpmnProcessId"],
                                          value["correlationKey"], value["processInstanceKey"])


def register(appliers: EventAppliers) -> None:
    appliers.register(MS, _M.CREATED, _subscription_created)
    appliers.register(MS, _M.CORRELATING, _subscription_correlating)
    appliers.register(MS, _M.CORRELATED, _subscription_correlated)
    appliers.register(MS, _M.DELETED, _subscription_deleted)
    appliers.register(MS, _M.REJECTED, _subscription_rejected)
    appliers.register(PMS, _P.CREATING, _process_subscription("CREATING"))
    appliers.register(PMS, _P.CREATED, _process_subscription("CREATED"))
    appliers.register(PMS, _P.CORRELATED, _process_subscription_correlated)
    appliers.register(PMS, _P.DELETING, _process_subscription("DELETING"))
    appliers.register(PMS, _P.DELETED, _process_subscription_deleted)
    appliers.register(MSES, MessageStartEventSubscriptionIntent.CREATED, _start_subscription_created)
    appliers.register(MSES, MessageStartEventSubscriptionIntent.CORRELATED, _start_subscription_correlated)
    appliers.register(MSES, MessageStartEventSubscriptionIntent.DELETED, _start_subscription_deleted)
