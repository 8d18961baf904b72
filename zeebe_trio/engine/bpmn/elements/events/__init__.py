"""Processors of events: none start, end and intermediate throw events; catch and boundary events."""

from ._catch_events import BoundaryEventProcessor, IntermediateCatchEventProcessor
from ._error_events import ThrowingEndEventProcessor
from ._none_events import EndEventProcessor, IntermediateThrowEventProcessor, StartEventProcessor

__all__ = ["BoundaryEventProcessor", "EndEventProcessor", "IntermediateCatchEventProcessor",
           "IntermediateThrowEventProcessor", "StartEventProcessor", "ThrowingEndEventProcessor"]
