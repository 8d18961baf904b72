"""Signal events: intermediate catch, boundary (interrupting and not), event subprocess and process start
events subscribe; a broadcast (from a client or a signal throw/end event) triggers every subscription of
its name with the signal's variables, checked record for record (Zeebe's ``SignalEventTest``,
``SignalStartEventTest``, ``BroadcastSignalTest``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    ErrorType,
    IncidentIntent,
    ProcessInstanceIntent,
    RecordType,
    RejectionType,
    SignalIntent,
    SignalSubscriptionIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s

PI = ProcessInstanceIntent
SHOWN = {ValueType.PROCESS_INSTANCE, ValueType.SIGNAL, ValueType.SIGNAL_SUBSCRIPTION, ValueType.PROCESS_EVENT,
         ValueType.PROCESS_INSTANCE_CREATION}
ALERT = s.signal("sig", "alert")


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def timeline(harness: EngineHarness, since: int = 0) -> list[tuple[str, str, str]]:
    rows = []
    for record in harness.records():
        if record.position < since or record.value_type not in SHOWN:
            continue
        v = record.value
        name = v.get("elementId") or v.get("catchEventId") or v.get("targetElementId") or v.get("signalName") \
            or v.get("bpmnProcessId") or ""
        rows.append((record.value_type.name, record.intent.name, name))
    return rows


def broadcast(harness: EngineHarness, name: str = "alert", variables: dict[str, Any] | None = None) -> Any:
    return harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": name, "variables": variables or {}})


def variable(harness: EngineHarness, pik: int, name: str) -> Any:
    """The last value written to the variable ``name`` of the process instance's own scope."""
    written = harness.records().with_value_type(ValueType.VARIABLE).filter(
        lambda r: r.value["name"] == name and r.value["scopeKey"] == pik)
    return json.loads(written[-1].value["value"]) if written else None


CATCH = b.process("catch", b.start(), b.flow("f1", "start", "wait"),
                  b.intermediate_catch("wait", b.signal_definition("sig")), b.flow("f2", "wait", "end"), b.end(),
                  definitions=ALERT)


def test_an_intermediate_signal_catch_event_subscribes_and_a_broadcast_completes_it_with_the_variables(
        harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", CATCH)
    pik = harness.create_instance("catch")
    created = harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0]
    assert created.intent is SignalSubscriptionIntent.CREATED
    assert created.value == {"signalName": "alert", "processDefinitionKey": created.value["processDefinitionKey"],
                             "bpmnProcessId": "catch", "catchEventId": "wait",
                             "catchEventInstanceKey": created.value["catchEventInstanceKey"], "tenantId": "<default>"}
    mark = harness.last_position + 1
    response = broadcast(harness, variables={"x": 1})
    assert response is not None and response.intent is SignalIntent.BROADCASTED
    assert timeline(harness, mark)[:9] == [
        ("SIGNAL", "BROADCAST", "alert"), ("SIGNAL", "BROADCASTED", "alert"),
        ("PROCESS_EVENT", "TRIGGERING", "wait"), ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "wait"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "wait"), ("PROCESS_EVENT", "TRIGGERED", "wait"),
        ("SIGNAL_SUBSCRIPTION", "DELETED", "wait"), ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "wait"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
    ]
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert variable(harness, pik, "x") == 1


def test_a_broadcast_triggers_every_subscription_of_its_name_and_no_other(harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", CATCH)
    first, second = harness.create_instance("catch"), harness.create_instance("catch")
    broadcast(harness, "other")
    assert not harness.records().with_intent(PI.ELEMENT_COMPLETED).with_element_id("wait")
    broadcast(harness)
    completed = harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("catch")
    assert sorted(r.key for r in completed) == sorted([first, second])


def test_a_broadcast_without_subscriptions_is_broadcasted_and_an_empty_name_is_rejected(
        harness: EngineHarness) -> None:
    response = broadcast(harness, "nobody")
    assert response is not None and response.intent is SignalIntent.BROADCASTED
    rejected = broadcast(harness, "")
    assert rejected is not None and rejected.record_type is RecordType.COMMAND_REJECTION
    assert rejected.rejection_type is RejectionType.INVALID_ARGUMENT


def test_canceling_the_instance_deletes_its_signal_subscription(harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", CATCH)
    pik = harness.create_instance("catch")
    harness.cancel(pik)
    assert [r.intent for r in harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)] == [
        SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED]
    broadcast(harness)
    assert not harness.records().with_value_type(ValueType.PROCESS_EVENT)


def test_a_signal_name_expression_is_evaluated_when_the_event_activates(harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", b.process(
        "catch", b.start(), b.flow("f1", "start", "wait"), b.intermediate_catch("wait", b.signal_definition("sig")),
        b.flow("f2", "wait", "end"), b.end(), definitions=s.signal("sig", '="alert-" + id')))
    pik = harness.create_instance("catch", {"id": "7"})
    assert harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0].value["signalName"] == "alert-7"
    broadcast(harness, "alert-7")
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_signal_name_that_is_no_string_is_an_extract_value_incident(harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", b.process(
        "catch", b.start(), b.flow("f1", "start", "wait"), b.intermediate_catch("wait", b.signal_definition("sig")),
        b.flow("f2", "wait", "end"), b.end(), definitions=s.signal("sig", "=id")))
    harness.create_instance("catch", {"id": 7})
    incident = harness.incidents(intent=IncidentIntent.CREATED)[0]
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.name
    assert not harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)


START = b.process("started", b.start("start", b.signal_definition("sig")), b.flow("f1", "start", "end"), b.end(),
                  definitions=ALERT)


def test_a_signal_start_event_subscribes_at_deployment_and_a_broadcast_creates_an_instance(
        harness: EngineHarness) -> None:
    harness.deploy("started.bpmn", START)
    subscription = harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0]
    assert subscription.intent is SignalSubscriptionIntent.CREATED
    assert subscription.value["catchEventInstanceKey"] == -1 and subscription.value["catchEventId"] == "start"
    mark = harness.last_position + 1
    broadcast(harness, variables={"y": 2})
    rows = timeline(harness, mark)
    assert rows[:6] == [
        ("SIGNAL", "BROADCAST", "alert"), ("SIGNAL", "BROADCASTED", "alert"),
        ("PROCESS_EVENT", "TRIGGERING", "start"), ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "started"),
        ("PROCESS_INSTANCE_CREATION", "CREATED", "started"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "started"),
    ]
    pik = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION)[0].key
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert variable(harness, pik, "y") == 2


def test_a_new_version_replaces_the_signal_start_subscription_of_the_previous_one(harness: EngineHarness) -> None:
    harness.deploy("started.bpmn", START)
    harness.deploy("started.bpmn", b.process("started", b.start("start", b.signal_definition("sig")),
                                             b.flow("f1", "start", "done"), b.end("done"), definitions=ALERT))
    subscriptions = harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)
    assert [r.intent for r in subscriptions] == [SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED,
                                                 SignalSubscriptionIntent.CREATED]
    assert subscriptions[1].key == subscriptions[0].key
    broadcast(harness)
    created = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION)
    assert len(created) == 1 and created[0].value["version"] == 2


def boundary_process(interrupting: bool) -> bytes:
    return b.process("bound", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "work"),
                     b.flow("f2", "task", "end"), b.end(),
                     b.boundary("on_signal", "task", b.signal_definition("sig"), interrupting=interrupting),
                     b.flow("f3", "on_signal", "signaled"), b.end("signaled"), definitions=ALERT)


def test_an_interrupting_signal_boundary_event_terminates_the_task_and_continues(harness: EngineHarness) -> None:
    harness.deploy("bound.bpmn", boundary_process(True))
    pik = harness.create_instance("bound")
    assert harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0].value["catchEventId"] == "on_signal"
    mark = harness.last_position + 1
    broadcast(harness)
    assert timeline(harness, mark)[:10] == [
        ("SIGNAL", "BROADCAST", "alert"), ("SIGNAL", "BROADCASTED", "alert"),
        ("PROCESS_EVENT", "TRIGGERING", "on_signal"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "task"), ("SIGNAL_SUBSCRIPTION", "DELETED", "on_signal"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "task"), ("PROCESS_EVENT", "TRIGGERED", "on_signal"),
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "on_signal"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "on_signal"),
    ]
    ended = harness.records().limit_to_process_instance_completed(pik).only_events() \
        .with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["signaled", "bound"]


def test_a_non_interrupting_signal_boundary_event_leaves_the_task_waiting_and_catches_again(
        harness: EngineHarness) -> None:
    harness.deploy("bound.bpmn", boundary_process(False))
    pik = harness.create_instance("bound")
    broadcast(harness)
    broadcast(harness)
    assert len(harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("signaled")) == 2
    assert not harness.records().with_intent(PI.ELEMENT_TERMINATED).with_element_id("task")
    job = harness.activate_jobs("work")[0]
    harness.complete_job(job)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert [r.intent for r in harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)] == [
        SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED]


def event_sub_process(interrupting: bool) -> bytes:
    return b.process("esp", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "work"),
                     b.flow("f2", "task", "end"), b.end(),
                     b.sub_process("sub", b.start("sub_start", b.signal_definition("sig"), interrupting=interrupting),
                                   b.flow("f3", "sub_start", "sub_end"), b.end("sub_end"), triggered_by_event=True),
                     definitions=ALERT)


def test_an_interrupting_signal_event_subprocess_terminates_the_instance_s_children(harness: EngineHarness) -> None:
    harness.deploy("esp.bpmn", event_sub_process(True))
    pik = harness.create_instance("esp", {"v": 1})
    assert harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0].value["catchEventInstanceKey"] == pik
    broadcast(harness, variables={"z": 3})
    assert harness.records().with_intent(PI.ELEMENT_TERMINATED).with_element_id("task")
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("sub")
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_non_interrupting_signal_event_subprocess_runs_beside_the_task(harness: EngineHarness) -> None:
    harness.deploy("esp.bpmn", event_sub_process(False))
    pik = harness.create_instance("esp")
    broadcast(harness)
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("sub")
    assert not harness.records().with_intent(PI.ELEMENT_TERMINATED).with_element_id("task")
    harness.complete_job(harness.activate_jobs("work")[0])
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_signal_throw_event_broadcasts_its_local_variables_and_completes(harness: EngineHarness) -> None:
    harness.deploy("catch.bpmn", CATCH)
    waiting = harness.create_instance("catch")
    harness.deploy("thrower.bpmn", b.process(
        "thrower", b.start(), b.flow("f1", "start", "throw"),
        s.throw("throw", b.signal_definition("sig"), inputs={"x": "=a + 1"}), b.flow("f2", "throw", "end"), b.end(),
        definitions=ALERT))
    mark = harness.last_position + 1
    thrower = harness.create_instance("thrower", {"a": 41})
    rows = [row for row in timeline(harness, mark) if row[2] in ("throw", "alert")]
    assert rows[:7] == [
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "throw"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "throw"),
        ("SIGNAL", "BROADCAST", "alert"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "throw"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "throw"), ("SIGNAL", "BROADCASTED", "alert"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "throw"),
    ]
    assert harness.records().with_value_type(ValueType.SIGNAL).with_intent(SignalIntent.BROADCAST)[0] \
        .value["variables"] == {"x": 42}
    assert harness.records().limit_to_process_instance_completed(thrower)[-1].key == thrower
    assert harness.records().limit_to_process_instance_completed(waiting)[-1].key == waiting
    assert variable(harness, waiting, "x") == 42


def test_a_signal_end_event_broadcasts_and_starts_the_processes_subscribed(harness: EngineHarness) -> None:
    harness.deploy("started.bpmn", START)
    harness.deploy("ender.bpmn", b.process("ender", b.start(), b.flow("f1", "start", "end"),
                                           s.throw("end", b.signal_definition("sig"), end=True), definitions=ALERT))
    ender = harness.create_instance("ender")
    assert harness.records().limit_to_process_instance_completed(ender)[-1].key == ender
    created = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION) \
        .filter(lambda r: r.record_type is RecordType.EVENT and r.value["bpmnProcessId"] == "started")
    assert len(created) == 1
