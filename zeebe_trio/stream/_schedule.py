"""The schedule service: scheduled engine work, run only while the stream processor is PROCESSING.

Zeebe's ``ProcessingScheduleService`` runs the engine's checkers (job timeouts, back-offs, message
time-to-live, later BPMN timers) on the partition leader and writes the commands they find due; followers
replay and run nothing. Here the engine offers its checkers as a ``ScheduledWork`` (sync, deterministic,
reading state only), and ``ScheduleService.run`` is the Trio side: the stream processor runs it in a cancel
scope of its own that is open exactly while it processes (``StreamProcessor.pause`` closes it).

A check reads state in one read transaction, writes the due commands as one batch, and sleeps until the next
due time or ``check_interval`` seconds, whichever comes first. Processing a command may bring a due date
nearer (a job activated with a short timeout): the processor calls ``state_changed`` and the service looks
again at the next due time, without writing anything before it falls due. A command written but not
processed yet is not written again; one the processor processed without clearing its due date (it was
rejected, say) is written again at the next interval. A full disk is a warning: the check is tried again
after ``check_interval``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import trio

from zeebe_trio.protocol import Intent, Record, RecordType, ValueType
from zeebe_trio.state import StateStore, Transaction

from ._logstream import LogStream
from ._processor import is_disk_full

log = logging.getLogger(__name__)

DEFAULT_CHECK_INTERVAL = 1.0
MAX_COMMANDS_PER_CHECK = 1000
"""At most this many due commands are written in one batch; the rest follow at once, in the next check."""


class ScheduledWork(Protocol):
    """What the schedule service needs from an engine: its due work, read from state bound to a read
    transaction (``zeebe_trio.engine.ScheduledChecks``)."""

    def bind(self, txn: Transaction) -> None: ...
    def next_due_time(self) -> int | None: ...
    def due_commands(self, now: int, limit: int) -> Sequence[tuple[ValueType, Intent, int, dict[str, Any]]]: ...


class ScheduleClock(Protocol):
    """Engine time (epoch milliseconds) and the Trio time at which an engine time comes."""

    def now_ms(self) -> int: ...
    def trio_time_at(self, epoch_ms: int) -> float: ...


class ScheduleService:
    """Writes the commands the engine's checkers find due, while it runs (see the module docstring)."""

    def __init__(self, log_stream: LogStream, store: StateStore, work: ScheduledWork, clock: ScheduleClock, *,
                 check_interval: float = DEFAULT_CHECK_INTERVAL,
                 max_commands_per_check: int = MAX_COMMANDS_PER_CHECK) -> None:
        if check_interval <= 0:
            raise ValueError(f"check_interval must be positive, not {check_interval}")
        self.log_stream = log_stream
        self.store = store
        self.work = work
        self.clock = clock
        self.check_interval = check_interval
        self.max_commands_per_check = max_commands_per_check
        self._pending: dict[tuple[int, int, int], int] = {}  # (value type, intent, key) -> position written at
        self._changed = trio.Event()
        self.running = False
        self.checks = 0
        self.written_commands = 0
        self.write_failures = 0

    def state_changed(self) -> None:
        """Processing committed a transaction: a due date may have come nearer. Cheap; never blocks."""
        if not self._changed.is_set():
            self._changed.set()

    async def run(self, processed_position: Callable[[], int], *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Check, write and sleep until cancelled. ``processed_position`` says how far the stream processor
        has processed the log (a command written at or below it is no longer pending)."""
        self.running = True
        try:
            task_status.started()
            while True:
                now = self.clock.now_ms()
                next_due, more = self._check(now, processed_position())
                await self._sleep(now, trio.current_time() if more else self._wake_time(now, next_due))
        finally:
            self.running = False

    def _wake_time(self, checked_at: int, next_due: int | None) -> float:
        wake_at = trio.current_time() + self.check_interval
        if next_due is not None and next_due > checked_at:
            wake_at = min(wake_at, self.clock.trio_time_at(next_due))
        return wake_at

    async def _sleep(self, checked_at: int, wake_at: float) -> None:
        """Until ``wake_at``, or earlier when processing brings a due date nearer. A date due at or before
        ``checked_at`` was seen by that check already (written, pending, or left for the next interval)."""
        while True:
            with trio.move_on_at(wake_at):
                await self._changed.wait()
            if trio.current_time() >= wake_at:
                return
            self._changed = trio.Event()
            with self.store.read() as txn:
                self.work.bind(txn)
                next_due = self.work.next_due_time()
            if next_due is not None and next_due > checked_at:
                wake_at = min(wake_at, self.clock.trio_time_at(next_due))

    def _check(self, now: int, processed: int) -> tuple[int | None, bool]:
        """Write what is due at ``now``; the next due time, and whether the check hit its limit."""
        self.checks += 1
        self._pending = {k: p for k, p in self._pending.items() if p > processed}
        with self.store.read() as txn:
            self.work.bind(txn)
            due = self.work.due_commands(now, self.max_commands_per_check)
            next_due = self.work.next_due_time()
        commands = [Record(record_type=RecordType.COMMAND, value_type=value_type, intent=intent, value=value,
                           key=key, timestamp=now)
                    for value_type, intent, key, value in due
                    if (int(value_type), int(intent), key) not in self._pending]
        if not commands:
            return next_due, False
        try:
            high = self.log_stream.append(commands)
        except OSError as error:
            if not is_disk_full(error):
                raise
            self.write_failures += 1
            log.warning("partition %d: could not write %d due commands (%s); trying again in %g s",
                        self.log_stream.partition_id, len(commands), error, self.check_interval)
            return next_due, False
        for command in commands:
            self._pending[(int(command.value_type), int(command.intent), command.key)] = high
        self.written_commands += len(commands)
        return next_due, len(due) >= self.max_commands_per_check

    def statistics(self) -> dict[str, int]:
        return {"scheduled_checks": self.checks, "scheduled_commands_written": self.written_commands,
                "scheduled_commands_pending": len(self._pending), "scheduled_write_failures": self.write_failures}
