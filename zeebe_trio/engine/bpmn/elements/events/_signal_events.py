"""Signal throw and end events: broadcast their signal, then complete (Zeebe's signal behaviours of
``IntermediateThrowEventProcessor`` / ``EndEventProcessor``).

Input mappings give the element local variables; the SIGNAL BROADCAST command (written before
ELEMENT_ACTIVATED) carries them, and a COMPLETE_ELEMENT command after it completes the event. A signal name that does not evaluate is an EXTRACT_VALUE_ERROR
incident on the event, before it is activated.
"""

from __future__ import annotations

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    IncidentBehavior,
    SignalSubscriber,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableFlowNode, ExecutableSignal
from .._processor import FlowNodeProcessor

__all__ = ["SignalThrowEventProcessor"]


class SignalThrowEventProcessor(FlowNodeProcessor[ExecutableFlowNode]):
    waits = True  # completes through a COMPLETE_ELEMENT command, after the broadcast

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, signals: SignalSubscriber) -> None:
        super().__init__(transitions, variables, incidents)
        self.signals = signals

    def finalize_activation(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        definition = getattr(element, "event_definition", None)
        assert isinstance(definition, ExecutableSignal), element
        self.signals.broadcast(batch, definition, context)
        self.transitions.to_activated(batch, context)
        # a command, as in Zeebe: the broadcast (written first) is processed before this completes
        batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, context.key, context.value)
