"""Appliers of process instance events: element instances, taken sequence flows, creations and results.

A container counts its children and the sequence flows on their way to a child (``active_flows``), so
that it knows when its last path has ended. A parallel join also counts, per incoming flow, the taken
flows that no activation of it has consumed yet.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    BpmnElementType,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    ProcessIntent,
    Record,
    ValueType,
)

from ..bpmn.model import ExecutableFlowNode, ExecutableParallelGateway
from ..state import ElementInstance, EngineState
from . import _call_activities, _multi_instance
from ._registry import EventAppliers, no_state_change

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent


def _is_join(node: ExecutableFlowNode) -> bool:
    return isinstance(node, ExecutableParallelGateway) and node.is_join


def _flow_node(state: EngineState, record: Record, element_id: str) -> ExecutableFlowNode:
    process = state.processes.get(record.value["processDefinitionKey"])
    assert process is not None, f"process {record.value['processDefinitionKey']} of {record!r} is not deployed"
    return process.flow_node(element_id, BpmnElementType(record.value["bpmnElementType"]))


def _process_created(state: EngineState, record: Record) -> None:
    state.put_process(record.key, record.value)
    _call_activities.process_created(state, record)


def _element_activating(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["flowScopeKey"]
    state.put_element_instance(ElementInstance(record.key, _I.ELEMENT_ACTIVATING, value))
    state.set_scope_parent(record.key, scope_key)
    _call_activities.child_instance_activating(state, record)
    if scope_key <= 0:
        return
    parent = state.element_instance(scope_key)
    if parent is None:
        return
    parent.child_count += 1
    # An element entered through sequence flows consumes them (a parallel join: one per incoming flow).
    node = _flow_node(state, record, value["elementId"])
    if node.incoming:
        if _is_join(node):
            parent.active_flows -= len(node.incoming)
            for flow in node.incoming:
                count = state.taken_flow_count(scope_key, node.id, flow.id)
                state.set_taken_flow_count(scope_key, node.id, flow.id, count - 1)
        else:
            parent.active_flows -= 1
    state.put_element_instance(parent)
    state.add_child(scope_key, record.key)
    _multi_instance.child_activating(state, parent, record.key)


def _element_state_changed(state: EngineState, record: Record) -> None:
    instance = state.element_instance(record.key)
    if instance is not None:
        instance.state = _I(int(record.intent))
        state.put_element_instance(instance)


def _element_finished(state: EngineState, record: Record) -> None:
    scope_key = record.value["flowScopeKey"]
    if int(record.intent) == _I.ELEMENT_COMPLETED:
        _call_activities.child_instance_completed(state, record)
    _call_activities.call_activity_finished(state, record)
    state.remove_element_instance(record.key, scope_key)
    state.remove_scope(record.key)
    _multi_instance.element_finished(state, record.key, BpmnElementType(record.value["bpmnElementType"]),
                                     state.element_instance(scope_key) if scope_key > 0 else None,
                                     _I(int(record.intent)))
    process = state.processes.get(record.value["processDefinitionKey"])
    assert process is not None
    element = process if scope_key <= 0 else process.flow_node(record.value["elementId"],
                                                                BpmnElementType(record.value["bpmnElementType"]))
    if element.catch_events:  # only an element with catch events is ever an event scope
        state.remove_event_scope(record.key)
    if scope_key <= 0:  # the process instance itself: nobody can await its result any more
        state.set_awaiting_result(record.key, None)
        state.clear_taken_flows(record.key)  # only containers hold joins
        return
    parent = state.element_instance(scope_key)
    if parent is not None:
        parent.child_count -= 1
        state.put_element_instance(parent)


def _sequence_flow_taken(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["flowScopeKey"]
    parent = state.element_instance(scope_key)
    if parent is not None:
        parent.active_flows += 1
        state.put_element_instance(parent)
    process = state.processes.get(value["processDefinitionKey"])
    assert process is not None
    target = process.sequence_flow(value["elementId"]).target
    if _is_join(target):
        count = state.taken_flow_count(scope_key, target.id, value["elementId"])
        state.set_taken_flow_count(scope_key, target.id, value["elementId"], count + 1)


def _instance_created(state: EngineState, record: Record) -> None:
    if record.request_id >= 0:  # only set when the creator awaits the result
        state.set_awaiting_result(record.value["processInstanceKey"], {
            "requestId": record.request_id,
            "requestStreamId": record.request_stream_id,
            "fetchVariables": record.value.get("fetchVariables", []),
        })


def _instance_result(state: EngineState, record: Record) -> None:
    state.set_awaiting_result(record.value["processInstanceKey"], None)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.PROCESS, ProcessIntent.CREATED, _process_created)
    appliers.register(PI, _I.ELEMENT_ACTIVATING, _element_activating)
    for intent in (_I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING, _I.ELEMENT_TERMINATING):
        appliers.register(PI, intent, _element_state_changed)
    for intent in (_I.ELEMENT_COMPLETED, _I.ELEMENT_TERMINATED):
        appliers.register(PI, intent, _element_finished)
    appliers.register(PI, _I.SEQUENCE_FLOW_TAKEN, _sequence_flow_taken)
    appliers.register(PI, _I.CANCELING, no_state_change)  # audit only, as in Zeebe
    appliers.register(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED, _instance_created)
    appliers.register(ValueType.PROCESS_INSTANCE_RESULT, ProcessInstanceResultIntent.COMPLETED, _instance_result)
