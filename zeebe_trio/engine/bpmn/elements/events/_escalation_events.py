"""Escalation throw and end events (Zeebe's escalation behaviours of ``IntermediateThrowEventProcessor``
/ ``EndEventProcessor``).

The event evaluates its escalation code (an EXTRACT_VALUE_ERROR incident before it is activated if
that fails), becomes ACTIVATED and throws (``EscalationBehavior``): ESCALATED when a catch event took
it, NOT_ESCALATED when none did. It then completes (a COMPLETE_ELEMENT command, as in Zeebe), unless an interrupting catch event caught it: then
it stays active until the interrupted scope terminates it. As in Zeebe, no input mappings are applied;
output mappings are.
"""

from __future__ import annotations

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    EscalationBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableFlowNode
from .._processor import FlowNodeProcessor

__all__ = ["EscalationThrowEventProcessor"]

PI = ValueType.PROCESS_INSTANCE


class EscalationThrowEventProcessor(FlowNodeProcessor[ExecutableFlowNode]):
    waits = True  # completes itself only when nothing interrupting caught the escalation

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, escalations: EscalationBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.escalations = escalations

    def on_activate(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        pass  # Zeebe applies no input mappings here

    def finalize_activation(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        code = self.escalations.escalation_code(batch, element, context)
        self.transitions.to_activated(batch, context)
        if self.escalations.throw(batch, element, code, context):
            # a command, as in Zeebe: what the escalation triggered is activated before this completes
            batch.command(PI, ProcessInstanceIntent.COMPLETE_ELEMENT, context.key, context.value)
