"""Process instances: creation, the BPMN element lifecycle, and cancellation.

Element commands (ACTIVATE_ELEMENT, COMPLETE_ELEMENT, TERMINATE_ELEMENT) drive each element through
Zeebe's lifecycle intents. Pass-through elements (events, undefined tasks, gateways) activate and
complete in one step; job workers wait for their job; containers (the process) complete when their
last child completes and no sequence flow is still on its way.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import (
    BpmnElementType,
    ErrorType,
    JobIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
    excerpt,
)

from ._deployment import DEFAULT_TENANT
from ._engine import Batch
from ._expressions import CompiledProcess, EvaluationError
from ._incidents import raise_incident, resolve_incidents_of
from ._limits import job_type_problem
from ._registry import processes
from ._variables import evaluate_mappings, merge_local, merge_propagating, variables_at

PI = ValueType.PROCESS_INSTANCE
T = BpmnElementType
_EVENT_TYPES = {T.START_EVENT, T.END_EVENT, T.INTERMEDIATE_CATCH_EVENT, T.INTERMEDIATE_THROW_EVENT,
                T.BOUNDARY_EVENT}
_PASS_THROUGH = {T.START_EVENT, T.END_EVENT, T.TASK, T.MANUAL_TASK, T.INTERMEDIATE_THROW_EVENT}


def child_value(parent: dict[str, Any], element_id: str, element_type: BpmnElementType, scope_key: int) -> dict[str, Any]:
    value = dict(parent)
    value["elementId"] = element_id
    value["bpmnElementType"] = element_type.value
    value["flowScopeKey"] = scope_key
    value["bpmnEventType"] = "NONE" if element_type in _EVENT_TYPES else "UNSPECIFIED"
    return value


# -- creation --------------------------------------------------------------------------------------

@processes(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
           ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT)
def create_instance(batch: Batch, command: Record) -> None:
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
    if value.get("startInstructions"):
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     "Expected to create the instance at its none start event: start instructions are not"
                     " supported yet by zeebe-trio")
        return
    compiled = batch.engine.processes.get(definition_key)
    assert compiled is not None
    instance_key = batch.next_key()
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
    merge_local(batch, process_value, instance_key, variables)
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
        "startInstructions": [],
        "tenantId": tenant,
    }, request_of=command if awaiting else None)
    if awaiting:
        batch.accept(command, created)
    else:
        batch.respond(command, created)
    batch.command(PI, ProcessInstanceIntent.ACTIVATE_ELEMENT, instance_key, process_value)


# -- the element lifecycle -------------------------------------------------------------------------

@processes(PI, ProcessInstanceIntent.ACTIVATE_ELEMENT)
def activate_element(batch: Batch, command: Record) -> None:
    state = batch.state
    key, value = command.key, command.value
    instance = state.element_instance(key)
    if instance is None:
        scope_key = value["flowScopeKey"]
        if scope_key > 0:
            scope = state.element_instance(scope_key)
            if scope is None or scope["state"] != "ELEMENT_ACTIVATED":
                batch.reject(command, RejectionType.INVALID_STATE,
                             f"Expected flow scope instance with key '{scope_key}' to be active, but it is"
                             f" {'gone' if scope is None else scope['state']}")
                return
        compiled = batch.engine.processes.get(value["processDefinitionKey"])
        assert compiled is not None
        if not _join_can_activate(batch, compiled, value):
            # Zeebe's activation guard (camunda#6778): each activation of a join consumes one taken
            # flow per incoming flow, so a second ACTIVATE_ELEMENT written for the same set of flows
            # (an incoming flow taken twice) finds one missing; the extra token stays waiting.
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to be able to activate parallel gateway '{value['elementId']}', but not all"
                         " sequence flows have been taken.")
            return
        batch.event(PI, ProcessInstanceIntent.ELEMENT_ACTIVATING, key, value)
    elif instance["state"] != "ELEMENT_ACTIVATING":
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected element instance with key '{key}' to be activating, but it is {instance['state']}")
        return
    compiled = batch.engine.processes.get(value["processDefinitionKey"])
    assert compiled is not None
    _on_activating(batch, compiled, key, value)


def _is_join(node: Any) -> bool:
    return node.element_type is T.PARALLEL_GATEWAY and len(node.incoming) > 1


def _all_flows_taken(batch: Batch, scope_key: int, node: Any) -> bool:
    """Whether every incoming flow of the join ``node`` has a taken flow in ``scope_key`` that no
    activation of the join has consumed yet."""
    return all(batch.state.taken_flow_count(scope_key, node.id, flow_id) > 0 for flow_id in node.incoming)


def _join_can_activate(batch: Batch, compiled: CompiledProcess, value: dict[str, Any]) -> bool:
    if T(value["bpmnElementType"]) is not T.PARALLEL_GATEWAY:
        return True
    node = compiled.process.flow_node(value["elementId"])
    return not _is_join(node) or _all_flows_taken(batch, value["flowScopeKey"], node)


def _on_activating(batch: Batch, compiled: CompiledProcess, key: int, value: dict[str, Any]) -> None:
    element_type = T(value["bpmnElementType"])
    if element_type is T.PROCESS:
        # Process input mappings read the creation variables and set process-level variables.
        if compiled.process_inputs:
            try:
                local = evaluate_mappings(batch, compiled.process_inputs, key)
            except EvaluationError as error:
                raise_incident(batch, ErrorType.IO_MAPPING_ERROR, str(error), key, value)
                return
            merge_local(batch, value, key, local)
        batch.event(PI, ProcessInstanceIntent.ELEMENT_ACTIVATED, key, value)
        start = compiled.process.start_event_id
        batch.command(PI, ProcessInstanceIntent.ACTIVATE_ELEMENT, batch.next_key(),
                      child_value(value, start, T.START_EVENT, key))
        return
    node = compiled.process.flow_node(value["elementId"])
    element = compiled.element(node.id)
    if element.inputs:
        try:
            local = evaluate_mappings(batch, element.inputs, value["flowScopeKey"])
        except EvaluationError as error:
            raise_incident(batch, ErrorType.IO_MAPPING_ERROR, str(error), key, value)
            return
        merge_local(batch, value, key, local)
    if node.job_type is not None:
        _activate_job_worker(batch, compiled, node, key, value)
    elif element_type is T.EXCLUSIVE_GATEWAY:
        try:
            flow_id = _choose_flow(batch, compiled, node, value)
        except EvaluationError as error:
            raise_incident(batch, ErrorType.CONDITION_ERROR, str(error), key, value)
            return
        batch.event(PI, ProcessInstanceIntent.ELEMENT_ACTIVATED, key, value)
        complete_element(batch, compiled, key, value, flow_ids=() if flow_id is None else (flow_id,))
    else:
        batch.event(PI, ProcessInstanceIntent.ELEMENT_ACTIVATED, key, value)
        complete_element(batch, compiled, key, value)


def _choose_flow(batch: Batch, compiled: CompiledProcess, node: Any, value: dict[str, Any]) -> str | None:
    """The first outgoing flow whose condition is true, else the default flow (Zeebe's rules); None
    for a gateway without outgoing flows, which (as in Zeebe) ends its path in the flow scope."""
    outgoing = node.outgoing
    if not outgoing:
        return None
    if len(outgoing) == 1 and outgoing[0] not in compiled.conditions:
        return str(outgoing[0])
    variables = variables_at(batch, value["flowScopeKey"])
    for flow_id in outgoing:
        if flow_id == node.default_flow:
            continue
        condition = compiled.conditions.get(flow_id)
        if condition is None:
            continue
        result = condition.evaluate(variables, batch.now_datetime, batch.engine.monotonic)
        if result is True:
            return str(flow_id)
        if result is not False and result is not None:
            raise EvaluationError(
                f"Expected the condition '{condition.source}' of sequence flow '{flow_id}' to evaluate to a"
                f" boolean, but it returned {type(result).__name__} {excerpt(result)}")
    if node.default_flow:
        return str(node.default_flow)
    raise EvaluationError(
        f"Expected at least one condition to evaluate to true, or to have a default flow, but no condition"
        f" of exclusive gateway '{node.id}' was true and it has no default flow")


def _activate_job_worker(batch: Batch, compiled: CompiledProcess, node: Any, key: int, value: dict[str, Any]) -> None:
    from ._jobs import create_job

    element = compiled.element(node.id)
    try:
        variables = variables_at(batch, key)
        assert element.job_type is not None and element.job_retries is not None
        job_type = element.job_type.evaluate(variables, batch.now_datetime, batch.engine.monotonic)
        if not isinstance(job_type, str) or not job_type:
            raise EvaluationError(
                f"Expected the job type expression '{element.job_type.source}' to evaluate to a non-empty"
                f" string, but it returned {excerpt(job_type)}")
        too_long = job_type_problem(job_type)
        if too_long is not None:
            raise EvaluationError(f"{too_long} (the value of the job type expression '{element.job_type.source}')")
        retries = element.job_retries.evaluate(variables, batch.now_datetime, batch.engine.monotonic)
        if isinstance(retries, float) and retries.is_integer():
            retries = int(retries)
        if not isinstance(retries, int) or isinstance(retries, bool):
            raise EvaluationError(
                f"Expected the job retries expression '{element.job_retries.source}' to evaluate to a number,"
                f" but it returned {excerpt(retries)}")
    except EvaluationError as error:
        raise_incident(batch, ErrorType.EXTRACT_VALUE_ERROR, str(error), key, value)
        return
    batch.event(PI, ProcessInstanceIntent.ELEMENT_ACTIVATED, key, value)
    create_job(batch, key, value, job_type, retries, dict(node.task_headers))


@processes(PI, ProcessInstanceIntent.COMPLETE_ELEMENT)
def complete_element_command(batch: Batch, command: Record) -> None:
    instance = batch.state.element_instance(command.key)
    if instance is None or instance["state"] not in ("ELEMENT_ACTIVATED", "ELEMENT_COMPLETING"):
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected element instance with key '{command.key}' to be activated, but it is"
                     f" {'gone' if instance is None else instance['state']}")
        return
    value = instance["record"]
    compiled = batch.engine.processes.get(value["processDefinitionKey"])
    assert compiled is not None
    complete_element(batch, compiled, command.key, value)


def complete_element(batch: Batch, compiled: CompiledProcess, key: int, value: dict[str, Any],
                     flow_ids: tuple[str, ...] | None = None) -> None:
    state = batch.state
    instance = state.element_instance(key)
    if instance is not None and instance["state"] != "ELEMENT_COMPLETING":
        batch.event(PI, ProcessInstanceIntent.ELEMENT_COMPLETING, key, value)
    element_type = T(value["bpmnElementType"])
    if element_type is T.PROCESS:
        # The root process has no outer scope: its output mappings set variables on itself, so a
        # create-with-result caller sees them.
        if compiled.process_outputs:
            try:
                merge_local(batch, value, key, evaluate_mappings(batch, compiled.process_outputs, key))
            except EvaluationError as error:
                raise_incident(batch, ErrorType.IO_MAPPING_ERROR, str(error), key, value)
                return
        _complete_process(batch, key, value)
        return
    element = compiled.element(value["elementId"])
    process = compiled.process
    flows = flow_ids if flow_ids is not None else process.flow_node(value["elementId"]).outgoing
    if _over_scope_limit(batch, key, value, len(flows)):
        return
    pending = state.pending_variables(key)
    try:
        if element.outputs:
            if pending:
                merge_local(batch, value, key, pending)
            result = evaluate_mappings(batch, element.outputs, key)
            merge_propagating(batch, value, value["flowScopeKey"], result)
        elif pending:
            merge_propagating(batch, value, key, pending)
    except EvaluationError as error:
        raise_incident(batch, ErrorType.IO_MAPPING_ERROR, str(error), key, value)
        return
    batch.event(PI, ProcessInstanceIntent.ELEMENT_COMPLETED, key, value)
    scope_key = value["flowScopeKey"]
    if not flows:
        _maybe_complete_flow_scope(batch, scope_key)
        return
    for flow_id in flows:
        _take_flow(batch, compiled, flow_id, scope_key, value)


def _over_scope_limit(batch: Batch, key: int, value: dict[str, Any], new_flows: int) -> bool:
    """Whether taking ``new_flows`` sequence flows out of the completing element ``key`` would put
    more element instances and flows in its flow scope than the engine allows; if so, the element
    stays completing with an incident, and resolving it tries again."""
    scope = batch.state.element_instance(value["flowScopeKey"])
    if scope is None or new_flows <= 1:
        return False  # one flow out of one element leaves the scope as full as it was
    limit = batch.engine.max_element_instances_per_scope
    held = scope["children"] - 1 + scope["activeFlows"]  # without the element that completes
    if held + new_flows <= limit:
        return False
    raise_incident(batch, ErrorType.UNKNOWN,
                   f"Expected to take {new_flows} sequence flows from element {excerpt(value['elementId'])}, but its"
                   f" flow scope already holds {held} element instances and sequence flows, and the limit of"
                   f" {limit} per scope (max_element_instances_per_scope) would be passed; the process may"
                   " multiply its tokens without end. Cancel the instance, or resolve this incident once"
                   " fewer are active", key, value)
    return True


def _take_flow(batch: Batch, compiled: CompiledProcess, flow_id: str, scope_key: int, value: dict[str, Any]) -> None:
    process = compiled.process
    batch.event(PI, ProcessInstanceIntent.SEQUENCE_FLOW_TAKEN, batch.next_key(),
                child_value(value, flow_id, T.SEQUENCE_FLOW, scope_key))
    target = process.flow_node(process.sequence_flow(flow_id).target_ref)
    if _is_join(target) and not _all_flows_taken(batch, scope_key, target):
        return  # the join waits for its other incoming flows
    batch.command(PI, ProcessInstanceIntent.ACTIVATE_ELEMENT, batch.next_key(),
                  child_value(value, target.id, target.element_type, scope_key))


def _maybe_complete_flow_scope(batch: Batch, scope_key: int) -> None:
    scope = batch.state.element_instance(scope_key)
    if scope is not None and scope["state"] == "ELEMENT_ACTIVATED" and scope["children"] == 0 \
            and scope["activeFlows"] == 0:
        batch.command(PI, ProcessInstanceIntent.COMPLETE_ELEMENT, scope_key, scope["record"])


def _complete_process(batch: Batch, key: int, value: dict[str, Any]) -> None:
    state = batch.state
    awaiting = state.awaiting_result(key)
    result_variables = None
    if awaiting is not None:
        visible = state.visible_variables(key)
        fetch = awaiting.get("fetchVariables") or []
        result_variables = {name: visible[name] for name in fetch if name in visible} if fetch else visible
    batch.event(PI, ProcessInstanceIntent.ELEMENT_COMPLETED, key, value)
    if awaiting is not None:
        result = batch.event(ValueType.PROCESS_INSTANCE_RESULT, ProcessInstanceResultIntent.COMPLETED, key, {
            "bpmnProcessId": value["bpmnProcessId"],
            "version": value["version"],
            "processDefinitionKey": value["processDefinitionKey"],
            "processInstanceKey": key,
            "variables": result_variables,
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
        })
        batch.respond_to(awaiting["requestStreamId"], awaiting["requestId"], result)


# -- cancellation and termination ------------------------------------------------------------------

@processes(PI, ProcessInstanceIntent.CANCEL)
def cancel_instance(batch: Batch, command: Record) -> None:
    instance = batch.state.element_instance(command.key)
    if instance is None or instance["record"]["bpmnElementType"] != T.PROCESS.value \
            or instance["record"].get("parentProcessInstanceKey", -1) > 0:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to cancel a process instance with key '{command.key}', but no such process was found")
        return
    if instance["state"] == "ELEMENT_TERMINATING":
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to cancel a process instance with key '{command.key}', but it is already being"
                     " canceled")
        return
    # As Zeebe: CANCELING, then TERMINATE_ELEMENT for the process (processed in this batch); the
    # client's answer is an ELEMENT_TERMINATING response, not a record of its own on the log.
    value = instance["record"]
    batch.event(PI, ProcessInstanceIntent.CANCELING, command.key, value)
    batch.command(PI, ProcessInstanceIntent.TERMINATE_ELEMENT, command.key, value)
    batch.respond(command, Record(record_type=RecordType.EVENT, value_type=PI,
                                  intent=ProcessInstanceIntent.ELEMENT_TERMINATING, key=command.key, value=value,
                                  partition_id=command.partition_id))


@processes(PI, ProcessInstanceIntent.TERMINATE_ELEMENT)
def terminate_element_command(batch: Batch, command: Record) -> None:
    instance = batch.state.element_instance(command.key)
    if instance is None or instance["state"] == "ELEMENT_TERMINATING":
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected element instance with key '{command.key}' to be terminable, but it is"
                     f" {'gone' if instance is None else 'already terminating'}")
        return
    terminate_element(batch, command.key, instance)


def terminate_element(batch: Batch, key: int, instance: dict[str, Any]) -> None:
    state = batch.state
    value = instance["record"]
    batch.event(PI, ProcessInstanceIntent.ELEMENT_TERMINATING, key, value)
    job_key = instance.get("jobKey", -1)
    if job_key > 0:
        job = state.job(job_key)
        if job is not None:
            batch.event(ValueType.JOB, JobIntent.CANCELED, job_key, job["record"])
    resolve_incidents_of(batch, key)
    children = state.children(key)
    for child_key in children:
        child = state.element_instance(child_key)
        if child is not None:
            batch.command(PI, ProcessInstanceIntent.TERMINATE_ELEMENT, child_key, child["record"])
    if not children:
        _finish_termination(batch, key, value)


def _finish_termination(batch: Batch, key: int, value: dict[str, Any]) -> None:
    batch.event(PI, ProcessInstanceIntent.ELEMENT_TERMINATED, key, value)
    scope_key = value["flowScopeKey"]
    scope = batch.state.element_instance(scope_key) if scope_key > 0 else None
    if scope is not None and scope["state"] == "ELEMENT_TERMINATING" and scope["children"] == 0:
        _finish_termination(batch, scope_key, scope["record"])
