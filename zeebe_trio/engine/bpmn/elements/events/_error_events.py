"""Error end events: throw their error to the nearest catch event up the scope chain.

The end event activates and stays active; the catch event's trigger interrupts the scope that
catches it (an activity with an error boundary event, or a container with an error event
subprocess), which terminates the end event with everything else there. An error no catch event
catches is an UNHANDLED_ERROR_EVENT incident on the end event.
"""

from __future__ import annotations

from zeebe_trio.protocol import ErrorType

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ErrorCatch,
    EventTriggerBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableEndEvent, ExecutableError
from ._none_events import EndEventProcessor

__all__ = ["ThrowingEndEventProcessor"]


class ThrowingEndEventProcessor(EndEventProcessor):
    """End events: none end events complete; error end events throw."""

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, triggers: EventTriggerBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.triggers = triggers

    def _error(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> tuple[str, ErrorCatch]:
        definition = element.event_definition
        assert isinstance(definition, ExecutableError) and definition.error_code is not None
        try:
            code = self.triggers.expressions.evaluate(
                batch, definition.error_code, self.triggers.expressions.variables_at(batch, context.key))
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        code = str(code)
        process = batch.state.processes.get(context.process_definition_key)
        assert process is not None
        catch = self.triggers.find_error_catch(batch, process, context, code)
        if catch is None:
            raise ElementFailure(ErrorType.UNHANDLED_ERROR_EVENT, self.triggers.unhandled_error_message(code, ""))
        return code, catch

    def on_activate(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> None:
        super().on_activate(batch, element, context)
        if isinstance(element.event_definition, ExecutableError):
            self._error(batch, element, context)  # fails here, before ACTIVATED, if nothing catches it

    def finalize_activation(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> None:
        if not isinstance(element.event_definition, ExecutableError):
            super().finalize_activation(batch, element, context)
            return
        code, catch = self._error(batch, element, context)
        self.transitions.to_activated(batch, context)
        self.triggers.throw_error(batch, catch, code, "")
