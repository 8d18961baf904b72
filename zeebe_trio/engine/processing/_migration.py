"""Process instance migration (PROCESS_INSTANCE_MIGRATION.MIGRATE -> MIGRATED), as Zeebe's
``ProcessInstanceMigrationMigrateProcessor`` does it, for the element kinds zeebe-trio migrates.

A migration moves every element instance of a process instance (the process itself first, then its
descendants breadth first) to the element a mapping instruction names in the target process
definition: ELEMENT_MIGRATED with the target's processDefinitionKey, bpmnProcessId, version and
element id, then JOB MIGRATED for its job, INCIDENT MIGRATED for its incidents and USER_TASK MIGRATED
for its user task, and last the command's MIGRATED event. Every element is checked before anything
is written (Zeebe checks as it goes and rolls back), with the rejection reasons of Zeebe's
``ProcessInstanceMigrationPreconditions``.

Migrated: the process, job worker tasks (service, send, business rule, script), user tasks (job
worker and Camunda user tasks, without changing the implementation), subprocesses and call
activities (the called instance stays on its own definition), timer intermediate catch events (TIMER
MIGRATED: the timer keeps its due date). Refused for now: elements with boundary events that hold
subscriptions (timer, message, signal, compensation), containers with event subprocesses, other
intermediate catch events, receive tasks, multi-instance bodies, gateways.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import (
    BpmnElementType,
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    Record,
    RejectionType,
    TimerIntent,
    UserTaskIntent,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.model import (
    ExecutableActivity,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableProcess,
    ExecutableUserTask,
)
from ..state import ElementInstance, EngineStateView

__all__ = ["ProcessInstanceMigrationProcessors", "MIGRATED_ELEMENT_TYPES"]

T = BpmnElementType
PIM = ValueType.PROCESS_INSTANCE_MIGRATION

MIGRATED_ELEMENT_TYPES = frozenset({
    T.PROCESS, T.SERVICE_TASK, T.SEND_TASK, T.BUSINESS_RULE_TASK, T.SCRIPT_TASK, T.USER_TASK, T.SUB_PROCESS,
    T.CALL_ACTIVITY, T.INTERMEDIATE_CATCH_EVENT,
})
# an intermediate catch event of these kinds keeps its subscription (a timer keeps its due date)
_MIGRATED_CATCH_EVENT_TYPES = frozenset({"TIMER"})
# Boundary events an element may keep: they hold no subscription that would have to move with it.
_BOUNDARY_EVENTS_WITHOUT_SUBSCRIPTION = frozenset({"ERROR", "ESCALATION"})
_ZEEBE_USER_TASK = "zeebe user task"
_JOB_WORKER = "job worker"


class Refused(Exception):
    def __init__(self, rejection_type: RejectionType, reason: str) -> None:
        super().__init__(reason)
        self.rejection_type = rejection_type
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Target:
    """The target process definition: its model and its PROCESS record's key, id and version."""

    key: int
    bpmn_process_id: str
    version: int
    model: ExecutableProcess


@dataclass(frozen=True, slots=True)
class _Step:
    """One element instance to migrate, and the element it becomes."""

    instance: ElementInstance
    target_element_id: str


def _java_list(items: list[str]) -> str:
    """A list as Zeebe's messages print one (Java's ``List.toString``)."""
    return "[" + ", ".join(items) + "]"


class ProcessInstanceMigrationProcessors:
    def register(self, processors: CommandProcessors) -> None:
        processors.add(PIM, ProcessInstanceMigrationIntent.MIGRATE, self.migrate)

    # -- the command -------------------------------------------------------------------------------------

    def migrate(self, batch: Batch, command: Record) -> None:
        state = batch.state
        value = command.value
        instance_key = value.get("processInstanceKey", command.key)
        if not isinstance(instance_key, int) or instance_key <= 0:
            instance_key = command.key
        try:
            instance, target, steps = self._plan(state, instance_key, value)
        except Refused as refused:
            batch.reject(command, refused.rejection_type, refused.reason)
            return
        for step in steps:
            self._migrate_element(batch, step, target)
        migrated = batch.event(PIM, ProcessInstanceMigrationIntent.MIGRATED, instance.key, {
            "processInstanceKey": instance.key,
            "targetProcessDefinitionKey": target.key,
            "mappingInstructions": [{"sourceElementId": m["sourceElementId"], "targetElementId": m["targetElementId"]}
                                    for m in value.get("mappingInstructions") or []],
        })
        batch.respond(command, migrated)

    # -- checking: everything before anything is written ----------------------------------------------------

    def _plan(self, state: EngineStateView, instance_key: int,
              value: dict[str, Any]) -> tuple[ElementInstance, _Target, list[_Step]]:
        instance = state.element_instance(instance_key)
        if instance is None or instance.element_type is not T.PROCESS:
            raise Refused(RejectionType.NOT_FOUND,
                          f"Expected to migrate process instance but no process instance found with key"
                          f" '{instance_key}'")
        instructions = self._instructions(value)
        sources = [source for source, _ in instructions]
        duplicates = list(dict.fromkeys(s for s in sources if sources.count(s) > 1))
        if duplicates:
            raise Refused(RejectionType.INVALID_ARGUMENT,
                          f"Expected to migrate process instance '{instance_key}' but the mapping instructions"
                          f" contain duplicate source element ids '{_java_list(duplicates)}'.")
        target_key = value.get("targetProcessDefinitionKey", -1)
        record = state.process(target_key) if isinstance(target_key, int) else None
        model = state.processes.get(target_key) if record is not None else None
        if record is None or model is None \
                or record.get("tenantId") != instance.value.get("tenantId", record.get("tenantId")):
            raise Refused(RejectionType.NOT_FOUND,
                          f"Expected to migrate process instance to process definition but no process definition"
                          f" found with key '{target_key}'")
        target = _Target(target_key, record["bpmnProcessId"], record["version"], model)
        source = state.processes.get(instance.process_definition_key)
        assert source is not None, f"process definition {instance.process_definition_key} is not deployed"
        for source_id, target_id in instructions:
            if source_id not in source.elements:
                raise Refused(RejectionType.INVALID_ARGUMENT,
                              f"Expected to migrate process instance '{instance_key}' but mapping instructions"
                              f" contain a non-existing source element id '{source_id}'. Elements provided in"
                              f" mapping instructions must exist in the source process definition.")
            if target_id not in target.model.elements:
                raise Refused(RejectionType.INVALID_ARGUMENT,
                              f"Expected to migrate process instance '{instance_key}' but mapping instructions"
                              f" contain a non-existing target element id '{target_id}'. Elements provided in"
                              f" mapping instructions must exist in the target process definition.")
        mapped = dict(instructions)
        mapped[source.bpmn_process_id] = target.bpmn_process_id  # nobody maps the process itself
        steps: list[_Step] = []
        queue = deque([instance])
        while queue:
            current = queue.popleft()
            steps.append(self._check(state, instance_key, current, source, target.model, mapped))
            for child_key in state.children(current.key):
                child = state.element_instance(child_key)
                if child is not None:
                    queue.append(child)
        return instance, target, steps

    @staticmethod
    def _instructions(value: dict[str, Any]) -> list[tuple[str, str]]:
        raw = value.get("mappingInstructions") or []
        if not isinstance(raw, list):
            raise Refused(RejectionType.INVALID_ARGUMENT, "Expected 'mappingInstructions' to be a list of objects")
        instructions = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("sourceElementId", ""), str) \
                    or not isinstance(item.get("targetElementId", ""), str):
                raise Refused(RejectionType.INVALID_ARGUMENT,
                              "Expected each mapping instruction to be an object with a 'sourceElementId' and a"
                              " 'targetElementId' string")
            instructions.append((item.get("sourceElementId", ""), item.get("targetElementId", "")))
        return instructions

    def _check(self, state: EngineStateView, pik: int, instance: ElementInstance, source: ExecutableProcess,
               target: ExecutableProcess, mapped: dict[str, str]) -> _Step:
        element_id = instance.element_id
        element_type = instance.element_type
        invalid = RejectionType.INVALID_STATE
        prefix = f"Expected to migrate process instance '{pik}' but"
        if element_type is T.INTERMEDIATE_CATCH_EVENT \
                and instance.value.get("bpmnEventType") not in _MIGRATED_CATCH_EVENT_TYPES:
            raise Refused(invalid, f"{prefix} active element with id '{element_id}' is intermediate catch event of"
                                   f" type '{instance.value.get('bpmnEventType', 'UNSPECIFIED')}'. Migrating active"
                                   " intermediate catch event of this type is not possible yet.")
        if element_type not in MIGRATED_ELEMENT_TYPES:
            raise Refused(invalid, f"{prefix} active element with id '{element_id}' has an unsupported type. The"
                                   f" migration of a {element_type.name} is not supported.")
        target_id = mapped.get(element_id)
        if target_id is None:
            raise Refused(invalid, f"{prefix} no mapping instruction defined for active element with id"
                                   f" '{element_id}'. Elements cannot be migrated without a mapping.")
        target_element = target if element_type is T.PROCESS else target.elements[target_id]
        if target_element.element_type is not element_type:
            raise Refused(invalid, f"{prefix} active element with id '{element_id}' and type '{element_type.name}'"
                                   f" is mapped to an element with id '{target_id}' and different type"
                                   f" '{target_element.element_type.name}'. Elements must be mapped to elements of"
                                   " the same type.")
        source_element = source if element_type is T.PROCESS else source.flow_node(element_id, element_type)
        assert isinstance(target_element, ExecutableFlowNode)
        if element_type is T.INTERMEDIATE_CATCH_EVENT and target_element.event_type != source_element.event_type:
            raise Refused(invalid, f"{prefix} active element with id '{element_id}' has a catch event with id"
                                   f" '{element_id}' that is mapped to a catch event with id '{target_id}'. These"
                                   f" catch events have different event types: '{source_element.event_type}' and"
                                   f" '{target_element.event_type}'. The event type of a catch event cannot be"
                                   " changed by process instance migration. Please ensure the event type of the"
                                   " catch event remains the same or remove the mapping instruction for these"
                                   " catch events.")
        if isinstance(target_element, ExecutableUserTask):
            source_kind = _ZEEBE_USER_TASK if instance.user_task_key > 0 else _JOB_WORKER
            target_kind = _ZEEBE_USER_TASK if target_element.is_camunda_user_task else _JOB_WORKER
            if source_kind != target_kind:
                raise Refused(invalid, f"{prefix} active user task with id '{element_id}' and implementation"
                                       f" '{source_kind}' is mapped to an user task with id '{target_id}' and"
                                       f" different implementation '{target_kind}'. Elements must be mapped to"
                                       " elements of the same implementation.")
        flow_scope = state.element_instance(instance.flow_scope_key) if instance.flow_scope_key > 0 else None
        if flow_scope is not None:
            # the flow scope was migrated before its children: compare with what it became
            expected = mapped.get(flow_scope.element_id, flow_scope.element_id)
            actual = target_element.flow_scope.id if target_element.flow_scope is not None else ""
            if expected != actual:
                raise Refused(invalid, f"{prefix} the flow scope of active element with id '{element_id}' is"
                                       f" changed. The flow scope of the active element is expected to be"
                                       f" '{expected}' but was '{actual}'. The flow scope of an element cannot be"
                                       " changed during migration yet.")
        if isinstance(source_element, ExecutableFlowElementContainer) and source_element.event_sub_processes:
            raise Refused(invalid, "Expected to migrate process instance but process instance has an event"
                                   " subprocess. Process instances with event subprocesses cannot be migrated yet.")
        if isinstance(target_element, ExecutableFlowElementContainer) and target_element.event_sub_processes:
            raise Refused(invalid, "Expected to migrate process instance but target process has an event"
                                   " subprocess. Target processes with event subprocesses cannot be migrated yet.")
        for which, checked_id, checked in (("active", element_id, source_element),
                                           ("target", target_id, target_element)):
            if not isinstance(checked, ExecutableActivity) or checked is source or checked is target:
                continue
            kinds = [event.event_type for event in checked.boundary_events
                     if event.event_type not in _BOUNDARY_EVENTS_WITHOUT_SUBSCRIPTION]
            if kinds:
                raise Refused(invalid, f"{prefix} {which} element with id '{checked_id}' has one or more boundary"
                                       f" events of types '{','.join(kinds)}'. Migrating {which} elements with"
                                       " boundary events of these types is not possible yet.")
        triggers = instance.event_trigger_count
        if instance.active_flows > 0 or (triggers is None and state.event_trigger(instance.key) is not None) \
                or (triggers or 0) > 0:
            raise Refused(invalid, f"{prefix} a concurrent command was executed on the process instance. Please"
                                   " retry the migration.")
        return _Step(instance, target_id)

    # -- writing -------------------------------------------------------------------------------------------

    @staticmethod
    def _migrate_element(batch: Batch, step: _Step, target: _Target) -> None:
        state = batch.state
        instance = state.element_instance(step.instance.key)
        assert instance is not None
        definition = {"processDefinitionKey": target.key, "bpmnProcessId": target.bpmn_process_id}
        batch.event(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ELEMENT_MIGRATED, instance.key, {
            **instance.value, **definition, "version": target.version, "elementId": step.target_element_id})
        moved = {**definition, "processDefinitionVersion": target.version, "elementId": step.target_element_id}
        job = state.job(instance.job_key) if instance.job_key > 0 else None
        if job is not None:
            batch.event(ValueType.JOB, JobIntent.MIGRATED, instance.job_key,
                        {**job["record"], "variables": {}, **moved})
        for incident_key in state.element_incidents(instance.key):
            incident = state.incident(incident_key)
            if incident is not None:
                batch.event(ValueType.INCIDENT, IncidentIntent.MIGRATED, incident_key,
                            {**incident["record"], **definition, "elementId": step.target_element_id})
        if instance.element_type is T.INTERMEDIATE_CATCH_EVENT:
            for timer_key in state.timers_of(instance.key):
                timer = state.timer(timer_key)
                if timer is not None and timer.get("targetElementId") == instance.element_id:
                    batch.event(ValueType.TIMER, TimerIntent.MIGRATED, timer_key, {
                        **timer, "processDefinitionKey": target.key, "targetElementId": step.target_element_id})
        task = state.user_task(instance.user_task_key) if instance.user_task_key > 0 else None
        if task is not None:
            batch.event(ValueType.USER_TASK, UserTaskIntent.MIGRATED, task.key, {**task.record, "variables": {}, **moved})
