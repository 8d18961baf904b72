"""Appliers of FORM events: a deployed form version enters the forms column families."""

from __future__ import annotations

from zeebe_trio.protocol import FormIntent, Record, ValueType

from ..state import EngineState
from ._registry import EventAppliers


def _form_created(state: EngineState, record: Record) -> None:
    state.put_form(record.key, record.value)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.FORM, FormIntent.CREATED, _form_created, version=2)
