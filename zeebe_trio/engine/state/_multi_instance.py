"""What a multi-instance body counts of its inner instances, as state holds it.

Zeebe keeps these counters on the body's element instance; here they live in a column family of
their own (``multi_instance_bodies``), next to each inner instance's loop counter
(``loop_counters``), both changed only by the process instance appliers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MultiInstanceBodyState"]


@dataclass(slots=True)
class MultiInstanceBodyState:
    """``loop_counter``: inner instances created so far (the last one's ``loopCounter``);
    ``completed`` / ``terminated``: inner instances that completed / were terminated."""

    key: int
    loop_counter: int = 0
    completed: int = 0
    terminated: int = 0

    def to_stored(self) -> dict[str, Any]:
        return {"loopCounter": self.loop_counter, "completed": self.completed, "terminated": self.terminated}

    @classmethod
    def from_stored(cls, key: int, stored: dict[str, Any]) -> MultiInstanceBodyState:
        return cls(key, stored["loopCounter"], stored["completed"], stored["terminated"])
