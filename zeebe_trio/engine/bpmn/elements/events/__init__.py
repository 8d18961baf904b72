"""Processors of events: none start, end and intermediate throw events, catch events (timers, links, ...),
boundary events, error and terminate end events, signal throw and end events, escalation throw and end
events, picked per event kind by ``EventProcessorByKind``."""

from ._by_kind import EventProcessorByKind
from ._catch_events import BoundaryEventProcessor, IntermediateCatchEventProcessor
from ._compensation_events import CompensationThrowEventProcessor
from ._error_events import ThrowingEndEventProcessor
from ._escalation_events import EscalationThrowEventProcessor
from ._link_events import LinkCatchEventProcessor, LinkThrowEventProcessor
from ._none_events import EndEventProcessor, IntermediateThrowEventProcessor, StartEventProcessor
from ._signal_events import SignalThrowEventProcessor
from ._terminate_end_event import TerminateEndEventProcessor

__all__ = [
    "BoundaryEventProcessor",
    "CompensationThrowEventProcessor",
    "EndEventProcessor",
    "EscalationThrowEventProcessor",
    "EventProcessorByKind",
    "IntermediateCatchEventProcessor",
    "IntermediateThrowEventProcessor",
    "LinkCatchEventProcessor",
    "LinkThrowEventProcessor",
    "SignalThrowEventProcessor",
    "StartEventProcessor",
    "TerminateEndEventProcessor",
    "ThrowingEndEventProcessor",
]
