"""An engine without a broker, for tests of the exact records it writes (Zeebe's ``EngineRule`` with
its ``RecordingExporter``).

``EngineHarness`` runs an ``Engine`` over a real state store in a temporary directory, with a clock of
its own and no log files, no fsync and no Trio. It writes client commands onto an in-memory log and
processes every unprocessed command in log order, as the stream processor does: the follow-up commands
a batch could not process (beyond ``MAX_COMMANDS_IN_BATCH``) wait on the log for their turn. Time moves
only when a test says so (``advance``), and then the commands the engine's checkers find due (job
timeouts, back-offs, message time-to-live: ``engine.CHECKERS``) are written and processed at the times they
fall due, as the stream platform's schedule service writes them.

A second engine replays the events of every batch; after each command its state must equal the
processing engine's (Zeebe's ``ContinuouslyReplayTest``), or the harness raises ``ReplayDiverged``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, SupportsIndex, overload

from zeebe_trio.engine import COLUMN_FAMILIES, Engine, EngineState, due_commands, next_due_time
from zeebe_trio.protocol import (
    DeploymentIntent,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    ValueType,
    VariableDocumentIntent,
)
from zeebe_trio.state import StateStore

ElementTuple = tuple[Intent, str, str]
"""(intent, bpmnElementType, elementId) of a process instance record."""

START_TIME = 1_700_000_000_000
REQUEST_STREAM = 1


class ReplayDiverged(AssertionError):
    """The replaying engine's state differs from the processing engine's after a command."""


class RecordStream(list[Record]):
    """Records in log order, with the filters of Zeebe's ``RecordingExporter`` streams."""

    @overload  # type: ignore[override]
    def __getitem__(self, index: SupportsIndex) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> RecordStream: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Record | RecordStream:
        if isinstance(index, slice):
            return RecordStream(super().__getitem__(index))
        return super().__getitem__(index)

    def filter(self, predicate: Callable[[Record], bool]) -> RecordStream:
        return RecordStream(r for r in self if predicate(r))

    def only_events(self) -> RecordStream:
        return self.filter(lambda r: r.record_type is RecordType.EVENT)

    def only_commands(self) -> RecordStream:
        return self.filter(lambda r: r.record_type is RecordType.COMMAND)

    def only_rejections(self) -> RecordStream:
        return self.filter(lambda r: r.record_type is RecordType.COMMAND_REJECTION)

    def with_value_type(self, value_type: ValueType) -> RecordStream:
        return self.filter(lambda r: r.value_type is value_type)

    def with_intent(self, intent: Intent) -> RecordStream:
        return self.filter(lambda r: r.intent is intent)

    def with_key(self, key: int) -> RecordStream:
        return self.filter(lambda r: r.key == key)

    def with_process_instance_key(self, process_instance_key: int) -> RecordStream:
        return self.filter(lambda r: r.value.get("processInstanceKey") == process_instance_key)

    def with_element_id(self, element_id: str) -> RecordStream:
        return self.filter(lambda r: r.value.get("elementId") == element_id)

    def process_instance_records(self, process_instance_key: int | None = None) -> RecordStream:
        stream = self.with_value_type(ValueType.PROCESS_INSTANCE)
        return stream if process_instance_key is None else stream.with_process_instance_key(process_instance_key)

    def jobs(self) -> RecordStream:
        return self.with_value_type(ValueType.JOB)

    def incidents(self) -> RecordStream:
        return self.with_value_type(ValueType.INCIDENT)

    def skip_until(self, predicate: Callable[[Record], bool]) -> RecordStream:
        for index, record in enumerate(self):
            if predicate(record):
                return RecordStream(list.__getitem__(self, slice(index, None)))
        return RecordStream()

    def limit(self, predicate: Callable[[Record], bool]) -> RecordStream:
        """Records up to and including the first that matches ``predicate`` (all if none does)."""
        for index, record in enumerate(self):
            if predicate(record):
                return RecordStream(list.__getitem__(self, slice(index + 1)))
        return RecordStream(self)

    def limit_to_process_instance_completed(self, process_instance_key: int) -> RecordStream:
        return self.limit(lambda r: _is_process_instance_end(r, process_instance_key, ProcessInstanceIntent.ELEMENT_COMPLETED))

    def limit_to_process_instance_terminated(self, process_instance_key: int) -> RecordStream:
        return self.limit(lambda r: _is_process_instance_end(r, process_instance_key, ProcessInstanceIntent.ELEMENT_TERMINATED))

    def element_tuples(self) -> list[ElementTuple]:
        """(intent, element type, element id) of each process instance record."""
        return [(r.intent, r.value.get("bpmnElementType", ""), r.value.get("elementId", ""))
                for r in self if r.value_type is ValueType.PROCESS_INSTANCE]

    def types_and_intents(self) -> list[tuple[ValueType, Intent]]:
        return [(r.value_type, r.intent) for r in self]


def _is_process_instance_end(record: Record, process_instance_key: int, intent: Intent) -> bool:
    return (record.value_type is ValueType.PROCESS_INSTANCE and record.key == process_instance_key
            and record.intent is intent and record.record_type is RecordType.EVENT)


class _Side:
    """One engine over its own state store."""

    def __init__(self, directory: Path, partition_id: int = 1, partition_count: int = 1) -> None:
        self.store = StateStore.open(directory, COLUMN_FAMILIES, map_size=64 << 20)
        self.state = EngineState(self.store, partition_id)
        self.engine = Engine(self.state, partition_count=partition_count)

    def dump(self) -> dict[str, Any]:
        with self.store.read() as txn:
            self.state.bind(txn)
            return self.state.dump()


class EngineHarness:
    """A processing engine, its replaying twin, an in-memory log and a clock, driven by client commands.

    Each client command returns the record the client would get as the response (or None when the
    answer comes later, as for create-with-result); every record written is in ``records()``.
    """

    def __init__(self, *, now: int = START_TIME, check_replay: bool = True, partition_id: int = 1,
                 partition_count: int = 1, send: Callable[[int, Record], None] | None = None) -> None:
        """``partition_id``/``partition_count``: this engine's place in a cluster of partitions; ``send``
        receives the commands it addresses to other partitions (``MultiPartitionHarness``); without it,
        every inter-partition command comes back to this partition's log."""
        self._tmp = tempfile.TemporaryDirectory(prefix="engine-harness-")
        root = Path(self._tmp.name)
        self.now = now
        self.check_replay = check_replay
        self.partition_id = partition_id
        self._send = send
        self._processing = _Side(root / "processing", partition_id, partition_count)
        self._replaying = _Side(root / "replaying", partition_id, partition_count) if check_replay else None
        self._log: list[Record] = []
        self._next_to_process = 0  # index into the log of the first record processing has not read
        self._next_request_id = 0
        self._responses: dict[int, Record] = {}

    # -- lifetime ----------------------------------------------------------------------------------

    def close(self) -> None:
        self._processing.store.close()
        if self._replaying is not None:
            self._replaying.store.close()
        self._tmp.cleanup()

    def __enter__(self) -> EngineHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._processing.engine

    @property
    def state(self) -> EngineState:
        """The processing engine's state; bind it with ``read()`` before use."""
        return self._processing.state

    @contextmanager
    def read(self) -> Iterator[EngineState]:
        """The processing engine's state, bound to a read transaction for the block."""
        with self._processing.store.read() as txn:
            self._processing.state.bind(txn)
            yield self._processing.state

    def dump_state(self) -> dict[str, Any]:
        return self._processing.dump()

    # -- the log -----------------------------------------------------------------------------------

    @property
    def last_position(self) -> int:
        return self._log[-1].position if self._log else 0

    def write(self, value_type: ValueType, intent: Intent, value: dict[str, Any] | None = None,
              key: int = -1) -> Record | None:
        """Write a client command, process it and everything it leads to; the client's response."""
        self._next_request_id += 1
        request_id = self._next_request_id
        self._append(Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent,
                            value=value or {}, key=key, request_id=request_id, request_stream_id=REQUEST_STREAM,
                            timestamp=self.now, partition_id=self.partition_id))
        self.process_log()
        return self._responses.pop(request_id, None)

    def _append(self, record: Record) -> None:
        record.position = self.last_position + 1
        self._log.append(record)

    def process_log(self) -> None:
        """Process every command on the log not processed yet, in log order (the processing loop)."""
        while self._next_to_process < len(self._log):
            record = self._log[self._next_to_process]
            self._next_to_process += 1
            if record.record_type is RecordType.COMMAND and not record.processed:
                self._process(record)

    def _process(self, command: Record) -> None:
        side = self._processing
        first_position = self.last_position + 1
        with side.store.transaction() as txn:
            side.state.bind(txn)
            batch = side.engine.process(command, self.now, first_position)
        assert not batch.records or batch.records[0].position == first_position
        self._log.extend(batch.records)
        # Inter-partition commands (message subscriptions): one partition, so they come back to this
        # log after the batch, as the local sender delivers them once the batch is durable.
        for receiver, sent in batch.effects.partition_commands:
            if self._send is not None and receiver != self.partition_id:
                self._send(receiver, sent)
                continue
            self.receive(sent)
        for stream_id, request_id, record in batch.effects.responses:
            if stream_id == REQUEST_STREAM:
                self._responses[request_id] = record
        if self._replaying is not None:
            self._replay(command, batch.records)

    def receive(self, command: Record) -> None:
        """Append a command another partition (or this one) sent, as the inter-partition sender does;
        it is processed with the rest of the log (``process_log``)."""
        self._append(Record(record_type=RecordType.COMMAND, value_type=command.value_type, intent=command.intent,
                            value=command.value, key=command.key, timestamp=self.now, partition_id=self.partition_id))

    def _replay(self, command: Record, records: list[Record]) -> None:
        """The follower's part: apply the new events exactly as the log holds them, then compare."""
        side = self._replaying
        assert side is not None
        with side.store.transaction() as txn:
            side.state.bind(txn)
            side.engine.replay([r for r in records if r.source_position >= 0], command.position,
                               records[-1].position if records else side.state.last_written_position)
        processed, replayed = self._processing.dump(), side.dump()
        if processed != replayed:
            differing = sorted(name for name in processed if processed[name] != replayed.get(name))
            raise ReplayDiverged(f"after the command at position {command.position} ({command.value_type.name}."
                                 f"{command.intent.name}) the replayed state differs in {differing}")

    # -- time --------------------------------------------------------------------------------------

    def advance(self, ms: int) -> None:
        """Let ``ms`` milliseconds pass; what falls due meanwhile is written and processed at its time."""
        target = self.now + ms
        while True:
            with self._processing.store.read() as txn:
                self._processing.state.bind(txn)
                due_at = next_due_time(self._processing.state)
            if due_at is None or due_at > target:
                break
            self.now = max(self.now, due_at)
            if not self.run_due():
                break
        self.now = target
        self.run_due()

    def run_due(self) -> int:
        """Write and process the commands due now (a check of the schedule service); how many."""
        with self._processing.store.read() as txn:
            self._processing.state.bind(txn)
            due = due_commands(self._processing.state, self.now)
        for value_type, intent, key, value in due:
            self._append(Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent,
                                value=value, key=key, timestamp=self.now, partition_id=self.partition_id))
        self.process_log()
        return len(due)

    # -- client commands ---------------------------------------------------------------------------

    def deploy(self, name: str, resource: bytes) -> Record | None:
        return self.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                          {"resources": [{"resourceName": name, "resource": resource}]})

    def create_instance(self, process_id: str, variables: dict[str, Any] | None = None, *,
                        version: int = -1) -> int:
        """Create an instance; its process instance key (AssertionError if the command was rejected)."""
        response = self.write(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                              {"bpmnProcessId": process_id, "version": version, "variables": variables or {}})
        assert response is not None and response.record_type is RecordType.EVENT, _rejected(response)
        return int(response.value["processInstanceKey"])

    def activate_jobs(self, job_type: str, max_jobs: int = 10, timeout_ms: int = 300_000,
                      worker: str = "test-worker") -> list[int]:
        """Activate jobs of ``job_type``; their keys."""
        response = self.write(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE,
                              {"type": job_type, "worker": worker, "timeout": timeout_ms,
                               "maxJobsToActivate": max_jobs})
        assert response is not None and response.record_type is RecordType.EVENT, _rejected(response)
        return list(response.value["jobKeys"])

    def complete_job(self, job_key: int, variables: dict[str, Any] | None = None) -> Record | None:
        return self.write(ValueType.JOB, JobIntent.COMPLETE, {"variables": variables or {}}, key=job_key)

    def fail_job(self, job_key: int, retries: int, error_message: str = "", backoff_ms: int = 0) -> Record | None:
        return self.write(ValueType.JOB, JobIntent.FAIL,
                          {"retries": retries, "errorMessage": error_message, "retryBackoff": backoff_ms}, key=job_key)

    def throw_error(self, job_key: int, error_code: str, error_message: str = "",
                    variables: dict[str, Any] | None = None) -> Record | None:
        return self.write(ValueType.JOB, JobIntent.THROW_ERROR,
                          {"errorCode": error_code, "errorMessage": error_message, "variables": variables or {}},
                          key=job_key)

    def update_retries(self, job_key: int, retries: int) -> Record | None:
        return self.write(ValueType.JOB, JobIntent.UPDATE_RETRIES, {"retries": retries}, key=job_key)

    def cancel(self, process_instance_key: int) -> Record | None:
        # As Zeebe's engine test client (ProcessInstanceClient.ExistingInstanceClient) writes it: the value
        # names the process instance too, so the command is among that instance's records.
        return self.write(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.CANCEL,
                          {"processInstanceKey": process_instance_key}, key=process_instance_key)

    def publish_message(self, name: str, correlation_key: str = "", *, time_to_live_ms: int = 0,
                        message_id: str = "", variables: dict[str, Any] | None = None) -> Record | None:
        return self.write(ValueType.MESSAGE, MessageIntent.PUBLISH,
                          {"name": name, "correlationKey": correlation_key, "timeToLive": time_to_live_ms,
                           "messageId": message_id, "variables": variables or {}})

    def set_variables(self, scope_key: int, variables: dict[str, Any], *, local: bool = False) -> Record | None:
        return self.write(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE,
                          {"scopeKey": scope_key, "variables": variables,
                           "updateSemantics": "LOCAL" if local else "PROPAGATE"})

    def resolve_incident(self, incident_key: int) -> Record | None:
        return self.write(ValueType.INCIDENT, IncidentIntent.RESOLVE, key=incident_key)

    # -- queries (Zeebe's RecordingExporter) -------------------------------------------------------

    def records(self) -> RecordStream:
        """Every record on the log so far, in order."""
        return RecordStream(self._log)

    def process_instance_records(self, process_instance_key: int) -> list[ElementTuple]:
        """(intent, element type, element id) of every process instance record (commands too) of the
        instance, in log order."""
        return self.records().process_instance_records(process_instance_key).element_tuples()

    def jobs(self, process_instance_key: int | None = None, intent: Intent | None = None) -> RecordStream:
        """Job records; of one instance, they include the commands sent for its jobs (by job key), as
        Zeebe's ``JobFailIncidentTest`` selects them."""
        return self._of_instance(self.records().jobs(), process_instance_key, intent)

    def incidents(self, process_instance_key: int | None = None, intent: Intent | None = None) -> RecordStream:
        """Incident records; of one instance, they include RESOLVE commands for its incidents."""
        return self._of_instance(self.records().incidents(), process_instance_key, intent)

    @staticmethod
    def _of_instance(stream: RecordStream, process_instance_key: int | None, intent: Intent | None) -> RecordStream:
        if process_instance_key is not None:
            keys = {r.key for r in stream if r.value.get("processInstanceKey") == process_instance_key}
            stream = stream.filter(lambda r: r.value.get("processInstanceKey") == process_instance_key
                                   or (r.key in keys and r.record_type is not RecordType.EVENT))
        return stream if intent is None else stream.with_intent(intent)


def _rejected(response: Record | None) -> str:
    if response is None:
        return "no response"
    return f"{response.record_type.name} {response.rejection_type}: {response.rejection_reason}"
