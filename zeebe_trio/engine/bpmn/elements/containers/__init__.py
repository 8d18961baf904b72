"""Processors of containers: the process, embedded subprocesses, event subprocesses and call activities."""

from ._call_activity import DEFAULT_MAX_PROCESS_DEPTH, CallActivityProcessor
from ._event_sub_process import EventSubProcessProcessor
from ._process import ProcessProcessor
from ._sub_process import SubProcessProcessor

__all__ = ["DEFAULT_MAX_PROCESS_DEPTH", "CallActivityProcessor", "EventSubProcessProcessor", "ProcessProcessor",
           "SubProcessProcessor"]
