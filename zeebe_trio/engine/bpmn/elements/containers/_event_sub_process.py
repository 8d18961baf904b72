"""Event subprocesses: activated by the trigger of their start event in their container.

The trigger's variables are the event subprocess's local variables. It runs from that start event
like an embedded subprocess; an interrupting one was activated only after its container's other
children were terminated, so its completion completes the container.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableFlowElementContainer
from ._sub_process import SubProcessProcessor

__all__ = ["EventSubProcessProcessor"]


class EventSubProcessProcessor(SubProcessProcessor):
    def finalize_activation(self, batch: Batch, element: ExecutableFlowElementContainer,
                            context: ElementContext) -> None:
        self.transitions.to_activated(batch, context)
        [start] = element.start_events
        self.transitions.activate_child(batch, context, start)
