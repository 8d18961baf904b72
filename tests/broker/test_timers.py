"""Time-driven behaviour under trio's MockClock: job timeouts, retry back-off, message time-to-live.

The engine clock advances with trio's clock, so these run in milliseconds and assert virtual times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from zeebe_trio.gateway import BrokerError
from zeebe_trio.protocol import JobIntent, MessageIntent, ProcessInstanceCreationIntent, ValueType
from zeebe_trio.testing import one_task_bpmn, open_broker

SETTINGS = {"fsync_in_thread": False, "due_date_check_interval": 1.0}
EPSILON = 1e-6  # float arithmetic between trio seconds and engine milliseconds


async def _wait_for(broker, value_type, intent, key):  # type: ignore[no-untyped-def]
    """Wait until a record appears on the log; returns the virtual time when it was written."""
    await broker.wait_for_record(lambda r: r.value_type is value_type and r.intent is intent and r.key == key)
    return trio.current_time()


async def test_an_activated_job_times_out_and_can_be_activated_again(tmp_path: Path,
                                                                     autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        start = trio.current_time()
        [(job_key, job)] = await broker.activate("work", timeout_ms=10_000, worker="slow")
        assert await broker.activate("work") == []  # a competing worker gets nothing meanwhile
        timed_out_at = await _wait_for(broker, ValueType.JOB, JobIntent.TIMED_OUT, job_key)
        [(again, job2)] = await broker.activate("work", worker="fast")
        late = await broker.complete(job_key)  # the job is activated again, so completion still works
    assert again == job_key and job2["worker"] == "fast"
    # Due dates are scanned at least every second, and exactly at the next known deadline.
    assert timed_out_at - start == pytest.approx(10.0, abs=EPSILON)
    assert late.intent is JobIntent.COMPLETED


async def test_a_failed_job_with_back_off_is_activatable_only_after_the_back_off(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        [(job_key, _)] = await broker.activate("work")
        failed_at = trio.current_time()
        await broker.fail(job_key, retries=2, message="try later", backoff_ms=30_000)
        assert await broker.activate("work") == []
        recurred_at = await _wait_for(broker, ValueType.JOB, JobIntent.RECURRED_AFTER_BACKOFF, job_key)
        [(again, job)] = await broker.activate("work")
    assert again == job_key and job["retries"] == 2 and job["errorMessage"] == "try later"
    assert recurred_at - failed_at == pytest.approx(30.0, abs=EPSILON)


async def test_a_published_message_expires_after_its_time_to_live(tmp_path: Path,
                                                                  autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        start = trio.current_time()
        published = await broker.send(ValueType.MESSAGE, MessageIntent.PUBLISH,
                                      {"name": "paid", "correlationKey": "order-1", "timeToLive": 60_000,
                                       "messageId": "m-1", "variables": {"amount": 3}})
        duplicate = await broker.send(ValueType.MESSAGE, MessageIntent.PUBLISH,
                                      {"name": "paid", "correlationKey": "order-1", "timeToLive": 60_000,
                                       "messageId": "m-1"})
        expired_at = await _wait_for(broker, ValueType.MESSAGE, MessageIntent.EXPIRED, published.key)
        reuse = await broker.send(ValueType.MESSAGE, MessageIntent.PUBLISH,
                                  {"name": "paid", "correlationKey": "order-1", "timeToLive": 1000, "messageId": "m-1"})
    assert published.intent is MessageIntent.PUBLISHED
    assert duplicate.is_rejection and "m-1" in duplicate.rejection_reason
    assert expired_at - start == pytest.approx(60.0, abs=EPSILON)
    assert reuse.intent is MessageIntent.PUBLISHED  # the id is free again once the message expired


async def test_updating_the_timeout_of_an_activated_job_moves_its_deadline(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        start = trio.current_time()
        [(job_key, _)] = await broker.activate("work", timeout_ms=10_000)
        await trio.sleep(5)
        updated = await broker.send(ValueType.JOB, JobIntent.UPDATE_TIMEOUT, {"timeout": 60_000}, key=job_key)
        assert updated.intent is JobIntent.TIMEOUT_UPDATED
        timed_out_at = await _wait_for(broker, ValueType.JOB, JobIntent.TIMED_OUT, job_key)
        refused = await broker.send(ValueType.JOB, JobIntent.UPDATE_TIMEOUT, {"timeout": 1_000}, key=job_key)
    assert timed_out_at - start == pytest.approx(65.0, abs=EPSILON)  # 5 s in, then 60 s from the update
    assert refused.is_rejection and "is not active" in refused.rejection_reason


async def test_a_create_with_result_that_times_out_names_the_instance_it_created(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        start = trio.current_time()
        with pytest.raises(BrokerError) as timed_out:
            await broker.create_instance("p", with_result=True, timeout=20)
        gave_up_at = trio.current_time()
        [created] = [r for r in broker.records() if r.value_type is ValueType.PROCESS_INSTANCE_CREATION
                     and r.intent is ProcessInstanceCreationIntent.CREATED]
    assert timed_out.value.code == BrokerError.TIMEOUT
    assert timed_out.value.message == (
        f"Expected process instance {created.key} of 'p' (version 1), created by this request, to complete"
        " within 20 s, but it has not; the instance keeps running")
    assert gave_up_at - start == pytest.approx(20.0, abs=EPSILON)


async def test_a_job_timeout_shorter_than_the_check_interval_fires_at_its_deadline(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    # Activating the job brings the next due date nearer than the next check: processing wakes the
    # schedule service, which sleeps until the deadline instead of the interval.
    async with open_broker(tmp_path, **{**SETTINGS, "due_date_check_interval": 60.0}) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        await trio.sleep(7)
        start = trio.current_time()
        [(job_key, _)] = await broker.activate("work", timeout_ms=300)
        timed_out_at = await _wait_for(broker, ValueType.JOB, JobIntent.TIMED_OUT, job_key)
    assert timed_out_at - start == pytest.approx(0.3, abs=EPSILON)


async def test_a_paused_partition_writes_no_due_commands_until_it_resumes(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    # Scheduled work runs only while the stream processor processes (the partition pauses it while disk
    # space is low; a follower will never start it).
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await broker.create_instance("p")
        start = trio.current_time()
        [(job_key, _)] = await broker.activate("work", timeout_ms=10_000)
        broker.partition.processor.pause()
        await trio.sleep(60)
        time_outs = [r for r in broker.records() if r.value_type is ValueType.JOB and r.intent is JobIntent.TIME_OUT]
        broker.partition.processor.resume()
        timed_out_at = await _wait_for(broker, ValueType.JOB, JobIntent.TIMED_OUT, job_key)
    assert time_outs == []
    assert timed_out_at - start == pytest.approx(60.0, abs=EPSILON)
