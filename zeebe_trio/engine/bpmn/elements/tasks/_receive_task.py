"""Receive tasks: they wait for their message (subscribed with the state transition, as their boundary
events are) and complete when it correlates, its variables merged through the output mappings."""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    EventTriggerBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableReceiveTask
from .._processor import FlowNodeProcessor

__all__ = ["ReceiveTaskProcessor"]


class ReceiveTaskProcessor(FlowNodeProcessor[ExecutableReceiveTask]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, triggers: EventTriggerBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.triggers = triggers

    def on_complete(self, batch: Batch, element: ExecutableReceiveTask, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        events = self.triggers.process_events  # the correlated message's variables
        self.variables.apply_output_mappings(batch, element, context, events.pending(batch, context.key) or {})
        events.triggered(batch, context.key)
