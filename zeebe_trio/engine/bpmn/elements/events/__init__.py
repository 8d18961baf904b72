"""Processors of events: none start, end and intermediate throw events, terminate end events and link
events, picked per event kind by ``EventProcessorByKind``."""

from ._by_kind import EventProcessorByKind
from ._link_events import LinkCatchEventProcessor, LinkThrowEventProcessor
from ._none_events import EndEventProcessor, IntermediateThrowEventProcessor, StartEventProcessor
from ._terminate_end_event import TerminateEndEventProcessor

__all__ = [
    "EndEventProcessor",
    "EventProcessorByKind",
    "IntermediateThrowEventProcessor",
    "LinkCatchEventProcessor",
    "LinkThrowEventProcessor",
    "StartEventProcessor",
    "TerminateEndEventProcessor",
]
