"""Parsed syntax -> executable model: one transformer per kind of element, expressions compiled once.

``transform_process`` builds the linked model of one parsed process (``engine.bpmn.ExecutableProcess``,
the syntax) in two passes, as Zeebe's ``BpmnTransformer`` does: first every element is created by the
transformer registered for its element type, then sequence flows and flow scopes are linked. Every
expression that fails to compile is listed in one ``CompileProblems``, naming its element.
"""

from __future__ import annotations

from collections.abc import Callable

from zeebe_trio.protocol import BpmnElementType as T

from .. import _model as syntax
from .._errors import element_label
from .._timers import TimerKind, TimerParseError, parse_timer
from ._ad_hoc import link_ad_hoc_sub_processes, transform_ad_hoc_sub_process
from ._business_rule_task import transform_business_rule_task
from ._call_activity import transform_call_activity
from ._compensation import ExecutableCompensation, link_compensations
from ._definitions import (
    EventDefinition,
    ExecutableError,
    ExecutableEscalation,
    ExecutableMessage,
    ExecutableSignal,
    ExecutableTimer,
    LinkEventDefinition,
    TerminateEventDefinition,
)
from ._elements import (
    ExecutableActivity,
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableEndEvent,
    ExecutableExclusiveGateway,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableIntermediateThrowEvent,
    ExecutableJobWorkerTask,
    ExecutableParallelGateway,
    ExecutableProcess,
    ExecutableSequenceFlow,
    ExecutableStartEvent,
    JobWorkerProperties,
)
from ._event_based_gateway import ExecutableEventBasedGateway
from ._event_transformers import link_throw_events
from ._expression import CompileProblems, compile_mappings, compile_value, parse_retries
from ._inclusive_gateway import ExecutableInclusiveGateway, link_inclusive_joins
from ._message_throw import ExecutableJobWorkerEvent
from ._multi_instance import ExecutableMultiInstanceBody, wrap_multi_instance
from ._receive_task import ExecutableReceiveTask
from ._tasks import compile_execution_listeners, transform_script_task, transform_user_task

__all__ = ["transform_process"]

_EVENT_TYPES = {T.START_EVENT, T.END_EVENT, T.INTERMEDIATE_CATCH_EVENT, T.INTERMEDIATE_THROW_EVENT, T.BOUNDARY_EVENT}

Transformer = Callable[[syntax.FlowNode, str, list[str]], ExecutableFlowNode]


def _label(node: syntax.FlowNode) -> str:
    return element_label(node.element_type.name.lower().replace("_", " "), node.id, node.name)


def _plain_node(cls: type[ExecutableFlowNode]) -> Transformer:
    def transform(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
        return cls(node.id, node.element_type, node.name)

    return transform


def _job_worker(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    assert node.job_type is not None
    task = ExecutableJobWorkerTask(node.id, node.element_type, node.name)
    try:
        job_type = compile_value(node.job_type, f"{where}: job type", expression_required=False)
        retries = compile_value(node.job_retries or syntax.DEFAULT_JOB_RETRIES, f"{where}: job retries",
                                expression_required=False, static=parse_retries)
    except CompileProblems as error:
        problems.extend(error.problems)
        return task
    task.job = JobWorkerProperties(job_type, retries, node.task_headers)
    return task


def _definition(node: syntax.FlowNode, where: str, problems: list[str]) -> EventDefinition | None:
    """The executable event definition of ``node``, its expressions compiled (None for a none event)."""
    parsed = node.event_definition
    try:
        if isinstance(parsed, syntax.TimerEventDefinition):
            options: tuple[tuple[TimerKind, str | None], ...] = (
                ("duration", parsed.time_duration), ("date", parsed.time_date), ("cycle", parsed.time_cycle))
            kind, text = next((k, t) for k, t in options if t is not None)
            text = text.strip()
            if text.startswith("="):
                return ExecutableTimer(kind, text, expression=compile_value(text, f"{where}: timer",
                                                                             expression_required=True))
            try:
                return ExecutableTimer(kind, text, static=parse_timer(kind, text))
            except TimerParseError as error:
                problems.append(f"{where}: {error}")
                return None
        if isinstance(parsed, syntax.MessageEventDefinition):
            name = compile_value(parsed.message_name or "", f"{where}: message name", expression_required=False)
            key = None if parsed.correlation_key is None else compile_value(
                parsed.correlation_key, f"{where}: correlation key", expression_required=False)
            return ExecutableMessage(name, key)
        if isinstance(parsed, syntax.SignalEventDefinition):
            return ExecutableSignal(compile_value(parsed.signal_name or "", f"{where}: signal name",
                                                  expression_required=False))
        if isinstance(parsed, syntax.ErrorEventDefinition):
            code = None if parsed.error_code is None else compile_value(
                parsed.error_code, f"{where}: error code", expression_required=False)
            return ExecutableError(code, parsed.error_code_variable, parsed.error_message_variable)
        if isinstance(parsed, syntax.TerminateEventDefinition):
            return TerminateEventDefinition()
        if isinstance(parsed, syntax.LinkEventDefinition):
            return LinkEventDefinition(parsed.name)  # the throw side is linked to its catch after the first pass
        if isinstance(parsed, syntax.EscalationEventDefinition):
            code = None if parsed.escalation_code is None else compile_value(
                parsed.escalation_code, f"{where}: escalation code", expression_required=False)
            return ExecutableEscalation(code)
        if isinstance(parsed, syntax.CompensateEventDefinition):
            return ExecutableCompensation(parsed.activity_ref)  # linked to its activities after the first pass
    except CompileProblems as error:
        problems.extend(error.problems)
    return None


def _event(cls: type[ExecutableFlowNode]) -> Transformer:
    def transform(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
        event = cls(node.id, node.element_type, node.name)
        definition = _definition(node, where, problems)
        if definition is not None:
            event.event_definition = definition  # type: ignore[attr-defined]
            event.event_type = definition.kind.upper()
        return event

    return transform


def _boundary_event(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    event = _event(ExecutableBoundaryEvent)(node, where, problems)
    assert isinstance(event, ExecutableBoundaryEvent)
    event.cancel_activity = node.cancel_activity
    return event


#: element type -> its transformer; an element type missing here is not executable.
TRANSFORMERS: dict[T, Transformer] = {
    T.START_EVENT: _event(ExecutableStartEvent),
    T.END_EVENT: _event(ExecutableEndEvent),
    T.INTERMEDIATE_THROW_EVENT: _event(ExecutableIntermediateThrowEvent),
    T.INTERMEDIATE_CATCH_EVENT: _event(ExecutableCatchEvent),
    T.TASK: _plain_node(ExecutableActivity),
    T.MANUAL_TASK: _plain_node(ExecutableActivity),
    T.EXCLUSIVE_GATEWAY: _plain_node(ExecutableExclusiveGateway),
    T.PARALLEL_GATEWAY: _plain_node(ExecutableParallelGateway),
    T.SUB_PROCESS: _plain_node(ExecutableFlowElementContainer),
    T.EVENT_SUB_PROCESS: _plain_node(ExecutableFlowElementContainer),
    T.BOUNDARY_EVENT: _boundary_event,
    T.CALL_ACTIVITY: transform_call_activity,
    T.INCLUSIVE_GATEWAY: _plain_node(ExecutableInclusiveGateway),
    T.EVENT_BASED_GATEWAY: _plain_node(ExecutableEventBasedGateway),
    T.RECEIVE_TASK: _event(ExecutableReceiveTask),
    T.AD_HOC_SUB_PROCESS: transform_ad_hoc_sub_process,
}
for _job_type in syntax.JOB_WORKER_ELEMENT_TYPES:
    TRANSFORMERS[_job_type] = _job_worker
TRANSFORMERS[T.USER_TASK] = transform_user_task


def _script_task(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    """A script task: a job (zeebe:taskDefinition) or a FEEL expression (zeebe:script)."""
    if node.is_job_worker:
        return _job_worker(node, where, problems)
    return transform_script_task(node, where, problems)


TRANSFORMERS[T.SCRIPT_TASK] = _script_task


def _business_rule_task(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    """A business rule task: a job (zeebe:taskDefinition) or a decision (zeebe:calledDecision)."""
    if node.is_job_worker:
        return _job_worker(node, where, problems)
    return transform_business_rule_task(node, where, problems)


TRANSFORMERS[T.BUSINESS_RULE_TASK] = _business_rule_task


def _job_worker_or(transformer: Transformer) -> Transformer:
    """Message throw and end events run as job workers (the syntax gives them a job type)."""
    def transform(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
        if node.job_type is None or node.event_kind != "message":
            return transformer(node, where, problems)
        worker = _job_worker(node, where, problems)
        assert isinstance(worker, ExecutableJobWorkerTask)
        event = ExecutableJobWorkerEvent(node.id, node.element_type, node.name, job=worker.job)
        event.event_definition = _definition(node, where, problems)
        return event

    return transform


TRANSFORMERS[T.END_EVENT] = _job_worker_or(TRANSFORMERS[T.END_EVENT])
TRANSFORMERS[T.INTERMEDIATE_THROW_EVENT] = _job_worker_or(TRANSFORMERS[T.INTERMEDIATE_THROW_EVENT])


def transform_process(parsed: syntax.ExecutableProcess) -> ExecutableProcess:
    """The executable model of ``parsed``; raises CompileProblems listing every expression that fails."""
    problems: list[str] = []
    prefix = element_label("process", parsed.bpmn_process_id, parsed.name)
    process = ExecutableProcess(
        parsed.bpmn_process_id, T.PROCESS, parsed.name,
        inputs=compile_mappings(parsed.input_mappings, prefix, problems),
        outputs=compile_mappings(parsed.output_mappings, prefix, problems),
        bpmn_process_id=parsed.bpmn_process_id, resource_name=parsed.resource_name,
        version_tag=parsed.version_tag,
    )
    process.execution_listeners = compile_execution_listeners(parsed.execution_listeners, prefix, problems)
    nodes: dict[str, ExecutableFlowNode] = {}
    for node in parsed.flow_nodes():
        where = f"{prefix}: {_label(node)}"
        transformer = TRANSFORMERS.get(node.element_type)
        if transformer is None:
            problems.append(f"{where}: {node.element_type.name} elements are not executable")
            continue
        element = transformer(node, where, problems)
        element.inputs = compile_mappings(node.input_mappings, where, problems)
        element.outputs = compile_mappings(node.output_mappings, where, problems)
        element.event_type = (node.event_kind or "none").upper() if node.element_type in _EVENT_TYPES else "UNSPECIFIED"
        element.execution_listeners = compile_execution_listeners(node.execution_listeners, where, problems)
        if isinstance(element, ExecutableStartEvent):
            element.interrupting = node.interrupting
        if node.multi_instance is not None and isinstance(element, ExecutableActivity):
            element = wrap_multi_instance(element, node.multi_instance, where, problems)
        nodes[node.id] = element
    # Second pass: flow scopes, children, start events, event subprocesses, attached boundary events.
    for node in parsed.flow_nodes():
        found = nodes.get(node.id)
        if found is None:
            continue
        element = found
        if isinstance(element, ExecutableBoundaryEvent):
            attached = nodes.get(node.attached_to or "")
            if not isinstance(attached, ExecutableActivity):
                problems.append(f"{prefix}: {_label(node)}: is not attached to an activity")
                continue
            element.attached_to = attached
            attached.boundary_events.append(element)
            element.flow_scope = attached.flow_scope  # set once the activity's scope is linked below
            continue
        scope = nodes.get(node.flow_scope_id) if node.flow_scope_id else process
        if isinstance(scope, ExecutableMultiInstanceBody):  # the children of a multi-instance subprocess
            scope = scope.inner_activity
        assert isinstance(scope, ExecutableFlowElementContainer), f"{node.id}: flow scope {node.flow_scope_id}"
        element.flow_scope = scope
        if element.element_type is T.EVENT_SUB_PROCESS:
            scope.event_sub_processes.append(element)  # type: ignore[arg-type]
        else:
            scope.children.append(element)
        if isinstance(element, ExecutableStartEvent):
            scope.start_events.append(element)
    for element in nodes.values():
        if isinstance(element, ExecutableBoundaryEvent) and element.attached_to is not None:
            element.flow_scope = element.attached_to.flow_scope
            if element.flow_scope is not None:
                element.flow_scope.children.append(element)
    flows: dict[str, ExecutableSequenceFlow] = {}
    for flow in parsed.sequence_flows():
        if flow.source_ref not in nodes or flow.target_ref not in nodes:
            continue  # its end was refused above
        condition = None
        if flow.condition is not None and flow.condition.strip():
            where = f"{prefix}: {element_label('sequence flow', flow.id, flow.name)} condition"
            try:
                condition = compile_value(flow.condition, where, expression_required=True)
            except CompileProblems as error:
                problems.extend(error.problems)
        flows[flow.id] = ExecutableSequenceFlow(flow.id, T.SEQUENCE_FLOW, flow.name, nodes[flow.source_ref],
                                                nodes[flow.target_ref], condition)
    for node in parsed.flow_nodes():
        linked = nodes.get(node.id)
        if linked is None:
            continue
        element = linked
        # Document order of the flows, as the syntax lists them (Zeebe's order of outgoing flows).
        element.incoming = [flows[f] for f in node.incoming if f in flows]
        element.outgoing = [flows[f] for f in node.outgoing if f in flows]
        if isinstance(element, ExecutableExclusiveGateway | ExecutableInclusiveGateway) and node.default_flow:
            element.default_flow = flows.get(node.default_flow)
    link_throw_events(nodes.values(), problems, prefix)
    link_compensations(parsed, nodes, problems, prefix)
    inner_instances = link_ad_hoc_sub_processes(nodes.values(), parsed)
    containers = [n.inner_activity if isinstance(n, ExecutableMultiInstanceBody) else n for n in nodes.values()]
    link_inclusive_joins([process, *(n for n in containers if isinstance(n, ExecutableFlowElementContainer)),
                          *inner_instances])
    if problems:
        raise CompileProblems(problems)
    process.elements = {**nodes, **flows, **{inner.id: inner for inner in inner_instances}}
    return process
