"""Terminate end events: completing one terminates every other element instance of its flow scope, and
the flow scope completes once they are all terminated (Zeebe's ``TerminateEndEventBehavior``).

Once activated, the event completes through a COMPLETE_ELEMENT command (without input or output
mappings, as in Zeebe). Its ELEMENT_COMPLETED marks the flow scope as interrupted by it (the applier), so that no other
child is activated or completed there any more; then the remaining children get TERMINATE_ELEMENT. The
flow scope completes when it has no child left: right away when the end event was its last one
(``after_execution_path_completed``), else when its last child is terminated (``on_child_terminated``).
A subprocess completed this way takes its outgoing flows; a process completes.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableEndEvent
from .._processor import FlowNodeProcessor

__all__ = ["TerminateEndEventProcessor"]


class TerminateEndEventProcessor(FlowNodeProcessor[ExecutableEndEvent]):
    waits = False

    def on_activate(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> None:
        pass  # no input mappings (Zeebe applies none)

    def on_complete(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> None:
        pass  # no output mappings (Zeebe applies none)

    def finalize_completion(self, batch: Batch, element: ExecutableEndEvent, context: ElementContext) -> None:
        self.transitions.complete_and_take_flows(batch, element, context, ())
        scope = batch.state.element_instance(context.flow_scope_key)
        if scope is not None:
            self.transitions.terminate_children(batch, ElementContext(scope.key, scope.value))
