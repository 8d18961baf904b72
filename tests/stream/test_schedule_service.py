"""The schedule service: due commands at their exact virtual times, only while the stream processor is
PROCESSING, never twice while one is pending (MockClock, a real file log and state store, a fake engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from zeebe_trio.broker._clock import EngineClock
from zeebe_trio.protocol import JobIntent
from zeebe_trio.state import StateStore
from zeebe_trio.stream import ScheduleService, StreamProcessor, StreamProcessorMode, StreamProcessorPhase

from ._fakes import EPOCH_MS, DueDates, FakeEngine, open_log, running_platform


async def test_a_due_command_is_written_and_processed_at_the_exact_virtual_time(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with running_platform(tmp_path, check_interval=1.0) as platform:
        start = trio.current_time()
        platform.due_dates.due[7] = platform.clock.now_ms() + 2_500
        await platform.log_stream.appended.wait_until(1)
        [command] = platform.commands(JobIntent.TIME_OUT)
        assert trio.current_time() - start == pytest.approx(2.5, abs=1e-9)
        assert command.key == 7 and command.timestamp == EPOCH_MS + 2_500
        await trio.sleep(10)
    assert [(at - start, c.key) for at, c in platform.engine.processed] == [(pytest.approx(2.5, abs=1e-9), 7)]
    assert platform.schedule.statistics()["scheduled_commands_written"] == 1


async def test_processing_that_brings_a_due_date_nearer_wakes_the_service_before_its_interval(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with running_platform(tmp_path, check_interval=60.0) as platform:
        start = trio.current_time()
        await trio.sleep(1)  # the service sleeps until its next check, 59 s away
        platform.due_dates.due[7] = platform.clock.now_ms() + 200  # what processing the next command does
        platform.append_command(JobIntent.UPDATE_TIMEOUT, 7)
        await platform.log_stream.appended.wait_until(3)  # the command, its event, then TIME_OUT
        [command] = platform.commands(JobIntent.TIME_OUT)
        assert trio.current_time() - start == pytest.approx(1.2, abs=1e-9)
        assert command.timestamp == EPOCH_MS + 1_200


async def test_a_command_written_but_not_processed_yet_is_not_written_again(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    log, log_stream = open_log(tmp_path)
    due_dates = DueDates()
    store = StateStore.restore(None, tmp_path / "runtime", ["x"])
    clock = EngineClock(EPOCH_MS)
    service = ScheduleService(log_stream, store, due_dates, clock, check_interval=1.0)
    processed = -1
    due_dates.due[7] = EPOCH_MS
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(service.run, lambda: processed)
            await trio.sleep(10.5)  # ten more checks: the command is pending all along
            [first] = log_stream.read_after(-1)
            processed = first.position  # processed, but the due date is still there (rejected, say)
            await trio.sleep(1)  # the next check writes it again
            nursery.cancel_scope.cancel()
        records = log_stream.read_after(-1)
    finally:
        store.close()
        log.close()
    assert [(r.intent, r.key, r.timestamp) for r in records] == [
        (JobIntent.TIME_OUT, 7, EPOCH_MS), (JobIntent.TIME_OUT, 7, EPOCH_MS + 11_000)]
    assert service.checks == 12 and service.statistics()["scheduled_commands_pending"] == 1


async def test_the_service_does_not_run_while_processing_is_paused(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with running_platform(tmp_path, check_interval=1.0) as platform:
        start = trio.current_time()
        assert platform.processor.phase is StreamProcessorPhase.PROCESSING
        await trio.sleep(0.5)
        platform.processor.pause()
        platform.due_dates.due[7] = platform.clock.now_ms() + 1_000
        await trio.testing.wait_all_tasks_blocked()
        assert platform.processor.phase is StreamProcessorPhase.PAUSED and not platform.schedule.running
        checks = platform.schedule.checks
        await trio.sleep(30)
        assert platform.commands(JobIntent.TIME_OUT) == [] and platform.schedule.checks == checks
        platform.processor.resume()
        await platform.log_stream.appended.wait_until(1)
        resumed_at = trio.current_time() - start
        await trio.sleep(1)
    assert resumed_at == pytest.approx(30.5, abs=1e-9)  # at once when processing resumes
    assert [c.key for _at, c in platform.engine.processed] == [7]


async def test_the_service_is_not_started_before_the_processor_has_replayed(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with running_platform(tmp_path, start_processor=False) as platform:
        platform.due_dates.due[7] = EPOCH_MS
        assert platform.processor.phase is StreamProcessorPhase.INITIAL
        await trio.sleep(5)
        assert not platform.schedule.running and platform.schedule.checks == 0
        assert platform.log_stream.last_position == 0


async def test_a_follower_replays_what_the_leader_writes_and_never_runs_scheduled_work(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with running_platform(tmp_path / "leader", check_interval=1.0) as leader:
        # The follower: its own state and due dates (the same ones, say), over the same log, replaying.
        follower_dates = DueDates()
        follower_engine = FakeEngine(follower_dates)
        store = StateStore.restore(None, tmp_path / "follower", ["x"])
        follower_schedule = ScheduleService(leader.log_stream, store, follower_dates, leader.clock)
        follower = StreamProcessor(leader.log_stream, store, follower_engine, leader.clock.now_ms,
                                   lambda effects: None, schedule=follower_schedule,
                                   mode=StreamProcessorMode.REPLAY)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(follower.run)
                start = trio.current_time()
                leader.due_dates.due[7] = follower_dates.due[7] = leader.clock.now_ms() + 3_000
                await trio.sleep(10)
                assert follower.phase is StreamProcessorPhase.REPLAY
                nursery.cancel_scope.cancel()
        finally:
            store.close()
        written = [(r.intent, r.key) for r in leader.log_stream.read_after(-1)]
        timed_out_at = [at - start for at, _c in leader.engine.processed]
    assert written == [(JobIntent.TIME_OUT, 7), (JobIntent.TIME_OUT, 7)]  # the leader's command and its event
    assert timed_out_at == [pytest.approx(3.0, abs=1e-9)]
    assert [(r.record_type.name, r.key) for r in follower_engine.replayed] == [("EVENT", 7)]
    assert follower_engine.processed == [] and follower_schedule.checks == 0 and not follower_schedule.running
    assert follower.phase is StreamProcessorPhase.INITIAL  # stopped
