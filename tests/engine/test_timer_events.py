"""Timer events: intermediate catch, boundary (interrupting, and non-interrupting cycles), timer start
events of processes and of event subprocesses, each checked record for record on the engine harness's
own clock (Zeebe's ``TimerCatchEventTest``, ``BoundaryEventTest``, ``TimerStartEventTest``,
``EventSubProcessTest``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    ErrorType,
    IncidentIntent,
    JobIntent,
    ProcessEventIntent,
    ProcessInstanceIntent,
    RecordType,
    TimerIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b

PI = ProcessInstanceIntent


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def timeline(harness: EngineHarness, since: int = 0) -> list[tuple[str, str, str]]:
    """(value type, intent, element id or target) of the records from position ``since`` on, for the
    value types a timer's life touches."""
    shown = {ValueType.PROCESS_INSTANCE, ValueType.TIMER, ValueType.PROCESS_EVENT, ValueType.JOB}
    rows = []
    for record in harness.records():
        if record.position < since or record.value_type not in shown:
            continue
        name = record.value.get("elementId") or record.value.get("targetElementId") or ""
        rows.append((record.value_type.name, record.intent.name, name))
    return rows


WAIT = b.process("wait", b.start(), b.flow("f1", "start", "timer"),
                 b.intermediate_catch("timer", b.timer_definition(duration="PT10S")), b.flow("f2", "timer", "end"),
                 b.end())


def test_an_intermediate_timer_is_created_when_the_event_activates_and_completes_it_when_due(
        harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait")
    created = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CREATED)[0]
    assert created.value["dueDate"] == harness.now + 10_000
    assert created.value["targetElementId"] == "timer" and created.value["repetitions"] == 1
    activated = harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED).with_element_id("timer")[0]
    assert created.position < activated.position  # subscribed before ELEMENT_ACTIVATED, as Zeebe does

    harness.advance(9_999)
    assert not harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.TRIGGER)
    mark = harness.last_position + 1
    harness.advance(1)
    assert timeline(harness, mark)[:8] == [
        ("TIMER", "TRIGGER", "timer"), ("TIMER", "TRIGGERED", "timer"),
        ("PROCESS_EVENT", "TRIGGERING", "timer"), ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "timer"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "timer"), ("PROCESS_EVENT", "TRIGGERED", "timer"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "timer"), ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
    ]
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_timer_of_an_instance_canceled_before_it_is_due_is_canceled_with_it(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait")
    harness.cancel(pik)
    assert [r.intent for r in harness.records().with_value_type(ValueType.TIMER)] == [TimerIntent.CREATED,
                                                                                      TimerIntent.CANCELED]
    harness.advance(60_000)
    assert not harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.TRIGGER)


def task_with_boundary(definition: str, *, interrupting: bool = True) -> bytes:
    return b.process(
        "guarded", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "work"),
        b.flow("f2", "task", "done"), b.end("done"),
        b.boundary("timeout", "task", definition, interrupting=interrupting), b.flow("f3", "timeout", "late"),
        b.end("late"))


def test_an_interrupting_boundary_timer_terminates_the_task_then_takes_its_own_path(harness: EngineHarness) -> None:
    harness.deploy("guarded.bpmn", task_with_boundary(b.timer_definition(duration="PT1M")))
    pik = harness.create_instance("guarded")
    timer = harness.records().with_value_type(ValueType.TIMER)[0]
    task_key = harness.records().only_events().with_element_id("task")[0].key
    assert timer.value["elementInstanceKey"] == task_key and timer.value["targetElementId"] == "timeout"
    mark = harness.last_position + 1
    harness.advance(60_000)
    assert timeline(harness, mark)[:13] == [
        ("TIMER", "TRIGGER", "timeout"), ("TIMER", "TRIGGERED", "timeout"),
        ("PROCESS_EVENT", "TRIGGERING", "timeout"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "task"), ("JOB", "CANCELED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "task"), ("PROCESS_EVENT", "TRIGGERED", "timeout"),
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "timeout"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "timeout"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "timeout"), ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "timeout"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "timeout"),
    ]
    completed = [r.value["elementId"] for r in harness.records().only_events().process_instance_records(pik)
                 .with_intent(PI.ELEMENT_COMPLETED)]
    assert completed == ["start", "timeout", "late", "guarded"]


def test_completing_the_task_first_cancels_its_boundary_timer(harness: EngineHarness) -> None:
    harness.deploy("guarded.bpmn", task_with_boundary(b.timer_definition(duration="PT1M")))
    pik = harness.create_instance("guarded")
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    intents = [r.intent for r in harness.records().with_value_type(ValueType.TIMER)]
    assert intents == [TimerIntent.CREATED, TimerIntent.CANCELED]
    canceled = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CANCELED)[0]
    task_completed = harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("task")[0]
    assert canceled.position < task_completed.position
    harness.advance(120_000)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert not harness.records().with_element_id("late")


def test_a_non_interrupting_cycle_fires_its_repetitions_while_the_task_goes_on(harness: EngineHarness) -> None:
    harness.deploy("guarded.bpmn", task_with_boundary(b.timer_definition(cycle="R3/PT10S"), interrupting=False))
    start = harness.now
    harness.create_instance("guarded")
    harness.advance(60_000)
    created = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CREATED)
    assert [(r.value["dueDate"] - start, r.value["repetitions"]) for r in created] == [
        (10_000, 3), (20_000, 2), (30_000, 1)]
    assert len(harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("late")) == 3
    assert not harness.records().with_element_id("task").with_intent(PI.ELEMENT_TERMINATING)
    [job] = harness.activate_jobs("work")
    assert harness.complete_job(job) is not None


def test_a_timer_start_event_creates_an_instance_at_each_repetition(harness: EngineHarness) -> None:
    ticking = b.process("ticking", b.start("tick", b.timer_definition(cycle="R2/PT1M")), b.flow("f", "tick", "end"),
                        b.end())
    harness.deploy("ticking.bpmn", ticking)
    start = harness.now
    harness.advance(5 * 60_000)
    created = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION)
    assert len(created) == 2
    triggered = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.TRIGGERED)
    assert [r.timestamp - start for r in triggered] == [60_000, 120_000]
    for creation in created:
        pik = creation.value["processInstanceKey"]
        started = [r.value["elementId"] for r in harness.records().only_events().process_instance_records(pik)
                   .with_intent(PI.ELEMENT_ACTIVATED)]
        assert started[:2] == ["ticking", "tick"]
        assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_new_version_replaces_the_timer_start_event_of_the_previous_one(harness: EngineHarness) -> None:
    first = b.process("ticking", b.start("tick", b.timer_definition(cycle="R/PT1M")), b.flow("f", "tick", "end"),
                      b.end())
    second = b.process("ticking", b.start("tick2", b.timer_definition(cycle="R/PT1M")),
                       b.flow("f", "tick2", "end"), b.end())
    harness.deploy("ticking.bpmn", first)
    harness.deploy("ticking.bpmn", second)
    timers = harness.records().with_value_type(ValueType.TIMER)
    assert [(r.intent, r.value["targetElementId"]) for r in timers] == [
        (TimerIntent.CREATED, "tick"), (TimerIntent.CANCELED, "tick"), (TimerIntent.CREATED, "tick2")]


def event_sub_process_model(*, interrupting: bool) -> bytes:
    return b.process(
        "watched", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "work"),
        b.flow("f2", "task", "end"), b.end(),
        b.sub_process("reminder", b.start("remind", b.timer_definition(duration="PT1H"), interrupting=interrupting),
                      b.flow("f3", "remind", "reminded"), b.end("reminded"), triggered_by_event=True))


def test_an_interrupting_timer_event_subprocess_terminates_the_process_children_and_completes_it(
        harness: EngineHarness) -> None:
    harness.deploy("watched.bpmn", event_sub_process_model(interrupting=True))
    pik = harness.create_instance("watched")
    harness.advance(3_600_000)
    events = [(r.intent, r.value["elementId"]) for r in harness.records().only_events().process_instance_records(pik)]
    after = events[events.index((PI.ELEMENT_TERMINATING, "task")):]
    assert after == [
        (PI.ELEMENT_TERMINATING, "task"), (PI.ELEMENT_TERMINATED, "task"),
        (PI.ELEMENT_ACTIVATING, "reminder"), (PI.ELEMENT_ACTIVATED, "reminder"),
        (PI.ELEMENT_ACTIVATING, "remind"), (PI.ELEMENT_ACTIVATED, "remind"), (PI.ELEMENT_COMPLETING, "remind"),
        (PI.ELEMENT_COMPLETED, "remind"), (PI.SEQUENCE_FLOW_TAKEN, "f3"), (PI.ELEMENT_ACTIVATING, "reminded"),
        (PI.ELEMENT_ACTIVATED, "reminded"), (PI.ELEMENT_COMPLETING, "reminded"), (PI.ELEMENT_COMPLETED, "reminded"),
        (PI.ELEMENT_COMPLETING, "reminder"), (PI.ELEMENT_COMPLETED, "reminder"),
        (PI.ELEMENT_COMPLETING, "watched"), (PI.ELEMENT_COMPLETED, "watched"),
    ]
    assert harness.records().only_events().with_value_type(ValueType.JOB).with_intent(JobIntent.CANCELED)


def test_a_non_interrupting_timer_event_subprocess_runs_beside_the_task(harness: EngineHarness) -> None:
    harness.deploy("watched.bpmn", event_sub_process_model(interrupting=False))
    pik = harness.create_instance("watched")
    harness.advance(3_600_000)
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("reminder")
    assert not harness.records().with_intent(PI.ELEMENT_TERMINATING)
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


FEEL_WAIT = b.process("feel_wait", b.start(), b.flow("f1", "start", "timer"),
                      b.intermediate_catch("timer", b.timer_definition(duration="=wait")), b.flow("f2", "timer", "end"),
                      b.end())


def test_a_timer_expression_is_evaluated_in_the_instance(harness: EngineHarness) -> None:
    harness.deploy("feel_wait.bpmn", FEEL_WAIT)
    harness.create_instance("feel_wait", {"wait": "PT5S"})
    created = harness.records().with_value_type(ValueType.TIMER)[0]
    assert created.value["dueDate"] == harness.now + 5_000


def test_a_timer_expression_without_a_duration_is_an_incident_resolved_by_setting_it(harness: EngineHarness) -> None:
    harness.deploy("feel_wait.bpmn", FEEL_WAIT)
    pik = harness.create_instance("feel_wait", {"wait": 5})
    [incident] = harness.incidents(pik).with_intent(IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.value
    assert incident.value["elementId"] == "timer"
    assert not harness.records().with_value_type(ValueType.TIMER)
    harness.set_variables(pik, {"wait": "PT2S"})
    harness.resolve_incident(incident.key)
    harness.advance(2_000)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert harness.records().only_events().with_value_type(ValueType.PROCESS_EVENT) \
        .with_intent(ProcessEventIntent.TRIGGERED)


def test_a_timer_trigger_for_a_timer_that_is_gone_is_rejected(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait")
    timer = harness.records().with_value_type(ValueType.TIMER)[0]
    harness.cancel(pik)
    response = harness.write(ValueType.TIMER, TimerIntent.TRIGGER, {}, key=timer.key)
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert "no such timer" in response.rejection_reason
