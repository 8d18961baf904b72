"""Message subscription commands sent again while their answer is outstanding (Zeebe's
``PendingProcessMessageSubscriptionChecker`` and ``PendingMessageSubscriptionChecker``).

Opening, closing and correlating a message subscription takes a command to another partition and one
back; either may be lost when the receiver is down. On the instance's partition a process message
subscription still CREATING or DELETING sends MESSAGE_SUBSCRIPTION CREATE or DELETE again; on the
message's partition a subscription still correlating sends PROCESS_MESSAGE_SUBSCRIPTION CORRELATE again.
The receivers answer duplicates idempotently (a second CREATE is answered with CREATE again, a DELETE
of nothing with DELETE, a second CORRELATE is rejected as already correlated).

``retry_cycle`` is one check (the partition leader runs it with the redistribution, every 10 s): what
was pending at the previous check and still is gets sent again, so an answer has at least one interval
to arrive. Which subscriptions may be pending is kept in memory, as Zeebe's transient pending-subscription
state is: ``note`` sees every event the engine writes or replays and remembers the subscriptions that
became CREATING, DELETING or correlating; a check looks each one up in state (dropping those no longer
pending), so it costs what is pending, not every subscription. The first check after a start (or after
a failed transaction, ``rescan``) scans the column families once, for what was pending before the
snapshot the state came from.
"""

from __future__ import annotations

import logging
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    MessageSubscriptionIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    ValueType,
    partition_of,
)

from ..bpmn.behaviors._messages import message_subscription_command
from ..state import EngineState

__all__ = ["PendingSubscriptionChecker"]

log = logging.getLogger(__name__)

_MS = ValueType.MESSAGE_SUBSCRIPTION
_PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION


class PendingSubscriptionChecker:
    #: The value types ``note`` looks at; callers skip every other record without a call.
    WATCHED = frozenset({_MS, _PMS})

    def __init__(self) -> None:
        # (kind, element instance key, message name) of subscriptions that may be pending
        self._candidates: set[tuple[str, int, str]] = set()
        self._seen: set[tuple[str, int, str]] = set()
        self._scan_needed = True
        self.resent = 0

    def note(self, record: Record) -> None:
        """An event written or replayed: remember a subscription that may now wait for an answer."""
        if record.value_type is _PMS and record.intent in _PMS_PENDING:
            kind = "CREATE" if record.intent is ProcessMessageSubscriptionIntent.CREATING else "DELETE"
        elif record.value_type is _MS and record.intent is MessageSubscriptionIntent.CORRELATING:
            kind = "CORRELATE"
        else:
            return
        self._candidates.add((kind, record.value["elementInstanceKey"], record.value["messageName"]))

    def rescan(self) -> None:
        """Forget what was noted (a transaction failed after noting): the next check scans state."""
        self._candidates.clear()
        self._scan_needed = True

    def _scan(self, state: EngineState) -> None:
        for (element_key, name), stored in state.txn.items(state.store.family("process_message_subscriptions")):
            if stored["state"] in ("CREATING", "DELETING"):
                self._candidates.add(("CREATE" if stored["state"] == "CREATING" else "DELETE", int(element_key),
                                      str(name)))
        for _key, stored in state.txn.items(state.store.family("message_subscriptions")):
            if stored.get("correlating"):
                record = stored["record"]
                self._candidates.add(("CORRELATE", record["elementInstanceKey"], record["messageName"]))
        self._scan_needed = False

    def _pending_command(self, state: EngineState, candidate: tuple[str, int, str]) -> tuple[int, Record] | None:
        kind, element_key, name = candidate
        if kind == "CORRELATE":
            subscription_key = state.message_subscription_of(element_key, name)
            stored = state.message_subscription(subscription_key) if subscription_key is not None else None
            if stored is None or not stored.get("correlating"):
                return None
            record = stored["record"]
            return (partition_of(record["processInstanceKey"]),
                    _command(_PMS, ProcessMessageSubscriptionIntent.CORRELATE, _correlate_value(record, state.partition_id)))
        pms = state.process_message_subscription(element_key, name)
        if pms is None or pms["state"] != ("CREATING" if kind == "CREATE" else "DELETING"):
            return None
        intent = MessageSubscriptionIntent.CREATE if kind == "CREATE" else MessageSubscriptionIntent.DELETE
        record = pms["record"]
        return record["subscriptionPartitionId"], _command(_MS, intent, message_subscription_command(record))

    def retry_cycle(self, state: EngineState) -> list[tuple[int, Record]]:
        """The subscription commands to send again now, as (receiver partition id, command)."""
        if self._scan_needed:
            self._scan(state)
        pending: dict[tuple[str, int, str], tuple[int, Record]] = {}
        for candidate in list(self._candidates):
            still_pending = self._pending_command(state, candidate)
            if still_pending is None:
                self._candidates.discard(candidate)
            else:
                pending[candidate] = still_pending
        due = [command for candidate, command in pending.items() if candidate in self._seen]
        self._seen = set(pending)
        for receiver, command in due:
            log.info("partition %d: sending %s.%s for element %s again to partition %d", state.partition_id,
                     command.value_type.name, command.intent.name, command.value["elementInstanceKey"], receiver)
        self.resent += len(due)
        return due

    def statistics(self) -> dict[str, int]:
        return {"pending_subscription_candidates": len(self._candidates), "subscription_commands_resent": self.resent}


_PMS_PENDING = (ProcessMessageSubscriptionIntent.CREATING, ProcessMessageSubscriptionIntent.DELETING)


def _command(value_type: ValueType, intent: Any, value: dict[str, Any]) -> Record:
    return Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent, key=-1, value=value)


def _correlate_value(record: dict[str, Any], partition_id: int) -> dict[str, Any]:
    """The PROCESS_MESSAGE_SUBSCRIPTION CORRELATE value, as the correlation sent it."""
    return {
        "subscriptionPartitionId": partition_id,
        "processInstanceKey": record["processInstanceKey"],
        "elementInstanceKey": record["elementInstanceKey"],
        "bpmnProcessId": record["bpmnProcessId"],
        "messageKey": record["messageKey"],
        "messageName": record["messageName"],
        "variables": record.get("variables") or {},
        "correlationKey": record["correlationKey"],
        "elementId": "",
        "interrupting": record["interrupting"],
        "tenantId": record.get("tenantId", DEFAULT_TENANT),
    }
