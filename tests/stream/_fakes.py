"""A stream platform over a real file log and state store, with a fake engine: due dates in a dict, and a
record processor that clears a due date when it processes the command for it (as the engine's processors
do) and can send commands to partitions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.broker._clock import EngineClock
from zeebe_trio.log import SegmentedLog
from zeebe_trio.protocol import Intent, JobIntent, Record, RecordType, ValueType
from zeebe_trio.state import StateStore, Transaction
from zeebe_trio.stream import InterPartitionSender, LogStream, ScheduleService, StreamProcessor

EPOCH_MS = 1_700_000_000_000


class DueDates:
    """``ScheduledWork`` over a dict: job key -> due time; each due one asks for JOB.TIME_OUT."""

    def __init__(self) -> None:
        self.due: dict[int, int] = {}
        self.reads = 0

    def bind(self, txn: Transaction) -> None:
        self.reads += 1

    def next_due_time(self) -> int | None:
        return min(self.due.values(), default=None)

    def due_commands(self, now: int, limit: int) -> list[tuple[ValueType, Intent, int, dict[str, Any]]]:
        due = sorted((t, key) for key, t in self.due.items() if t <= now)[:limit]
        return [(ValueType.JOB, JobIntent.TIME_OUT, key, {}) for _t, key in due]


@dataclass
class Effects:
    partition_commands: list[tuple[int, Record]] = field(default_factory=list)

    def __bool__(self) -> bool:  # as SideEffects may, not counting partition commands
        return False


@dataclass
class Result:
    records: list[Record]
    effects: Any


class FakeEngine:
    """Processes JOB.TIME_OUT by clearing the due date (unless told to ``keep_due``), and any command whose
    value holds ``send_to`` by sending a JOB.YIELD to that partition."""

    def __init__(self, due_dates: DueDates) -> None:
        self.due_dates = due_dates
        self.keep_due = False
        self.processed: list[tuple[float, Record]] = []
        self.replayed: list[Record] = []

    def bind(self, txn: Transaction) -> None:
        pass

    def last_processed_position(self) -> int:
        return -1

    def last_written_position(self) -> int:
        return -1

    def process(self, command: Record, now: int, first_position: int) -> Result:
        self.processed.append((trio.current_time(), command))
        effects = Effects()
        if command.intent is JobIntent.TIME_OUT and not self.keep_due:
            self.due_dates.due.pop(command.key, None)
        if "send_to" in command.value:
            effects.partition_commands.append((command.value["send_to"], Record(
                record_type=RecordType.COMMAND, value_type=ValueType.JOB, intent=JobIntent.YIELD, value={},
                key=command.key, timestamp=now, source_position=command.position)))
        event = Record(record_type=RecordType.EVENT, value_type=command.value_type, intent=command.intent,
                       value={}, key=command.key, position=first_position, source_position=command.position,
                       timestamp=now)
        return Result([event], effects)

    def reject_after_failure(self, command: Record, now: int, first_position: int, error: BaseException) -> Result:
        raise AssertionError(f"processing failed: {error!r}")

    def replay(self, events: list[Record], last_processed: int, last_written: int) -> None:
        self.replayed.extend(events)

    def skip_keys(self, count: int) -> None:
        pass

    def discard_caches(self) -> None:
        pass


@dataclass
class Platform:
    log_stream: LogStream
    store: StateStore
    clock: EngineClock
    due_dates: DueDates
    engine: FakeEngine
    schedule: ScheduleService
    processor: StreamProcessor

    def commands(self, intent: Intent) -> list[Record]:
        return [r for r in self.log_stream.read_after(-1, 10_000)
                if r.record_type is RecordType.COMMAND and r.intent is intent]

    def append_command(self, intent: Intent, key: int, value: dict[str, Any] | None = None) -> int:
        return self.log_stream.append([Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB, intent=intent,
                                              value=value or {}, key=key, timestamp=self.clock.now_ms())])


def open_log(directory: Path) -> tuple[SegmentedLog, LogStream]:
    log = SegmentedLog.open(directory / "log")
    return log, LogStream(log, partition_id=1)


@asynccontextmanager
async def running_platform(directory: Path, *, check_interval: float = 1.0,
                           sender: InterPartitionSender | None = None,
                           start_processor: bool = True) -> AsyncIterator[Platform]:
    log, log_stream = open_log(directory)
    store = StateStore.restore(None, directory / "runtime", ["x"])
    clock = EngineClock(EPOCH_MS)
    due_dates = DueDates()
    engine = FakeEngine(due_dates)
    schedule = ScheduleService(log_stream, store, due_dates, clock, check_interval=check_interval)
    processor = StreamProcessor(log_stream, store, engine, clock.now_ms, lambda effects: None, schedule=schedule,
                                sender=sender)
    platform = Platform(log_stream, store, clock, due_dates, engine, schedule, processor)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(log_stream.run_flusher, trio.CapacityLimiter(1), in_thread=False))
            if start_processor:
                await nursery.start(processor.run)
            yield platform
            nursery.cancel_scope.cancel()
    finally:
        store.close()
        log.close()
