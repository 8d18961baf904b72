"""Processors of containers: the process, embedded subprocesses and call activities."""

from ._call_activity import DEFAULT_MAX_PROCESS_DEPTH, CallActivityProcessor
from ._process import ProcessProcessor
from ._sub_process import SubProcessProcessor

__all__ = ["DEFAULT_MAX_PROCESS_DEPTH", "CallActivityProcessor", "ProcessProcessor", "SubProcessProcessor"]
