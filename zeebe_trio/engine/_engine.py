"""The engine: commands in, events or rejections out.

``Engine.process`` handles one command from the log in the caller's state transaction. Follow-up
commands it writes are processed in the same batch (up to ``MAX_COMMANDS_IN_BATCH``, like Zeebe's
batch processing); the rest wait on the log. Writing an event and applying it to state is one call
(``Batch.event``), and ``Engine.replay`` applies logged events with the very same appliers.

Side effects (client responses, jobs-available notifications, job pushes) are collected on the batch
and run by the stream processor only after the batch is durable.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zeebe_trio.protocol import Intent, Record, RecordType, RejectionType, ValueType, excerpt

from ._state import EngineState

log = logging.getLogger(__name__)

MAX_COMMANDS_IN_BATCH = 100
# Element instances (and sequence flows on their way) one flow scope may hold at once. A process that
# multiplies its tokens without end (a parallel fork looping back through an exclusive merge) would
# otherwise fill the log without bound and bury every other command behind its own.
DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE = 10_000

Processor = Callable[["Batch", Record], None]
Applier = Callable[[EngineState, Record], None]


@dataclass(frozen=True, slots=True)
class JobStream:
    """A worker's open job stream, as the engine sees it when it may push a job."""

    stream_id: int
    worker: str
    timeout_ms: int
    fetch_variables: tuple[str, ...]


class JobStreams:
    """Which job streams are open (filled in by the broker; the engine only reads it).

    Whether a stream exists influences processing, but the outcome (a JOB_BATCH ACTIVATED event) is
    on the log, so replay stays deterministic.
    """

    def stream_for(self, job_type: str) -> JobStream | None:
        return None


@dataclass
class SideEffects:
    responses: list[tuple[int, int, Record]] = field(default_factory=list)
    # (request stream id, request id, record): what a command created whose client waits for a later
    # response (create-with-result), so that a request timeout can still name it.
    accepted: list[tuple[int, int, Record]] = field(default_factory=list)
    jobs_available: set[str] = field(default_factory=set)
    job_pushes: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # (stream id, job key, job)

    def __bool__(self) -> bool:
        return bool(self.responses or self.accepted or self.jobs_available or self.job_pushes)


class Batch:
    """The records one command (and its inline follow-ups) produce, with their side effects."""

    def __init__(self, engine: Engine, now: int, first_position: int) -> None:
        self.engine = engine
        self.state = engine.state
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
        record = Record(
            record_type=record_type,
            value_type=value_type,
            intent=intent,
            key=key,
            value=value,
            position=self._next_position,
            source_position=self._source,
            timestamp=self.now,
            partition_id=self.engine.partition_id,
        )
        self._next_position += 1
        self.records.append(record)
        return record

    def event(self, value_type: ValueType, intent: Intent, key: int, value: dict[str, Any], *,
              request_of: Record | None = None) -> Record:
        """Write an event and apply it to state: the one way state changes.

        ``request_of`` copies a command's request ids onto the event, for appliers that must remember
        a waiting client (create-with-result)."""
        record = self._append(RecordType.EVENT, value_type, intent, key, value)
        if request_of is not None:
            record.request_id = request_of.request_id
            record.request_stream_id = request_of.request_stream_id
        self.engine.apply(record)
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

    def next_key(self) -> int:
        return self.state.next_key()

    def run(self, command: Record) -> None:
        """Process ``command`` and the follow-up commands it causes, up to the batch limit."""
        self._process_one(command)
        processed = 1
        while self.pending and processed < MAX_COMMANDS_IN_BATCH:
            follow_up = self.pending.popleft()
            follow_up.processed = True  # written in this batch and processed here: never again
            self._process_one(follow_up)
            processed += 1

    def _process_one(self, command: Record) -> None:
        self._source = command.position
        processor = self.engine.processors.get((command.value_type, int(command.intent)))
        if processor is None:
            self.reject(command, RejectionType.INVALID_ARGUMENT,
                        f"Expected a command this engine can process, but {command.value_type.name}."
                        f"{command.intent.name} has no processor")
            return
        processor(self, command)


class Engine:
    """Processors and appliers of one partition, over its state.

    ``monotonic`` is a clock in seconds (the broker passes ``time.monotonic``) for the time budget of
    each FEEL evaluation; without it only the step and size budgets apply. It never decides a value,
    only whether an evaluation gives up; giving up is an incident on the log, and replay applies that
    event without evaluating again (``engine.feel._budget``).
    """

    def __init__(self, state: EngineState, *, job_streams: JobStreams | None = None,
                 monotonic: Callable[[], float] | None = None,
                 max_element_instances_per_scope: int = DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE) -> None:
        from . import _appliers, _processors  # registration tables

        self.state = state
        self.partition_id = state.partition_id
        self.job_streams = job_streams or JobStreams()
        self.monotonic = monotonic
        # Configuration, like the processors: the decisions it leads to are records on the log, so
        # replay never consults it.
        self.max_element_instances_per_scope = max_element_instances_per_scope
        self.processors: dict[tuple[ValueType, int], Processor] = {
            (vt, int(intent)): fn for (vt, intent), fn in _processors.PROCESSORS.items()
        }
        self.appliers: dict[tuple[ValueType, int], Applier] = {
            (vt, int(intent)): fn for (vt, intent), fn in _appliers.APPLIERS.items()
        }
        from ._processes import ProcessCache

        self.processes = ProcessCache(state)
        state.processes = self.processes

    # -- the stream platform's RecordProcessor interface -------------------------------------------

    def bind(self, txn: Any) -> None:
        self.state.bind(txn)

    def last_processed_position(self) -> int:
        return self.state.last_processed_position

    def discard_caches(self) -> None:
        """After a failed transaction: drop derived data that may describe rolled-back state."""
        self.processes.clear()

    def apply(self, record: Record) -> None:
        applier = self.appliers.get((record.value_type, int(record.intent)))
        if applier is not None:
            applier(self.state, record)

    def process(self, command: Record, now: int, first_position: int) -> Batch:
        """Process one command from the log (within the caller's transaction)."""
        self.state.load_key()
        batch = Batch(self, now, first_position)
        batch.run(command)
        self._save_positions(command.position, batch)
        return batch

    def reject_after_failure(self, command: Record, now: int, first_position: int, error: BaseException) -> Batch:
        """The batch for a command whose processing raised: a PROCESSING_ERROR rejection only."""
        self.state.load_key()
        batch = Batch(self, now, first_position)
        batch._source = command.position
        batch.reject(command, RejectionType.PROCESSING_ERROR,
                     f"Expected to process command {command.value_type.name}.{command.intent.name}, but an"
                     f" unexpected error occurred: {type(error).__name__}: {excerpt(str(error), 500)}")
        self._save_positions(command.position, batch)
        return batch

    def _save_positions(self, command_position: int, batch: Batch) -> None:
        self.state.set_last_processed_position(command_position)
        if batch.records:
            self.state.set_last_written_position(batch.records[-1].position)
        self.state.save_key()

    def last_written_position(self) -> int:
        return self.state.last_written_position

    def skip_keys(self, count: int) -> None:
        """Never issue the next ``count`` keys (within the caller's transaction): a repaired log lost
        records that may have issued them."""
        self.state.load_key()
        if count > 0:
            self.state.observe_key(self.state.next_key() + count - 1)
        self.state.save_key()

    def replay(self, events: list[Record], last_processed: int, last_written: int) -> None:
        """Apply logged events (within the caller's transaction) and record how far the log was
        processed; never writes to the log."""
        self.state.load_key()
        for record in events:
            self.state.observe_key(record.key)
            if record.record_type is RecordType.EVENT:
                self.apply(record)
        self.state.set_last_processed_position(last_processed)
        self.state.set_last_written_position(last_written)
        self.state.save_key()
