"""Records, intents, keys and the codec: Zeebe's names and numbers, and safe decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeebe_trio.protocol import (
    INTENTS_BY_VALUE_TYPE,
    DeploymentIntent,
    IncidentIntent,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceIntent,
    Record,
    RecordDecodeError,
    RecordType,
    RejectionType,
    TimerIntent,
    ValueType,
    VariableIntent,
    correlation_key_hash,
    decode_batch,
    encode_batch,
    encode_key,
    first_key,
    intent_for,
    local_part,
    partition_for_correlation_key,
    partition_of,
)


def test_keys_carry_the_partition_in_the_top_13_bits_as_zeebe_does() -> None:
    assert first_key(1) == 2251799813685249
    assert partition_of(encode_key(3, 42)) == 3 and local_part(encode_key(3, 42)) == 42
    assert encode_key(8191, 1) > 0 and partition_of(encode_key(8191, 1)) == 8191
    assert partition_of(-1) == 0
    with pytest.raises(ValueError, match="partition id 8192"):
        encode_key(8192, 1)


@pytest.mark.parametrize(("member", "code"), [
    (ValueType.JOB, 0), (ValueType.DEPLOYMENT, 4), (ValueType.PROCESS_INSTANCE, 5), (ValueType.INCIDENT, 6),
    (ValueType.JOB_BATCH, 14), (ValueType.VARIABLE, 17), (ValueType.VARIABLE_DOCUMENT, 18),
    (ValueType.PROCESS_INSTANCE_CREATION, 19), (ValueType.PROCESS, 22),
    (JobIntent.COMPLETE, 1), (JobIntent.COMPLETED, 2), (JobIntent.FAILED, 6), (JobIntent.YIELD, 15),
    (ProcessInstanceIntent.ELEMENT_ACTIVATING, 2), (ProcessInstanceIntent.ACTIVATE_ELEMENT, 8),
    (ProcessInstanceIntent.CANCELING, 16), (DeploymentIntent.CREATED, 1), (IncidentIntent.RESOLVE, 1),
    (VariableIntent.CREATED, 0), (JobBatchIntent.ACTIVATED, 1), (TimerIntent.CANCEL, 3), (TimerIntent.CANCELED, 4),
    (TimerIntent.MIGRATED, 5),
    (RecordType.COMMAND_REJECTION, 2), (RejectionType.INVALID_STATE, 3),
])
def test_numeric_codes_are_zeebes(member: int, code: int) -> None:
    assert int(member) == code


def test_commands_are_verbs_and_events_past_participles() -> None:
    assert JobIntent.COMPLETED.is_event and not JobIntent.COMPLETE.is_event
    assert ProcessInstanceIntent.SEQUENCE_FLOW_TAKEN.is_event
    assert not ProcessInstanceIntent.TERMINATE_ELEMENT.is_event
    for value_type, intents in INTENTS_BY_VALUE_TYPE.items():
        for intent in intents:
            assert intent_for(value_type, int(intent)) is intent
    with pytest.raises(ValueError, match="unknown intent code 99 for value type JOB"):
        intent_for(ValueType.JOB, 99)


def test_a_batch_round_trips_through_the_codec() -> None:
    records = [
        Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB, intent=JobIntent.COMPLETE, key=5,
               value={"variables": {"a": [1, 2.5, None, "x"]}}, position=10, timestamp=1, request_id=3,
               request_stream_id=7),
        Record(record_type=RecordType.COMMAND_REJECTION, value_type=ValueType.JOB, intent=JobIntent.COMPLETE,
               key=5, value={}, position=11, source_position=10, rejection_type=RejectionType.NOT_FOUND,
               rejection_reason="no such job"),
        Record(record_type=RecordType.COMMAND, value_type=ValueType.PROCESS_INSTANCE,
               intent=ProcessInstanceIntent.ACTIVATE_ELEMENT, key=9, value={"elementId": "t"}, position=12,
               source_position=10, processed=True, record_version=2),
    ]
    decoded = decode_batch(encode_batch(records), partition_id=1)
    for record in records:
        record.partition_id = 1
    assert decoded == records


def test_a_batch_written_before_records_had_versions_decodes_as_version_1() -> None:
    import msgpack

    row = [4, -1, 5, 1, int(RecordType.EVENT), int(ValueType.JOB), int(JobIntent.CREATED), -1, "", -1, -1,
           {"type": "t"}, False]
    [record] = decode_batch(msgpack.packb([2, [row]], use_bin_type=True), partition_id=1)
    assert (record.position, record.intent, record.value, record.record_version) == (4, JobIntent.CREATED,
                                                                                    {"type": "t"}, 1)


@given(st.binary(max_size=200))
def test_garbage_is_refused_with_the_codecs_own_error(data: bytes) -> None:
    try:
        decode_batch(data)
    except RecordDecodeError:
        pass


# -- the correlation-key hash: which partition a message belongs to ------------------------------------

def test_the_correlation_key_hash_is_zeebes() -> None:
    # The values Zeebe's own SubscriptionUtil test pins.
    assert [correlation_key_hash(k) for k in ("a", "b", "c", "foobar", "")] == [97, 98, 99, -1268878963, 0]
    assert partition_for_correlation_key("a", 10) == 8
    assert partition_for_correlation_key("b", 3) == 3
    assert partition_for_correlation_key("c", 11) == 1
    assert partition_for_correlation_key("foobar", 100) == 64


@given(st.text(max_size=50), st.integers(1, 64))
def test_a_correlation_key_always_maps_to_an_existing_partition(key: str, partitions: int) -> None:
    assert -(2**31) <= correlation_key_hash(key) < 2**31
    assert 1 <= partition_for_correlation_key(key, partitions) <= partitions


def test_bytes_above_127_count_as_negative_java_bytes() -> None:
    # "é" is 0xC3 0xA9 in UTF-8: -61 and -87 as Java bytes.
    assert correlation_key_hash("é") == 31 * -61 + -87


def test_a_record_written_by_the_engine_has_every_field_of_a_record_built_with_keywords() -> None:
    fields = dict(record_type=RecordType.EVENT, value_type=ValueType.JOB, intent=JobIntent.CREATED, key=7,
                  value={"type": "work"}, position=3, source_position=2, timestamp=1000, partition_id=1)
    fast = Record.written(**fields)  # type: ignore[arg-type]
    slow = Record(**fields)  # type: ignore[arg-type]
    assert {name: getattr(fast, name) for name in Record.__slots__} == \
        {name: getattr(slow, name) for name in Record.__slots__}


def test_every_command_the_gateway_sends_for_clients_is_one_the_command_api_accepts() -> None:
    """A command missing from GATEWAY_COMMANDS works through an embedded gateway on one broker and is
    refused through a standalone gateway or between the brokers of a cluster (as EvaluateDecision was)."""
    import ast
    from pathlib import Path

    import zeebe_trio.gateway
    from zeebe_trio.protocol import GATEWAY_COMMANDS, INTENTS_BY_VALUE_TYPE, ValueType

    sent = set()
    for path in Path(zeebe_trio.gateway.__file__).parent.glob("*.py"):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call):
                continue
            names = [(arg.value.id, arg.attr) for arg in call.args
                     if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)]
            for (first, value_type), (second, intent) in zip(names, names[1:], strict=False):
                if first == "ValueType" and second.endswith("Intent"):
                    sent.add((ValueType[value_type], INTENTS_BY_VALUE_TYPE[ValueType[value_type]][intent]))
    assert len(sent) >= 13  # the scan finds the endpoints' commands (creates, jobs, publish, decisions, ...)
    assert sent - GATEWAY_COMMANDS == set()
