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
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from zeebe_trio.protocol import Record, RecordType, encode_batch
from zeebe_trio.state import StateStore, Transaction

from ._logstream import LogStream

log = logging.getLogger(__name__)

REPLAY_RECORDS_PER_TRANSACTION = 5000
COMMANDS_BETWEEN_CHECKPOINTS = 16


class ProcessingResult(Protocol):
    records: list[Record]
    effects: Any


class RecordProcessor(Protocol):
    """What the stream platform needs from an engine."""

    def bind(self, txn: Transaction) -> None: ...
    def last_processed_position(self) -> int: ...
    def last_written_position(self) -> int: ...
    def process(self, command: Record, now: int, first_position: int) -> ProcessingResult: ...
    def reject_after_failure(self, command: Record, now: int, first_position: int,
                             error: BaseException) -> ProcessingResult: ...
    def replay(self, events: list[Record], last_processed: int, last_written: int) -> None: ...
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
        self._effects_send, self._effects_receive = trio.open_memory_channel[tuple[int, Any]](256)

    # -- replay ------------------------------------------------------------------------------------

    def replay(self) -> None:
        """Apply every logged event the restored state has not seen, and find where processing stopped."""
        with self.store.read() as txn:
            self.processor.bind(txn)
            last_processed = self.processor.last_processed_position()
            last_written = snapshot_written = self.processor.last_written_position()
        inline: set[int] = set()  # follow-up commands processed in the batch that wrote them
        position = last_processed
        while records := self.log_stream.read_after(position, REPLAY_RECORDS_PER_TRANSACTION):
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
            if fresh:
                with self.store.transaction() as txn:
                    self.processor.bind(txn)
                    self.processor.replay(fresh, last_processed, last_written)
                self.replayed_events += sum(1 for r in fresh if r.record_type is RecordType.EVENT)
            position = records[-1].position
        self.last_processed_position = last_processed
        self._read_position = last_processed
        log.info("replayed %d events; last processed command %d, last written position %d",
                 self.replayed_events, last_processed, last_written)

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
                if record.record_type is not RecordType.COMMAND or record.processed \
                        or record.position <= self.last_processed_position:
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
                encoded = encode_batch(result.records) if result.records else b""
        except Exception as error:  # a bug or bad data: reject the command, keep the partition alive
            log.exception("processing %r failed; rejecting it", command)
            self.processor.discard_caches()
            with self.store.transaction() as txn:
                self.processor.bind(txn)
                result = self.processor.reject_after_failure(command, now, first_position, error)
                encoded = encode_batch(result.records)
        high = command.position
        if result.records:
            high = self.log_stream.append(result.records, encoded)
        self.last_processed_position = command.position
        self.processed_commands += 1
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

