"""Errors across call activities: an error thrown in a called process and not caught there is caught
by a boundary event of the call activity that called it (or by a scope above it, up the call tree);
the child process instance is terminated with the call activity (Zeebe's ``ErrorEventTest`` and
``CallActivityTest`` cases of errors thrown in a child)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    DeploymentIntent,
    ErrorType,
    IncidentIntent,
    ProcessInstanceIntent,
    RecordType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as c

PI = ProcessInstanceIntent
ERROR = '<bpmn:error id="err" errorCode="E1"/>'


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, **resources: bytes) -> None:
    response = harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {"resources": [
        {"resourceName": f"{name}.bpmn", "resource": data} for name, data in resources.items()]})
    assert response is not None and response.record_type is RecordType.EVENT, response


def child_with_task(process_id: str = "child") -> bytes:
    return b.process(process_id, b.start(), b.flow("c1", "start", "task"), b.service_task("task", "child-work"),
                     b.flow("c2", "task", "end"), b.end())


def child_with_error_end(process_id: str = "child") -> bytes:
    return b.process(process_id, b.start(), b.flow("c1", "start", "fail"), b.end("fail", b.error_definition("err")),
                     definitions=ERROR)


def parent_with_boundary(called: str = "child", error_ref: str | None = "err") -> bytes:
    return b.process("parent", b.start(), b.flow("p1", "start", "call"), c.call_activity("call", called),
                     b.flow("p2", "call", "end"), b.end(), b.boundary("caught", "call", b.error_definition(error_ref)),
                     b.flow("p3", "caught", "handled"), b.end("handled"), definitions=ERROR)


def test_a_job_error_in_the_child_is_caught_by_the_call_activity_s_boundary_event(harness: EngineHarness) -> None:
    deploy(harness, child=child_with_task(), parent=parent_with_boundary())
    pik = harness.create_instance("parent")
    job = harness.activate_jobs("child-work")[0]
    mark = harness.last_position + 1
    harness.throw_error(job, "E1", "boom")
    rows = [(r.value_type.name, r.intent.name, r.value.get("elementId") or r.value.get("targetElementId"))
            for r in harness.records() if r.position >= mark
            and r.value_type in (ValueType.PROCESS_INSTANCE, ValueType.PROCESS_EVENT)]
    assert rows[:14] == [
        ("PROCESS_EVENT", "TRIGGERING", "caught"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "call"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "call"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "child"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "child"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "task"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "child"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "call"),
        ("PROCESS_EVENT", "TRIGGERED", "caught"), ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "caught"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "caught"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "caught"),
    ]
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["handled", "parent"]
    assert not harness.incidents()


def test_an_error_end_event_in_the_child_is_caught_by_a_catch_all_boundary_event_of_the_call_activity(
        harness: EngineHarness) -> None:
    deploy(harness, child=child_with_error_end(), parent=parent_with_boundary(error_ref=None))
    pik = harness.create_instance("parent")
    terminated = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)]
    assert terminated == ["fail", "child", "call"]
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik
    assert not harness.incidents()


def test_an_error_caught_inside_the_child_does_not_reach_the_parent(harness: EngineHarness) -> None:
    child = b.process("child", b.start(), b.flow("c1", "start", "task"), b.service_task("task", "child-work"),
                      b.flow("c2", "task", "end"), b.end(), b.boundary("inner", "task", b.error_definition("err")),
                      b.flow("c3", "inner", "inner_end"), b.end("inner_end"), definitions=ERROR)
    deploy(harness, child=child, parent=parent_with_boundary())
    pik = harness.create_instance("parent")
    harness.throw_error(harness.activate_jobs("child-work")[0], "E1")
    assert not harness.records().with_element_id("caught")
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-3:] == ["call", "end", "parent"]


def test_an_error_is_caught_by_an_event_subprocess_of_the_calling_process(harness: EngineHarness) -> None:
    parent = b.process("parent", b.start(), b.flow("p1", "start", "call"), c.call_activity("call", "child"),
                       b.flow("p2", "call", "end"), b.end(),
                       b.sub_process("handler", b.start("on_error", b.error_definition("err")),
                                     b.flow("p3", "on_error", "handler_end"), b.end("handler_end"),
                                     triggered_by_event=True),
                       definitions=ERROR)
    deploy(harness, child=child_with_error_end(), parent=parent)
    pik = harness.create_instance("parent")
    assert harness.records().with_intent(PI.ELEMENT_TERMINATED).with_element_id("child")
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["handler", "parent"]


def test_an_error_thrown_two_calls_deep_is_caught_at_the_top(harness: EngineHarness) -> None:
    middle = b.process("middle", b.start(), b.flow("m1", "start", "call_child"), c.call_activity("call_child", "child"),
                       b.flow("m2", "call_child", "end"), b.end())
    deploy(harness, child=child_with_error_end(), middle=middle, parent=parent_with_boundary(called="middle"))
    pik = harness.create_instance("parent")
    terminated = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)]
    assert terminated == ["fail", "child", "call_child", "middle", "call"]
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_an_error_no_process_up_the_call_tree_catches_is_an_incident_in_the_child(harness: EngineHarness) -> None:
    deploy(harness, child=child_with_error_end(), parent=parent_with_boundary(error_ref=None).replace(
        b'<bpmn:errorEventDefinition/>', b'<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>'
        b'</bpmn:timerEventDefinition>'))
    harness.create_instance("parent")
    incident = harness.incidents(intent=IncidentIntent.CREATED)[0]
    assert incident.value["errorType"] == ErrorType.UNHANDLED_ERROR_EVENT.value
    assert incident.value["elementId"] == "fail" and incident.value["bpmnProcessId"] == "child"
