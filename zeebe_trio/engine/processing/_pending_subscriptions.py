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
to arrive. What was seen lives in memory only, as Zeebe's pending-subscription state does.
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

from ..state import EngineState

__all__ = ["PendingSubscriptionChecker"]

log = logging.getLogger(__name__)

_MS = ValueType.MESSAGE_SUBSCRIPTION
_PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION


class PendingSubscriptionChecker:
    def __init__(self) -> None:
        self._seen: set[tuple[str, int, str]] = set()
        self.resent = 0

    def retry_cycle(self, state: EngineState) -> list[tuple[int, Record]]:
        """The subscription commands to send again now, as (receiver partition id, command)."""
        pending: dict[tuple[str, int, str], tuple[int, Record]] = {}
        for _key, stored in state.txn.items(state.store.family("process_message_subscriptions")):
            record = stored["record"]
            if stored["state"] == "CREATING":
                intent = MessageSubscriptionIntent.CREATE
            elif stored["state"] == "DELETING":
                intent = MessageSubscriptionIntent.DELETE
            else:
                continue
            pending[(intent.name, record["elementInstanceKey"], record["messageName"])] = (
                record["subscriptionPartitionId"], _command(_MS, intent, _subscription_value(record)))
        for _key, stored in state.txn.items(state.store.family("message_subscriptions")):
            if not stored.get("correlating"):
                continue
            record = stored["record"]
            pending[("CORRELATE", record["elementInstanceKey"], record["messageName"])] = (
                partition_of(record["processInstanceKey"]),
                _command(_PMS, ProcessMessageSubscriptionIntent.CORRELATE, _correlate_value(record, state.partition_id)))
        due = [command for seen, command in pending.items() if seen in self._seen]
        self._seen = set(pending)
        for receiver, command in due:
            log.info("partition %d: sending %s.%s for element %s again to partition %d", state.partition_id,
                     command.value_type.name, command.intent.name, command.value["elementInstanceKey"], receiver)
        self.resent += len(due)
        return due


def _command(value_type: ValueType, intent: Any, value: dict[str, Any]) -> Record:
    return Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent, key=-1, value=value)


def _subscription_value(record: dict[str, Any]) -> dict[str, Any]:
    """The MESSAGE_SUBSCRIPTION CREATE/DELETE value, as the element's subscribing sent it."""
    return {
        "processInstanceKey": record["processInstanceKey"],
        "elementInstanceKey": record["elementInstanceKey"],
        "bpmnProcessId": record["bpmnProcessId"],
        "messageKey": -1,
        "messageName": record["messageName"],
        "correlationKey": record["correlationKey"],
        "interrupting": record["interrupting"],
        "variables": {},
        "tenantId": record.get("tenantId", DEFAULT_TENANT),
    }


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
