"""Link events: a link throw event completes and activates the catch event of its name in its flow
scope, which passes the token on like a none event (Zeebe's link behaviours of
``IntermediateThrowEventProcessor`` / ``IntermediateCatchEventProcessor``).

The throw event is not the end of a path (its flow scope does not complete in between): the jump
counts as a token on its way to the catch event until the catch event activates (the appliers). Like a
none throw event, the throw event applies output mappings but no input mappings.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableCatchEvent, ExecutableIntermediateThrowEvent, LinkEventDefinition
from .._processor import FlowNodeProcessor

__all__ = ["LinkCatchEventProcessor", "LinkThrowEventProcessor"]


class LinkThrowEventProcessor(FlowNodeProcessor[ExecutableIntermediateThrowEvent]):
    waits = False

    def on_activate(self, batch: Batch, element: ExecutableIntermediateThrowEvent, context: ElementContext) -> None:
        pass  # no input mappings (Zeebe applies none)

    def finalize_completion(self, batch: Batch, element: ExecutableIntermediateThrowEvent,
                            context: ElementContext) -> None:
        definition = element.event_definition
        assert isinstance(definition, LinkEventDefinition) and definition.catch_event is not None, element
        self.transitions.to_completed(batch, context)
        self.transitions.activate_in_flow_scope(batch, context, definition.catch_event)


class LinkCatchEventProcessor(FlowNodeProcessor[ExecutableCatchEvent]):
    waits = False
