"""The command processor table: one processor per (value type, intent) command.

Every command passes the intake limits (``_limits.intake_problem``: strings that would make a state key
too long) before its processor runs; a command over them is rejected and its processor never sees it.
"""

from __future__ import annotations

from zeebe_trio.protocol import Intent, Record, ValueType

from ._batch import Batch, Processor
from ._limits import intake_problem

__all__ = ["CommandProcessors"]


class CommandProcessors:
    def __init__(self) -> None:
        self._processors: dict[tuple[ValueType, int], Processor] = {}

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

    def get(self, value_type: ValueType, intent: int) -> Processor | None:
        return self._processors.get((value_type, intent))  # an IntEnum intent finds its int

    def registrations(self) -> list[tuple[ValueType, int]]:
        return sorted(self._processors)
