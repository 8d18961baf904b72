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
    ProcessInstanceModificationIntent,
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
from . import _call_activities, _multi_instance, _runtime_instructions
from ._registry import EventAppliers, no_state_change

PI = ValueType.PROCESS_INSTANCE
_ELEMENT_TYPES = {element_type.value: element_type for element_type in BpmnElementType}
_I = ProcessInstanceIntent


_JOINS = (ExecutableParallelGateway, ExecutableInclusiveGateway)
_PROCESS = BpmnElementType.PROCESS.value
_CALL_ACTIVITY = BpmnElementType.CALL_ACTIVITY.value


def _is_join(node: ExecutableFlowNode) -> bool:
    return isinstance(node, _JOINS) and node.is_join  # type: ignore[union-attr]


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
    if scope_key <= 0:
        if value["bpmnElementType"] == _PROCESS:
            _call_activities.child_instance_activating(state, record)
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
        elif parent.flows_in_flight.get(node.id, 0) > 0:
            # (an element a start instruction or a modification activates came by no flow)
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
        instance.enter(record.intent)  # type: ignore[arg-type]  # a ProcessInstanceIntent
        state.put_element_instance(instance)


def _element_finished(state: EngineState, record: Record) -> None:
    value = record.value
    key = record.key
    scope_key = value["flowScopeKey"]
    element_type = _ELEMENT_TYPES[value["bpmnElementType"]]
    completed = record.intent == _I.ELEMENT_COMPLETED
    if element_type is BpmnElementType.PROCESS:
        if completed:
            _call_activities.child_instance_completed(state, record)
    elif element_type is BpmnElementType.CALL_ACTIVITY:
        _call_activities.call_activity_finished(state, record)
    state.remove_element_instance(key, scope_key)
    state.remove_scope(key)
    parent = state.element_instance(scope_key) if scope_key > 0 else None
    _multi_instance.element_finished(state, key, element_type, parent,
                                     _I.ELEMENT_COMPLETED if completed else _I.ELEMENT_TERMINATED)
    process = state.processes.get(value["processDefinitionKey"])
    assert process is not None
    element = process if scope_key <= 0 else process.flow_node(value["elementId"], element_type)
    if element.catch_events:  # only an element with catch events is ever an event scope
        state.remove_event_scope(key)
    if scope_key <= 0:  # the process instance itself: nobody can await its result any more
        state.set_awaiting_result(key, None)
        state.clear_taken_flows(key)  # only containers hold joins
        state.remove_active_message_instance(key)  # a message start event's correlation key is free
        state.set_runtime_instructions(key, None)  # its runtime instructions end with it
        return
    if isinstance(element, ExecutableFlowElementContainer):
        # a terminated subprocess (or inner instance of a multi-instance body) may leave flows taken
        # into a join that never activated
        state.clear_taken_flows(key)
    if parent is not None:
        parent.child_count -= 1
        if completed:
            catch = _link_catch(element)
            if catch is not None:
                parent.active_flows += 1
                parent.flows_in_flight[catch.id] = parent.flows_in_flight.get(catch.id, 0) + 1
            elif isinstance(element, ExecutableEndEvent) \
                    and isinstance(element.event_definition, TerminateEventDefinition):
                # The flow scope is interrupted: its remaining children are terminated, and no token on
                # its way arrives any more (Zeebe resets the active sequence flows).
                parent.interrupting_element_id = element.id
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
    _runtime_instructions.store_runtime_instructions(state, record.value["processInstanceKey"], record.value)
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
    appliers.register(ValueType.PROCESS_INSTANCE_MODIFICATION, ProcessInstanceModificationIntent.MODIFIED,
                      no_state_change)  # its element instance events changed the state
