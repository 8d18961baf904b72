"""Appliers of message events: messages buffered for their time to live, by key, id and deadline."""

from __future__ import annotations

from zeebe_trio.protocol import MessageIntent, Record, ValueType

from .._due import due_time
from ..state import EngineState
from ._registry import EventAppliers


def _message_published(state: EngineState, record: Record) -> None:
    if record.value["timeToLive"] > 0:
        value = dict(record.value)  # the variables too: a later subscription correlates them
        value["deadline"] = due_time(record.timestamp, record.value["timeToLive"])
        state.put_message(record.key, value)


def _message_expired(state: EngineState, record: Record) -> None:
    state.remove_message(record.key)
    state.remove_message_correlations(record.key)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.MESSAGE, MessageIntent.PUBLISHED, _message_published)
    appliers.register(ValueType.MESSAGE, MessageIntent.EXPIRED, _message_expired)
