"""Thrown escalations: where they are caught, and what a throw writes (Zeebe's
``BpmnEventPublicationBehavior.throwEscalationEvent`` and ``CatchEventAnalyzer.findEscalationCatchEvent``).

An escalation throw or end event looks for a catch event from its flow scope up: a boundary event of
an enclosing activity (a subprocess, a call activity) or the start event of an escalation event
subprocess of an enclosing container; within one element a catch event for the code comes before a
catch-all one. The walk stops at a scope that was interrupted or is no longer active, and continues
from a child process instance to the call activity that called it. A found catch event that still
takes events is triggered and ESCALATION ESCALATED is written; otherwise NOT_ESCALATED. An uncaught
escalation is no incident: the throw event completes and the flow goes on. It also completes when
the catch event does not interrupt; an interrupting one terminates it with its scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from zeebe_trio.protocol import BpmnElementType, ErrorType, EscalationIntent, ValueType

from ..._batch import Batch
from ...state import ElementInstance
from ..model import (
    EvaluationError,
    ExecutableActivity,
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableEscalation,
    ExecutableFlowNode,
    ExecutableStartEvent,
)
from ._context import ElementContext
from ._events import EventTriggerBehavior
from ._failure import ElementFailure

__all__ = ["EscalationBehavior", "EscalationCatch"]


@dataclass(frozen=True, slots=True)
class EscalationCatch:
    catch_event: ExecutableCatchEvent
    scope: ElementContext


class EscalationBehavior:
    def __init__(self, triggers: EventTriggerBehavior) -> None:
        self.triggers = triggers

    def escalation_code(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> str:
        """The code a throw event escalates, evaluated in its scope (EXTRACT_VALUE_ERROR if it fails)."""
        definition = getattr(element, "event_definition", None)
        assert isinstance(definition, ExecutableEscalation) and definition.escalation_code is not None, element
        expressions = self.triggers.expressions
        try:
            code = expressions.evaluate(batch, definition.escalation_code, expressions.variables_at(batch, context.key))
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        if code is None or code == "":
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                 f"Expected the escalation code of '{element.id}' to be a non-empty string, but it"
                                 " was empty; give the escalation a code")
        return str(code)

    def find_catch(self, batch: Batch, context: ElementContext, code: str) -> EscalationCatch | None:
        """The catch event of an escalation thrown at ``context``: nearest scope first, the calling
        process instance's scopes after the child's."""
        state = batch.state
        scope = state.element_instance(context.flow_scope_key)
        while scope is not None:
            process = state.processes.get(scope.process_definition_key)
            assert process is not None
            instance: ElementInstance | None = scope
            parent_key = scope.value.get("parentElementInstanceKey", -1)
            while instance is not None:
                element = process if instance.element_type is BpmnElementType.PROCESS \
                    else process.flow_node(instance.element_id)
                found = self._catch_event(batch, element, code)
                if found is not None:
                    return EscalationCatch(found, ElementContext(instance.key, instance.value))
                if not instance.is_active or state.interrupting_element(instance.key) is not None:
                    break
                instance = state.element_instance(instance.flow_scope_key) if instance.flow_scope_key > 0 else None
            caller = state.element_instance(parent_key) if parent_key is not None and parent_key > 0 else None
            scope = caller if caller is not None and caller.is_active else None
        return None

    @staticmethod
    def _catch_event(batch: Batch, element: ExecutableFlowNode, code: str) -> ExecutableCatchEvent | None:
        if not isinstance(element, ExecutableActivity):
            return None
        catch_all = None
        for event in element.catch_events:
            definition = event.event_definition
            if not isinstance(definition, ExecutableEscalation):
                continue
            if definition.escalation_code is None:
                catch_all = catch_all or event
            elif definition.escalation_code.is_static and definition.escalation_code.evaluate({}, batch.now_datetime) == code:
                return event
        return catch_all

    def throw(self, batch: Batch, element: ExecutableFlowNode, code: str, context: ElementContext) -> bool:
        """Throw the escalation ``code`` from the active throw event ``context``; whether the throw event
        may complete (nothing interrupting caught it)."""
        record = {
            "processInstanceKey": context.process_instance_key,
            "escalationCode": code,
            "throwElementId": element.id,
            "catchElementId": "",
        }
        catch = self.find_catch(batch, context, code)
        can_complete = True
        key = batch.next_key()
        if catch is not None:
            record["catchElementId"] = catch.catch_event.id
            can_complete = not _interrupting(catch.catch_event)
            if self.triggers.can_trigger(batch, catch.scope.key):
                self.triggers.trigger(batch, catch.catch_event, catch.scope, {})
                batch.event(ValueType.ESCALATION, EscalationIntent.ESCALATED, key, record)
                return can_complete
        batch.event(ValueType.ESCALATION, EscalationIntent.NOT_ESCALATED, key, record)
        return can_complete


def _interrupting(event: ExecutableCatchEvent) -> bool:
    if isinstance(event, ExecutableBoundaryEvent):
        return event.cancel_activity
    if isinstance(event, ExecutableStartEvent):
        return event.interrupting
    return True
