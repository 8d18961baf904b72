"""The engine's checker registry: each checker reads one kind of due date from state; the registry asks
them in order, within one limit (the schedule service in zeebe_trio.stream writes what they return)."""

from __future__ import annotations

from typing import Any

from zeebe_trio.engine import CHECKERS, Checker, ScheduledChecks, due_commands, next_due_time
from zeebe_trio.protocol import JobIntent, MessageIntent, ValueType
from zeebe_trio.testing import EngineHarness, one_task_bpmn


def _fixed(name: str, times: list[int], intent: JobIntent) -> Checker:
    """A checker over a list of due times (key = due time), ignoring state."""
    def due(state: Any, now: int, limit: int) -> list[Any]:
        return [(ValueType.JOB, intent, t, {}) for t in sorted(times) if t <= now][:limit]
    return Checker(name, lambda state: min(times, default=None), due)


def test_the_built_in_checkers_are_job_deadlines_back_offs_message_time_to_live_and_timers() -> None:
    assert [checker.name for checker in CHECKERS] == ["job deadlines", "job back-offs", "message time-to-live",
                                                      "timer due dates"]


def test_the_registry_asks_every_checker_within_one_limit_and_knows_the_earliest_due_time() -> None:
    checkers = (_fixed("a", [30, 10, 50], JobIntent.TIME_OUT), _fixed("b", [5, 20], JobIntent.RECUR_AFTER_BACKOFF),
                _fixed("empty", [], JobIntent.TIME_OUT))
    state: Any = None
    assert next_due_time(state, checkers) == 5
    assert [(c[1], c[2]) for c in due_commands(state, 30, checkers=checkers)] == [
        (JobIntent.TIME_OUT, 10), (JobIntent.TIME_OUT, 30), (JobIntent.RECUR_AFTER_BACKOFF, 5),
        (JobIntent.RECUR_AFTER_BACKOFF, 20)]
    assert [c[2] for c in due_commands(state, 30, limit=3, checkers=checkers)] == [10, 30, 5]
    assert next_due_time(state, checkers[2:]) is None


def test_job_deadlines_back_offs_and_message_ttl_fall_due_at_their_times() -> None:
    with EngineHarness() as harness:
        start = harness.now
        harness.deploy("p.bpmn", one_task_bpmn("p"))
        harness.create_instance("p")
        [job_key] = harness.activate_jobs("work", timeout_ms=10_000)
        message = harness.write(ValueType.MESSAGE, MessageIntent.PUBLISH,
                                {"name": "m", "correlationKey": "k", "timeToLive": 5_000, "variables": {}})
        assert message is not None
        with harness.read() as state:
            checks = ScheduledChecks(state)
            assert checks.next_due_time() == start + 5_000
            assert checks.due_commands(start + 4_999, 100) == []
            assert checks.due_commands(start + 10_000, 100) == [
                (ValueType.JOB, JobIntent.TIME_OUT, job_key, {}), (ValueType.MESSAGE, MessageIntent.EXPIRE, message.key, {})]
        harness.advance(10_000)  # both are processed; the job can be activated again
        [again] = harness.activate_jobs("work", timeout_ms=1_000)
        harness.fail_job(again, retries=2, backoff_ms=3_000)
        with harness.read() as state:
            assert next_due_time(state) == start + 13_000
            assert due_commands(state, start + 13_000) == [(ValueType.JOB, JobIntent.RECUR_AFTER_BACKOFF, job_key, {})]
