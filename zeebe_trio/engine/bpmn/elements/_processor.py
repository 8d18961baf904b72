"""What every element processor offers: Zeebe's lifecycle steps, for one kind of element.

The dispatcher (``BpmnStreamProcessor``) writes ELEMENT_ACTIVATING before ``on_activate`` and
ELEMENT_COMPLETING before ``on_complete``, then calls ``finalize_activation`` / ``finalize_completion``
(the steps that execution listeners will later come between). ``on_terminate`` writes the element's
own termination. Any step may raise ``ElementFailure``; the dispatcher turns it into an incident.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ..._batch import Batch
from ..behaviors import ElementContext, IncidentBehavior, StateTransitionBehavior, VariableBehavior
from ..model import ExecutableFlowNode

__all__ = ["BpmnElementProcessor", "FlowNodeProcessor"]

E = TypeVar("E", bound=ExecutableFlowNode)


class BpmnElementProcessor(Generic[E]):
    def __init__(self, transitions: StateTransitionBehavior) -> None:
        self.transitions = transitions

    def activation_refused(self, batch: Batch, element: E, context: ElementContext) -> str | None:
        """Why ACTIVATE_ELEMENT may not create this element instance (a rejection reason), or None."""
        return None

    def on_activate(self, batch: Batch, element: E, context: ElementContext) -> None:
        """The element is activating: prepare it (input mappings, evaluations)."""

    def finalize_activation(self, batch: Batch, element: E, context: ElementContext) -> None:
        """The element becomes active: it waits (a job, a child) or completes (``complete_now``)."""
        self.transitions.to_activated(batch, context)

    def on_complete(self, batch: Batch, element: E, context: ElementContext) -> None:
        """The element is completing: its output (mappings, results)."""

    def finalize_completion(self, batch: Batch, element: E, context: ElementContext) -> None:
        """The element is completed: it takes its outgoing flows."""
        self.transitions.complete_and_take_flows(batch, element, context, element.outgoing)

    def on_terminate(self, batch: Batch, element: E, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.transitions.to_terminated(batch, element, context)

    #: Gateways complete in the step that activated them; every other element that does not wait
    #: completes through a COMPLETE_ELEMENT command, as Zeebe's ``completeElement`` writes it.
    completes_inline = False

    def complete_now(self, batch: Batch, element: E, context: ElementContext) -> None:
        """Complete an element that does not wait, once it is activated: through a COMPLETE_ELEMENT
        command (processed next, in this batch), or, for a gateway without end execution listeners,
        in this step (the dispatcher runs end listeners between completing and completed, so an
        element with them always takes the command)."""
        if not self.completes_inline or element.listeners_of("end"):
            batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, context.key,
                          context.value)
            return
        self.transitions.to_completing(batch, context, known_not_completing=True)  # it was just activated
        self.on_complete(batch, element, context)
        self.finalize_completion(batch, element, context)


class FlowNodeProcessor(BpmnElementProcessor[E]):
    """The common case: input mappings when activating, output mappings when completing, and an
    element that does not wait (``waits = False``) completes once activated (``complete_now``)."""

    waits = False

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior) -> None:
        super().__init__(transitions)
        self.variables = variables
        self.incidents = incidents

    def on_activate(self, batch: Batch, element: E, context: ElementContext) -> None:
        self.variables.apply_input_mappings(batch, element, context)

    def finalize_activation(self, batch: Batch, element: E, context: ElementContext) -> None:
        self.transitions.to_activated(batch, context, element=element)
        if not self.waits:
            self.complete_now(batch, element, context)

    def on_complete(self, batch: Batch, element: E, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        self.variables.apply_output_mappings(batch, element, context)

    def on_terminate(self, batch: Batch, element: E, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        self.transitions.to_terminated(batch, element, context)
