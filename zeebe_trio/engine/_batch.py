"""A batch: the records one command (and its inline follow-ups) produce, and their side effects.

Writing an event and applying it to state is one call (``Batch.event``). Follow-up commands are
processed in the same batch (up to ``MAX_COMMANDS_IN_BATCH``, like Zeebe's batch processing); the
rest wait on the log. Side effects (client responses, jobs-available notifications, job pushes,
commands for other partitions) are collected here and run by the stream processor only after the
batch is durable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zeebe_trio.protocol import (
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    Record,
    RecordType,
    RejectionType,
    TimerIntent,
    ValueType,
)

from .state import EngineStateView

__all__ = ["MAX_COMMANDS_IN_BATCH", "Batch", "Processor", "SideEffects"]

MAX_COMMANDS_IN_BATCH = 100

Processor = Callable[["Batch", Record], None]

# The events that bring a due date into state (engine._scheduled's checkers read them).
_DUE_DATE_EVENTS = frozenset({
    (ValueType.JOB_BATCH, int(JobBatchIntent.ACTIVATED)), (ValueType.JOB, int(JobIntent.FAILED)),
    (ValueType.JOB, int(JobIntent.TIMEOUT_UPDATED)), (ValueType.TIMER, int(TimerIntent.CREATED)),
    (ValueType.MESSAGE, int(MessageIntent.PUBLISHED)),
})
_DUE_DATE_VALUE_TYPES = frozenset(value_type for value_type, _intent in _DUE_DATE_EVENTS)


@dataclass
class SideEffects:
    responses: list[tuple[int, int, Record]] = field(default_factory=list)
    # (request stream id, request id, record): what a command created whose client waits for a later
    # response (create-with-result), so that a request timeout can still name it.
    accepted: list[tuple[int, int, Record]] = field(default_factory=list)
    jobs_available: set[str] = field(default_factory=set)
    job_pushes: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # (stream id, job key, job)
    # (receiver partition id, command): for the inter-partition sender, after the batch is durable.
    partition_commands: list[tuple[int, Record]] = field(default_factory=list)
    # Whether the batch wrote a due date that may be nearer than any before it (a job's deadline or
    # back-off, a timer, a message's time to live): the leader's schedule service looks again.
    due_dates_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.responses or self.accepted or self.jobs_available or self.job_pushes
                    or self.partition_commands)


class Batch:
    """The records one command (and its inline follow-ups) produce, with their side effects."""

    def __init__(self, state: EngineStateView, apply: Callable[[Record], None], partition_id: int, now: int,
                 first_position: int, next_key: Callable[[], int],
                 processors: Callable[[ValueType, int], Processor | None],
                 follow_up_processors: Callable[[ValueType, int], Processor | None] | None = None,
                 appliers: Mapping[tuple[ValueType, int, int], Callable[[Any, Record], None]] | None = None) -> None:
        self.state = state
        self._apply = apply
        # The applier table itself, when the caller has it (``EventAppliers.table``): ``event`` calls the
        # event's applier with the state directly, one call instead of two on the hottest path; an
        # event it lacks goes to ``apply``, which says so.
        self._appliers = appliers if appliers is not None else {}
        #: the partition's key generator: ``batch.next_key()`` is the key of a new entity
        self.next_key: Callable[[], int] = next_key
        self._processors = processors
        self._follow_up_processors = follow_up_processors or processors
        self.partition_id = partition_id
        self.now = now
        self.records: list[Record] = []
        self.effects = SideEffects()
        self._next_position = first_position
        self._source = -1
        self.pending: deque[Record] = deque()

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now / 1000, tz=UTC)

    def _append(self, record_type: RecordType, value_type: ValueType, intent: Intent, key: int,
                value: dict[str, Any]) -> Record:
        record = Record.written(record_type, value_type, intent, key, value, self._next_position, self._source,
                                self.now, self.partition_id)
        self._next_position += 1
        self.records.append(record)
        return record

    def event(self, value_type: ValueType, intent: Intent, key: int, value: dict[str, Any], *,
              request_of: Record | None = None, version: int = 1) -> Record:
        """Write an event and apply it to state: the one way state changes.

        ``request_of`` copies a command's request ids onto the event, for appliers that must remember
        a waiting client (create-with-result). ``version`` is the record version: an event whose
        applier changed meaning gets a new one, and the old applier stays for the log written before."""
        # ``_append`` written out: events are most of what the engine writes (some 24 per process instance)
        record = Record.written(RecordType.EVENT, value_type, intent, key, value, self._next_position, self._source,
                                self.now, self.partition_id)
        self._next_position += 1
        self.records.append(record)
        if version != 1:
            record.record_version = version
        # an IntEnum hashes and compares as its int; most events are of no due-date value type
        if value_type in _DUE_DATE_VALUE_TYPES and (value_type, intent) in _DUE_DATE_EVENTS:
            self.effects.due_dates_changed = True
        if request_of is not None:
            record.request_id = request_of.request_id
            record.request_stream_id = request_of.request_stream_id
        applier = self._appliers.get((value_type, intent, version))
        if applier is not None:
            applier(self.state, record)
        else:
            self._apply(record)
        return record

    def command(self, value_type: ValueType, intent: Intent, key: int, value: dict[str, Any]) -> Record:
        """Write a follow-up command; it is processed later in this batch or from the log."""
        record = self._append(RecordType.COMMAND, value_type, intent, key, value)
        self.pending.append(record)
        return record

    def reject(self, command: Record, rejection_type: RejectionType, reason: str) -> Record:
        record = self._append(RecordType.COMMAND_REJECTION, command.value_type, command.intent, command.key,
                              command.value)
        record.rejection_type = rejection_type
        record.rejection_reason = reason
        self.respond(command, record)
        return record

    def respond(self, command: Record, record: Record) -> None:
        if command.request_id >= 0:
            self.effects.responses.append((command.request_stream_id, command.request_id, record))

    def respond_to(self, request_stream_id: int, request_id: int, record: Record) -> None:
        self.effects.responses.append((request_stream_id, request_id, record))

    def accept(self, command: Record, record: Record) -> None:
        """Tell the client of ``command`` what it created, ahead of the response it waits for."""
        if command.request_id >= 0:
            self.effects.accepted.append((command.request_stream_id, command.request_id, record))

    def notify_jobs_available(self, job_type: str) -> None:
        self.effects.jobs_available.add(job_type)

    def send_to_partition(self, partition_id: int, value_type: ValueType, intent: Intent, key: int,
                          value: dict[str, Any]) -> None:
        """Send a command to a partition (this one included) through the inter-partition sender, once
        this batch is durable: how subscriptions and distributions cross partitions."""
        command = Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent, key=key,
                         value=value, partition_id=partition_id)
        self.effects.partition_commands.append((partition_id, command))

    def run(self, command: Record) -> None:
        """Process ``command`` and the follow-up commands it causes, up to the batch limit."""
        self._process_one(command, self._processors)
        processed = 1
        while self.pending and processed < MAX_COMMANDS_IN_BATCH:
            follow_up = self.pending.popleft()
            follow_up.processed = True  # written in this batch and processed here: never again
            self._process_one(follow_up, self._follow_up_processors)
            processed += 1

    def _process_one(self, command: Record, processors: Callable[[ValueType, int], Processor | None]) -> None:
        self._source = command.position
        processor = processors(command.value_type, command.intent)
        if processor is None:
            self.reject(command, RejectionType.INVALID_ARGUMENT,
                        f"Expected a command this engine can process, but {command.value_type.name}."
                        f"{command.intent.name} has no processor")
            return
        processor(self, command)
