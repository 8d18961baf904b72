"""None events: a start event begins a path of its flow scope, an end event ends one, an intermediate
throw event passes the token on (with output mappings but, as in Zeebe, no input mappings). None of
them waits."""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableEndEvent, ExecutableIntermediateThrowEvent, ExecutableStartEvent
from .._processor import FlowNodeProcessor

__all__ = ["EndEventProcessor", "IntermediateThrowEventProcessor", "StartEventProcessor"]


class StartEventProcessor(FlowNodeProcessor[ExecutableStartEvent]):
    waits = False


class EndEventProcessor(FlowNodeProcessor[ExecutableEndEvent]):
    waits = False


class IntermediateThrowEventProcessor(FlowNodeProcessor[ExecutableIntermediateThrowEvent]):
    waits = False

    def on_activate(self, batch: Batch, element: ExecutableIntermediateThrowEvent, context: ElementContext) -> None:
        pass  # Zeebe's none throw event applies no input mappings
