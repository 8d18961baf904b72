"""Process instances: creation (PROCESS_INSTANCE_CREATION.CREATE) and cancellation (PROCESS_INSTANCE.CANCEL)."""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
    excerpt,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import (
    TERMINATE_PROCESS_INSTANCE,
    ActivationPlan,
    ActivationPlanner,
    ActivationRefused,
    ElementActivationBehavior,
    VariableBehavior,
)
from ..bpmn.model import (
    ExecutableCatchEvent,
    ExecutableFlowNode,
    ExecutableProcess,
    is_after_event_based_gateway,
)

PI = ValueType.PROCESS_INSTANCE
T = BpmnElementType

#: What neither a start instruction nor a modification may activate (Zeebe's UNSUPPORTED_ELEMENT_TYPES).
UNSUPPORTED_ACTIVATION_TYPES = frozenset({T.UNSPECIFIED, T.START_EVENT, T.SEQUENCE_FLOW, T.BOUNDARY_EVENT})
SUPPORTED_ACTIVATION_TYPES = "[" + ", ".join(
    t.name for t in T if t not in UNSUPPORTED_ACTIVATION_TYPES and t is not T.AD_HOC_SUB_PROCESS_INNER_INSTANCE) + "]"


def inside_multi_instance(node: ExecutableFlowNode) -> bool:
    scope = node.flow_scope
    while scope is not None:
        if scope.element_type is T.MULTI_INSTANCE_BODY:
            return True
        scope = scope.flow_scope
    return False


def connected_to_event_based_gateway(node: ExecutableFlowNode) -> bool:
    return isinstance(node, ExecutableCatchEvent) and is_after_event_based_gateway(node)


def start_instruction_targets(process: ExecutableProcess, instructions: object
                              ) -> list[ExecutableFlowNode] | tuple[RejectionType, str]:
    """The elements start instructions name, or the rejection of the first one that cannot be started
    at, in Zeebe's order of checks (ProcessInstanceCreationCreateProcessor.validateCommand)."""
    invalid = RejectionType.INVALID_ARGUMENT
    if not isinstance(instructions, list) or not all(isinstance(i, dict) for i in instructions):
        return invalid, "Expected start instructions to be a list of objects with an 'elementId'"
    if not instructions:
        if process.none_start_event is None:
            return (RejectionType.INVALID_STATE,
                    "Expected to create instance of process with none start event, but there is no such event")
        return []
    prefix = "Expected to create instance of process with start instructions but"
    ids = [instruction.get("elementId") for instruction in instructions]
    for element_id in ids:
        if not isinstance(element_id, str) or element_id not in process.elements:
            return invalid, f"{prefix} no element found with id {excerpt(str(element_id))}."
    elements = [process.elements[element_id] for element_id in ids]  # type: ignore[index]
    for element in elements:
        if isinstance(element, ExecutableFlowNode) and inside_multi_instance(element):
            return invalid, (f"{prefix} the element with id '{element.id}' is inside a multi-instance subprocess."
                             " The creation of elements inside a multi-instance subprocess is not supported.")
    for element in elements:
        if element.element_type in UNSUPPORTED_ACTIVATION_TYPES or not isinstance(element, ExecutableFlowNode):
            return invalid, (f"{prefix} the element with id '{element.id}' targets unsupported element type"
                             f" '{element.element_type.name}'. Supported element types are:"
                             f" {SUPPORTED_ACTIVATION_TYPES}")
    nodes = [element for element in elements if isinstance(element, ExecutableFlowNode)]
    for node in nodes:
        if any(flow.source.element_type is T.EVENT_BASED_GATEWAY for flow in node.incoming):
            return invalid, (f"{prefix} the element with id '{node.id}' belongs to an event-based gateway. The"
                             " creation of elements belonging to an event-based gateway is not supported.")
    return nodes


def runtime_instructions_problem(process: ExecutableProcess, instructions: object) -> str | None:
    """Why the runtime instructions of a creation command cannot be given (an INVALID_ARGUMENT
    rejection), or None: each names an element of the process as its ``afterElementId``."""
    if not isinstance(instructions, list) or not all(isinstance(i, dict) for i in instructions):
        return "Expected runtime instructions to be a list of objects with an 'afterElementId'"
    for instruction in instructions:
        element_id = instruction.get("afterElementId")
        if not isinstance(element_id, str) or element_id not in process.elements:
            return ("Expected to create instance of process with runtime instructions but no element found with id"
                    f" {excerpt(str(element_id))} in process definition {excerpt(process.bpmn_process_id)}.")
        kind = instruction.get("type", TERMINATE_PROCESS_INSTANCE)
        if kind != TERMINATE_PROCESS_INSTANCE:
            return (f"Expected runtime instructions of type '{TERMINATE_PROCESS_INSTANCE}', but the instruction"
                    f" after element {excerpt(element_id)} has type {excerpt(str(kind))}")
    return None


class ProcessInstanceProcessors:
    def __init__(self, variables: VariableBehavior, activation: ElementActivationBehavior | None = None) -> None:
        self.variables = variables
        self.activation = activation or ElementActivationBehavior(None)

    def register(self, processors: CommandProcessors) -> None:
        creation = ValueType.PROCESS_INSTANCE_CREATION
        processors.add(creation, ProcessInstanceCreationIntent.CREATE, self.create_instance)
        processors.add(creation, ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT, self.create_instance)
        processors.add(PI, ProcessInstanceIntent.CANCEL, self.cancel_instance)

    def create_instance(self, batch: Batch, command: Record) -> None:
        state = batch.state
        value = command.value
        definition_key = value.get("processDefinitionKey", -1)
        pid = value.get("bpmnProcessId") or ""
        version = value.get("version", -1)
        if definition_key is not None and definition_key > 0:
            stored = state.process(definition_key)
            if stored is None:
                batch.reject(command, RejectionType.NOT_FOUND,
                             f"Expected to find process definition with key '{definition_key}', but none found")
                return
        elif pid:
            if version is None or version < 0:
                latest = state.latest_version(pid)
                definition_key = state.process_key_by_version(pid, latest) if latest else None
                missing = f"Expected to find process definition with process ID {excerpt(pid)}, but none found"
            else:
                definition_key = state.process_key_by_version(pid, version)
                missing = (f"Expected to find process definition with process ID {excerpt(pid)} and version '{version}',"
                           " but none found")
            if definition_key is None:
                batch.reject(command, RejectionType.NOT_FOUND, missing)
                return
            stored = state.process(definition_key)
            assert stored is not None
        else:
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         "Expected at least a bpmnProcessId or a key greater than -1, but none given")
            return
        variables = value.get("variables") or {}
        if not isinstance(variables, dict):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         "Expected variables to be a JSON object, but it was not")
            return
        instructions = value.get("startInstructions") or []
        process = state.processes.get(definition_key)
        assert process is not None, f"process definition {definition_key} is not deployed"
        targets = start_instruction_targets(process, instructions)
        if isinstance(targets, tuple):
            batch.reject(command, *targets)
            return
        runtime_instructions = value.get("runtimeInstructions") or []
        problem = runtime_instructions_problem(process, runtime_instructions)
        if problem is not None:
            batch.reject(command, RejectionType.INVALID_ARGUMENT, problem)
            return
        instance_key = batch.next_key()
        plans: list[ActivationPlan] = []
        if targets:
            planner = ActivationPlanner(state, instance_key)
            try:
                plans = [planner.plan(target) for target in targets]
            except ActivationRefused as refused:  # not reached: the validation above refuses first
                batch.reject(command, RejectionType.INVALID_ARGUMENT,
                             f"Expected to create instance of process with start instructions but the element with"
                             f" id '{refused.element_id}' is inside a multi-instance subprocess. The creation of"
                             " elements inside a multi-instance subprocess is not supported.")
                return
        tenant = stored.get("tenantId", DEFAULT_TENANT)
        process_value = {
            "bpmnElementType": T.PROCESS.value,
            "elementId": stored["bpmnProcessId"],
            "bpmnProcessId": stored["bpmnProcessId"],
            "version": stored["version"],
            "processDefinitionKey": definition_key,
            "processInstanceKey": instance_key,
            "flowScopeKey": -1,
            "bpmnEventType": "UNSPECIFIED",
            "parentProcessInstanceKey": -1,
            "parentElementInstanceKey": -1,
            "tenantId": tenant,
        }
        self.variables.merge_local(batch, process_value, instance_key, variables)
        # As Zeebe: the variables and the process's ACTIVATE_ELEMENT are written while processing the
        # command (ProcessInstanceCreationCreateProcessor.onCommand), the accepted CREATED event after them.
        if plans:
            # As Zeebe: the process (and the flow scopes of each element) by their events, each element
            # by its ACTIVATE_ELEMENT command; the process's none start event is not activated.
            placeholders: dict[int, int] = {}
            for plan in plans:
                self.activation.activate(batch, process_value, plan, placeholders)
        else:
            batch.command(PI, ProcessInstanceIntent.ACTIVATE_ELEMENT, instance_key, process_value)
        awaiting = command.intent is ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT
        # When the creator awaits the result, the CREATED event carries the request, so that its applier
        # can remember who to answer when the instance completes.
        created = batch.event(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED, instance_key, {
            "bpmnProcessId": stored["bpmnProcessId"],
            "version": stored["version"],
            "processDefinitionKey": definition_key,
            "processInstanceKey": instance_key,
            "variables": variables,
            "fetchVariables": list(value.get("fetchVariables") or []),
            "startInstructions": [{"elementId": target.id} for target in targets],
            "runtimeInstructions": [{"type": instruction.get("type", TERMINATE_PROCESS_INSTANCE),
                                     "afterElementId": instruction["afterElementId"]}
                                    for instruction in runtime_instructions],
            "tenantId": tenant,
        }, request_of=command if awaiting else None)
        if awaiting:
            batch.accept(command, created)
        else:
            batch.respond(command, created)

    def cancel_instance(self, batch: Batch, command: Record) -> None:
        instance = batch.state.element_instance(command.key)
        if instance is None or instance.element_type is not T.PROCESS:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to cancel a process instance with key '{command.key}', but no such process was found")
            return
        if (instance.value.get("parentProcessInstanceKey") or -1) > 0:
            # A child of a call activity ends with its call activity (Zeebe's rejection, word for word).
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to cancel a process instance with key '{command.key}', but it is created by a"
                         " parent process instance. Cancel the root process instance"
                         f" '{batch.state.root_process_instance(command.key)}' instead.")
            return
        if instance.state is ProcessInstanceIntent.ELEMENT_TERMINATING:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to cancel a process instance with key '{command.key}', but it is already being"
                         " canceled")
            return
        # As Zeebe: CANCELING, then TERMINATE_ELEMENT for the process (processed in this batch); the
        # client's answer is an ELEMENT_TERMINATING response, not a record of its own on the log.
        value = instance.value
        batch.event(PI, ProcessInstanceIntent.CANCELING, command.key, value)
        batch.command(PI, ProcessInstanceIntent.TERMINATE_ELEMENT, command.key, value)
        batch.respond(command, Record(record_type=RecordType.EVENT, value_type=PI,
                                      intent=ProcessInstanceIntent.ELEMENT_TERMINATING, key=command.key, value=value,
                                      partition_id=command.partition_id))
