"""Binary encoding of record batches for the log: MessagePack arrays, one per record.

A log entry carries one batch: the records a single command produced (or one client command), which
must become durable together.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgpack

from ._enums import RecordType, RejectionType, ValueType
from ._intents import INTENTS_BY_VALUE_TYPE
from ._record import Record

FORMAT_VERSION = 3
# Batches written before records carried a version (every record of them is version 1).
_UNVERSIONED_FORMAT = 2

_RECORD_TYPES = {int(t): t for t in RecordType}
_REJECTION_TYPES = {int(t): t for t in RejectionType}
_VALUE_TYPES = {int(t): t for t in ValueType}
_INTENTS = {
    (int(value_type), int(intent)): intent
    for value_type, intents in INTENTS_BY_VALUE_TYPE.items()
    for intent in intents
}


class RecordDecodeError(ValueError):
    """A log entry's payload is not a record batch this version understands."""


def encode_batch(records: Sequence[Record]) -> bytes:
    # The record, value type, intent and rejection types are IntEnums, which msgpack packs as the ints they
    # are: converting each with int() first costs as much again as the rest of the row.
    return msgpack.packb(
        [
            FORMAT_VERSION,
            [
                (
                    r.position,
                    r.source_position,
                    r.key,
                    r.timestamp,
                    r.record_type,
                    r.value_type,
                    r.intent,
                    -1 if r.rejection_type is None else r.rejection_type,
                    r.rejection_reason,
                    r.request_stream_id,
                    r.request_id,
                    r.value,
                    r.processed,
                    r.record_version,
                )
                for r in records
            ],
        ],
        use_bin_type=True,
    )


def decode_batch(data: bytes, partition_id: int = 0) -> list[Record]:
    try:
        version, rows = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False)
    except Exception as error:
        raise RecordDecodeError(f"log entry is not a record batch: {error}") from None
    if version == _UNVERSIONED_FORMAT:
        rows = [(*row, 1) if isinstance(row, list) else row for row in rows]
    elif version != FORMAT_VERSION:
        raise RecordDecodeError(f"record batch format {version} is not supported (expected {FORMAT_VERSION})")
    records = []
    try:
        for (position, source_position, key, timestamp, record_type, value_type, intent, rejection_type,
             rejection_reason, request_stream_id, request_id, value, processed, record_version) in rows:
            records.append(
                Record(
                    position=position,
                    source_position=source_position,
                    key=key,
                    timestamp=timestamp,
                    record_type=_RECORD_TYPES[record_type],
                    value_type=_VALUE_TYPES[value_type],
                    intent=_INTENTS[(value_type, intent)],
                    rejection_type=None if rejection_type < 0 else _REJECTION_TYPES[rejection_type],
                    rejection_reason=rejection_reason,
                    request_stream_id=request_stream_id,
                    request_id=request_id,
                    value=value,
                    partition_id=partition_id,
                    processed=processed,
                    record_version=record_version,
                )
            )
    except (KeyError, TypeError, ValueError) as error:
        raise RecordDecodeError(f"malformed record in batch: {error!r}") from None
    return records
