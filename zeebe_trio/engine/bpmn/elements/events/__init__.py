"""Processors of events: none start, end and intermediate throw events."""

from ._none_events import EndEventProcessor, IntermediateThrowEventProcessor, StartEventProcessor

__all__ = ["EndEventProcessor", "IntermediateThrowEventProcessor", "StartEventProcessor"]
