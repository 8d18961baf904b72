"""The processing loop and the replay loop: the only async code on the record path.

On start the processor replays the events logged after the snapshot (applying them, writing
nothing), then processes every command above the last processed position, one state transaction
per command. The records a command produced are appended as one batch; its side effects (responses,
notifications, pushes) run only once that batch is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from zeebe_trio.protocol import Record, RecordType
from zeebe_trio.state import StateStore, Transaction

from ._logstream import LogStream

log = logging.getLogger(__name__)

REPLAY_RECORDS_PER_TRANSACTION = 5000
COMMANDS_BETWEEN_CHECKPOINTS = 16


class ProcessingResult(Protocol):
    records: list[Record]
    effects: Any
    processed_through: int


class RecordProcessor(Protocol):
    """What the stream platform needs from an engine."""

    def bind(self, txn: Transaction) -> None: ...
    def last_processed_position(self) -> int: ...
    def process(self, command: Record, now: int, first_position: int) -> ProcessingResult: ...
    def reject_after_failure(self, command: Record, now: int, first_position: int,
                             error: BaseException) -> ProcessingResult: ...
    def replay(self, records: list[Record]) -> None: ...
    def discard_caches(self) -> None: ...


class StreamProcessor:
    def __init__(self, log_stream: LogStream, store: StateStore, processor: RecordProcessor,
                 clock: Callable[[], int],
                 run_side_effects: Callable[[Any], Awaitable[None] | None]) -> None:
        self.log_stream = log_stream
        self.store = store
        self.processor = processor
        self.clock = clock
        self._run_side_effects = run_side_effects
        self.last_processed_position = -1
        self._read_position = -1
        self.processed_commands = 0
        self.replayed_events = 0
        self.processed = trio.Event()  # set after each batch; due-date checkers wait on it
        self._effects_send, self._effects_receive = trio.open_memory_channel[tuple[int, Any]](256)

    # -- replay ------------------------------------------------------------------------------------

    def replay(self) -> None:
        """Apply every logged event that the restored state has not seen yet."""
        with self.store.read() as txn:
            self.processor.bind(txn)
            snapshot_position = self.processor.last_processed_position()
        position = snapshot_position
        while True:
            records = self.log_stream.read_after(position, REPLAY_RECORDS_PER_TRANSACTION)
            if not records:
                break
            fresh = [r for r in records if r.record_type is RecordType.COMMAND or r.source_position > snapshot_position]
            with self.store.transaction() as txn:
                self.processor.bind(txn)
                self.processor.replay(fresh)
            self.replayed_events += sum(1 for r in fresh if r.record_type is RecordType.EVENT)
            position = records[-1].position
        with self.store.read() as txn:
            self.processor.bind(txn)
            self.last_processed_position = self.processor.last_processed_position()
        self._read_position = max(self.last_processed_position, snapshot_position)
        log.info("replayed %d events after snapshot position %d; last processed position %d",
                 self.replayed_events, snapshot_position, self.last_processed_position)

    # -- processing --------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.replay()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._side_effect_loop)
            task_status.started()
            await self._processing_loop()

    async def _processing_loop(self) -> None:
        stream = self.log_stream
        since_checkpoint = 0
        while True:
            await stream.appended.wait_until(self._read_position + 1)
            records = stream.read_after(self._read_position, 256)
            for record in records:
                self._read_position = record.position
                if record.record_type is not RecordType.COMMAND or record.position <= self.last_processed_position:
                    continue
                await self._process(record)
                since_checkpoint += 1
                if since_checkpoint >= COMMANDS_BETWEEN_CHECKPOINTS:
                    since_checkpoint = 0
                    await trio.lowlevel.checkpoint()

    async def _process(self, command: Record) -> None:
        now = self.clock()
        first_position = self.log_stream.last_position + 1
        try:
            with self.store.transaction() as txn:
                self.processor.bind(txn)
                result = self.processor.process(command, now, first_position)
        except Exception as error:  # a bug or bad data: reject the command, keep the partition alive
            log.exception("processing %r failed; rejecting it", command)
            self.processor.discard_caches()
            with self.store.transaction() as txn:
                self.processor.bind(txn)
                result = self.processor.reject_after_failure(command, now, first_position, error)
        high = command.position
        if result.records:
            high = self.log_stream.append(result.records)
        self.last_processed_position = result.processed_through
        self.processed_commands += 1
        self.processed.set()
        self.processed = trio.Event()
        if result.effects:
            await self._effects_send.send((high, result.effects))

    async def _side_effect_loop(self) -> None:
        committed = self.log_stream.committed
        async for position, effects in self._effects_receive:
            await committed.wait_until(position)
            outcome = self._run_side_effects(effects)
            if outcome is not None:
                await outcome

    def statistics(self) -> dict[str, int]:
        return {
            "last_processed_position": self.last_processed_position,
            "processed_commands": self.processed_commands,
            "replayed_events": self.replayed_events,
            "pending_side_effects": self._effects_receive.statistics().current_buffer_used,
        }

