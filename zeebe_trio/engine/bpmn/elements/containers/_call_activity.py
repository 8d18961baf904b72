"""Call activities: an element that runs another deployed process as a child process instance.

Activating one applies its input mappings, evaluates the called process id, finds the version its
binding names (``latest``, the one from the calling process's own ``deployment``, or the latest with
a ``versionTag``), becomes ACTIVATED and creates the child: an ACTIVATE_ELEMENT command for a PROCESS
element whose records carry ``parentProcessInstanceKey`` / ``parentElementInstanceKey``, with the
parent's variables copied into the child's root scope (all visible ones, or only the input mappings'
results when ``propagateAllParentVariables`` is false). A called process that cannot be found is a
CALLED_ELEMENT_ERROR incident on the call activity; resolving it (after deploying the process)
activates it again.

The child's completion completes the call activity, whose output mappings read the child's root-scope
variables (or which propagates all of them, ``propagateAllChildVariables``); terminating the call
activity terminates the child first. An incident in the child stays in the child.
"""

from __future__ import annotations

import json

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ErrorType,
    ProcessInstanceIntent,
    ValueType,
    excerpt,
)

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableCallActivity, ExecutableFlowElementContainer
from .._processor import FlowNodeProcessor

__all__ = ["DEFAULT_MAX_PROCESS_DEPTH", "CallActivityProcessor"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent

#: How deep a call tree may grow (Zeebe's ``maxProcessDepth`` default): a process that calls itself
#: without end would otherwise create instances until the partition is full.
DEFAULT_MAX_PROCESS_DEPTH = 1000

_FEEL_TYPES = ((bool, "BOOLEAN"), (int, "NUMBER"), (float, "NUMBER"), (str, "STRING"), (list, "LIST"),
               (dict, "CONTEXT"))




class CallActivityProcessor(FlowNodeProcessor[ExecutableCallActivity]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, expressions: ExpressionBehavior, *,
                 max_process_depth: int = DEFAULT_MAX_PROCESS_DEPTH) -> None:
        super().__init__(transitions, variables, incidents)
        self.expressions = expressions
        self.max_process_depth = max_process_depth

    # -- activation ----------------------------------------------------------------------------------

    def finalize_activation(self, batch: Batch, element: ExecutableCallActivity, context: ElementContext) -> None:
        process_id = self._process_id(batch, element, context)
        definition_key = self._called_process(batch, element, context, process_id)
        state = batch.state
        stored = state.process(definition_key)
        called = state.processes.get(definition_key)
        assert stored is not None and called is not None, f"process definition {definition_key} is not deployed"
        if called.none_start_event is None:
            raise ElementFailure(ErrorType.CALLED_ELEMENT_ERROR,
                                 f"Expected process with BPMN process id {excerpt(process_id)} to have a none start"
                                 " event, but not found.")
        if state.process_depth(context.process_instance_key) >= self.max_process_depth:
            raise ElementFailure(
                ErrorType.CALLED_ELEMENT_ERROR,
                f"The call activity has reached the maximum depth of {self.max_process_depth}. This is likely due"
                " to a recursive call. Cancel the root process instance if this was unintentional. Otherwise,"
                " consider increasing the maximum depth, or use process instance modification to adjust the"
                " process instance.")
        self.transitions.to_activated(batch, context)
        child_key = batch.next_key()
        child = {
            "bpmnElementType": BpmnElementType.PROCESS.value,
            "elementId": stored["bpmnProcessId"],
            "bpmnProcessId": stored["bpmnProcessId"],
            "version": stored["version"],
            "processDefinitionKey": definition_key,
            "processInstanceKey": child_key,
            "flowScopeKey": -1,
            "bpmnEventType": "UNSPECIFIED",
            "parentProcessInstanceKey": context.process_instance_key,
            "parentElementInstanceKey": context.key,
            "tenantId": context.value.get("tenantId", DEFAULT_TENANT),
        }
        batch.command(PI, _I.ACTIVATE_ELEMENT, child_key, child)
        # As Zeebe: the variables reach the child's scope right after its ACTIVATE_ELEMENT command, before
        # the child activates.
        if element.propagate_all_parent_variables:
            variables = state.visible_variables(context.key)
        elif element.inputs:
            variables = {name: json.loads(text) for name, text in state.local_variables(context.key)}
        else:
            variables = {}
        self.variables.merge_local(batch, child, child_key, variables)

    def _process_id(self, batch: Batch, element: ExecutableCallActivity, context: ElementContext) -> str:
        return self.expressions.evaluate_string(batch, element.process_id,
                                                self.expressions.variables_at(batch, context.key))

    def _called_process(self, batch: Batch, element: ExecutableCallActivity, context: ElementContext,
                        process_id: str) -> int:
        """The process definition key the binding names; a CALLED_ELEMENT_ERROR failure if there is none."""
        state = batch.state
        shown = excerpt(process_id)
        if element.binding_type == "deployment":
            calling = state.process(context.process_definition_key) or {}
            deployment_key = calling.get("deploymentKey", -1)
            found = state.process_key_by_deployment(process_id, deployment_key)
            if found is None:
                raise ElementFailure(
                    ErrorType.CALLED_ELEMENT_ERROR,
                    f"Expected to call process with BPMN process id {shown} with binding type 'deployment', but no"
                    f" such process found in the deployment with key {deployment_key} which contained the current"
                    " process. To resolve this incident, migrate the process instance to a process definition"
                    " that is deployed together with the intended process definition to call.")
            return found
        if element.binding_type == "versionTag":
            tag = element.version_tag or ""
            found = state.process_key_by_version_tag(process_id, tag)
            if found is None:
                raise ElementFailure(
                    ErrorType.CALLED_ELEMENT_ERROR,
                    f"Expected to call process with BPMN process id {shown} and version tag {excerpt(tag)}, but no"
                    " such process found. To resolve this incident, deploy a process with the given process id"
                    " and version tag.")
            return found
        latest = state.latest_version(process_id)
        found = state.process_key_by_version(process_id, latest) if latest else None
        if found is None:
            raise ElementFailure(ErrorType.CALLED_ELEMENT_ERROR,
                                 f"Expected process with BPMN process id {shown} to be deployed, but not found.")
        return found

    # -- termination ---------------------------------------------------------------------------------

    def on_terminate(self, batch: Batch, element: ExecutableCallActivity, context: ElementContext) -> None:
        """Terminate the child first (the call activity is terminated once it is); without a child (its
        activation failed, or it was completing) the call activity is terminated at once."""
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        child_key = batch.state.called_child_instance(context.key)
        child = batch.state.element_instance(child_key) if child_key > 0 else None
        if child is None:
            self.transitions.to_terminated(batch, element, context)
        elif child.state is not _I.ELEMENT_TERMINATING:
            batch.command(PI, _I.TERMINATE_ELEMENT, child.key, child.value)

    # -- the child process instance ends (CalledProcessCallbacks) ------------------------------------

    def on_called_process_completed(self, batch: Batch, call_activity: ExecutableCallActivity,
                                    call_context: ElementContext, child_context: ElementContext) -> None:
        instance = batch.state.element_instance(call_context.key)
        if instance is None:
            return
        if instance.state is _I.ELEMENT_ACTIVATED:
            batch.command(PI, _I.COMPLETE_ELEMENT, instance.key, instance.value)
        elif instance.state is _I.ELEMENT_TERMINATING:  # interrupted while its child completed
            self.transitions.to_terminated(batch, call_activity, call_context)

    def on_called_process_terminated(self, batch: Batch, call_activity: ExecutableCallActivity,
                                     call_context: ElementContext, child_context: ElementContext) -> None:
        instance = batch.state.element_instance(call_context.key)
        if instance is not None and instance.state is _I.ELEMENT_TERMINATING:
            self.transitions.to_terminated(batch, call_activity, call_context)

    # -- ContainerCallbacks: a call activity has no flow of its own; its child reports through the
    #    called-process callbacks above.

    def before_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                        container_context: ElementContext, child_context: ElementContext) -> None:
        pass

    def after_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                       container_context: ElementContext, child_context: ElementContext) -> None:
        pass

    def on_child_terminated(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None:
        pass
