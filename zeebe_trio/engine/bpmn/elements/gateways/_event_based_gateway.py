"""Event-based gateways (Zeebe's ``EventBasedGatewayProcessor``).

Activating the gateway opens the subscriptions of the events after it (timers, signals, messages: the
state transition does it, as for any element with catch events) and it waits. The first trigger
writes the gateway's COMPLETE_ELEMENT (``EventTriggerBehavior.trigger``) and interrupts it, so no second
event can trigger; completing closes the other subscriptions, and instead of taking a sequence flow
(the BPMN specification: the flow to the event is not taken) the triggered event is activated with
the trigger's variables (PROCESS_EVENT TRIGGERED, ACTIVATE_ELEMENT); it completes at once.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    EventTriggerBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableEventBasedGateway
from .._processor import FlowNodeProcessor

__all__ = ["EventBasedGatewayProcessor"]


class EventBasedGatewayProcessor(FlowNodeProcessor[ExecutableEventBasedGateway]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, triggers: EventTriggerBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.triggers = triggers

    def on_activate(self, batch: Batch, element: ExecutableEventBasedGateway, context: ElementContext) -> None:
        pass  # a gateway has no input mappings

    def on_complete(self, batch: Batch, element: ExecutableEventBasedGateway, context: ElementContext) -> None:
        pass  # nor output mappings

    def finalize_completion(self, batch: Batch, element: ExecutableEventBasedGateway, context: ElementContext) -> None:
        events = {event.id: event for event in element.catch_events}
        trigger = next(((key, t) for key, t in batch.state.event_triggers(context.key) if t["elementId"] in events),
                       None)
        assert trigger is not None, (f"Expected an event trigger to complete the event-based gateway '{element.id}',"
                                     " but none was found")
        event_key, found = trigger
        self.transitions.to_completed(batch, context)
        self.triggers.activate_triggered_event(batch, event_key, events[found["elementId"]], context.key,
                                               context.flow_scope_key, context.value, found["variables"])
