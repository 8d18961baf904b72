"""The processing loop and the replay loop: the only async code on the record path.

On start the processor replays the events logged after the snapshot (applying them, writing
nothing), then processes every command above the last processed position, one state transaction
per command. The records a command produced are appended as one batch; its side effects (responses,
notifications, pushes) run only once that batch is durable.

Two positions describe how far the log was processed, both kept in state with every transaction:
``L``, the last command the loop processed in log order, and ``W``, the highest position processing
wrote. Client commands interleave with batches on the log, so both are needed: commands above ``L``
(except follow-ups flagged ``processed`` in the batch that wrote them) still need processing, and
events above ``W`` still need applying.

Failures. A command whose processing raises is rejected (``reject_after_failure``) and the partition goes
on. A command whose processing kills the process is rejected once the crash guard (``_guard.py``) has seen
it crash ``max_attempts`` times. The records a command produced are appended inside its state
transaction, so a full disk (ENOSPC when appending) rolls the command back and the processor waits and
tries it again, reporting itself ``stalled`` meanwhile; a state commit that fails after the append raises
``StateCommitError``: the log then holds what the state lacks, and only a restart (restore, replay) makes
them agree again. ``pause``/``resume`` stop and restart processing (the partition pauses it while disk
space is below its watermark, as Zeebe does).

Modes. A leader's processor (``StreamProcessorMode.PROCESSING``) replays, then processes; a follower's
(``REPLAY``) replays continuously, as records become durable, and never writes: no processing, no
scheduled work, no side effects.

Leader-only work. The schedule service (``_schedule.py``: job timeouts, back-offs, message TTL) runs in a
cancel scope of its own that is open exactly while the phase is PROCESSING: it starts after replay, stops
on ``pause`` and starts again on ``resume``; each processed command that wrote records wakes it, as it may
have brought a due date nearer. Commands a batch addresses to partitions (``partition_commands`` in its
side effects) go to the inter-partition sender (``_sender.py``) once the batch is durable, before the
batch's other side effects run.
"""

from __future__ import annotations

import bisect
import enum
import errno
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import trio

from zeebe_trio.log import LogClosedError
from zeebe_trio.protocol import Record, RecordType, RejectionType, encode_batch
from zeebe_trio.state import StateStore, Transaction

from ._guard import CrashGuard
from ._logstream import LogStream, Reservation

if TYPE_CHECKING:
    from ._schedule import ScheduleService
    from ._sender import InterPartitionSender

log = logging.getLogger(__name__)

REPLAY_RECORDS_PER_TRANSACTION = 5000
COMMANDS_BETWEEN_CHECKPOINTS = 16
DISK_FULL_RETRY_SECONDS = 1.0
"""How long processing waits before it tries a command again that a full disk stopped."""
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in DISK_FULL


class StreamProcessorPhase(enum.Enum):
    INITIAL = "initial"
    """Not running: not started yet, or stopped."""
    REPLAY = "replay"
    """Applying the logged events the restored state has not seen; nothing is written."""
    PROCESSING = "processing"
    """Processing commands; scheduled work runs."""
    PAUSED = "paused"
    """Processing and scheduled work stopped (``pause``) until ``resume``."""


class StreamProcessorMode(enum.Enum):
    PROCESSING = "processing"
    """The leader's: replay, then process commands and run the scheduled work."""
    REPLAY = "replay"
    """A follower's: replay continuously, as records become durable; never write, never schedule."""


class StateCommitError(RuntimeError):
    """The state transaction of a command failed to commit after its records were appended to the log:
    the log holds what the state lacks. The partition must restart (restore and replay)."""


class ProcessingCrashed(Exception):
    """The reason a command is rejected after it crashed the broker ``max_attempts`` times."""


class ProcessingResult(Protocol):
    records: list[Record]
    effects: Any


class BatchTooLarge(Exception):
    """The records one command produced are more bytes than a log entry may hold (``max_batch_bytes``):
    the command is rejected instead, with Zeebe's EXCEEDED_BATCH_RECORD_SIZE. ``rejection_type`` and
    ``rejection_reason`` tell ``reject_after_failure`` so."""

    rejection_type = RejectionType.EXCEEDED_BATCH_RECORD_SIZE

    def __init__(self, command: Record, size: int, limit: int) -> None:
        self.rejection_reason = (
            f"Expected to process command {command.value_type.name}.{command.intent.name}, but the records it"
            f" produced are {size} bytes, more than a batch may hold ({limit} bytes); send smaller variables"
            " or fewer at once")
        super().__init__(self.rejection_reason)


class RecordProcessor(Protocol):
    """What the stream platform needs from an engine. ``reject_after_failure`` rejects a command whose
    processing failed; an error with ``rejection_type`` and ``rejection_reason`` (``BatchTooLarge``)
    says which rejection to write."""

    def bind(self, txn: Transaction) -> None: ...
    def last_processed_position(self) -> int: ...
    def last_written_position(self) -> int: ...
    def process(self, command: Record, now: int, first_position: int) -> ProcessingResult: ...
    def reject_after_failure(self, command: Record, now: int, first_position: int,
                             error: BaseException) -> ProcessingResult: ...
    def replay(self, events: list[Record], last_processed: int, last_written: int) -> None: ...
    def skip_keys(self, count: int) -> None: ...
    def discard_caches(self) -> None: ...


class StreamProcessor:
    def __init__(self, log_stream: LogStream, store: StateStore, processor: RecordProcessor,
                 clock: Callable[[], int],
                 run_side_effects: Callable[[Any], Awaitable[None] | None],
                 crash_guard: CrashGuard | None = None, *, schedule: ScheduleService | None = None,
                 sender: InterPartitionSender | None = None,
                 mode: StreamProcessorMode = StreamProcessorMode.PROCESSING,
                 max_batch_bytes: int | None = None) -> None:
        self.log_stream = log_stream
        self.max_batch_bytes = max_batch_bytes
        """The most bytes one command's records may take (a Raft entry's limit); None: no limit."""
        self.store = store
        self.processor = processor
        self.clock = clock
        self._run_side_effects = run_side_effects
        self.crash_guard = crash_guard
        self.schedule = schedule
        """The leader-only scheduled work, run while the phase is PROCESSING."""
        self.sender = sender
        """Where the commands a batch addresses to partitions go once it is durable."""
        self.mode = mode
        self._replaying = False
        self._replayed_to = -1  # the log position replay has read up to
        self._running = False
        self._schedule_scope: trio.CancelScope | None = None
        self.partition_commands_failed = 0
        self.last_processed_position = -1
        self._read_position = -1
        self.processed_commands = 0
        self.replayed_events = 0
        self.rejected_after_crashes = 0
        self.stalled: str | None = None
        """Why processing cannot go on right now (a full disk), or None."""
        self.progressed_at = 0.0
        """``trio.current_time()`` when the processor last finished a command (or started)."""
        self._resumed = trio.Event()
        self._resumed.set()
        self._effects_send, self._effects_receive = trio.open_memory_channel[tuple[int, Any]](256)

    # -- replay ------------------------------------------------------------------------------------

    def replay(self) -> None:
        """Apply every logged event the restored state has not seen, and find where processing stopped."""
        self._replaying = True
        try:
            self._replay()
        finally:
            self._replaying = self.mode is StreamProcessorMode.REPLAY
        log.info("replayed %d events; last processed command %d", self.replayed_events, self.last_processed_position)

    def _replay(self) -> None:
        with self.store.read() as txn:
            self.processor.bind(txn)
            last_processed = self.processor.last_processed_position()
            last_written = snapshot_written = self.processor.last_written_position()
        inline: set[int] = set()  # follow-up commands processed in the batch that wrote them
        position = last_processed
        reservations: list[Reservation] = []
        applied: set[int] = set()
        while True:
            records = self.log_stream.read_after(position, REPLAY_RECORDS_PER_TRANSACTION, reservations)
            # A reservation the restored state reflects already (a later snapshot) is not applied again.
            marks = [r for r in reservations if r.position > snapshot_written and r.position not in applied]
            reservations.clear()
            if not records and not marks:
                break
            fresh = []
            for record in records:
                if record.processed:
                    inline.add(record.position)
                if record.source_position < 0 or record.position <= snapshot_written:
                    continue  # a client command, or a record the restored state already reflects
                fresh.append(record)
                last_written = max(last_written, record.position)
                if record.source_position not in inline:
                    last_processed = max(last_processed, record.source_position)
            if fresh or marks:
                with self.store.transaction() as txn:
                    self.processor.bind(txn)
                    last_written = self._replay_in_order(fresh, marks, last_processed, last_written)
                applied.update(mark.position for mark in marks)
                self.replayed_events += sum(1 for r in fresh if r.record_type is RecordType.EVENT)
            if not records:
                break
            position = records[-1].position
        self.last_processed_position = last_processed
        self._read_position = last_processed
        self._replayed_to = max(self._replayed_to, self.log_stream.last_position)

    def _replay_in_order(self, events: list[Record], marks: list[Reservation], last_processed: int,
                         last_written: int) -> int:
        """Apply ``events`` and skip the keys of each reservation at its place in the log; a reservation
        counts as written, so a later snapshot's state shows it was applied."""
        start = 0
        for mark in sorted(marks, key=lambda m: m.position):
            split = bisect.bisect_right(events, mark.position, lo=start, key=lambda r: r.position)
            self.processor.replay(events[start:split], last_processed, last_written)
            self.processor.skip_keys(mark.key_gap)
            last_written = max(last_written, mark.position)
            log.warning("the log was repaired here (positions up to %d are reserved; %d keys skipped): %s",
                        mark.position, mark.key_gap, mark.reason)
            start = split
        self.processor.replay(events[start:], last_processed, last_written)
        return last_written

    # -- processing --------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.replay()
        self.progressed_at = trio.current_time()
        if self.mode is StreamProcessorMode.REPLAY:
            task_status.started()
            try:
                await self._replay_continuously()
            finally:
                self._replaying = False
            return
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._side_effect_loop)
                self._running = True
                if self.schedule is not None:
                    nursery.start_soon(self._run_schedule_while_processing, self.schedule)
                task_status.started()
                await self._processing_loop()
        finally:
            self._running = False

    async def _replay_continuously(self) -> None:
        """A follower's loop: replay again whenever the durable position passes what replay has read.
        Replay reads up to the end of the log; on one node that is what is durable. A Raft follower's log
        may hold entries beyond the commit position, and the cluster work must bound replay by it."""
        while True:
            await self.log_stream.committed.wait_until(self._replayed_to + 1)
            self._replay()
            self.progressed_at = trio.current_time()
            await trio.lowlevel.checkpoint()

    @property
    def phase(self) -> StreamProcessorPhase:
        if self._replaying:
            return StreamProcessorPhase.REPLAY
        if not self._running:
            return StreamProcessorPhase.INITIAL
        return StreamProcessorPhase.PROCESSING if self._resumed.is_set() else StreamProcessorPhase.PAUSED

    async def _run_schedule_while_processing(self, schedule: ScheduleService) -> None:
        """The schedule service, in a cancel scope open exactly while processing runs (``pause`` cancels it)."""
        while True:
            await self._resumed.wait()
            with trio.CancelScope() as scope:
                self._schedule_scope = scope
                try:
                    await schedule.run(lambda: self.last_processed_position)
                finally:
                    self._schedule_scope = None

    def pause(self) -> None:
        """Stop processing before the next command (commands already on the log wait), and stop the
        scheduled work."""
        if self._resumed.is_set():
            self._resumed = trio.Event()
        if self._schedule_scope is not None:
            self._schedule_scope.cancel()

    def resume(self) -> None:
        self._resumed.set()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    @property
    def read_position(self) -> int:
        """How far the processing loop has read the log (every command up to here is processed)."""
        return self._read_position

    async def _processing_loop(self) -> None:
        stream = self.log_stream
        since_checkpoint = 0
        while True:
            await stream.appended.wait_until(self._read_position + 1)
            records = stream.read_after(self._read_position, 256)
            if not records:  # only positions a repair reserved: nothing to read up to the end
                self._read_position = max(self._read_position, stream.last_position)
                continue
            for record in records:
                if record.record_type is not RecordType.COMMAND or record.processed \
                        or record.position <= self.last_processed_position:
                    self._read_position = record.position
                    continue
                if not self._resumed.is_set():
                    await self._resumed.wait()
                await self._process(record)
                self._read_position = record.position
                since_checkpoint += 1
                if since_checkpoint >= COMMANDS_BETWEEN_CHECKPOINTS:
                    since_checkpoint = 0
                    await trio.lowlevel.checkpoint()

    async def _process(self, command: Record) -> None:
        # Once per command and run: a retry after a full disk is not a crash.
        attempts = self.crash_guard.begin(command.position) if self.crash_guard is not None else 1
        while True:
            try:
                high, effects = self._process_now(command, attempts)
                break
            except OSError as error:
                if not is_disk_full(error):
                    raise
                if self.stalled is None:
                    log.error("processing the command at position %d stopped: %s; it is tried again every %g s"
                              " (free disk space)", command.position, error, DISK_FULL_RETRY_SECONDS)
                self.stalled = f"processing stopped at position {command.position}: {error.strerror or error}"
                await trio.sleep(DISK_FULL_RETRY_SECONDS)
        if self.stalled is not None:
            log.warning("processing goes on (position %d)", command.position)
            self.stalled = None
        self.last_processed_position = command.position
        self.processed_commands += 1
        self.progressed_at = trio.current_time()
        if self.schedule is not None and high > command.position and getattr(effects, "due_dates_changed", True):
            self.schedule.state_changed()  # it may have brought a due date nearer
        # ``or``: a batch whose only side effect is a partition command (SideEffects' truth may not count them)
        if effects or getattr(effects, "partition_commands", None):
            await self._effects_send.send((high, effects))

    def _process_now(self, command: Record, attempts: int) -> tuple[int, Any]:
        """Process (or reject) one command and append its records, in one state transaction; returns the
        highest position written and the side effects. Raises OSError (ENOSPC) with nothing changed."""
        now = self.clock()
        first_position = self.log_stream.last_position + 1
        guard = self.crash_guard
        if guard is not None and guard.exhausted(attempts):
            reason = ProcessingCrashed(
                f"processing this command crashed the broker {attempts - 1} times; it is rejected so the"
                " partition can go on")
            log.error("the command at position %d (%s.%s, key %d) crashed the broker %d times while it was"
                      " processed; rejecting it so that the partition can go on (crash_guard_attempts)",
                      command.position, command.value_type.name, command.intent.name, command.key, attempts - 1)
            self.rejected_after_crashes += 1
            return self._transact(command, lambda: self.processor.reject_after_failure(
                command, now, first_position, reason))
        try:
            return self._transact(command, lambda: self.processor.process(command, now, first_position))
        except (OSError, StateCommitError, LogClosedError):
            raise  # storage failures: the command itself is fine
        except BatchTooLarge as error:  # nothing was written: the command is rejected instead
            log.warning("rejecting the command at position %d: %s", command.position, error)
            self.processor.discard_caches()
            oversized = error
            return self._transact(command, lambda: self.processor.reject_after_failure(
                command, now, first_position, oversized))
        except Exception as error:  # a bug or bad data: reject the command, keep the partition alive
            log.exception("processing %r failed; rejecting it", command)
            self.processor.discard_caches()
            failure = error
            return self._transact(command, lambda: self.processor.reject_after_failure(
                command, now, first_position, failure))

    def _transact(self, command: Record, produce: Callable[[], ProcessingResult]) -> tuple[int, Any]:
        high = command.position
        appended = False
        try:
            with self.store.transaction() as txn:
                self.processor.bind(txn)
                result = produce()
                if result.records:
                    encoded = encode_batch(result.records)
                    if self.max_batch_bytes is not None and len(encoded) > self.max_batch_bytes:
                        raise BatchTooLarge(command, len(encoded), self.max_batch_bytes)
                    high = self.log_stream.append(result.records, encoded)
                    appended = True
        except BaseException as error:
            if appended:  # only the commit can fail after the append
                raise StateCommitError(
                    f"the state of command {command.position} failed to commit after its records were appended"
                    f" ({type(error).__name__}: {error})") from error
            if isinstance(error, OSError):
                self.processor.discard_caches()
            raise
        return high, result.effects

    async def _side_effect_loop(self) -> None:
        committed = self.log_stream.committed
        async for position, effects in self._effects_receive:
            await committed.wait_until(position)
            for receiver, command in getattr(effects, "partition_commands", ()):
                await self._send_to_partition(receiver, command)
            outcome = self._run_side_effects(effects)
            if outcome is not None:
                await outcome

    async def _send_to_partition(self, receiver: int, command: Record) -> None:
        """Hand one command to the sender. Delivery is fire-and-forget, as in Zeebe, whose engine sends again
        what stays pending: a failure is logged and counted, never fatal to this partition."""
        if self.sender is None:
            self.partition_commands_failed += 1
            log.error("a batch sent %s.%s to partition %d, but this stream processor has no inter-partition"
                      " sender; dropped", command.value_type.name, command.intent.name, receiver)
            return
        try:
            await self.sender.send(receiver, command)
        except (LookupError, ValueError) as error:
            self.partition_commands_failed += 1
            log.error("could not send a command to partition %d: %s; dropped", receiver, error)
        except OSError as error:
            if not is_disk_full(error):
                raise
            self.partition_commands_failed += 1
            log.warning("could not send %s.%s to partition %d (%s); dropped",
                        command.value_type.name, command.intent.name, receiver, error)

    def statistics(self) -> dict[str, int]:
        return {
            "last_processed_position": self.last_processed_position,
            "processed_commands": self.processed_commands,
            "replayed_events": self.replayed_events,
            "rejected_after_crashes": self.rejected_after_crashes,
            "pending_side_effects": self._effects_receive.statistics().current_buffer_used,
            "partition_commands_failed": self.partition_commands_failed,
            **(self.schedule.statistics() if self.schedule is not None else {}),
        }

