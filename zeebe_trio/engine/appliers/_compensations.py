"""Appliers of compensation subscription events: the subscriptions of a process instance, one per
completed compensable activity, kept until compensated (COMPLETED) or until their scope ends (DELETED)."""

from __future__ import annotations

from zeebe_trio.protocol import CompensationSubscriptionIntent, Record, ValueType

from ..state import EngineState
from ._registry import EventAppliers


def _subscription_stored(state: EngineState, record: Record) -> None:
    state.put_compensation_subscription(record.key, record.value)


def _subscription_removed(state: EngineState, record: Record) -> None:
    state.remove_compensation_subscription(record.key, record.value)


def register(appliers: EventAppliers) -> None:
    subscription, intent = ValueType.COMPENSATION_SUBSCRIPTION, CompensationSubscriptionIntent
    appliers.register(subscription, intent.CREATED, _subscription_stored)
    appliers.register(subscription, intent.TRIGGERED, _subscription_stored)
    appliers.register(subscription, intent.COMPLETED, _subscription_removed)
    appliers.register(subscription, intent.DELETED, _subscription_removed)
