"""Intents of the BPMN event value types (timers, subscriptions, signals, user tasks...): Zeebe 8.8's
numeric codes and event/command split, and the codec knows each value type's enum."""

from __future__ import annotations

import pytest

from zeebe_trio.protocol import (
    INTENTS_BY_VALUE_TYPE,
    CompensationSubscriptionIntent,
    EscalationIntent,
    Intent,
    MessageBatchIntent,
    MessageCorrelationIntent,
    MessageStartEventSubscriptionIntent,
    MessageSubscriptionIntent,
    ProcessEventIntent,
    ProcessInstanceBatchIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    SignalSubscriptionIntent,
    UserTaskIntent,
    ValueType,
    decode_batch,
    encode_batch,
)

ENUMS: dict[ValueType, type[Intent]] = {
    ValueType.MESSAGE_SUBSCRIPTION: MessageSubscriptionIntent,
    ValueType.PROCESS_MESSAGE_SUBSCRIPTION: ProcessMessageSubscriptionIntent,
    ValueType.MESSAGE_START_EVENT_SUBSCRIPTION: MessageStartEventSubscriptionIntent,
    ValueType.SIGNAL_SUBSCRIPTION: SignalSubscriptionIntent,
    ValueType.ESCALATION: EscalationIntent,
    ValueType.USER_TASK: UserTaskIntent,
    ValueType.COMPENSATION_SUBSCRIPTION: CompensationSubscriptionIntent,
    ValueType.MESSAGE_CORRELATION: MessageCorrelationIntent,
    ValueType.PROCESS_EVENT: ProcessEventIntent,
    ValueType.PROCESS_INSTANCE_BATCH: ProcessInstanceBatchIntent,
    ValueType.MESSAGE_BATCH: MessageBatchIntent,
}


@pytest.mark.parametrize(("member", "code"), [
    (MessageSubscriptionIntent.CORRELATING, 8), (MessageSubscriptionIntent.CORRELATE, 2),
    (MessageSubscriptionIntent.DELETED, 7), (MessageSubscriptionIntent.MIGRATED, 10),
    (ProcessMessageSubscriptionIntent.CREATING, 0), (ProcessMessageSubscriptionIntent.CORRELATED, 4),
    (ProcessMessageSubscriptionIntent.MIGRATING, 8), (MessageStartEventSubscriptionIntent.DELETED, 2),
    (SignalSubscriptionIntent.MIGRATED, 2), (EscalationIntent.NOT_ESCALATED, 1),
    (UserTaskIntent.COMPLETE, 2), (UserTaskIntent.ASSIGNED, 9), (UserTaskIntent.CLAIM, 10),
    (UserTaskIntent.MIGRATED, 14), (UserTaskIntent.CLAIMING, 20), (UserTaskIntent.CANCEL, 23),
    (CompensationSubscriptionIntent.DELETED, 3), (MessageCorrelationIntent.CORRELATE, 1),
    (MessageCorrelationIntent.NOT_CORRELATED, 3), (ProcessEventIntent.TRIGGERED, 1),
    (ProcessInstanceBatchIntent.ACTIVATED, 3), (MessageBatchIntent.EXPIRE, 0),
])
def test_event_value_type_intents_have_zeebes_codes(member: Intent, code: int) -> None:
    assert int(member) == code


def test_past_participles_and_progressive_forms_are_events_and_verbs_are_commands() -> None:
    assert MessageSubscriptionIntent.CORRELATING.is_event and not MessageSubscriptionIntent.CORRELATE.is_event
    assert UserTaskIntent.CREATING.is_event and not UserTaskIntent.CREATE.is_event
    assert not UserTaskIntent.COMPLETE_TASK_LISTENER.is_event
    assert all(intent.is_event for intent in SignalSubscriptionIntent)
    assert not any(intent.is_event for intent in MessageBatchIntent)
    assert not ProcessInstanceBatchIntent.TERMINATE.is_event and ProcessInstanceBatchIntent.ACTIVATING.is_event


def test_every_new_value_type_maps_to_its_intent_enum_and_round_trips_through_the_codec() -> None:
    for value_type, enum in ENUMS.items():
        assert INTENTS_BY_VALUE_TYPE[value_type] is enum
    records = [Record(record_type=RecordType.EVENT if intent.is_event else RecordType.COMMAND, value_type=value_type,
                      intent=intent, value={"n": index}, position=index + 1)
               for index, (value_type, intent) in enumerate(
                   (value_type, intent) for value_type, enum in ENUMS.items() for intent in enum)]
    assert decode_batch(encode_batch(records)) == records
