"""The command processor table: one processor per (value type, intent) command.

Every command read from the log passes the intake limits (``_limits.intake_problem``: strings that
would make a state key too long) before its processor runs; a command over them is rejected and its
processor never sees it. Follow-up commands processed in the batch that wrote them were made by the
engine from what already passed, so they are not checked again.
"""

from __future__ import annotations

from zeebe_trio.protocol import Intent, Record, ValueType

from ._batch import Batch, Processor
from ._limits import intake_problem

__all__ = ["CommandProcessors"]


class CommandProcessors:
    def __init__(self) -> None:
        self._processors: dict[tuple[ValueType, int], Processor] = {}
        self._follow_up_processors: dict[tuple[ValueType, int], Processor] = {}

    def add(self, value_type: ValueType, intent: Intent, processor: Processor) -> None:
        assert not intent.is_event, f"{intent!r} is an event, not a command"
        key = (value_type, int(intent))
        assert key not in self._processors, f"two processors for {value_type.name}.{intent.name}"

        def within_limits(batch: Batch, command: Record) -> None:
            problem = intake_problem(command)
            if problem is not None:
                batch.reject(command, *problem)
                return
            processor(batch, command)

        self._processors[key] = within_limits
        self._follow_up_processors[key] = processor

    def get(self, value_type: ValueType, intent: int) -> Processor | None:
        return self._processors.get((value_type, intent))  # an IntEnum intent finds its int

    def get_follow_up(self, value_type: ValueType, intent: int) -> Processor | None:
        """The processor of a follow-up command processed in the batch that wrote it (no intake check)."""
        return self._follow_up_processors.get((value_type, intent))

    def registrations(self) -> list[tuple[ValueType, int]]:
        return sorted(self._processors)
