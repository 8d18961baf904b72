"""A lifecycle step that cannot go on: what the dispatcher turns into an incident."""

from __future__ import annotations

from zeebe_trio.protocol import ErrorType

__all__ = ["ElementFailure"]


class ElementFailure(Exception):
    """Raised by a processor or behaviour when a step fails on the process's data (an expression, a
    mapping, a limit); ``BpmnStreamProcessor`` raises an incident of ``error_type`` with ``message``,
    and resolving it runs the step again."""

    def __init__(self, error_type: ErrorType, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
