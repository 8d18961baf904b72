"""Error events: a worker's thrown error or an error end event, caught by a boundary event or an error
event subprocess up the scope chain (code first, then catch-all), or an UNHANDLED_ERROR_EVENT incident
(Zeebe's ``ErrorEventTest``, ``BoundaryEventTest``, ``EventSubProcessTest``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import ErrorType, IncidentIntent, JobIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b

PI = ProcessInstanceIntent


def errors(*codes: str) -> str:
    return "".join(f'<bpmn:error id="err_{code}" errorCode="{code}"/>' for code in codes)


def catching(definition: str, codes: tuple[str, ...] = ("nope", "other")) -> bytes:
    return b.process(
        "paying", b.start(), b.flow("f1", "start", "pay"), b.service_task("pay", "pay"), b.flow("f2", "pay", "end"),
        b.end(), b.boundary("failed", "pay", definition), b.flow("f3", "failed", "handled"), b.end("handled"),
        definitions=errors(*codes))


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def completed_ids(harness: EngineHarness, pik: int) -> list[str]:
    return [r.value["elementId"] for r in harness.records().only_events().process_instance_records(pik)
            .with_intent(PI.ELEMENT_COMPLETED)]


def test_an_error_thrown_by_a_worker_is_caught_by_the_boundary_event_with_its_code(harness: EngineHarness) -> None:
    harness.deploy("paying.bpmn", catching(b.error_definition("err_nope")))
    pik = harness.create_instance("paying")
    [job] = harness.activate_jobs("pay")
    harness.throw_error(job, "nope", "card declined")
    events = [(r.value_type, r.intent, r.value.get("elementId") or r.value.get("targetElementId"))
              for r in harness.records().only_events() if r.position > harness.jobs(pik)
              .with_intent(JobIntent.ERROR_THROWN)[0].position - 1]
    assert events[:7] == [
        (ValueType.JOB, JobIntent.ERROR_THROWN, "pay"),
        (ValueType.PROCESS_EVENT, events[1][1], "failed"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "pay"),
        (ValueType.JOB, JobIntent.CANCELED, "pay"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "pay"),
        (ValueType.PROCESS_EVENT, events[5][1], "failed"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATING, "failed"),
    ]
    assert completed_ids(harness, pik) == ["start", "failed", "handled", "paying"]
    assert not harness.incidents(pik)


def test_an_error_with_another_code_is_not_caught_and_is_an_incident(harness: EngineHarness) -> None:
    harness.deploy("paying.bpmn", catching(b.error_definition("err_other")))
    pik = harness.create_instance("paying")
    [job] = harness.activate_jobs("pay")
    harness.throw_error(job, "nope", "card declined")
    [incident] = harness.incidents(pik).with_intent(IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.UNHANDLED_ERROR_EVENT.value
    assert incident.value["errorMessage"] == ("Expected to throw an error event with the code 'nope' with message"
                                              " 'card declined', but it was not caught. No error events are"
                                              " available in the scope.")


def test_a_catch_all_boundary_event_catches_any_code_and_names_it_in_variables(harness: EngineHarness) -> None:
    definition = ('<bpmn:errorEventDefinition><bpmn:extensionElements><zeebe:error'
                  ' errorCodeVariable="code" errorMessageVariable="why"/></bpmn:extensionElements>'
                  '</bpmn:errorEventDefinition>')
    harness.deploy("paying.bpmn", catching(definition))
    pik = harness.create_instance("paying")
    [job] = harness.activate_jobs("pay")
    harness.throw_error(job, "whatever", "it broke")
    assert completed_ids(harness, pik)[-1] == "paying"
    values = {r.value["name"]: json.loads(r.value["value"]) for r in harness.records().with_value_type(ValueType.VARIABLE)}
    assert values == {"code": "whatever", "why": "it broke"}


def test_a_boundary_event_for_the_code_wins_over_a_catch_all_one(harness: EngineHarness) -> None:
    model = b.process(
        "paying", b.start(), b.flow("f1", "start", "pay"), b.service_task("pay", "pay"), b.flow("f2", "pay", "end"),
        b.end(), b.boundary("any", "pay", b.error_definition()), b.flow("f3", "any", "e_any"), b.end("e_any"),
        b.boundary("declined", "pay", b.error_definition("err_nope")), b.flow("f4", "declined", "e_declined"),
        b.end("e_declined"), definitions=errors("nope"))
    harness.deploy("paying.bpmn", model)
    pik = harness.create_instance("paying")
    [job] = harness.activate_jobs("pay")
    harness.throw_error(job, "nope")
    assert "e_declined" in completed_ids(harness, pik) and "e_any" not in completed_ids(harness, pik)


def nested_model() -> bytes:
    return b.process(
        "nested", b.start(), b.flow("f1", "start", "sub"),
        b.sub_process("sub", b.start("s1"), b.flow("f2", "s1", "work"), b.service_task("work", "work"),
                      b.flow("f3", "work", "fail"), b.end("fail", b.error_definition("err_broken"))),
        b.flow("f4", "sub", "end"), b.end(),
        b.boundary("caught", "sub", b.error_definition("err_broken")), b.flow("f5", "caught", "recovered"),
        b.end("recovered"), definitions=errors("broken"))


def test_an_error_end_event_in_a_subprocess_is_caught_by_the_subprocess_boundary_event(harness: EngineHarness) -> None:
    harness.deploy("nested.bpmn", nested_model())
    pik = harness.create_instance("nested")
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    seen = [(r.intent, r.value["elementId"]) for r in harness.records().only_events().process_instance_records(pik)]
    after = seen[seen.index((PI.ELEMENT_ACTIVATED, "fail")):]
    assert after[:6] == [
        (PI.ELEMENT_ACTIVATED, "fail"), (PI.ELEMENT_TERMINATING, "sub"), (PI.ELEMENT_TERMINATING, "fail"),
        (PI.ELEMENT_TERMINATED, "fail"), (PI.ELEMENT_TERMINATED, "sub"), (PI.ELEMENT_ACTIVATING, "caught"),
    ]
    assert completed_ids(harness, pik)[-3:] == ["caught", "recovered", "nested"]


def test_an_error_event_subprocess_catches_an_error_of_its_container(harness: EngineHarness) -> None:
    model = b.process(
        "guarded", b.start(), b.flow("f1", "start", "pay"), b.service_task("pay", "pay"), b.flow("f2", "pay", "end"),
        b.end(),
        b.sub_process("on_error", b.start("err_start", b.error_definition("err_nope")), b.flow("f3", "err_start", "e2"),
                      b.end("e2"), triggered_by_event=True), definitions=errors("nope"))
    harness.deploy("guarded.bpmn", model)
    pik = harness.create_instance("guarded")
    [job] = harness.activate_jobs("pay")
    harness.throw_error(job, "nope")
    assert completed_ids(harness, pik) == ["start", "err_start", "e2", "on_error", "guarded"]
    assert harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED).with_element_id("pay")


def test_an_error_end_event_nothing_catches_is_an_incident_on_it(harness: EngineHarness) -> None:
    model = b.process("lost", b.start(), b.flow("f1", "start", "fail"), b.end("fail", b.error_definition("err_x")),
                      definitions=errors("x"))
    harness.deploy("lost.bpmn", model)
    pik = harness.create_instance("lost")
    [incident] = harness.incidents(pik).with_intent(IncidentIntent.CREATED)
    assert (incident.value["elementId"], incident.value["errorType"]) == ("fail", ErrorType.UNHANDLED_ERROR_EVENT.value)
