"""Escalation events: intermediate throw and end events escalate to the nearest catch event up the scope
chain (a boundary event of a subprocess or call activity, an escalation event subprocess), matching the
code or catching all; ESCALATED / NOT_ESCALATED say what happened, and an uncaught escalation is no
incident (Zeebe's ``EscalationEventTest``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    DeploymentIntent,
    ProcessInstanceIntent,
    RecordType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as c
from zeebe_trio.testing import bpmn_signals_escalations as s

PI = ProcessInstanceIntent
SHOWN = {ValueType.PROCESS_INSTANCE, ValueType.ESCALATION, ValueType.PROCESS_EVENT}
ESC = s.escalation("esc1", "E1")


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
        name = v.get("elementId") or v.get("targetElementId") or v.get("throwElementId") or ""
        rows.append((record.value_type.name, record.intent.name, name))
    return rows


def escalations(harness: EngineHarness) -> list[tuple[str, dict]]:
    return [(r.intent.name, {k: r.value[k] for k in ("throwElementId", "catchElementId", "escalationCode")})
            for r in harness.records().with_value_type(ValueType.ESCALATION)]


def sub_process_with_boundary(thrower: str, *, interrupting: bool = True, catch_ref: str | None = "esc1") -> bytes:
    return b.process(
        "esc", b.start(), b.flow("f1", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("f2", "sub_start", "throw"), thrower,
                      b.flow("f3", "throw", "sub_end"), b.end("sub_end")),
        b.flow("f4", "sub", "end"), b.end(),
        b.boundary("caught", "sub", s.escalation_definition(catch_ref), interrupting=interrupting),
        b.flow("f5", "caught", "escalated"), b.end("escalated"), definitions=ESC)


def test_an_escalation_caught_by_an_interrupting_boundary_event_terminates_the_subprocess(
        harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", sub_process_with_boundary(s.throw("throw", s.escalation_definition("esc1"))))
    pik = harness.create_instance("esc")
    rows = timeline(harness)
    start = rows.index(("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "throw"))
    assert rows[start - 1:start + 12] == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "throw"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "throw"),
        ("PROCESS_EVENT", "TRIGGERING", "caught"), ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "sub"),
        ("ESCALATION", "ESCALATED", "throw"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "sub"),
        ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "throw"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "throw"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "throw"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "sub"),
        ("PROCESS_EVENT", "TRIGGERED", "caught"), ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "caught"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "caught"),
    ]
    assert escalations(harness) == [
        ("ESCALATED", {"throwElementId": "throw", "catchElementId": "caught", "escalationCode": "E1"})]
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["escalated", "esc"]


def test_a_non_interrupting_boundary_event_lets_the_throw_event_complete_and_the_subprocess_go_on(
        harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", sub_process_with_boundary(s.throw("throw", s.escalation_definition("esc1")),
                                                         interrupting=False))
    pik = harness.create_instance("esc")
    completed = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED)]
    assert {"throw", "sub_end", "sub", "end", "caught", "escalated", "esc"} <= set(completed)
    assert not harness.records().with_intent(PI.ELEMENT_TERMINATED)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_catch_all_boundary_event_catches_any_code(harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", sub_process_with_boundary(s.throw("throw", s.escalation_definition("esc1")),
                                                         catch_ref=None))
    harness.create_instance("esc")
    assert escalations(harness)[0][1]["catchElementId"] == "caught"


def test_an_uncaught_escalation_is_not_escalated_and_the_flow_continues_without_an_incident(
        harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process("esc", b.start(), b.flow("f1", "start", "throw"),
                                         s.throw("throw", s.escalation_definition("esc1")),
                                         b.flow("f2", "throw", "end"), b.end(), definitions=ESC))
    pik = harness.create_instance("esc")
    rows = timeline(harness)
    start = rows.index(("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "throw"))
    assert rows[start:start + 5] == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "throw"), ("ESCALATION", "NOT_ESCALATED", "throw"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "throw"), ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "throw"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "throw"),
    ]
    assert escalations(harness) == [
        ("NOT_ESCALATED", {"throwElementId": "throw", "catchElementId": "", "escalationCode": "E1"})]
    assert not harness.incidents()
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_boundary_event_for_another_code_does_not_catch(harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process(
        "esc", b.start(), b.flow("f1", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("f2", "sub_start", "throw"),
                      s.throw("throw", s.escalation_definition("esc1")), b.flow("f3", "throw", "sub_end"),
                      b.end("sub_end")),
        b.flow("f4", "sub", "end"), b.end(), b.boundary("caught", "sub", s.escalation_definition("other")),
        b.flow("f5", "caught", "escalated"), b.end("escalated"),
        definitions=ESC + s.escalation("other", "E2")))
    pik = harness.create_instance("esc")
    assert escalations(harness)[0][0] == "NOT_ESCALATED"
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_an_escalation_end_event_is_caught_by_an_event_subprocess_of_its_process(harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process(
        "esc", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "work"),
        b.flow("f2", "task", "throw"), s.throw("throw", s.escalation_definition("esc1"), end=True),
        b.sub_process("handler", b.start("handler_start", s.escalation_definition("esc1"), interrupting=False),
                      b.flow("f3", "handler_start", "handler_end"), b.end("handler_end"), triggered_by_event=True),
        definitions=ESC))
    pik = harness.create_instance("esc")
    harness.complete_job(harness.activate_jobs("work")[0])
    assert escalations(harness) == [
        ("ESCALATED", {"throwElementId": "throw", "catchElementId": "handler_start", "escalationCode": "E1"})]
    completed = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED)]
    assert completed.index("handler") < completed.index("esc")  # the process waits for its event subprocess
    assert completed[-1] == "esc"
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_an_escalation_thrown_in_a_called_process_is_caught_by_a_boundary_event_of_the_call_activity(
        harness: EngineHarness) -> None:
    child = b.process("child", b.start(), b.flow("c1", "start", "throw"),
                      s.throw("throw", s.escalation_definition("esc1"), end=True), definitions=ESC)
    parent = b.process("parent", b.start(), b.flow("p1", "start", "call"), c.call_activity("call", "child"),
                       b.flow("p2", "call", "end"), b.end(), b.boundary("caught", "call", s.escalation_definition("esc1")),
                       b.flow("p3", "caught", "escalated"), b.end("escalated"), definitions=ESC)
    response = harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {"resources": [
        {"resourceName": "child.bpmn", "resource": child}, {"resourceName": "parent.bpmn", "resource": parent}]})
    assert response is not None and response.record_type is RecordType.EVENT
    pik = harness.create_instance("parent")
    assert escalations(harness) == [
        ("ESCALATED", {"throwElementId": "throw", "catchElementId": "caught", "escalationCode": "E1"})]
    terminated = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)]
    assert terminated == ["throw", "child", "call"]
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["escalated", "parent"]


def test_an_escalation_code_expression_is_evaluated_in_the_throw_event_s_scope(harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process("esc", b.start(), b.flow("f1", "start", "throw"),
                                         s.throw("throw", s.escalation_definition("esc1")),
                                         b.flow("f2", "throw", "end"), b.end(),
                                         definitions=s.escalation("esc1", "=code")))
    harness.create_instance("esc", {"code": "dynamic"})
    assert escalations(harness)[0][1]["escalationCode"] == "dynamic"


def test_a_boundary_event_for_the_code_wins_over_a_catch_all_one_on_the_same_activity(
        harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process(
        "esc", b.start(), b.flow("f1", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("f2", "sub_start", "throw"),
                      s.throw("throw", s.escalation_definition("esc1"), end=True)),
        b.flow("f4", "sub", "end"), b.end(),
        b.boundary("catch_all", "sub", s.escalation_definition()), b.flow("f5", "catch_all", "all_end"),
        b.end("all_end"),
        b.boundary("for_code", "sub", s.escalation_definition("esc1")), b.flow("f6", "for_code", "code_end"),
        b.end("code_end"), definitions=ESC))
    harness.create_instance("esc")
    assert escalations(harness)[0][1]["catchElementId"] == "for_code"


def test_an_interrupting_escalation_event_subprocess_terminates_the_throwing_path(harness: EngineHarness) -> None:
    harness.deploy("esc.bpmn", b.process(
        "esc", b.start(), b.flow("f1", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
        b.flow("f4", "fork", "task"), b.service_task("task", "work"), b.flow("f5", "task", "end"), b.end(),
        b.flow("f2", "fork", "throw"), s.throw("throw", s.escalation_definition("esc1")),
        b.flow("f3", "throw", "after"), b.end("after"),
        b.sub_process("handler", b.start("handler_start", s.escalation_definition("esc1")),
                      b.flow("f6", "handler_start", "handler_end"), b.end("handler_end"), triggered_by_event=True),
        definitions=ESC))
    pik = harness.create_instance("esc")
    terminated = {r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)}
    assert terminated == {"throw", "task"}
    assert not harness.records().with_element_id("after")
    ended = harness.records().limit_to_process_instance_completed(pik).only_events().with_intent(PI.ELEMENT_COMPLETED)
    assert [r.value["elementId"] for r in ended][-2:] == ["handler", "esc"]
