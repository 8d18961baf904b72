"""Embedded subprocesses: a flow of their own inside the process, with their own variable scope.

Activating one activates its none start event; it completes (and takes its outgoing flows) once its
last path has ended; terminating it terminates its children first.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableFlowElementContainer
from .._processor import FlowNodeProcessor
from ._container import ContainerCallbacksMixin

__all__ = ["SubProcessProcessor"]


class SubProcessProcessor(ContainerCallbacksMixin, FlowNodeProcessor[ExecutableFlowElementContainer]):
    waits = True

    def finalize_activation(self, batch: Batch, element: ExecutableFlowElementContainer,
                            context: ElementContext) -> None:
        self.transitions.to_activated(batch, context)
        start = element.none_start_event
        assert start is not None, f"subprocess {element.id!r} has no none start event"
        self.transitions.activate_child(batch, context, start)

    def on_terminate(self, batch: Batch, element: ExecutableFlowElementContainer, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        self.transitions.compensations.delete_of_sub_process(batch, context)
        if not self.transitions.terminate_children(batch, context):
            self.transitions.to_terminated(batch, element, context)
