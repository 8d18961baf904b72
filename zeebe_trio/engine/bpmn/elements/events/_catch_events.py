"""Catch events: intermediate catch events wait for their trigger; boundary events are activated by one.

An intermediate catch event subscribes when it becomes active (through the state transition) and
completes when its event comes (the trigger writes its COMPLETE_ELEMENT), with the event's variables
merged through its output mappings. One after an event-based gateway subscribes to nothing (the
gateway did) and completes as soon as it is activated, with the trigger's variables. A boundary event
is activated by its trigger (an interrupting one once the activity it is attached to is terminated) and
completes through a COMPLETE_ELEMENT command, taking its outgoing flows.
"""

from __future__ import annotations

import json

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    EventTriggerBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableBoundaryEvent, ExecutableCatchEvent, is_after_event_based_gateway
from .._processor import FlowNodeProcessor

__all__ = ["BoundaryEventProcessor", "IntermediateCatchEventProcessor"]


class IntermediateCatchEventProcessor(FlowNodeProcessor[ExecutableCatchEvent]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, triggers: EventTriggerBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.triggers = triggers

    def finalize_activation(self, batch: Batch, element: ExecutableCatchEvent, context: ElementContext) -> None:
        super().finalize_activation(batch, element, context)
        if is_after_event_based_gateway(element):
            # the gateway was triggered for this event: it completes at once (a command, as in Zeebe)
            batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, context.key,
                          context.value)

    def on_complete(self, batch: Batch, element: ExecutableCatchEvent, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        if is_after_event_based_gateway(element) and not element.outputs:
            # the trigger's variables are the event's local variables; without output mappings they
            # are merged into the flow scope, as for a boundary event
            local = {name: json.loads(text) for name, text in batch.state.local_variables(context.key)}
            if local:
                self.variables.merge_propagating(batch, context.value, context.flow_scope_key, local)
            return
        events = self.triggers.process_events
        self.variables.apply_output_mappings(batch, element, context, events.pending(batch, context.key) or {})
        events.triggered(batch, context.key)


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
