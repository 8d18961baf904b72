"""Appliers of variable events, and of the variable document events that only tell what happened."""

from __future__ import annotations

from zeebe_trio.protocol import Record, ValueType, VariableDocumentIntent, VariableIntent

from ..state import EngineState
from ._registry import EventAppliers, no_state_change


def _variable_set(state: EngineState, record: Record) -> None:
    value = record.value
    state.set_variable_json(value["scopeKey"], value["name"], value["value"])


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.VARIABLE, VariableIntent.CREATED, _variable_set)
    appliers.register(ValueType.VARIABLE, VariableIntent.UPDATED, _variable_set)
    # The document's variables are applied through their own VARIABLE events.
    appliers.register(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATING, no_state_change)
    appliers.register(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED, no_state_change)
