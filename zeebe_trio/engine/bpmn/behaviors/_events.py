"""Event subscriptions and triggers: what an element waits for while active, and what happens when it comes.

``CatchEventBehavior`` opens an element's subscriptions when it becomes active (a timer for each timer
event it waits for: itself, its boundary events, the start events of its event subprocesses) and
closes them when it leaves, through one ``EventSubscriber`` per kind of event definition (timers here,
signals in ``_signals``; messages plug in the same way), grouped by kind in Zeebe's order. Every
expression is evaluated before anything is written, so a failure (EXTRACT_VALUE_ERROR) leaves no
half-open subscriptions behind.

``EventTriggerBehavior`` is what a trigger does, as Zeebe's ``EventHandle.activateElement``: it writes
PROCESS_EVENT TRIGGERING on the event scope, then

- completes an intermediate catch event, or the event-based gateway holding the event's subscription
  (its COMPLETE_ELEMENT consumes the trigger);
- triggers an event subprocess: an interrupting one terminates its container's children first and is
  activated once the last of them is terminated; a non-interrupting one is activated at once;
- terminates the activity an interrupting boundary event is attached to, and activates the boundary
  event once the activity is terminated;
- activates a non-interrupting boundary event at once.

It also finds the catch event of a thrown error, up the scope chain (Zeebe's
``BpmnEventPublicationBehavior.findErrorCatchEvent``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ErrorType,
    ProcessEventIntent,
    ProcessInstanceIntent,
    TimerIntent,
    ValueType,
)

from ..._batch import Batch
from .._timers import TimerDefinition, TimerParseError, timer_from_value
from ..model import (
    EvaluationError,
    ExecutableActivity,
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableError,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableProcess,
    ExecutableStartEvent,
    ExecutableTimer,
)
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure
from ._process_events import ProcessEventBehavior
from ._variables import VariableBehavior

__all__ = ["CatchEventBehavior", "ErrorCatch", "EventSubscriber", "EventTriggerBehavior", "TimerSubscriber"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
# Zeebe's TimerRecord: repetitions -1 means "for ever".
FOREVER = -1


class EventSubscriber(Protocol):
    """The subscriptions of one kind of event definition ("timer", "message", "signal")."""

    def prepare(self, batch: Batch, event: ExecutableCatchEvent, context: ElementContext) -> Any:
        """Evaluate what the subscription needs (raises ElementFailure); nothing is written yet."""

    def subscribe(self, batch: Batch, event: ExecutableCatchEvent, prepared: Any, context: ElementContext) -> None:
        """Write the subscription of ``event`` for the element instance ``context``."""

    def unsubscribe(self, batch: Batch, context: ElementContext) -> None:
        """Close every subscription of this kind the element instance ``context`` holds."""


class TimerSubscriber:
    """Timers: TIMER CREATED with the first due date; TIMER CANCELED when the element leaves."""

    def __init__(self, expressions: ExpressionBehavior) -> None:
        self.expressions = expressions

    def timer_definition(self, batch: Batch, timer: ExecutableTimer, scope_key: int) -> TimerDefinition:
        """The timer, its expression evaluated in ``scope_key``; an EXTRACT_VALUE_ERROR failure if the
        expression or its value is not a timer."""
        if timer.static is not None:
            return timer.static
        assert timer.expression is not None
        try:
            value = timer.expression.evaluate_feel(self.expressions.variables_at(batch, scope_key),
                                                   batch.now_datetime, self.expressions.monotonic)
            return timer_from_value(timer.timer_kind, value, expression=timer.text)
        except (EvaluationError, TimerParseError) as error:
            reason = error.reason if isinstance(error, TimerParseError) else str(error)
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, reason) from None

    def prepare(self, batch: Batch, event: ExecutableCatchEvent, context: ElementContext) -> Any:
        assert isinstance(event.event_definition, ExecutableTimer)
        return self.timer_definition(batch, event.event_definition, context.key)

    def subscribe(self, batch: Batch, event: ExecutableCatchEvent, prepared: Any, context: ElementContext) -> None:
        definition: TimerDefinition = prepared
        self.create_timer(batch, definition, definition.first_due(batch.now), event.id, context.key, context.value,
                          _repetitions(definition))

    def create_timer(self, batch: Batch, definition: TimerDefinition | None, due: int, target_element_id: str,
                     element_instance_key: int, owner: dict[str, Any], repetitions: int) -> None:
        batch.event(ValueType.TIMER, TimerIntent.CREATED, batch.next_key(), {
            "elementInstanceKey": element_instance_key,
            "processInstanceKey": owner.get("processInstanceKey", -1) if element_instance_key > 0 else -1,
            "processDefinitionKey": owner["processDefinitionKey"],
            "dueDate": due,
            "targetElementId": target_element_id,
            "repetitions": repetitions,
            "tenantId": owner.get("tenantId", DEFAULT_TENANT),
        })

    def unsubscribe(self, batch: Batch, context: ElementContext) -> None:
        self.cancel_timers(batch, context.key)

    def cancel_timers(self, batch: Batch, owner_key: int) -> None:
        for timer_key in batch.state.timers_of(owner_key):
            timer = batch.state.timer(timer_key)
            if timer is not None:
                batch.event(ValueType.TIMER, TimerIntent.CANCELED, timer_key, timer)


def _repetitions(definition: TimerDefinition) -> int:
    repetitions = definition.repetitions
    return FOREVER if repetitions is None else repetitions


SUBSCRIBE_ORDER = ("message", "timer", "signal")
UNSUBSCRIBE_ORDER = ("timer", "message", "signal")


def _kind_rank(kind: str, order: tuple[str, ...]) -> int:
    return order.index(kind) if kind in order else len(order)


class CatchEventBehavior:
    """``subscribers`` maps an event definition's kind to its subscriber; kinds without one (errors,
    escalations: found when thrown) open no subscription."""

    def __init__(self, subscribers: dict[str, EventSubscriber]) -> None:
        self.subscribers = subscribers

    def _subscribed_events(self, element: ExecutableFlowNode) -> list[ExecutableCatchEvent]:
        return [event for event in element.catch_events
                if event.event_definition is not None and event.event_definition.kind in self.subscribers]

    def subscribe(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        events = self._subscribed_events(element)
        if not events:
            return
        prepared = [(event, self.subscribers[event.event_definition.kind].prepare(batch, event, context))  # type: ignore[union-attr]
                    for event in events]
        # grouped by kind in Zeebe's order (CatchEventBehavior.subscribeToEvents): messages, timers, signals
        prepared.sort(key=lambda pair: _kind_rank(pair[0].event_definition.kind, SUBSCRIBE_ORDER))  # type: ignore[union-attr]
        for event, value in prepared:
            self.subscribers[event.event_definition.kind].subscribe(batch, event, value, context)  # type: ignore[union-attr]

    def unsubscribe(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        kinds = {event.event_definition.kind for event in self._subscribed_events(element)}  # type: ignore[union-attr]
        # Zeebe's order (CatchEventBehavior.unsubscribeFromEvents): timers, messages, signals
        for kind in sorted(kinds, key=lambda kind: (_kind_rank(kind, UNSUBSCRIBE_ORDER), kind)):
            self.subscribers[kind].unsubscribe(batch, context)


@dataclass(frozen=True, slots=True)
class ErrorCatch:
    """Where a thrown error is caught: the catch event and the element instance it is subscribed on."""

    catch_event: ExecutableCatchEvent
    scope: ElementContext


class EventTriggerBehavior:
    def __init__(self, variables: VariableBehavior, expressions: ExpressionBehavior) -> None:
        self.variables = variables
        self.expressions = expressions
        # an element that completes with its own trigger (a catch event, a receive task) reads and
        # consumes it through this
        self.process_events = ProcessEventBehavior()

    # -- triggering ----------------------------------------------------------------------------------

    def can_trigger(self, batch: Batch, event_scope_key: int) -> bool:
        """Whether the element instance ``event_scope_key`` takes an event: it is active, and neither it
        nor its flow scope was interrupted (Zeebe's ``EventHandle.canTriggerElement``)."""
        state = batch.state
        instance = state.element_instance(event_scope_key)
        if instance is None or not instance.is_active or state.interrupting_element(event_scope_key) is not None:
            return False
        scope_key = instance.flow_scope_key
        return scope_key <= 0 or state.interrupting_element(scope_key) is None

    def trigger(self, batch: Batch, catch_event: ExecutableCatchEvent, event_scope: ElementContext,
                variables: dict[str, Any]) -> None:
        """``catch_event``, subscribed on the element instance ``event_scope``, is triggered (the
        caller checked ``can_trigger``)."""
        event_key = batch.next_key()
        value = event_scope.value
        batch.event(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERING, event_key, {
            "scopeKey": event_scope.key,
            "targetElementId": catch_event.id,
            "variables": variables,
            "processDefinitionKey": value["processDefinitionKey"],
            "processInstanceKey": value["processInstanceKey"],
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
        })
        if catch_event.element_type in (BpmnElementType.INTERMEDIATE_CATCH_EVENT, BpmnElementType.RECEIVE_TASK):
            batch.command(PI, _I.COMPLETE_ELEMENT, event_scope.key, value)
        elif isinstance(catch_event, ExecutableStartEvent) and catch_event.flow_scope is not None \
                and catch_event.flow_scope.element_type is BpmnElementType.EVENT_SUB_PROCESS:
            self._trigger_event_sub_process(batch, catch_event, event_key, event_scope, variables)
        elif isinstance(catch_event, ExecutableBoundaryEvent) and catch_event.cancel_activity:
            # terminate the activity; its termination activates the boundary event
            batch.command(PI, _I.TERMINATE_ELEMENT, event_scope.key, value)
        else:
            self.activate_triggered_event(batch, event_key, catch_event, event_scope.key, event_scope.flow_scope_key,
                                          value, variables)

    def _trigger_event_sub_process(self, batch: Batch, start: ExecutableStartEvent, event_key: int,
                                   container: ElementContext, variables: dict[str, Any]) -> None:
        sub_process = start.flow_scope
        assert sub_process is not None
        if not start.interrupting:
            self.activate_triggered_event(batch, event_key, sub_process, container.key, container.key,
                                          container.value, variables)
            return
        children = batch.state.children(container.key)
        for child_key in children:
            child = batch.state.element_instance(child_key)
            if child is not None and child.state is not _I.ELEMENT_TERMINATING:
                batch.command(PI, _I.TERMINATE_ELEMENT, child_key, child.value)
        if not children:
            self.activate_triggered_event(batch, event_key, sub_process, container.key, container.key,
                                          container.value, variables)

    def activate_triggered_event(self, batch: Batch, event_key: int, element: ExecutableFlowNode,
                                 event_scope_key: int, flow_scope_key: int, record: dict[str, Any],
                                 variables: dict[str, Any]) -> None:
        """Consume the trigger (TRIGGERED) and activate ``element`` in ``flow_scope_key``; the event's
        variables become the new element instance's local variables."""
        trigger = next((t for k, t in batch.state.event_triggers(event_scope_key) if k == event_key), None)
        batch.event(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERED, event_key, {
            "scopeKey": event_scope_key,
            "targetElementId": trigger["elementId"] if trigger else element.id,
            "variables": variables,
            "processDefinitionKey": record["processDefinitionKey"],
            "processInstanceKey": record["processInstanceKey"],
            "tenantId": record.get("tenantId", DEFAULT_TENANT),
        })
        key = batch.next_key()
        context = ElementContext(-1, record)
        value = context.record_for(element, flow_scope_key)
        batch.command(PI, _I.ACTIVATE_ELEMENT, key, value)
        if variables:
            self.variables.merge_local(batch, value, key, variables)

    def pending_boundary_trigger(self, batch: Batch, element: ExecutableFlowNode,
                                 context: ElementContext) -> tuple[int, ExecutableBoundaryEvent, dict[str, Any]] | None:
        """The trigger of an interrupting boundary event waiting for this activity to be terminated."""
        if not isinstance(element, ExecutableActivity) or not element.boundary_events:
            return None
        boundaries = {event.id: event for event in element.boundary_events}
        for event_key, trigger in batch.state.event_triggers(context.key):
            boundary = boundaries.get(trigger["elementId"])
            if boundary is not None:
                return event_key, boundary, trigger
        return None

    def pending_event_sub_process_trigger(self, batch: Batch, container: ExecutableFlowElementContainer,
                                          context: ElementContext) -> tuple[int, ExecutableFlowElementContainer,
                                                                            dict[str, Any]] | None:
        """The trigger of an interrupting event subprocess waiting for the container's children to be
        terminated."""
        starts = {start.id: sub for sub in container.event_sub_processes for start in sub.start_events}
        if not starts:
            return None
        for event_key, trigger in batch.state.event_triggers(context.key):
            sub = starts.get(trigger["elementId"])
            if sub is not None:
                return event_key, sub, trigger
        return None

    # -- errors --------------------------------------------------------------------------------------

    def find_error_catch(self, batch: Batch, process: ExecutableProcess, start: ElementContext,
                         error_code: str) -> ErrorCatch | None:
        """The catch event of an error thrown at the element instance ``start``: a boundary event of it
        or of an enclosing activity, or an event subprocess of an enclosing container, nearest first,
        from a called process on through the call activity that called it (and its scopes); within one
        element, a catch event for the code before a catch-all one."""
        state = batch.state
        context: ElementContext | None = start
        while context is not None:
            element = process if context.element_type is BpmnElementType.PROCESS \
                else process.flow_node(context.element_id, context.element_type)
            found = self._error_catch_event(batch, element, error_code, context)
            if found is not None and state.interrupting_element(context.key) is None:
                return ErrorCatch(found, context)
            scope = state.element_instance(context.flow_scope_key) if context.flow_scope_key > 0 else None
            if scope is None and context.element_type is BpmnElementType.PROCESS:
                # not caught in a called process: on to the call activity that called it, in its parent
                caller = state.element_instance(state.calling_element_instance(context.key))
                if caller is not None and caller.is_active:
                    parent = state.processes.get(caller.process_definition_key)
                    assert parent is not None, f"process definition {caller.process_definition_key} is not deployed"
                    process, scope = parent, caller
            context = None if scope is None else ElementContext(scope.key, scope.value)
        return None

    def _error_catch_event(self, batch: Batch, element: ExecutableFlowNode, error_code: str,
                           context: ElementContext) -> ExecutableCatchEvent | None:
        candidates: Sequence[ExecutableCatchEvent] = []
        if isinstance(element, ExecutableActivity):
            candidates = element.catch_events
        catch_all = None
        for event in candidates:
            definition = event.event_definition
            if not isinstance(definition, ExecutableError):
                continue
            if definition.error_code is None:
                catch_all = catch_all or event
                continue
            code = self.expressions.evaluate(batch, definition.error_code,
                                             self.expressions.variables_at(batch, context.key)) \
                if not definition.error_code.is_static else definition.error_code.evaluate({}, batch.now_datetime)
            if code == error_code:
                return event
        return catch_all

    def throw_error(self, batch: Batch, catch: ErrorCatch, error_code: str, error_message: str,
                    variables: dict[str, Any] | None = None) -> None:
        """Trigger the catch event with the error's variables, and its code and message in the
        variables the catch event names."""
        definition = catch.catch_event.event_definition
        assert isinstance(definition, ExecutableError)
        variables = dict(variables or {})
        if definition.code_variable:
            variables[definition.code_variable] = error_code
        if definition.message_variable:
            variables[definition.message_variable] = error_message
        self.trigger(batch, catch.catch_event, catch.scope, variables)

    @staticmethod
    def unhandled_error_message(error_code: str, error_message: str) -> str:
        return (f"Expected to throw an error event with the code '{error_code}' with message '{error_message}', but"
                " it was not caught. No error events are available in the scope.")
