"""Appliers of timer and process event records: scheduled timers, and the events triggered on an
element instance (its event scope) that an element has not consumed yet.

A PROCESS_EVENT TRIGGERING event records the trigger (its target element and variables) on the event
scope; an interrupting trigger also marks the scope interrupted, so that no second interrupting event
triggers there. TRIGGERED consumes the trigger (an element completing with its own trigger's variables
reads them from it, ``EngineState.event_trigger``).
"""

from __future__ import annotations

from zeebe_trio.protocol import ProcessEventIntent, Record, TimerIntent, ValueType

from ..bpmn.model import (
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableFlowNode,
    ExecutableStartEvent,
)
from ..state import EngineState
from ._registry import EventAppliers


def is_interrupting(element: ExecutableFlowNode) -> bool:
    """Whether triggering ``element`` interrupts its event scope (a trigger for an element that is no
    catch event, e.g. a script task's result, does not)."""
    if not isinstance(element, ExecutableCatchEvent):
        return False
    if isinstance(element, ExecutableBoundaryEvent):
        return element.cancel_activity
    if isinstance(element, ExecutableStartEvent):
        return element.interrupting
    return True  # an intermediate catch event (or a gateway's event) triggers once


def _timer_created(state: EngineState, record: Record) -> None:
    state.put_timer(record.key, record.value)


def _timer_removed(state: EngineState, record: Record) -> None:
    state.remove_timer(record.key)


def _process_event_triggering(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["scopeKey"]
    variables = value.get("variables") or {}
    state.put_event_trigger(scope_key, record.key, {"elementId": value["targetElementId"], "variables": variables,
                                                    "processInstanceKey": value["processInstanceKey"]})
    process = state.processes.get(value["processDefinitionKey"])
    assert process is not None
    target = process if value["targetElementId"] == process.bpmn_process_id \
        else process.flow_node(value["targetElementId"])
    instance = state.element_instance(scope_key)  # None for a start event's trigger (scope: the definition)
    if instance is not None and is_interrupting(target):
        state.set_interrupted(scope_key, target.id)


def _process_event_triggered(state: EngineState, record: Record) -> None:
    state.remove_event_trigger(record.value["scopeKey"], record.key)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.TIMER, TimerIntent.CREATED, _timer_created)
    appliers.register(ValueType.TIMER, TimerIntent.TRIGGERED, _timer_removed)
    appliers.register(ValueType.TIMER, TimerIntent.CANCELED, _timer_removed)
    appliers.register(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERING, _process_event_triggering)
    appliers.register(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERED, _process_event_triggered)
