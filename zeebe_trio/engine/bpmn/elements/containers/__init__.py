"""Processors of containers: the process, embedded subprocesses, event subprocesses, call activities and
multi-instance bodies."""

from ._ad_hoc_sub_process import AdHocSubProcessInnerInstanceProcessor, AdHocSubProcessProcessor
from ._call_activity import DEFAULT_MAX_PROCESS_DEPTH, CallActivityProcessor
from ._event_sub_process import EventSubProcessProcessor
from ._multi_instance_body import MultiInstanceBodyProcessor
from ._process import ProcessProcessor
from ._sub_process import SubProcessProcessor

__all__ = ["DEFAULT_MAX_PROCESS_DEPTH", "CallActivityProcessor", "EventSubProcessProcessor", "ProcessProcessor",
           "SubProcessProcessor", "MultiInstanceBodyProcessor", "AdHocSubProcessProcessor",
           "AdHocSubProcessInnerInstanceProcessor"]
