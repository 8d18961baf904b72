"""The applier registry: exactly one applier per (value type, intent, record version).

``EventAppliers.apply`` is the one way engine state changes, used while processing (each event as it
is written) and while replaying the log. An event without an applier is an error: a new event must be
registered, even when it changes nothing (``NO_STATE_CHANGE``), so that no event is silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from zeebe_trio.protocol import Intent, Record, ValueType

from ..state import EngineState

__all__ = ["Applier", "EventAppliers", "NoApplierError"]

Applier = Callable[[EngineState, Record], None]


class NoApplierError(LookupError):
    """An event reached state that no applier is registered for."""


class EventAppliers:
    def __init__(self) -> None:
        self._appliers: dict[tuple[ValueType, int, int], Applier] = {}

    def register(self, value_type: ValueType, intent: Intent, applier: Applier, *, version: int = 1) -> None:
        assert intent.is_event, f"{intent!r} is not an event"
        key = (value_type, int(intent), version)
        assert key not in self._appliers, f"two appliers for {value_type.name}.{intent.name} version {version}"
        self._appliers[key] = applier

    def override(self, value_type: ValueType, intent: Intent, applier: Applier, *, version: int = 1) -> None:
        """Replace a registered applier (tests plant a bug this way, to see that replay tests catch it)."""
        key = (value_type, int(intent), version)
        assert key in self._appliers, f"no applier for {value_type.name}.{intent.name} version {version}"
        self._appliers[key] = applier

    @property
    def table(self) -> Mapping[tuple[ValueType, int, int], Applier]:
        """The appliers by (value type, intent, record version), read-only (a batch calls them directly)."""
        return self._appliers

    def registrations(self) -> list[tuple[ValueType, int, int]]:
        return sorted(self._appliers)

    def apply(self, state: EngineState, record: Record) -> None:
        # an IntEnum intent hashes and compares as its int: no conversion on the hottest path
        applier = self._appliers.get((record.value_type, record.intent, record.record_version))
        if applier is None:
            raise NoApplierError(f"no applier for {record.value_type.name}.{record.intent.name} version"
                                 f" {record.record_version} (record at position {record.position})")
        applier(state, record)


def no_state_change(state: EngineState, record: Record) -> None:
    """The applier of events that only tell what happened (audit records, as in Zeebe)."""
