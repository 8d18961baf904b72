"""The processor registry: one processor per (value type, intent) command.

Every command passes the intake limits (``_limits.intake_problem``: strings that would make a state key
too long) before its processor runs; a command over them is rejected and its processor never sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from zeebe_trio.protocol import Intent, Record, ValueType

from ._engine import Batch
from ._limits import intake_problem

Processor = Callable[[Batch, Record], None]
PROCESSORS: dict[tuple[ValueType, Intent], Processor] = {}


def processes(value_type: ValueType, *intents: Intent) -> Callable[[Processor], Processor]:
    def register(fn: Processor) -> Processor:
        def within_limits(batch: Batch, command: Record) -> None:
            problem = intake_problem(command)
            if problem is not None:
                batch.reject(command, *problem)
                return
            fn(batch, command)

        for intent in intents:
            assert not intent.is_event, f"{intent!r} is an event, not a command"
            assert (value_type, intent) not in PROCESSORS, f"two processors for {value_type.name}.{intent.name}"
            PROCESSORS[(value_type, intent)] = within_limits
        return fn

    return register
