"""Appliers of escalation events: ESCALATED and NOT_ESCALATED record what a thrown escalation did;
the catch event's trigger changes state through its own PROCESS_EVENT records."""

from __future__ import annotations

from zeebe_trio.protocol import EscalationIntent, ValueType

from ._registry import EventAppliers, no_state_change


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.ESCALATION, EscalationIntent.ESCALATED, no_state_change)
    appliers.register(ValueType.ESCALATION, EscalationIntent.NOT_ESCALATED, no_state_change)
