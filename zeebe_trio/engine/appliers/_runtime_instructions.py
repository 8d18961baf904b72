"""Appliers of runtime instructions: the instructions a process instance was created with, and the
interruption one of them caused.

The instructions themselves are stored by the PROCESS_INSTANCE_CREATION CREATED applier (in
``_process_instance``, which owns that event) and removed with the process instance. A RUNTIME_INSTRUCTION
INTERRUPTED event marks the process instance as interrupted by the element the instruction named (as
Zeebe's ``RuntimeInstructionInterruptedApplier`` sets its ``interruptingElementId``): commands still on
their way to its other children are rejected from then on, while its termination runs.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import Record, RuntimeInstructionIntent, ValueType

from ..state import EngineState
from ._registry import EventAppliers

__all__ = ["register", "store_runtime_instructions"]


def store_runtime_instructions(state: EngineState, process_instance_key: int, value: dict[str, Any]) -> None:
    """Keep the runtime instructions of a created process instance (none: nothing is stored)."""
    instructions = value.get("runtimeInstructions") or []
    if instructions:
        state.set_runtime_instructions(process_instance_key, [dict(instruction) for instruction in instructions])


def _interrupted(state: EngineState, record: Record) -> None:
    instance = state.element_instance(record.value["processInstanceKey"])
    if instance is not None:
        instance.interrupting_element_id = record.value["elementId"]
        state.put_element_instance(instance)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.RUNTIME_INSTRUCTION, RuntimeInstructionIntent.INTERRUPTED, _interrupted)
