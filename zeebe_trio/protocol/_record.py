"""The record: the unit of the log. Commands, events and rejections share one shape.

A record's value is a plain dict with Zeebe's field names (camelCase, as in Zeebe's JSON export), so
exporters and the gateway need nothing but this module to read it.
"""

from __future__ import annotations

from typing import Any

from ._enums import RecordType, RejectionType, ValueType
from ._intents import Intent

NO_KEY = -1
DEFAULT_TENANT = "<default>"  # the one tenant while multi-tenancy is off (Zeebe's TenantOwned.DEFAULT_TENANT_IDENTIFIER)


class Record:
    """One command, event or rejection, as stored on a partition's log."""

    __slots__ = (
        "position",
        "source_position",
        "key",
        "timestamp",
        "record_type",
        "value_type",
        "intent",
        "rejection_type",
        "rejection_reason",
        "request_stream_id",
        "request_id",
        "value",
        "partition_id",
        "processed",
        "record_version",
    )

    def __init__(
        self,
        *,
        record_type: RecordType,
        value_type: ValueType,
        intent: Intent,
        value: dict[str, Any],
        key: int = NO_KEY,
        position: int = -1,
        source_position: int = -1,
        timestamp: int = -1,
        rejection_type: RejectionType | None = None,
        rejection_reason: str = "",
        request_stream_id: int = -1,
        request_id: int = -1,
        partition_id: int = 0,
        processed: bool = False,
        record_version: int = 1,
    ) -> None:
        self.position = position
        self.source_position = source_position
        self.key = key
        self.timestamp = timestamp
        self.record_type = record_type
        self.value_type = value_type
        self.intent = intent
        self.value = value
        self.rejection_type = rejection_type
        self.rejection_reason = rejection_reason
        self.request_stream_id = request_stream_id
        self.request_id = request_id
        self.partition_id = partition_id
        # A follow-up command already processed in the batch that wrote it (Zeebe's batch processing):
        # the stream processor must not process it again when it reads it from the log.
        self.processed = processed
        # The version of the record's shape, as Zeebe's ``recordVersion``: an event is applied by the
        # applier registered for its (value type, intent, version), so an older log replays with the
        # appliers of its time.
        self.record_version = record_version

    @classmethod
    def written(cls, record_type: RecordType, value_type: ValueType, intent: Intent, key: int,
                value: dict[str, Any], position: int, source_position: int, timestamp: int,
                partition_id: int) -> Record:
        """A record as the engine writes it (the other fields at their defaults), built without keyword
        parsing: the engine writes some thirty per process instance."""
        record = cls.__new__(cls)
        record.position = position
        record.source_position = source_position
        record.key = key
        record.timestamp = timestamp
        record.record_type = record_type
        record.value_type = value_type
        record.intent = intent
        record.value = value
        record.rejection_type = None
        record.rejection_reason = ""
        record.request_stream_id = -1
        record.request_id = -1
        record.partition_id = partition_id
        record.processed = False
        record.record_version = 1
        return record

    @property
    def is_command(self) -> bool:
        return self.record_type is RecordType.COMMAND

    @property
    def is_event(self) -> bool:
        return self.record_type is RecordType.EVENT

    @property
    def is_rejection(self) -> bool:
        return self.record_type is RecordType.COMMAND_REJECTION

    def to_dict(self) -> dict[str, Any]:
        """The record as Zeebe's JSON export shapes it (used by exporters and debugging)."""
        return {
            "partitionId": self.partition_id,
            "position": self.position,
            "sourceRecordPosition": self.source_position,
            "key": self.key,
            "timestamp": self.timestamp,
            "recordType": self.record_type.name,
            "valueType": self.value_type.name,
            "intent": self.intent.name,
            "recordVersion": self.record_version,
            "rejectionType": self.rejection_type.name if self.rejection_type is not None else "NULL_VAL",
            "rejectionReason": self.rejection_reason,
            "value": self.value,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        rejection = f" {self.rejection_type.name}: {self.rejection_reason!r}" if self.rejection_type is not None else ""
        return (
            f"Record(pos={self.position} {self.record_type.name} {self.value_type.name}.{self.intent.name}"
            f" key={self.key}{rejection} value={self.value!r})"
        )
