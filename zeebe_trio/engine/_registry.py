"""The processor registry: one processor per (value type, intent) command."""

from __future__ import annotations

from collections.abc import Callable

from zeebe_trio.protocol import Intent, Record, ValueType

from ._engine import Batch

Processor = Callable[[Batch, Record], None]
PROCESSORS: dict[tuple[ValueType, Intent], Processor] = {}


def processes(value_type: ValueType, *intents: Intent) -> Callable[[Processor], Processor]:
    def register(fn: Processor) -> Processor:
        for intent in intents:
            assert not intent.is_event, f"{intent!r} is an event, not a command"
            assert (value_type, intent) not in PROCESSORS, f"two processors for {value_type.name}.{intent.name}"
            PROCESSORS[(value_type, intent)] = fn
        return fn

    return register
