"""Appliers of process instance events: element instances, taken sequence flows, creations and results.

A container counts its children and the sequence flows on their way to a child (``active_flows``), so
that it knows when its last path has ended, and which element each of those tokens is heading for
(``flows_in_flight``, for inclusive joins). A join (parallel, or inclusive with several incoming flows)
also counts, per incoming flow, the taken flows that no activation of it has consumed yet; a parallel
join consumes one per incoming flow, an inclusive join one per incoming flow that has any. A link
throw event's jump to its catch event is a token on its way too. A terminate end event's completion
interrupts its flow scope: the tokens on their way there are dropped.
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

from ..bpmn.model import (
    ExecutableCatchEvent,
    ExecutableEndEvent,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableInclusiveGateway,
    ExecutableIntermediateThrowEvent,
    ExecutableParallelGateway,
    LinkEventDefinition,
    TerminateEventDefinition,
    is_after_event_based_gateway,
)
from ..state import ElementInstance, EngineState
from . import _call_activities, _multi_instance
from ._registry import EventAppliers, no_state_change

PI = ValueType.PROCESS_INSTANCE
_ELEMENT_TYPES = {element_type.value: element_type for element_type in BpmnElementType}
_I = ProcessInstanceIntent


def _is_join(node: ExecutableFlowNode) -> bool:
    return isinstance(node, ExecutableParallelGateway | ExecutableInclusiveGateway) and node.is_join


def _link_catch(node: ExecutableFlowNode) -> ExecutableCatchEvent | None:
    """The catch event a link throw event jumps to, or None for every other element."""
    if isinstance(node, ExecutableIntermediateThrowEvent) and isinstance(node.event_definition, LinkEventDefinition):
        return node.event_definition.catch_event
    return None


def _arrived(parent: ElementInstance, target_id: str, tokens: int) -> None:
    left = parent.flows_in_flight.get(target_id, 0) - tokens
    if left > 0:
        parent.flows_in_flight[target_id] = left
    else:
        parent.flows_in_flight.pop(target_id, None)


def _flow_node(state: EngineState, record: Record, element_id: str) -> ExecutableFlowNode:
    process = state.processes.get(record.value["processDefinitionKey"])
    assert process is not None, f"process {record.value['processDefinitionKey']} of {record!r} is not deployed"
    return process.flow_node(element_id, _ELEMENT_TYPES[record.value["bpmnElementType"]])


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
    # An element entered through sequence flows consumes them (a parallel join: one per incoming flow);
    # an event after an event-based gateway is entered without its flow being taken.
    node = _flow_node(state, record, value["elementId"])
    if node.incoming and not is_after_event_based_gateway(node):
        if _is_join(node):
            consumed = 0
            for flow in node.incoming:
                count = state.taken_flow_count(scope_key, node.id, flow.id)
                if count > 0:
                    state.set_taken_flow_count(scope_key, node.id, flow.id, count - 1)
                    consumed += 1
            parent.active_flows -= consumed
            _arrived(parent, node.id, consumed)
        else:
            parent.active_flows -= 1
            _arrived(parent, node.id, 1)
    elif isinstance(node, ExecutableCatchEvent) and isinstance(node.event_definition, LinkEventDefinition):
        parent.active_flows -= 1  # the jump of its link throw event
        _arrived(parent, node.id, 1)
    state.put_element_instance(parent)
    state.add_child(scope_key, record.key)
    _multi_instance.child_activating(state, parent, record.key)


def _element_state_changed(state: EngineState, record: Record) -> None:
    instance = state.element_instance(record.key)
    if instance is not None:
        instance.state = record.intent  # type: ignore[assignment]  # a ProcessInstanceIntent
        if instance.state in (_I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING):
            instance.execution_listener_index = 0  # the next phase's listeners start from the first
        state.put_element_instance(instance)


def _element_finished(state: EngineState, record: Record) -> None:
    scope_key = record.value["flowScopeKey"]
    if int(record.intent) == _I.ELEMENT_COMPLETED:
        _call_activities.child_instance_completed(state, record)
    _call_activities.call_activity_finished(state, record)
    state.remove_element_instance(record.key, scope_key)
    state.remove_scope(record.key)
    _multi_instance.element_finished(state, record.key, _ELEMENT_TYPES[record.value["bpmnElementType"]],
                                     state.element_instance(scope_key) if scope_key > 0 else None,
                                     _I(int(record.intent)))
    process = state.processes.get(record.value["processDefinitionKey"])
    assert process is not None
    element = process if scope_key <= 0 else process.flow_node(record.value["elementId"],
                                                                _ELEMENT_TYPES[record.value["bpmnElementType"]])
    if element.catch_events:  # only an element with catch events is ever an event scope
        state.remove_event_scope(record.key)
    if scope_key > 0 and isinstance(element, ExecutableFlowElementContainer):
        # a terminated subprocess (or inner instance of a multi-instance body) may leave flows taken
        # into a join that never activated
        state.clear_taken_flows(record.key)
    if scope_key <= 0:  # the process instance itself: nobody can await its result any more
        state.set_awaiting_result(record.key, None)
        state.clear_taken_flows(record.key)  # only containers hold joins
        state.remove_active_message_instance(record.key)  # a message start event's correlation key is free
        return
    parent = state.element_instance(scope_key)
    if parent is not None:
        parent.child_count -= 1
        if int(record.intent) == _I.ELEMENT_COMPLETED:
            node = _flow_node(state, record, record.value["elementId"])
            catch = _link_catch(node)
            if catch is not None:
                parent.active_flows += 1
                parent.flows_in_flight[catch.id] = parent.flows_in_flight.get(catch.id, 0) + 1
            elif isinstance(node, ExecutableEndEvent) and isinstance(node.event_definition, TerminateEventDefinition):
                # The flow scope is interrupted: its remaining children are terminated, and no token on
                # its way arrives any more (Zeebe resets the active sequence flows).
                parent.interrupting_element_id = node.id
                parent.active_flows = 0
                parent.flows_in_flight.clear()
                state.clear_taken_flows(scope_key)
        state.put_element_instance(parent)


def _sequence_flow_taken(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["flowScopeKey"]
    parent = state.element_instance(scope_key)
    process = state.processes.get(value["processDefinitionKey"])
    assert process is not None
    target = process.sequence_flow(value["elementId"]).target
    if parent is not None:
        parent.active_flows += 1
        parent.flows_in_flight[target.id] = parent.flows_in_flight.get(target.id, 0) + 1
        state.put_element_instance(parent)
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
