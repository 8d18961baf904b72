"""Receive tasks: activities that wait for a message, as a catch event does.

``ExecutableReceiveTask`` is an activity (it carries boundary events) and a catch event (it holds
its message definition): while active it waits for its own message and for its boundary events.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._elements import ExecutableActivity, ExecutableCatchEvent

__all__ = ["ExecutableReceiveTask"]


@dataclass(eq=False, repr=False)
class ExecutableReceiveTask(ExecutableActivity, ExecutableCatchEvent):
    @property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        return [self, *self.boundary_events]
