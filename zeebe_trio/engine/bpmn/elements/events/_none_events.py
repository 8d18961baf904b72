"""None events: a start event begins a path of its flow scope, an end event ends one, an intermediate
throw event passes the token on. None of them waits."""

from __future__ import annotations

from ...model import ExecutableEndEvent, ExecutableIntermediateThrowEvent, ExecutableStartEvent
from .._processor import FlowNodeProcessor

__all__ = ["EndEventProcessor", "IntermediateThrowEventProcessor", "StartEventProcessor"]


class StartEventProcessor(FlowNodeProcessor[ExecutableStartEvent]):
    waits = False


class EndEventProcessor(FlowNodeProcessor[ExecutableEndEvent]):
    waits = False


class IntermediateThrowEventProcessor(FlowNodeProcessor[ExecutableIntermediateThrowEvent]):
    waits = False
