"""The inter-partition sender: the local one appends to the receiver's own log, refuses partitions that do
not exist; the stream processor hands it a batch's partition commands once the batch is durable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio
import trio.testing

from zeebe_trio.protocol import JobIntent, Record, RecordType, ValueType
from zeebe_trio.stream import LocalPartitionSender, UnknownPartitionError

from ._fakes import open_log, running_platform


def _command(intent: JobIntent = JobIntent.YIELD, key: int = 5) -> Record:
    return Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB, intent=intent, value={"a": 1}, key=key,
                  timestamp=42, source_position=3)


async def test_a_command_sent_to_this_partition_is_appended_to_its_log_as_a_fresh_command(tmp_path: Path) -> None:
    log, log_stream = open_log(tmp_path)
    with log:
        sender = LocalPartitionSender({1: log_stream})
        await sender.send(1, _command())
        [record] = log_stream.read_after(-1)
    assert (record.record_type, record.intent, record.key, record.value, record.timestamp) == (
        RecordType.COMMAND, JobIntent.YIELD, 5, {"a": 1}, 42)
    assert record.position == 1 and record.partition_id == 1
    assert record.source_position == -1 and not record.processed  # processed in its own right
    assert sender.statistics() == {"partition_commands_sent": 1}


async def test_a_partition_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    log, log_stream = open_log(tmp_path)
    with log:
        sender = LocalPartitionSender({1: log_stream})
        with pytest.raises(UnknownPartitionError) as refused:
            await sender.send(2, _command())
        assert log_stream.last_position == 0
    assert str(refused.value) == ("Expected to send JOB.YIELD (key 5) to partition 2, but the partitions are [1]")


async def test_only_commands_within_the_size_limit_are_sent(tmp_path: Path) -> None:
    log, log_stream = open_log(tmp_path)
    with log:
        sender = LocalPartitionSender({1: log_stream}, max_command_bytes=200)
        event = _command()
        event.record_type = RecordType.EVENT
        with pytest.raises(ValueError, match="is a EVENT"):
            await sender.send(1, event)
        big = _command()
        big.value = {"a": "x" * 500}
        with pytest.raises(ValueError, match="of at most 200 bytes"):
            await sender.send(1, big)
        assert log_stream.last_position == 0


async def test_the_processor_sends_a_batchs_partition_commands_once_it_is_durable_and_processes_them(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    class Recording(LocalPartitionSender):
        async def send(self, receiver_partition_id: int, command: Record) -> None:
            durable = platform.log_stream.committed.value
            assert durable >= 2, "sent before the batch that produced it was durable"
            await super().send(receiver_partition_id, command)

    async with running_platform(tmp_path, start_processor=False) as platform:
        sender = Recording({1: platform.log_stream})
        platform.processor.sender = sender
        async with trio.open_nursery() as nursery:
            await nursery.start(platform.processor.run)
            platform.append_command(JobIntent.UPDATE_RETRIES, 9, {"send_to": 1})
            await platform.log_stream.appended.wait_until(4)  # the command, its event, the sent one, its event
            await trio.testing.wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()
        processed = [(c.intent, c.key) for _at, c in platform.engine.processed]
    assert processed == [(JobIntent.UPDATE_RETRIES, 9), (JobIntent.YIELD, 9)]
    assert sender.sent == 1


async def test_a_partition_command_the_sender_refuses_is_logged_and_processing_goes_on(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture) -> None:
    async with running_platform(tmp_path, start_processor=False) as platform:
        platform.processor.sender = LocalPartitionSender({1: platform.log_stream})
        async with trio.open_nursery() as nursery:
            await nursery.start(platform.processor.run)
            with caplog.at_level(logging.ERROR):
                platform.append_command(JobIntent.UPDATE_RETRIES, 9, {"send_to": 3})
                await platform.log_stream.committed.wait_until(2)
                await trio.testing.wait_all_tasks_blocked()
            platform.append_command(JobIntent.UPDATE_RETRIES, 10)
            await platform.log_stream.appended.wait_until(4)
            nursery.cancel_scope.cancel()
        processed = [(c.intent, c.key) for _at, c in platform.engine.processed]
    assert processed == [(JobIntent.UPDATE_RETRIES, 9), (JobIntent.UPDATE_RETRIES, 10)]
    assert platform.processor.statistics()["partition_commands_failed"] == 1
    assert "could not send a command to partition 3: Expected to send JOB.YIELD (key 9) to partition 3" in caplog.text
