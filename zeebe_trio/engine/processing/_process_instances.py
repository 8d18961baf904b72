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
from ..bpmn.behaviors import VariableBehavior

PI = ValueType.PROCESS_INSTANCE
T = BpmnElementType


class ProcessInstanceProcessors:
    def __init__(self, variables: VariableBehavior) -> None:
        self.variables = variables

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
        if value.get("startInstructions"):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         "Expected to create the instance at its none start event: start instructions are not"
                         " supported yet by zeebe-trio")
            return
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
        self.variables.merge_local(batch, process_value, instance_key, variables)
        # As Zeebe: the variables and the process's ACTIVATE_ELEMENT are written while processing the
        # command (ProcessInstanceCreationCreateProcessor.onCommand), the accepted CREATED event after them.
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
            "startInstructions": [],
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
