"""Processors of containers: the process, embedded subprocesses and multi-instance bodies."""

from ._multi_instance_body import MultiInstanceBodyProcessor
from ._process import ProcessProcessor
from ._sub_process import SubProcessProcessor

__all__ = ["ProcessProcessor", "SubProcessProcessor", "MultiInstanceBodyProcessor"]
