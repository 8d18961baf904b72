"""Process instance migration (PROCESS_INSTANCE_MIGRATION.MIGRATE -> MIGRATED), as Zeebe 8.8's
``ProcessInstanceMigrationMigrateProcessor`` does it.

A migration moves every element instance of a process instance (the process itself first, then its
descendants breadth first) to the element a mapping instruction names in the target process
definition. For each: ELEMENT_MIGRATED with the target's processDefinitionKey, bpmnProcessId, version
and element id; for a flow scope with tokens waiting at a parallel or inclusive join, each taken
sequence flow renamed (``_migration_sequence_flows``: SEQUENCE_FLOW_DELETED of the source's flow,
SEQUENCE_FLOW_TAKEN of the flow its mapping names); JOB MIGRATED for its job (a job worker user task
mapped to a Camunda user task gets one instead, ``_migration_user_tasks``), INCIDENT MIGRATED for its
incidents, USER_TASK MIGRATED for its user task; then, for the process, the compensation
subscriptions of completed activities (``_migration_compensations``); then its event subscriptions
(``_migration_catch_events``: migrated when their catch event is mapped, closed when not, opened for
the target's unmapped catch events); last the command's MIGRATED event. Every element is checked
before anything is written (Zeebe checks as it goes and rolls back), with the rejection reasons of
Zeebe's ``ProcessInstanceMigrationPreconditions``.

Migrated (the element types Zeebe 8.8 migrates): the process, service, user, send, business rule and
script tasks, receive tasks, subprocesses, event subprocesses, call activities (the called instance
stays on its own definition), multi-instance bodies and their inner instances, exclusive,
event-based, parallel and inclusive gateways, timer, message and signal intermediate catch events.
Refused: every other active element type, a Camunda user task mapped to a job worker user task, and
the rest of Zeebe's preconditions.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import (
    BpmnElementType,
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    Record,
    RejectionType,
    UserTaskIntent,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import CatchEventBehavior, UserTaskBehavior
from ..bpmn.model import (
    ExecutableActivity,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableMessage,
    ExecutableMultiInstanceBody,
    ExecutableProcess,
    ExecutableUserTask,
    is_after_event_based_gateway,
)
from ..state import ElementInstance, EngineStateView
from . import _migration_catch_events as catch_event_migration
from ._migration_catch_events import CatchEventPlan, MigrationRefused
from ._migration_compensations import CompensationPlan, plan_compensations, write_compensations
from ._migration_sequence_flows import TakenFlow, plan_taken_flows, waiting_at_joins, write_taken_flows
from ._migration_user_tasks import UserTaskConversion, plan_conversion, write_conversion

__all__ = ["ProcessInstanceMigrationProcessors", "MIGRATED_ELEMENT_TYPES"]

T = BpmnElementType
PIM = ValueType.PROCESS_INSTANCE_MIGRATION

# Zeebe 8.8's ProcessInstanceMigrationPreconditions.SUPPORTED_ELEMENT_TYPES
MIGRATED_ELEMENT_TYPES = frozenset({
    T.PROCESS, T.SERVICE_TASK, T.USER_TASK, T.SUB_PROCESS, T.CALL_ACTIVITY, T.INTERMEDIATE_CATCH_EVENT,
    T.RECEIVE_TASK, T.EVENT_SUB_PROCESS, T.EXCLUSIVE_GATEWAY, T.EVENT_BASED_GATEWAY, T.BUSINESS_RULE_TASK,
    T.SCRIPT_TASK, T.SEND_TASK, T.MULTI_INSTANCE_BODY, T.PARALLEL_GATEWAY, T.INCLUSIVE_GATEWAY,
})
_MIGRATED_CATCH_EVENT_TYPES = frozenset({"MESSAGE", "TIMER", "SIGNAL"})
# the start event and boundary event types whose elements Zeebe 8.8 migrates
_EVENT_SUB_PROCESS_START_TYPES = frozenset({"MESSAGE", "TIMER", "SIGNAL", "ERROR", "ESCALATION"})
_BOUNDARY_EVENT_TYPES = frozenset({"MESSAGE", "TIMER", "SIGNAL", "ERROR", "ESCALATION", "COMPENSATION"})
_ZEEBE_USER_TASK = "zeebe user task"
_JOB_WORKER = "job worker"

@dataclass(frozen=True, slots=True)
class _Target:
    """The target process definition: its model and its PROCESS record's key, id and version."""

    key: int
    bpmn_process_id: str
    version: int
    model: ExecutableProcess


@dataclass(slots=True)
class _Step:
    """One element instance to migrate, the element it becomes, and what its migration writes besides."""

    instance: ElementInstance
    target_element_id: str
    taken_flows: list[TakenFlow] = field(default_factory=list)
    catch_events: CatchEventPlan | None = None
    compensations: CompensationPlan | None = None
    conversion: UserTaskConversion | None = None


def _java_list(items: list[str]) -> str:
    """A list as Zeebe's messages print one (Java's ``List.toString``)."""
    return "[" + ", ".join(items) + "]"


def _migrated_value(instance: ElementInstance, target: _Target, target_element_id: str) -> dict[str, Any]:
    return {**instance.value, "processDefinitionKey": target.key, "bpmnProcessId": target.bpmn_process_id,
            "version": target.version, "elementId": target_element_id}


class ProcessInstanceMigrationProcessors:
    """``catch_events`` is the engine's ``CatchEventBehavior``: it opens the subscriptions of the target's
    catch events that no mapping instruction targets (without one, none are opened); ``user_tasks``
    creates the Camunda user task a job worker user task becomes (without one, that is refused)."""

    def __init__(self, catch_events: CatchEventBehavior | None = None,
                 user_tasks: UserTaskBehavior | None = None) -> None:
        self.catch_events = catch_events if catch_events is not None else CatchEventBehavior({})
        self.user_tasks = user_tasks

    def register(self, processors: CommandProcessors) -> None:
        processors.add(PIM, ProcessInstanceMigrationIntent.MIGRATE, self.migrate)

    # -- the command -------------------------------------------------------------------------------------

    def migrate(self, batch: Batch, command: Record) -> None:
        value = command.value
        instance_key = value.get("processInstanceKey", command.key)
        if not isinstance(instance_key, int) or instance_key <= 0:
            instance_key = command.key
        try:
            instance, target, steps = self._plan(batch, instance_key, value)
        except MigrationRefused as refused:
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

    def _plan(self, batch: Batch, instance_key: int,
              value: dict[str, Any]) -> tuple[ElementInstance, _Target, list[_Step]]:
        state = batch.state
        instance = state.element_instance(instance_key)
        if instance is None or instance.element_type is not T.PROCESS:
            raise MigrationRefused(RejectionType.NOT_FOUND,
                                   f"Expected to migrate process instance but no process instance found with key"
                                   f" '{instance_key}'")
        instructions = self._instructions(value)
        sources = [source for source, _ in instructions]
        duplicates = list(dict.fromkeys(s for s in sources if sources.count(s) > 1))
        if duplicates:
            raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                   f"Expected to migrate process instance '{instance_key}' but the mapping"
                                   f" instructions contain duplicate source element ids '{_java_list(duplicates)}'.")
        target_key = value.get("targetProcessDefinitionKey", -1)
        record = state.process(target_key) if isinstance(target_key, int) else None
        model = state.processes.get(target_key) if record is not None else None
        if record is None or model is None \
                or record.get("tenantId") != instance.value.get("tenantId", record.get("tenantId")):
            raise MigrationRefused(RejectionType.NOT_FOUND,
                                   f"Expected to migrate process instance to process definition but no process"
                                   f" definition found with key '{target_key}'")
        target = _Target(target_key, record["bpmnProcessId"], record["version"], model)
        self._check_message_start_correlation(state, instance, target)
        source = state.processes.get(instance.process_definition_key)
        assert source is not None, f"process definition {instance.process_definition_key} is not deployed"
        for source_id, target_id in instructions:
            if source_id not in source.elements:
                raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                       f"Expected to migrate process instance '{instance_key}' but mapping"
                                       f" instructions contain a non-existing source element id '{source_id}'."
                                       " Elements provided in mapping instructions must exist in the source process"
                                       " definition.")
            if target_id not in target.model.elements:
                raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                       f"Expected to migrate process instance '{instance_key}' but mapping"
                                       f" instructions contain a non-existing target element id '{target_id}'."
                                       " Elements provided in mapping instructions must exist in the target process"
                                       " definition.")
        mapped = dict(instructions)
        mapped[source.bpmn_process_id] = target.bpmn_process_id  # nobody maps the process itself
        steps: list[_Step] = []
        queue = deque([instance])
        while queue:
            current = queue.popleft()
            steps.append(self._check(batch, instance_key, current, source, target, mapped))
            for child_key in state.children(current.key):
                child = state.element_instance(child_key)
                if child is not None:
                    queue.append(child)
        return instance, target, steps

    @staticmethod
    def _check_message_start_correlation(state: EngineStateView, instance: ElementInstance, target: _Target) -> None:
        """requireNoStartEventInstanceForTargetProcess: an instance a message start event started with a
        correlation key may not join another process that already runs an instance for that key."""
        if instance.value.get("bpmnProcessId") == target.bpmn_process_id:
            return
        if not any(isinstance(start.event_definition, ExecutableMessage) for start in target.model.start_events):
            return
        correlation = state.message_instance_correlation(instance.key)
        if not correlation:
            return
        tenant, _, correlation_key = correlation
        if state.active_message_instance(tenant, target.bpmn_process_id, correlation_key) is not None:
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"Expected to migrate process instance '{instance.key}' but target process"
                                   f" definition '{target.key}' has an active instance triggered by a message start"
                                   f" event with correlation key '{correlation_key}'. Only one instance per"
                                   " correlation key is allowed for message start events.")

    @staticmethod
    def _instructions(value: dict[str, Any]) -> list[tuple[str, str]]:
        raw = value.get("mappingInstructions") or []
        if not isinstance(raw, list):
            raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                   "Expected 'mappingInstructions' to be a list of objects")
        instructions = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("sourceElementId", ""), str) \
                    or not isinstance(item.get("targetElementId", ""), str):
                raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                       "Expected each mapping instruction to be an object with a 'sourceElementId'"
                                       " and a 'targetElementId' string")
            instructions.append((item.get("sourceElementId", ""), item.get("targetElementId", "")))
        return instructions

    def _check(self, batch: Batch, pik: int, instance: ElementInstance, source: ExecutableProcess,
               target: _Target, mapped: dict[str, str]) -> _Step:
        """Zeebe's preconditions for one element instance, in Zeebe's order."""
        state = batch.state
        element_id = instance.element_id
        element_type = instance.element_type
        prefix = f"Expected to migrate process instance '{pik}' but"
        # requireSupportedElementType
        if element_type not in MIGRATED_ELEMENT_TYPES:
            raise _refused(f"{prefix} active element with id '{element_id}' has an unsupported type. The migration"
                           f" of a {element_type.name} is not supported.")
        source_element = source if element_type is T.PROCESS else source.flow_node(element_id, element_type)
        if element_type is T.INTERMEDIATE_CATCH_EVENT:
            event_type = instance.value.get("bpmnEventType", "UNSPECIFIED")
            if event_type not in _MIGRATED_CATCH_EVENT_TYPES:
                raise _refused(f"{prefix} active element with id '{element_id}' is intermediate catch event of type"
                               f" '{event_type}'. Migrating active intermediate catch event of this type is not"
                               " possible yet.")
            if is_after_event_based_gateway(source_element):
                raise _refused(f"{prefix} active element with id '{element_id}' is an intermediate catch event"
                               " attached to an event-based gateway. Migrating active events attached to an"
                               " event-based gateway is not possible yet.")
        # requireNonNullTargetElementId
        target_id = mapped.get(element_id)
        if target_id is None:
            raise _refused(f"{prefix} no mapping instruction defined for active element with id '{element_id}'."
                           " Elements cannot be migrated without a mapping.")
        # requireSameElementType (an inner instance of a multi-instance body: the target's inner activity)
        loop_counter = state.loop_counter(instance.key)
        target_element = self._target_element(prefix, instance, target.model, target_id, loop_counter)
        # requireSupportedUserTaskMigration: a job worker user task may become a Camunda user task
        converts = self.user_tasks is not None and isinstance(source_element, ExecutableUserTask) \
            and isinstance(target_element, ExecutableUserTask) and not source_element.is_camunda_user_task \
            and target_element.is_camunda_user_task
        if isinstance(target_element, ExecutableUserTask) and not converts:
            source_kind = _ZEEBE_USER_TASK if instance.user_task_key > 0 else _JOB_WORKER
            target_kind = _ZEEBE_USER_TASK if target_element.is_camunda_user_task else _JOB_WORKER
            if source_kind != target_kind:
                raise _refused(f"{prefix} active user task with id '{element_id}' and implementation"
                               f" '{source_kind}' is mapped to an user task with id '{target_id}' and different"
                               f" implementation '{target_kind}'. Elements must be mapped to elements of the same"
                               " implementation.")
        # requireUnchangedFlowScope
        flow_scope = state.element_instance(instance.flow_scope_key) if instance.flow_scope_key > 0 else None
        if flow_scope is not None:
            expected = flow_scope.element_id
            actual = target_element.flow_scope.id if target_element.flow_scope is not None else ""
            if mapped.get(expected, expected) != actual:
                raise _refused(f"{prefix} the flow scope of active element with id '{element_id}' is changed. The"
                               f" flow scope of the active element is expected to be"
                               f" '{mapped.get(expected, expected)}' but was '{actual}'. The flow scope of an"
                               " element cannot be changed during migration yet.")
        # requireNoEventSubprocessInSource / InTarget
        for which, checked_id, checked in (("active", element_id, source_element),
                                           ("target", target_id, target_element)):
            if isinstance(checked, ExecutableFlowElementContainer):
                refused = [start.event_type for sub in checked.event_sub_processes for start in sub.start_events
                           if start.event_type not in _EVENT_SUB_PROCESS_START_TYPES]
                if refused:
                    raise _refused(f"{prefix} {which} process with id '{checked_id}' has one or more event"
                                   f" subprocesses with start events of types '{','.join(refused)}'. Migrating event"
                                   " subprocesses with start events of these types is not possible yet.")
        # requireNoBoundaryEventInSource / InTarget
        for which, checked_id, checked in (("active", element_id, source_element),
                                           ("target", target_id, target_element)):
            if isinstance(checked, ExecutableActivity):
                refused = [event.event_type for event in checked.boundary_events
                           if event.event_type not in _BOUNDARY_EVENT_TYPES]
                if refused:
                    raise _refused(f"{prefix} {which} element with id '{checked_id}' has one or more boundary"
                                   f" events of types '{','.join(refused)}'. Migrating {which} elements with"
                                   " boundary events of these types is not possible yet.")
        # requireMappedCatchEventsToStayAttachedToSameElement, requireNoDuplicateTargetsInCatchEventMappings,
        # requireNoCatchEventMappingToChangeEventType
        catch_event_migration.check_catch_event_mappings(pik, element_id, target_id, source_element, target_element,
                                                         mapped, target.model.elements)
        # requireSameMultiInstanceLoopCharacteristics
        if isinstance(source_element, ExecutableMultiInstanceBody) \
                and isinstance(target_element, ExecutableMultiInstanceBody) \
                and source_element.loop.is_sequential != target_element.loop.is_sequential:
            raise _refused(f"{prefix} active element with id '{element_id}' has a different loop characteristics"
                           f" than the target element with id '{target_id}'. Both elements must have either"
                           " sequential or parallel loop characteristics.")
        # requireNoConcurrentCommand: a token on its way (not one waiting at a join) or an event triggered
        waiting = waiting_at_joins(state, instance, source_element)
        triggers = instance.event_trigger_count
        if instance.active_flows - waiting > 0 or (triggers is None and state.event_trigger(instance.key) is not None) \
                or (triggers or 0) > 0:
            raise _refused(f"{prefix} a concurrent command was executed on the process instance. Please retry the"
                           " migration.")
        step = _Step(instance, target_id)
        step.taken_flows = plan_taken_flows(state, pik, instance, source_element, target.model, mapped)
        if converts:
            assert self.user_tasks is not None and isinstance(source_element, ExecutableUserTask) \
                and isinstance(target_element, ExecutableUserTask)
            step.conversion = plan_conversion(batch, self.user_tasks, pik, instance, source_element, target_element,
                                              target_id, _migrated_value(instance, target, target_id))
        if instance.state is not ProcessInstanceIntent.ELEMENT_ACTIVATING:
            # an element still activating has not subscribed to its events yet, and does not here either
            if element_type is T.PROCESS:
                step.compensations = plan_compensations(state, instance.key, source, target.model, mapped)
            step.catch_events = catch_event_migration.plan(
                batch, self.catch_events, pik, instance, target_id, target_element, mapped,
                _migrated_value(instance, target, target_id))
        return step

    @staticmethod
    def _target_element(prefix: str, instance: ElementInstance, model: ExecutableProcess, target_id: str,
                        loop_counter: int) -> ExecutableFlowNode:
        element_type = instance.element_type
        if element_type is T.PROCESS:
            return model
        found = model.elements[target_id]
        found_type = found.element_type
        if found_type is element_type and isinstance(found, ExecutableFlowNode):
            return found
        if loop_counter > 0 and isinstance(found, ExecutableMultiInstanceBody):
            found_type = found.inner_activity.element_type
            if found_type is element_type:
                return found.inner_activity
        raise _refused(f"{prefix} active element with id '{instance.element_id}' and type '{element_type.name}' is"
                       f" mapped to an element with id '{target_id}' and different type '{found_type.name}'."
                       " Elements must be mapped to elements of the same type.")

    # -- writing -------------------------------------------------------------------------------------------

    def _migrate_element(self, batch: Batch, step: _Step, target: _Target) -> None:
        state = batch.state
        instance = state.element_instance(step.instance.key)
        assert instance is not None
        source_value = dict(instance.value)
        migrated_value = _migrated_value(instance, target, step.target_element_id)
        definition = {"processDefinitionKey": target.key, "bpmnProcessId": target.bpmn_process_id}
        batch.event(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ELEMENT_MIGRATED, instance.key, migrated_value)
        write_taken_flows(batch, step.taken_flows, instance.key, source_value, migrated_value)
        moved = {**definition, "processDefinitionVersion": target.version, "elementId": step.target_element_id}
        if step.conversion is not None:
            assert self.user_tasks is not None
            write_conversion(batch, self.user_tasks, step.conversion, instance.key, migrated_value)
            instance = state.element_instance(instance.key)  # it has a user task now
            assert instance is not None
        else:
            job = state.job(instance.job_key) if instance.job_key > 0 else None
            if job is not None:
                batch.event(ValueType.JOB, JobIntent.MIGRATED, instance.job_key,
                            {**job["record"], "variables": {}, **moved})
        for incident_key in state.element_incidents(instance.key):
            incident = state.incident(incident_key)
            if incident is not None:
                batch.event(ValueType.INCIDENT, IncidentIntent.MIGRATED, incident_key,
                            {**incident["record"], **definition, "elementId": step.target_element_id})
        task = state.user_task(instance.user_task_key) if instance.user_task_key > 0 else None
        if task is not None:
            batch.event(ValueType.USER_TASK, UserTaskIntent.MIGRATED, task.key, {**task.record, "variables": {}, **moved})
        if step.compensations is not None:
            write_compensations(batch, step.compensations, target.key)
        if step.catch_events is not None:
            catch_event_migration.write(batch, self.catch_events, step.catch_events, instance.key, migrated_value,
                                        target.key, target.bpmn_process_id)


def _refused(reason: str) -> MigrationRefused:
    return MigrationRefused(RejectionType.INVALID_STATE, reason)
