"""Processors of containers: the process and embedded subprocesses."""

from ._process import ProcessProcessor
from ._sub_process import SubProcessProcessor

__all__ = ["ProcessProcessor", "SubProcessProcessor"]
