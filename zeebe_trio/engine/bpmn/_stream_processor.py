"""The BPMN lifecycle dispatcher: PROCESS_INSTANCE element commands to element processors.

ACTIVATE_ELEMENT, COMPLETE_ELEMENT and TERMINATE_ELEMENT find the element in its process's executable
model and its processor in the table by element type, check that the command fits the element
instance's state (else a rejection), write ELEMENT_ACTIVATING / ELEMENT_COMPLETING, and run the
processor's lifecycle steps. This is the only place where a failed step (``ElementFailure``) becomes
an incident on the element instance; resolving the incident runs the same command again, rebuilt
from state within the RESOLVE command's batch (``process_retried``).

Execution listeners run here, as in Zeebe's ``BpmnStreamProcessor``: after ``on_activate`` the element's
start listeners' jobs are created one at a time (the element stays ACTIVATING) before
``finalize_activation``; after ``on_complete`` its end listeners' (the element stays COMPLETING) before
``finalize_completion``. A listener job's completion writes COMPLETE_EXECUTION_LISTENER: its variables
(a PROCESS_EVENT) are merged into the element (start) or its flow scope (end), and the next listener's
job is created or the phase finalized. The element instance counts the listener jobs of the phase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent, Record, RejectionType, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors
from .behaviors import (
    ChildActivationCallback,
    ContainerCallbacks,
    ElementContext,
    ElementFailure,
    IncidentBehavior,
    JobBehavior,
    ProcessEventBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from .elements import BpmnElementProcessor
from .elements.events import EventProcessorByKind
from .model import ExecutableFlowNode

__all__ = ["BpmnStreamProcessor"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
_UNKNOWN = object()  # an element type not looked at yet


class BpmnStreamProcessor:
    def __init__(self, processors: dict[BpmnElementType, BpmnElementProcessor[Any]],
                 transitions: StateTransitionBehavior, incidents: IncidentBehavior,
                 jobs: JobBehavior | None = None, variables: VariableBehavior | None = None) -> None:
        self.processors = processors
        # Element types whose processor hands every step to the processor of the event's kind: the
        # dispatcher asks it once per command for that processor, not at every step.
        self._by_kind = {element_type: processor for element_type, processor in processors.items()
                         if isinstance(processor, EventProcessorByKind)}
        self._containers: dict[BpmnElementType, ContainerCallbacks] = {}
        # a runtime-checkable Protocol's isinstance is slow: looked up once per element type
        self._child_activation: dict[BpmnElementType, ChildActivationCallback | None] = {}
        self.transitions = transitions
        self.incidents = incidents
        # Execution listeners need both; without them a listener's job cannot be created.
        self.jobs = jobs
        self.variables = variables
        self.process_events = ProcessEventBehavior()

    def register(self, table: CommandProcessors) -> None:
        table.add(PI, _I.ACTIVATE_ELEMENT, self.activate_element)
        table.add(PI, _I.COMPLETE_ELEMENT, self.complete_element)
        table.add(PI, _I.TERMINATE_ELEMENT, self.terminate_element)
        table.add(PI, _I.COMPLETE_EXECUTION_LISTENER, self.complete_execution_listener)

    def process_retried(self, batch: Batch, command: Record) -> None:
        """Process an element command rebuilt from state, not read from the log: the failed step of a
        resolved incident, within the RESOLVE command's batch (Zeebe's ``IncidentResolveProcessor``
        hands it to its ``BpmnStreamProcessor``)."""
        if command.intent is _I.ACTIVATE_ELEMENT:
            self.activate_element(batch, command)
        elif command.intent is _I.COMPLETE_ELEMENT:
            self.complete_element(batch, command)
        else:
            raise ValueError(f"Expected an ACTIVATE_ELEMENT or COMPLETE_ELEMENT command to retry, but got"
                             f" {command.intent.name}")

    def container(self, element_type: BpmnElementType) -> ContainerCallbacks:
        """The processor of a container element type, for the children's callbacks."""
        found = self._containers.get(element_type)
        if found is None:
            processor = self.processors[element_type]
            # a runtime-checkable Protocol's isinstance is slow: checked once per element type
            assert isinstance(processor, ContainerCallbacks), f"{element_type.name} elements are not containers"
            found = self._containers[element_type] = processor
        return found

    def _element(self, batch: Batch, context: ElementContext) -> tuple[ExecutableFlowNode, BpmnElementProcessor[Any]]:
        process = batch.state.processes.get(context.process_definition_key)
        assert process is not None, f"process definition {context.process_definition_key} is not deployed"
        element_type = context.element_type
        element = process if element_type is BpmnElementType.PROCESS \
            else process.flow_node(context.element_id, element_type)
        by_kind = self._by_kind.get(element_type)
        return element, self.processors[element_type] if by_kind is None else by_kind.of(element)

    def _failed(self, batch: Batch, context: ElementContext, failure: ElementFailure) -> None:
        self.incidents.raise_incident(batch, failure.error_type, failure.message, context.key, context.value)

    @staticmethod
    def _refuse_if_interrupted(batch: Batch, command: Record, context: ElementContext,
                               interrupting_element_id: str | None) -> bool:
        """Reject a command for an element whose flow scope another element interrupted (a terminate end
        event): its remaining children are being terminated (Zeebe's state transition guard)."""
        if interrupting_element_id is None or interrupting_element_id == context.element_id:
            return False
        batch.reject(command, RejectionType.INVALID_STATE,
                     "Expected flow scope instance to be not interrupted but was interrupted by an event with id"
                     f" '{interrupting_element_id}'.")
        return True

    def activate_element(self, batch: Batch, command: Record) -> None:
        state = batch.state
        context = ElementContext(command.key, command.value)
        instance = state.element_instance(command.key)
        element, processor = self._element(batch, context)
        if instance is None:
            scope_key = context.flow_scope_key
            if scope_key > 0:
                scope = state.element_instance(scope_key)
                if scope is None or not scope.is_active:
                    batch.reject(command, RejectionType.INVALID_STATE,
                                 f"Expected flow scope instance with key '{scope_key}' to be active, but it is"
                                 f" {'gone' if scope is None else scope.state.name}")
                    return
                if scope.interrupting_element_id is not None \
                        and self._refuse_if_interrupted(batch, command, context, scope.interrupting_element_id):
                    return
            refused = processor.activation_refused(batch, element, context)
            if refused is not None:
                batch.reject(command, RejectionType.INVALID_STATE, refused)
                return
            self.transitions.to_activating(batch, context)
        elif instance.state is not _I.ELEMENT_ACTIVATING:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected element instance with key '{command.key}' to be activating, but it is"
                         f" {instance.state.name}")
            return
        try:
            self._child_activating(batch, element, context)
            processor.on_activate(batch, element, context)
            self._listeners_then_finalize(batch, element, processor, context, "start")
        except ElementFailure as failure:
            self._failed(batch, context, failure)

    def _child_activating(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        """Let a container that prepares its children (a multi-instance body) prepare this one."""
        container = element.flow_scope
        if container is None or context.flow_scope_key <= 0:
            return
        callback = self._child_activation_callback(container.element_type)
        if callback is not None:
            scope = batch.state.element_instance(context.flow_scope_key)
            if scope is not None:
                callback.on_child_activating(batch, container, ElementContext.of(scope), context)

    def _child_activation_callback(self, element_type: BpmnElementType) -> ChildActivationCallback | None:
        found = self._child_activation.get(element_type, _UNKNOWN)
        if found is _UNKNOWN:
            processor = self.processors.get(element_type)
            found = self._child_activation[element_type] = \
                processor if isinstance(processor, ChildActivationCallback) else None
        return found  # type: ignore[return-value]

    def complete_element(self, batch: Batch, command: Record) -> None:
        instance = batch.state.element_instance(command.key)
        if instance is None or instance.state not in (_I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING):
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected element instance with key '{command.key}' to be activated, but it is"
                         f" {'gone' if instance is None else instance.state.name}")
            return
        context = ElementContext.of(instance)
        scope = batch.state.element_instance(context.flow_scope_key) if context.flow_scope_key > 0 else None
        if scope is not None and scope.interrupting_element_id is not None \
                and self._refuse_if_interrupted(batch, command, context, scope.interrupting_element_id):
            return
        element, processor = self._element(batch, context)
        try:
            if instance.state is not _I.ELEMENT_COMPLETING:  # a completion run again after an incident is
                self.transitions.to_completing(batch, context, known_not_completing=True)
            processor.on_complete(batch, element, context)
            self._listeners_then_finalize(batch, element, processor, context, "end")
        except ElementFailure as failure:
            self._failed(batch, context, failure)

    def terminate_element(self, batch: Batch, command: Record) -> None:
        instance = batch.state.element_instance(command.key)
        if instance is None or instance.state is _I.ELEMENT_TERMINATING:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected element instance with key '{command.key}' to be terminable, but it is"
                         f" {'gone' if instance is None else 'already terminating'}")
            return
        context = ElementContext.of(instance)
        element, processor = self._element(batch, context)
        processor.on_terminate(batch, element, context)

    # -- execution listeners -------------------------------------------------------------------------

    def _listeners_then_finalize(self, batch: Batch, element: ExecutableFlowNode,
                                 processor: BpmnElementProcessor[Any], context: ElementContext,
                                 event_type: str) -> None:
        """The phase's next execution listener job, or (after the last, or without listeners: the common
        case, run without building a callback) ``finalize_activation`` / ``finalize_completion``."""
        finalize = processor.finalize_activation if event_type == "start" else processor.finalize_completion
        if not element.execution_listeners:
            finalize(batch, element, context)
            return
        self._next_listener_or(batch, element, context, event_type, lambda: finalize(batch, element, context))

    def _next_listener_or(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext,
                          event_type: str, finalize: Callable[[], None]) -> None:
        """Create the job of the phase's next execution listener, or finalize the phase after the last."""
        listeners = element.listeners_of(event_type)
        if not listeners:  # the common case: no state to read
            finalize()
            return
        instance = batch.state.element_instance(context.key)
        index = instance.execution_listener_index if instance is not None else 0
        if index >= len(listeners):
            finalize()
            return
        assert self.jobs is not None, "execution listeners need the dispatcher's JobBehavior"
        self.jobs.create_listener_job(batch, listeners[index].job, context, event_type)

    def complete_execution_listener(self, batch: Batch, command: Record) -> None:
        instance = batch.state.element_instance(command.key)
        if instance is None or instance.state not in (_I.ELEMENT_ACTIVATING, _I.ELEMENT_COMPLETING):
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected element instance with key '{command.key}' to be activating or completing, but"
                         f" it is {'gone' if instance is None else instance.state.name}")
            return
        context = ElementContext.of(instance)
        element, processor = self._element(batch, context)
        starting = instance.state is _I.ELEMENT_ACTIVATING
        self._merge_listener_variables(batch, context, local=starting)
        try:
            self._listeners_then_finalize(batch, element, processor, context, "start" if starting else "end")
        except ElementFailure as failure:
            self._failed(batch, context, failure)

    def _merge_listener_variables(self, batch: Batch, context: ElementContext, *, local: bool) -> None:
        """A start listener's variables become the element's own; an end listener's go to its flow scope
        (the process's own for the process), as Zeebe merges them."""
        variables = self.process_events.pending(batch, context.key)
        if variables is None:
            return
        if variables:
            assert self.variables is not None, "execution listeners need the dispatcher's VariableBehavior"
            scope_key = context.key if local or context.flow_scope_key <= 0 else context.flow_scope_key
            self.variables.merge_local(batch, context.value, scope_key, variables)
        self.process_events.triggered(batch, context.key)
