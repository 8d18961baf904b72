"""Catch events: intermediate catch events wait for their trigger; boundary events are activated by one.

An intermediate catch event subscribes when it becomes active (through the state transition) and
completes when its event comes (the trigger writes its COMPLETE_ELEMENT), with the event's variables
merged through its output mappings. A boundary event is activated by its trigger (an interrupting one
once the activity it is attached to is terminated) and completes at once, taking its outgoing flows.
"""

from __future__ import annotations

import json

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    EventTriggerBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableBoundaryEvent, ExecutableCatchEvent
from .._processor import FlowNodeProcessor

__all__ = ["BoundaryEventProcessor", "IntermediateCatchEventProcessor"]


class IntermediateCatchEventProcessor(FlowNodeProcessor[ExecutableCatchEvent]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, triggers: EventTriggerBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.triggers = triggers

    def on_complete(self, batch: Batch, element: ExecutableCatchEvent, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        trigger = batch.state.event_trigger(context.key)
        self.variables.apply_output_mappings(batch, element, context, trigger["record"]["variables"] if trigger else {})
        self.triggers.consume_own_triggers(batch, context)


class BoundaryEventProcessor(FlowNodeProcessor[ExecutableBoundaryEvent]):
    """The trigger's variables are the event's local variables: output mappings map them, and without
    any they are merged into the flow scope."""

    waits = False

    def on_complete(self, batch: Batch, element: ExecutableBoundaryEvent, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        if element.outputs:
            self.variables.apply_output_mappings(batch, element, context)
            return
        local = {name: json.loads(text) for name, text in batch.state.local_variables(context.key)}
        if local:
            self.variables.merge_propagating(batch, context.value, context.flow_scope_key, local)
