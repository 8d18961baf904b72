"""State transition behaviour: lifecycle events, taking sequence flows, and telling containers.

Every PROCESS_INSTANCE lifecycle event is written here (Zeebe's ``BpmnStateTransitionBehavior``), so
processors say *what* happens (activate this element, complete that one) and this module says how it
is recorded. A container learns of its children through ``ContainerCallbacks``: when a path in it has
ended (an element completed without outgoing flows) and when a child was terminated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ErrorType,
    JobIntent,
    ProcessInstanceBatchIntent,
    ProcessInstanceIntent,
    ValueType,
    excerpt,
)

from ..._batch import Batch
from ...state import ElementInstance
from ..model import (
    ExecutableCallActivity,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableSequenceFlow,
)
from ._compensations import CompensationBehavior
from ._context import ElementContext
from ._events import CatchEventBehavior, EventTriggerBehavior
from ._failure import ElementFailure
from ._runtime_instructions import RuntimeInstructionBehavior

__all__ = ["CalledProcessCallbacks", "ContainerCallbacks", "StateTransitionBehavior"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent


@runtime_checkable
class ContainerCallbacks(Protocol):
    """What the processor of a container does when something happens to its children (Zeebe's
    ``BpmnElementContainerProcessor``): ``before_execution_path_completed`` runs when a child completes
    without outgoing flows, before its ELEMENT_COMPLETED (it may fail, e.g. an output collection);
    ``after_execution_path_completed`` after it; ``on_child_terminated`` after a child's
    ELEMENT_TERMINATED."""

    def before_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                        container_context: ElementContext, child_context: ElementContext) -> None: ...

    def after_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                       container_context: ElementContext, child_context: ElementContext) -> None: ...

    def on_child_terminated(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None: ...


@runtime_checkable
class CalledProcessCallbacks(Protocol):
    """What the processor of a call activity does when the process instance it created ends (Zeebe's
    ``onCalledProcessCompleted`` / ``onCalledProcessTerminated``): a child process has no flow scope,
    its parent element instance is the call activity."""

    def on_called_process_completed(self, batch: Batch, call_activity: ExecutableCallActivity,
                                    call_context: ElementContext, child_context: ElementContext) -> None: ...

    def on_called_process_terminated(self, batch: Batch, call_activity: ExecutableCallActivity,
                                     call_context: ElementContext, child_context: ElementContext) -> None: ...


class RootInstanceListener(Protocol):
    """Hears of a root process instance's end: ``before_root_end`` reads what it needs while the
    instance's state is there (its token is handed back), ``after_root_end`` writes once the
    ELEMENT_COMPLETED or ELEMENT_TERMINATED event is written."""

    def before_root_end(self, batch: Batch, context: ElementContext) -> Any: ...

    def after_root_end(self, batch: Batch, context: ElementContext, token: Any) -> None: ...


class StateTransitionBehavior:
    """``container_callbacks`` looks up the processor of a container's element type (the processor
    table, handed in once it exists). ``max_element_instances_per_scope`` bounds how many element
    instances and sequence flows one flow scope may hold."""

    def __init__(self, container_callbacks: Callable[[BpmnElementType], ContainerCallbacks],
                 max_element_instances_per_scope: int, catch_events: CatchEventBehavior | None = None,
                 event_triggers: EventTriggerBehavior | None = None) -> None:
        self._container_callbacks = container_callbacks
        self.max_element_instances_per_scope = max_element_instances_per_scope
        # An element's event subscriptions open as it becomes active and close as it leaves, whatever
        # its processor: that is part of the transition, as in Zeebe's processors, which all do it.
        self.catch_events = catch_events
        self.event_triggers = event_triggers
        # Told when a root process instance has completed or terminated (message start events free
        # their correlation key and start the next buffered message): see ``RootInstanceListener``.
        self.root_instance_listeners: list[RootInstanceListener] = []
        # Completed activities leave compensation subscriptions; completed handlers complete theirs.
        self.compensations = CompensationBehavior()
        # Runtime instructions given at creation: an element that ends may terminate its process instance.
        self.runtime_instructions = RuntimeInstructionBehavior()

    @staticmethod
    def element_of(batch: Batch, context: ElementContext) -> ExecutableFlowNode:
        """The model element of an element instance."""
        process = batch.state.processes.get(context.process_definition_key)
        assert process is not None, f"process definition {context.process_definition_key} is not deployed"
        return process if context.element_type is BpmnElementType.PROCESS \
            else process.flow_node(context.element_id, context.element_type)

    # -- lifecycle events ----------------------------------------------------------------------------

    def to_activating(self, batch: Batch, context: ElementContext) -> None:
        batch.event(PI, _I.ELEMENT_ACTIVATING, context.key, context.value)

    def to_activated(self, batch: Batch, context: ElementContext,
                     before_activated: Callable[[], None] | None = None, *,
                     element: ExecutableFlowNode | None = None) -> None:
        """Open the element's event subscriptions (which may fail, before anything is written), run
        ``before_activated`` (a job worker task creates its job there, as Zeebe's does), then write
        ELEMENT_ACTIVATED (``element``: its model element, when the caller has it)."""
        if self.catch_events is not None:
            if element is None:
                element = self.element_of(batch, context)
            if element.catch_events:
                self.catch_events.subscribe(batch, element, context)
        if before_activated is not None:
            before_activated()
        batch.event(PI, _I.ELEMENT_ACTIVATED, context.key, context.value)

    def _unsubscribe(self, batch: Batch, context: ElementContext, element: ExecutableFlowNode | None = None) -> None:
        if self.catch_events is not None:
            if element is None:
                element = self.element_of(batch, context)
            if element.catch_events:
                self.catch_events.unsubscribe(batch, element, context)

    def to_completing(self, batch: Batch, context: ElementContext, *, known_not_completing: bool = False) -> None:
        """Written once: a completion that runs again after an incident is already completing (a caller
        that has just read or written the element's state says it is not)."""
        if not known_not_completing:
            instance = batch.state.element_instance(context.key)
            if instance is None or instance.state is _I.ELEMENT_COMPLETING:
                return
        batch.event(PI, _I.ELEMENT_COMPLETING, context.key, context.value)

    def to_completed(self, batch: Batch, context: ElementContext, element: ExecutableFlowNode | None = None) -> None:
        """ELEMENT_COMPLETED, after closing the element's subscriptions (``element``: its model element,
        when the caller has it)."""
        if element is None:
            element = self.element_of(batch, context)
        self._unsubscribe(batch, context, element)
        self.compensations.before_completed(batch, element, context)
        tokens = self._before_root_end(batch, context)
        batch.event(PI, _I.ELEMENT_COMPLETED, context.key, context.value)
        if tokens:  # a root process instance's listeners
            self._after_root_end(batch, context, tokens)
        self.compensations.after_completed(batch, context)

    def _before_root_end(self, batch: Batch, context: ElementContext) -> list[Any]:
        if context.element_type is not BpmnElementType.PROCESS or context.flow_scope_key > 0:
            return []
        return [listener.before_root_end(batch, context) for listener in self.root_instance_listeners]

    def _after_root_end(self, batch: Batch, context: ElementContext, tokens: list[Any]) -> None:
        for listener, token in zip(self.root_instance_listeners, tokens, strict=False):
            listener.after_root_end(batch, context, token)

    def complete_and_take_flows(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext,
                                flows: Sequence[ExecutableSequenceFlow]) -> None:
        """ELEMENT_COMPLETED, then take ``flows``; without flows this path of the flow scope ends, and its
        container is asked first (``before_execution_path_completed``, which may fail) and told after.
        A runtime instruction naming the element runs once it is completed: terminating the process
        instance, it takes the place of the outgoing flows (as Zeebe's finalizeCompletion)."""
        if not flows:
            scope = batch.state.element_instance(context.flow_scope_key) if context.flow_scope_key > 0 else None
            container = self._container_of(batch, element, scope)
            if container is not None and scope is not None:
                self._container_callbacks(container.element_type).before_execution_path_completed(
                    batch, container, ElementContext.of(scope), context)
        self.to_completed(batch, context, element)
        if not flows:
            # the container hears of the path's end as the element completes (Zeebe's transitionToCompleted)
            self.take_flows(batch, element, context, flows)
            self.runtime_instructions.execute(batch, element, context)
        elif not self.runtime_instructions.execute(batch, element, context):
            self.take_flows(batch, element, context, flows)

    def to_terminating(self, batch: Batch, context: ElementContext) -> None:
        """ELEMENT_TERMINATING; an execution listener job the element waits for is canceled with it."""
        batch.event(PI, _I.ELEMENT_TERMINATING, context.key, context.value)
        instance = batch.state.element_instance(context.key)
        job = batch.state.job(instance.job_key) if instance is not None and instance.job_key > 0 else None
        if job is not None and job["record"].get("jobKind") == "EXECUTION_LISTENER":
            batch.event(ValueType.JOB, JobIntent.CANCELED, instance.job_key, job["record"])  # type: ignore[union-attr]
        self._unsubscribe(batch, context)

    def to_terminated(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        """The element is terminated. If an interrupting boundary event was waiting for that, it is
        activated now; otherwise the element's container hears of it (it may have been waiting). Then
        a runtime instruction naming a terminated activity runs (as Zeebe's finalizeTermination)."""
        pending = None
        if self.event_triggers is not None:
            pending = self.event_triggers.pending_boundary_trigger(batch, element, context)
        tokens = self._before_root_end(batch, context)
        batch.event(PI, _I.ELEMENT_TERMINATED, context.key, context.value)
        self._after_root_end(batch, context, tokens)
        activated = False
        if pending is not None and self.event_triggers is not None:
            event_key, boundary, trigger = pending
            scope = batch.state.element_instance(context.flow_scope_key)
            if scope is not None and scope.is_active:
                self.event_triggers.activate_triggered_event(batch, event_key, boundary, context.key,
                                                             context.flow_scope_key, context.value,
                                                             trigger["variables"])
                activated = True
        if not activated:
            self._notify_terminated(batch, element, context)
        self.runtime_instructions.after_terminated(batch, element, context)

    # -- activating children and taking flows --------------------------------------------------------

    def activate_child(self, batch: Batch, container_context: ElementContext, child: ExecutableFlowNode) -> None:
        batch.command(PI, _I.ACTIVATE_ELEMENT, batch.next_key(),
                      container_context.record_for(child, container_context.key))

    def activate_in_flow_scope(self, batch: Batch, context: ElementContext, element: ExecutableFlowNode) -> None:
        """Activate ``element`` beside the element of ``context``, in its flow scope, without a sequence
        flow (a link throw event's catch event)."""
        batch.command(PI, _I.ACTIVATE_ELEMENT, batch.next_key(), context.record_for(element, context.flow_scope_key))

    def check_scope_capacity(self, batch: Batch, context: ElementContext, new_flows: int) -> None:
        """Fail (UNKNOWN) if taking ``new_flows`` sequence flows out of the completing element would put
        more element instances and flows in its flow scope than the engine allows; the element stays
        completing with an incident, and resolving it tries again."""
        if new_flows <= 1:
            return  # one flow out of one element leaves the scope as full as it was
        scope = batch.state.element_instance(context.flow_scope_key)
        if scope is None:
            return
        limit = self.max_element_instances_per_scope
        held = scope.child_count - 1 + scope.active_flows  # without the element that completes
        if held + new_flows <= limit:
            return
        raise ElementFailure(
            ErrorType.UNKNOWN,
            f"Expected to take {new_flows} sequence flows from element {excerpt(context.element_id)}, but its"
            f" flow scope already holds {held} element instances and sequence flows, and the limit of"
            f" {limit} per scope (max_element_instances_per_scope) would be passed; the process may"
            " multiply its tokens without end. Cancel the instance, or resolve this incident once"
            " fewer are active")

    def take_flows(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext,
                   flows: Sequence[ExecutableSequenceFlow]) -> None:
        """After ``element`` completed: take ``flows`` (activating their targets), or, with none, end this
        path of its flow scope."""
        if not flows:
            self._notify_path_completed(batch, element, context)
            return
        for flow in flows:
            self.take_sequence_flow(batch, context, flow)

    def take_sequence_flow(self, batch: Batch, context: ElementContext, flow: ExecutableSequenceFlow) -> None:
        scope_key = context.flow_scope_key
        """SEQUENCE_FLOW_TAKEN, then the target's ACTIVATE_ELEMENT, whatever the target: a parallel join's
        activation guard rejects the ones that find not all its flows taken (as Zeebe's takeSequenceFlow)."""
        batch.event(PI, _I.SEQUENCE_FLOW_TAKEN, batch.next_key(), context.record_for(flow, scope_key))
        batch.command(PI, _I.ACTIVATE_ELEMENT, batch.next_key(), context.record_for(flow.target, scope_key))

    def all_flows_taken(self, batch: Batch, scope_key: int, join: ExecutableFlowNode) -> bool:
        """Whether every incoming flow of ``join`` has a taken flow in ``scope_key`` that no activation of
        the join has consumed yet."""
        return all(batch.state.taken_flow_count(scope_key, join.id, flow.id) > 0 for flow in join.incoming)

    # -- termination ---------------------------------------------------------------------------------

    def terminate_children(self, batch: Batch, context: ElementContext) -> bool:
        """Terminate the container's children through a PROCESS_INSTANCE_BATCH TERMINATE command, whose
        processor writes their TERMINATE_ELEMENT commands in batches (Zeebe's
        ``terminateChildInstances``); whether it has any."""
        if not batch.state.children(context.key):
            return False
        batch.command(ValueType.PROCESS_INSTANCE_BATCH, ProcessInstanceBatchIntent.TERMINATE, batch.next_key(), {
            "processInstanceKey": context.process_instance_key,
            "processDefinitionKey": context.process_definition_key,
            "batchElementInstanceKey": context.key,
            "index": -1,
            "tenantId": context.value.get("tenantId", DEFAULT_TENANT),
        })
        return True

    # -- telling containers --------------------------------------------------------------------------

    def _container_of(self, batch: Batch, element: ExecutableFlowNode,
                      scope: ElementInstance | None) -> ExecutableFlowElementContainer | None:
        """The container of the flow scope instance ``scope`` of an instance of ``element``: its model flow
        scope, except for a compensation handler, which runs beside its throw event (in another scope)."""
        container = element.flow_scope
        if container is not None and scope is not None and container.id != scope.element_id:
            found = self.element_of(batch, ElementContext.of(scope))
            if isinstance(found, ExecutableFlowElementContainer):
                return found
        return container

    def _notify_path_completed(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        scope = batch.state.element_instance(context.flow_scope_key)
        container = self._container_of(batch, element, scope)
        if container is None or scope is None:
            return
        self._container_callbacks(container.element_type).after_execution_path_completed(
            batch, container, ElementContext.of(scope), context)

    def _notify_terminated(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        container = element.flow_scope
        if container is None and context.element_type is BpmnElementType.PROCESS:
            self.on_called_process_terminated(batch, context)
            return
        scope = batch.state.element_instance(context.flow_scope_key) if context.flow_scope_key > 0 else None
        container = self._container_of(batch, element, scope)
        if container is None or scope is None:
            return
        self._container_callbacks(container.element_type).on_child_terminated(
            batch, container, ElementContext.of(scope), context)

    # -- call activities -----------------------------------------------------------------------------

    def on_called_process_completed(self, batch: Batch, child_context: ElementContext) -> None:
        """A process instance completed: if a call activity created it, that call activity hears of it."""
        calling = self._calling(batch, child_context)
        if calling is not None:
            callbacks, call_activity, call_context = calling
            callbacks.on_called_process_completed(batch, call_activity, call_context, child_context)

    def on_called_process_terminated(self, batch: Batch, child_context: ElementContext) -> None:
        """A process instance was terminated: if a call activity created it, that call activity hears of it."""
        calling = self._calling(batch, child_context)
        if calling is not None:
            callbacks, call_activity, call_context = calling
            callbacks.on_called_process_terminated(batch, call_activity, call_context, child_context)

    def _calling(self, batch: Batch, child_context: ElementContext
                 ) -> tuple[CalledProcessCallbacks, ExecutableCallActivity, ElementContext] | None:
        parent_key = child_context.value.get("parentElementInstanceKey", -1)
        if parent_key is None or parent_key <= 0:
            return None
        instance = batch.state.element_instance(parent_key)
        if instance is None:
            return None
        process = batch.state.processes.get(instance.process_definition_key)
        assert process is not None, f"process definition {instance.process_definition_key} is not deployed"
        call_activity = process.flow_node(instance.element_id, instance.element_type)
        assert isinstance(call_activity, ExecutableCallActivity), f"{call_activity!r} is not a call activity"
        callbacks = self._container_callbacks(instance.element_type)
        assert isinstance(callbacks, CalledProcessCallbacks), f"{instance.element_type.name} calls no process"
        return callbacks, call_activity, ElementContext.of(instance)
