"""Appliers of signal subscription events: the open subscriptions by signal name and by owner (a catch
event's element instance, or a process definition's signal start events)."""

from __future__ import annotations

from zeebe_trio.protocol import Record, SignalSubscriptionIntent, ValueType

from ..state import EngineState
from ._registry import EventAppliers


def _subscription_created(state: EngineState, record: Record) -> None:
    state.put_signal_subscription(record.key, record.value)


def _subscription_deleted(state: EngineState, record: Record) -> None:
    state.remove_signal_subscription(record.key, record.value)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.CREATED, _subscription_created)
    appliers.register(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.DELETED, _subscription_deleted)
