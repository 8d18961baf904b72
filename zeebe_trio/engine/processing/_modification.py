"""Process instance modification (PROCESS_INSTANCE_MODIFICATION.MODIFY -> MODIFIED), as Zeebe's
``ProcessInstanceModificationModifyProcessor`` does it.

Activate instructions activate an element with the flow scopes it needs (reusing an existing flow
scope instance, or the one an ancestor key selects), creating the variables of their variable
instructions in the scope they name as each scope is reached; terminate instructions terminate an
element instance and everything inside it by their events (ELEMENT_TERMINATING top-down, then
ELEMENT_TERMINATED bottom-up, canceling its jobs, user tasks, incidents and subscriptions), and then
each flow scope left without children, active flows or pending activations, up to the process
instance itself. Every check runs before anything is written: a command is carried out whole or
rejected with Zeebe's reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zeebe_trio.protocol import (
    BpmnElementType,
    ProcessInstanceIntent,
    ProcessInstanceModificationIntent,
    Record,
    RejectionType,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import (
    ActivationPlan,
    ActivationPlanner,
    ActivationRefused,
    CatchEventBehavior,
    ElementActivationBehavior,
    ElementContext,
    IncidentBehavior,
    JobBehavior,
    RootInstanceListener,
    UserTaskBehavior,
    VariableBehavior,
)
from ..bpmn.model import ExecutableFlowNode, ExecutableProcess
from ..state import ElementInstance, EngineStateView
from ._process_instances import (
    SUPPORTED_ACTIVATION_TYPES,
    UNSUPPORTED_ACTIVATION_TYPES,
    connected_to_event_based_gateway,
)

__all__ = ["ProcessInstanceModificationProcessors"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
T = BpmnElementType
_TERMINABLE = frozenset({_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING})


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _ids(values: Iterator[str] | list[str]) -> str:
    return "', '".join(dict.fromkeys(values))


class _Tree:
    """The element instances a termination sees: state, less what was terminated before (a dry run
    tracks that itself; the writing run reads it from state)."""

    def __init__(self, state: EngineStateView) -> None:
        self.state = state
        self.removed: set[int] = set()
        self.removed_children: dict[int, int] = {}

    def instance(self, key: int) -> ElementInstance | None:
        return None if key in self.removed else self.state.element_instance(key)

    def child_count(self, instance: ElementInstance) -> int:
        return instance.child_count - self.removed_children.get(instance.key, 0)

    def children(self, instance: ElementInstance) -> list[ElementInstance]:
        found: list[ElementInstance] = []
        if instance.element_type is T.CALL_ACTIVITY:
            child = self.state.element_instance(self.state.called_child_instance(instance.key))
            if child is not None and child.state in _TERMINABLE:
                found.append(child)
            return found
        for key in self.state.children(instance.key):
            child = self.instance(key)
            if child is not None and child.state in _TERMINABLE:
                found.append(child)
        return found


class ProcessInstanceModificationProcessors:
    def __init__(self, variables: VariableBehavior, activation: ElementActivationBehavior, jobs: JobBehavior,
                 incidents: IncidentBehavior, user_tasks: UserTaskBehavior,
                 catch_events: CatchEventBehavior | None,
                 root_instance_listeners: list[RootInstanceListener] | None = None) -> None:
        self.variables = variables
        # told when a process instance ends here, as when it ends by itself (a message start event's
        # correlation key is free again)
        self.root_instance_listeners = root_instance_listeners if root_instance_listeners is not None else []
        self.activation = activation
        self.jobs = jobs
        self.incidents = incidents
        self.user_tasks = user_tasks
        self.catch_events = catch_events

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.PROCESS_INSTANCE_MODIFICATION, ProcessInstanceModificationIntent.MODIFY, self.modify)

    # -- the command -------------------------------------------------------------------------------------

    def modify(self, batch: Batch, command: Record) -> None:
        state = batch.state
        value = command.value
        instance_key = value.get("processInstanceKey", command.key)
        if not isinstance(instance_key, int) or instance_key <= 0:
            instance_key = command.key
        event_key = command.key if command.key > -1 else instance_key
        instance = state.element_instance(instance_key) if isinstance(instance_key, int) else None
        if instance is None or instance.element_type is not T.PROCESS:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to modify process instance but no process instance found with key '{event_key}'")
            return
        process = state.processes.get(instance.process_definition_key)
        assert process is not None, f"process definition {instance.process_definition_key} is not deployed"
        try:
            activations, terminations = self._instructions(value)
            self._validate(state, process, instance, activations, terminations)
            planner = ActivationPlanner(state, instance.key)
            plans = [planner.plan(process.elements[a["elementId"]], a["ancestorScopeKey"])  # type: ignore[arg-type]
                     for a in activations]
            required = self._required_scopes(plans)
            self._terminate_all(None, _Tree(state), terminations, required, process)  # a dry run: may refuse
        except Refused as refused:
            batch.reject(command, RejectionType.INVALID_ARGUMENT, refused.reason)
            return
        except ActivationRefused as refused:
            batch.reject(command, RejectionType.INVALID_ARGUMENT, self._activation_refused(process, refused))
            return

        placeholders: dict[int, int] = {}
        activated: list[dict[str, Any]] = []
        for activation, plan in zip(activations, plans, strict=True):
            def create_variables(element_id: str, scope_key: int, activation: dict[str, Any] = activation) -> None:
                for instruction in activation["variableInstructions"]:
                    scope_id = instruction["elementId"]
                    if scope_id == element_id or (not scope_id and element_id == process.bpmn_process_id):
                        self.variables.merge_local(batch, instance.value, scope_key, instruction["variables"])

            _, scope_keys = self.activation.activate(batch, instance.value, plan, placeholders, create_variables)
            activated.append({**activation, "ancestorScopeKeys": sorted(set(scope_keys))})
        self._terminate_all(batch, _Tree(state), terminations, self._written_scopes(plans, placeholders), process)
        modified = batch.event(ValueType.PROCESS_INSTANCE_MODIFICATION, ProcessInstanceModificationIntent.MODIFIED,
                               event_key, {
                                   "processInstanceKey": instance.key,
                                   "activateInstructions": activated,
                                   "terminateInstructions": [{"elementInstanceKey": key} for key in terminations],
                                   "tenantId": instance.value.get("tenantId", "<default>"),
                               })
        batch.respond(command, modified)

    # -- reading and checking the instructions -------------------------------------------------------------

    @staticmethod
    def _instructions(value: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
        activations: list[dict[str, Any]] = []
        raw = value.get("activateInstructions") or []
        if not isinstance(raw, list):
            raise Refused("Expected 'activateInstructions' to be a list of objects")
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("elementId", ""), str):
                raise Refused("Expected each activate instruction to be an object with an 'elementId' string")
            ancestor = item.get("ancestorScopeKey", -1)
            variable_instructions = []
            for variable in item.get("variableInstructions") or []:
                if not isinstance(variable, dict) or not isinstance(variable.get("variables", {}), dict) \
                        or not isinstance(variable.get("elementId", ""), str):
                    raise Refused("Expected each variable instruction to be an object with a 'variables' object"
                                  " and an 'elementId' string")
                variable_instructions.append({"variables": variable.get("variables") or {},
                                              "elementId": variable.get("elementId") or ""})
            activations.append({"elementId": item.get("elementId", ""),
                                "ancestorScopeKey": ancestor if isinstance(ancestor, int) and ancestor > 0 else -1,
                                "variableInstructions": variable_instructions})
        terminations: list[int] = []
        raw = value.get("terminateInstructions") or []
        if not isinstance(raw, list):
            raise Refused("Expected 'terminateInstructions' to be a list of objects")
        for item in raw:
            key = item.get("elementInstanceKey") if isinstance(item, dict) else None
            if not isinstance(key, int):
                raise Refused("Expected each terminate instruction to be an object with an 'elementInstanceKey'")
            terminations.append(key)
        return activations, terminations

    def _validate(self, state: EngineStateView, process: ExecutableProcess, instance: ElementInstance,
                  activations: list[dict[str, Any]], terminations: list[int]) -> None:
        pid = process.bpmn_process_id
        prefix = f"Expected to modify instance of process '{pid}' but it contains one or more"
        unknown = [a["elementId"] for a in activations if a["elementId"] not in process.elements]
        if unknown:
            raise Refused(f"{prefix} activate instructions with an element that could not be found: '{_ids(unknown)}'")
        elements = [process.elements[a["elementId"]] for a in activations]
        by_gateway = [e.id for e in elements if isinstance(e, ExecutableFlowNode) and connected_to_event_based_gateway(e)]
        if by_gateway:
            raise Refused(f"{prefix} activate instructions for elements that are unsupported: '{_ids(by_gateway)}'."
                          " The activation of events belonging to an event-based gateway is not supported.")
        unsupported = [e for e in elements
                       if e.element_type in UNSUPPORTED_ACTIVATION_TYPES or not isinstance(e, ExecutableFlowNode)]
        if unsupported:
            types = _ids(e.element_type.name for e in unsupported)
            raise Refused(f"{prefix} activate instructions for elements that are unsupported:"
                          f" '{_ids(e.id for e in unsupported)}'. The activation of elements with type '{types}' is"
                          f" not supported. Supported element types are: {SUPPORTED_ACTIVATION_TYPES}.")
        missing = [key for key in terminations if not self._of_instance(state, key, instance.key)]
        if missing:
            raise Refused(f"{prefix} terminate instructions with an element instance that could not be found:"
                          f" '{_ids(str(key) for key in missing)}'")
        scope_ids = [v["elementId"] for a in activations for v in a["variableInstructions"] if v["elementId"]]
        unknown = [scope_id for scope_id in scope_ids if scope_id not in process.elements]
        if unknown:
            raise Refused(f"{prefix} variable instructions with a scope element id that could not be found:"
                          f" '{_ids(unknown)}'")
        for activation, element in zip(activations, elements, strict=True):
            assert isinstance(element, ExecutableFlowNode)
            scopes = set(self._flow_scope_ids(element))
            for variable in activation["variableInstructions"]:
                scope_id = variable["elementId"]
                if scope_id and scope_id != element.id and scope_id not in scopes:
                    raise Refused(f"{prefix} variable instructions with a scope element that doesn't belong to the"
                                  " activating element's flow scope. These variables should be set before or after"
                                  " the modification.")
        self._validate_ancestors(state, process, instance, activations, prefix)
        conflicts = []
        for key in dict.fromkeys(terminations):
            terminated = state.element_instance(key)
            if terminated is None:
                continue
            for activation, element in zip(activations, elements, strict=True):
                assert isinstance(element, ExecutableFlowNode)
                if activation["ancestorScopeKey"] > 0:
                    conflict = activation["ancestorScopeKey"] == key
                else:
                    conflict = terminated.element_id in self._flow_scope_ids(element)
                if conflict:
                    conflicts.append(f"element '{element.id}' requires flow scope instance '{key}' which is being"
                                     " terminated")
        if conflicts:
            raise Refused(f"{prefix} activate instructions for elements whose required flow scope instance is also"
                          f" being terminated: {', '.join(conflicts)}. Please provide a valid ancestor scope key for"
                          " the activation or avoid terminating the required flow scope.")

    def _validate_ancestors(self, state: EngineStateView, process: ExecutableProcess, instance: ElementInstance,
                            activations: list[dict[str, Any]], prefix: str) -> None:
        keys = list(dict.fromkeys(a["ancestorScopeKey"] for a in activations if a["ancestorScopeKey"] > 0))
        ancestors = {key: state.element_instance(key) for key in keys}
        inactive = [str(key) for key, found in ancestors.items() if found is None or not found.is_active]
        if inactive:
            raise Refused(f"{prefix} activate instructions with an ancestor scope key that does not exist, or is not"
                          f" in an active state: '{_ids(inactive)}'")
        foreign = [str(key) for key, found in ancestors.items()
                   if found is not None and found.process_instance_key != instance.key]
        if foreign:
            raise Refused(f"{prefix} activate instructions with an ancestor scope key that does not belong to the"
                          f" modified process instance: '{_ids(foreign)}'")
        details = ""
        for activation in activations:
            ancestor = ancestors.get(activation["ancestorScopeKey"])
            if ancestor is None:
                continue
            element = process.elements[activation["elementId"]]
            assert isinstance(element, ExecutableFlowNode)
            if ancestor.element_id not in self._flow_scope_ids(element):
                details += (f"\n- instance '{ancestor.key}' of element '{ancestor.element_id}' is not an ancestor of"
                            f" element '{element.id}'")
        if details:
            raise Refused(f"{prefix} activate instructions with an ancestor scope key that is not an ancestor of the"
                          f" element to activate:{details}")

    @staticmethod
    def _of_instance(state: EngineStateView, key: int, process_instance_key: int) -> bool:
        found = state.element_instance(key)
        return found is not None and found.process_instance_key == process_instance_key

    @staticmethod
    def _flow_scope_ids(element: ExecutableFlowNode) -> Iterator[str]:
        scope = element.flow_scope
        while scope is not None:
            yield scope.id
            scope = scope.flow_scope

    @staticmethod
    def _activation_refused(process: ExecutableProcess, refused: ActivationRefused) -> str:
        pid = process.bpmn_process_id
        if refused.kind == "multi_instance":
            return (f"Expected to modify instance of process '{pid}' but it contains one or more activate"
                    f" instructions that would result in the activation of multi-instance element"
                    f" '{refused.element_id}', which is currently unsupported.")
        return (f"Expected to modify instance of process '{pid}' but it contains one or more activate instructions"
                f" for an element that has a flow scope with more than one active instance: '{refused.element_id}'."
                " Can't decide in which instance of the flow scope the element should be activated. Please"
                " specify an ancestor element instance key for this activate instruction.")

    # -- termination -----------------------------------------------------------------------------------

    @staticmethod
    def _required_scopes(plans: list[ActivationPlan]) -> set[int]:
        return {scope.key for plan in plans for scope in plan.scopes}

    @staticmethod
    def _written_scopes(plans: list[ActivationPlan], placeholders: dict[int, int]) -> set[int]:
        return {placeholders.get(scope.key, scope.key) for plan in plans for scope in plan.scopes}

    def _terminate_all(self, batch: Batch | None, tree: _Tree, terminations: list[int], required: set[int],
                       process: ExecutableProcess) -> None:
        """Terminate each instance and then its flow scopes left empty; ``batch`` None: a dry run that
        only refuses (a called process instance may not be terminated whole)."""
        for key in terminations:
            target = tree.instance(key)
            if target is None:
                continue  # terminated with an instruction before
            flow_scope_key = target.flow_scope_key
            self._refuse_called_process(target)  # named itself (Zeebe would leave its call activity waiting)
            self._terminate(batch, tree, target)
            scope = tree.instance(flow_scope_key) if flow_scope_key > 0 else None
            while scope is not None and tree.child_count(scope) == 0 and scope.active_flows == 0 \
                    and scope.key not in required:
                self._refuse_called_process(scope)
                next_key = scope.flow_scope_key
                self._terminate(batch, tree, scope)
                scope = tree.instance(next_key) if next_key > 0 else None

    @staticmethod
    def _refuse_called_process(instance: ElementInstance) -> None:
        if instance.element_type is T.PROCESS and (instance.value.get("parentProcessInstanceKey") or -1) > 0:
            raise Refused(f"Expected to modify instance of process '{instance.value['bpmnProcessId']}' but the given"
                          " instructions would terminate the instance. The instance was created by a call activity"
                          " in the parent process. To terminate this instance please modify the parent process"
                          " instead.")

    def _terminate(self, batch: Batch | None, tree: _Tree, target: ElementInstance) -> None:
        terminating = [target]
        terminated: list[ElementInstance] = []
        while terminating:
            current = terminating.pop()
            terminated.append(current)
            if batch is not None:
                self._start_terminating(batch, current)
            terminating.extend(tree.children(current))
        if batch is None:
            tree.removed.update(instance.key for instance in terminated)
            parent = target.flow_scope_key
            if parent > 0:
                tree.removed_children[parent] = tree.removed_children.get(parent, 0) + 1
            return
        for instance in reversed(terminated):
            stored = batch.state.element_instance(instance.key)
            value = stored.value if stored is not None else instance.value
            if instance.element_type is not T.PROCESS or instance.flow_scope_key > 0:
                batch.event(PI, _I.ELEMENT_TERMINATED, instance.key, value)
                continue
            context = ElementContext(instance.key, value)
            tokens = [listener.before_root_end(batch, context) for listener in self.root_instance_listeners]
            batch.event(PI, _I.ELEMENT_TERMINATED, instance.key, value)
            for listener, token in zip(self.root_instance_listeners, tokens, strict=True):
                listener.after_root_end(batch, context, token)

    def _start_terminating(self, batch: Batch, instance: ElementInstance) -> None:
        context = ElementContext(instance.key, instance.value)
        batch.event(PI, _I.ELEMENT_TERMINATING, instance.key, instance.value)
        current = batch.state.element_instance(instance.key)
        if current is not None:
            self.jobs.cancel_job(batch, current.job_key)
            self.user_tasks.cancel(batch, current.user_task_key)
        self.incidents.resolve_incidents_of(batch, instance.key)
        if self.catch_events is not None:
            process = batch.state.processes.get(instance.process_definition_key)
            assert process is not None
            element = process if instance.element_type is T.PROCESS \
                else process.flow_node(instance.element_id, instance.element_type)
            if element.catch_events:
                self.catch_events.unsubscribe(batch, element, context)
