"""Camunda user tasks as state holds them: a typed record per user task that exists."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["UserTask", "UserTaskLifecycle"]


class UserTaskLifecycle(enum.Enum):
    """Zeebe's ``UserTaskState.LifecycleState``: CREATED is the resting state; the others last while a
    transition is under way (COMPLETED and CANCELED tasks are removed)."""

    CREATING = "CREATING"
    CREATED = "CREATED"
    ASSIGNING = "ASSIGNING"
    CLAIMING = "CLAIMING"
    COMPLETING = "COMPLETING"
    CANCELING = "CANCELING"


@dataclass(slots=True)
class UserTask:
    """One user task: its lifecycle state and its latest USER_TASK record value."""

    key: int
    lifecycle: UserTaskLifecycle
    record: dict[str, Any]

    @property
    def element_instance_key(self) -> int:
        return self.record["elementInstanceKey"]  # type: ignore[no-any-return]

    @property
    def assignee(self) -> str:
        return self.record.get("assignee") or ""  # type: ignore[no-any-return]

    def to_stored(self) -> dict[str, Any]:
        return {"state": self.lifecycle.value, "record": self.record}

    @classmethod
    def from_stored(cls, key: int, stored: dict[str, Any]) -> UserTask:
        return cls(key, UserTaskLifecycle(stored["state"]), stored["record"])
