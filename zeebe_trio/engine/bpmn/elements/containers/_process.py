"""The process: the root container of an instance.

Activating it applies the process's input mappings and activates its none start event; it completes
once its last path has ended (no child left, no sequence flow on its way), answering a client that
awaits the result; terminating it terminates its children first. A process instance created by a call
activity tells that call activity when it has completed or was terminated.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    ErrorType,
    ProcessEventIntent,
    ProcessInstanceResultIntent,
    ValueType,
)

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    ElementFailure,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableProcess
from .._processor import BpmnElementProcessor
from ._container import ContainerCallbacksMixin

__all__ = ["ProcessProcessor"]


class ProcessProcessor(ContainerCallbacksMixin, BpmnElementProcessor[ExecutableProcess]):
    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior) -> None:
        super().__init__(transitions)
        self.variables = variables
        self.incidents = incidents

    def on_activate(self, batch: Batch, element: ExecutableProcess, context: ElementContext) -> None:
        # Process input mappings read the creation variables and set process-level variables.
        if element.inputs:
            try:
                local = self.variables.evaluate_mappings(batch, element.inputs, context.key)
            except EvaluationError as error:
                raise ElementFailure(ErrorType.IO_MAPPING_ERROR, str(error)) from None
            self.variables.merge_local(batch, context.value, context.key, local)

    def finalize_activation(self, batch: Batch, element: ExecutableProcess, context: ElementContext) -> None:
        self.transitions.to_activated(batch, context, element=element)
        # An instance a start event's trigger created (a timer, a message) begins at that start event.
        starts_by_event = any(start.event_definition is not None for start in element.start_events)
        triggered = batch.state.event_triggers(context.process_definition_key) if starts_by_event else []
        for event_key, trigger in triggered:
            if trigger.get("processInstanceKey") == context.key:
                start_event = element.flow_node(trigger["elementId"])
                batch.event(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERED, event_key, {
                    "scopeKey": context.process_definition_key, "targetElementId": start_event.id,
                    "variables": trigger["variables"], "processDefinitionKey": context.process_definition_key,
                    "processInstanceKey": context.key, "tenantId": context.value.get("tenantId", DEFAULT_TENANT)})
                if trigger["variables"]:
                    self.variables.merge_local(batch, context.value, context.key, trigger["variables"])
                self.transitions.activate_child(batch, context, start_event)
                return
        start = element.none_start_event
        assert start is not None, f"process {element.bpmn_process_id!r} has no none start event"
        self.transitions.activate_child(batch, context, start)

    def on_complete(self, batch: Batch, element: ExecutableProcess, context: ElementContext) -> None:
        self.variables.apply_root_output_mappings(batch, element, context)

    def finalize_completion(self, batch: Batch, element: ExecutableProcess, context: ElementContext) -> None:
        state = batch.state
        awaiting = state.awaiting_result(context.key)
        result_variables = None
        if awaiting is not None:
            visible = state.visible_variables(context.key)
            fetch = awaiting.get("fetchVariables") or []
            result_variables = {name: visible[name] for name in fetch if name in visible} if fetch else visible
        self.transitions.to_completed(batch, context)
        if awaiting is not None:
            value = context.value
            result = batch.event(ValueType.PROCESS_INSTANCE_RESULT, ProcessInstanceResultIntent.COMPLETED, context.key, {
                "bpmnProcessId": value["bpmnProcessId"],
                "version": value["version"],
                "processDefinitionKey": value["processDefinitionKey"],
                "processInstanceKey": context.key,
                "variables": result_variables,
                "tenantId": value.get("tenantId", DEFAULT_TENANT),
            })
            batch.respond_to(awaiting["requestStreamId"], awaiting["requestId"], result)
        # A process instance created by a call activity completes it (Zeebe's onCalledProcessCompleted).
        self.transitions.on_called_process_completed(batch, context)

    def on_terminate(self, batch: Batch, element: ExecutableProcess, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        self.transitions.compensations.delete_of_process_instance(batch, context)
        if not self.transitions.terminate_children(batch, context):
            self.transitions.to_terminated(batch, element, context)

