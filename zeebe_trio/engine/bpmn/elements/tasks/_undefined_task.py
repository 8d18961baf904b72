"""Undefined tasks (``bpmn:task``) and manual tasks: nothing to wait for, they complete at once."""

from __future__ import annotations

from ...model import ExecutableActivity
from .._processor import FlowNodeProcessor

__all__ = ["UndefinedTaskProcessor"]


class UndefinedTaskProcessor(FlowNodeProcessor[ExecutableActivity]):
    waits = False
