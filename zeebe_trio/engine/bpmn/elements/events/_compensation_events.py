"""Compensation throw events (intermediate and end): compensate, wait for the handlers, go on.

Once active, the event triggers the compensation subscriptions of its scope (those of its
``activityRef``, if it names one); it completes when the last compensation handler it started has
completed (``waitForCompletion`` is always true in Zeebe), or at once when there was nothing to
compensate. A compensation end event then ends its path like a none end event.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext, IncidentBehavior, StateTransitionBehavior, VariableBehavior
from ...model import ExecutableCompensation, ExecutableFlowNode
from .._processor import FlowNodeProcessor

__all__ = ["CompensationThrowEventProcessor"]


class CompensationThrowEventProcessor(FlowNodeProcessor[ExecutableFlowNode]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, *, input_mappings: bool = True) -> None:
        super().__init__(transitions, variables, incidents)
        # an intermediate throw event applies none (as Zeebe's none throw event), an end event its own
        self.input_mappings = input_mappings

    def on_activate(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        if self.input_mappings:
            super().on_activate(batch, element, context)

    def finalize_activation(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.transitions.to_activated(batch, context)
        definition = getattr(element, "event_definition", None)
        assert isinstance(definition, ExecutableCompensation), f"{element!r} throws no compensation"
        if not self.transitions.compensations.trigger(batch, element, context, definition.activity):
            self.complete_now(batch, element, context)
