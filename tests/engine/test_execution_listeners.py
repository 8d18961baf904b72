"""Execution listeners, record for record (Zeebe's ``ExecutionListenerTest``): start listeners are jobs
(jobKind EXECUTION_LISTENER, listenerEventType START) run one after the other while the element is
ACTIVATING, end listeners (END) while it is COMPLETING; each job's completion writes
COMPLETE_EXECUTION_LISTENER and the element goes on; a listener job without retries is an
EXECUTION_LISTENER_NO_RETRIES incident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    RecordType,
    ValueType,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_tasks as t

PI = ProcessInstanceIntent


def service_task(task_id: str, job_type: str, listeners: str) -> str:
    return b.service_task(task_id, job_type).replace("</bpmn:extensionElements>", listeners + "</bpmn:extensionElements>")


def with_task(task: str, *, process_listeners: str = "") -> bytes:
    xml = b.process("p", b.start(), b.flow("f1", "start", "task"), task, b.flow("f2", "task", "end"), b.end())
    if process_listeners:
        xml = xml.replace(b'<bpmn:process id="p" isExecutable="true">',
                          f'<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements>{process_listeners}'
                          "</bpmn:extensionElements>".encode())
    return xml


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, resource: bytes) -> None:
    response = harness.deploy("p.bpmn", resource)
    assert response is not None and response.record_type is RecordType.EVENT, response and response.rejection_reason


def run_job(harness: EngineHarness, job_type: str, variables: dict[str, object] | None = None) -> int:
    [job] = harness.activate_jobs(job_type)
    response = harness.complete_job(job, variables)
    assert response is not None and response.record_type is RecordType.EVENT, response and response.rejection_reason
    return job


def element_intents(harness: EngineHarness, element_id: str) -> list[ProcessInstanceIntent]:
    return [r.intent for r in harness.records().process_instance_records()  # type: ignore[misc]
            if r.value.get("elementId") == element_id]


def created_jobs(harness: EngineHarness) -> list[tuple[str, str, str, str]]:
    return [(r.value["type"], r.value["elementId"], r.value["jobKind"], r.value["jobListenerEventType"])
            for r in harness.jobs(intent=JobIntent.CREATED)]


def variables_of(harness: EngineHarness, scope_key: int) -> dict[str, str]:
    return {r.value["name"]: r.value["value"] for r in harness.records().with_value_type(ValueType.VARIABLE).only_events()
            if r.value["scopeKey"] == scope_key}


LISTENERS = t.execution_listeners(("start", "start-1"), ("start", "start-2"), ("end", "end-1"))


def test_a_service_task_runs_its_start_listeners_before_it_activates_and_its_end_listener_before_it_completes(
        harness: EngineHarness) -> None:
    deploy(harness, with_task(service_task("task", "work", LISTENERS)))
    harness.create_instance("p")
    assert created_jobs(harness) == [("start-1", "task", "EXECUTION_LISTENER", "START")]
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_ACTIVATING
    run_job(harness, "start-1")
    assert [j[0] for j in created_jobs(harness)] == ["start-1", "start-2"]
    assert element_intents(harness, "task")[-1] is PI.COMPLETE_EXECUTION_LISTENER
    run_job(harness, "start-2")
    run_job(harness, "work")
    assert created_jobs(harness)[-1] == ("end-1", "task", "EXECUTION_LISTENER", "END")
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_COMPLETING
    run_job(harness, "end-1")
    assert element_intents(harness, "task") == [
        PI.ACTIVATE_ELEMENT, PI.ELEMENT_ACTIVATING,
        PI.COMPLETE_EXECUTION_LISTENER, PI.COMPLETE_EXECUTION_LISTENER,
        PI.ELEMENT_ACTIVATED,
        PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING,
        PI.COMPLETE_EXECUTION_LISTENER,
        PI.ELEMENT_COMPLETED,
    ]
    assert [j[0] for j in created_jobs(harness)] == ["start-1", "start-2", "work", "end-1"]
    assert harness.records().process_instance_records().only_events()[-1].value["elementId"] == "p"


def test_completing_a_listener_job_writes_a_process_event_and_the_complete_execution_listener_command(
        harness: EngineHarness) -> None:
    deploy(harness, with_task(service_task("task", "work", t.execution_listeners(("start", "s")))))
    harness.create_instance("p")
    run_job(harness, "s", {"fromListener": 1})
    after = harness.records().skip_until(lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.COMPLETE)
    assert [(r.record_type.name, r.value_type.name, r.intent.name) for r in after][:8] == [
        ("COMMAND", "JOB", "COMPLETE"),
        ("EVENT", "JOB", "COMPLETED"),
        ("EVENT", "PROCESS_EVENT", "TRIGGERING"),
        ("COMMAND", "PROCESS_INSTANCE", "COMPLETE_EXECUTION_LISTENER"),
        ("EVENT", "VARIABLE", "CREATED"),
        ("EVENT", "PROCESS_EVENT", "TRIGGERED"),
        ("EVENT", "JOB", "CREATED"),  # the task's own job, before it is activated (as in Zeebe)
        ("EVENT", "PROCESS_INSTANCE", "ELEMENT_ACTIVATED"),
    ]


def test_a_start_listeners_variables_are_local_and_an_end_listeners_go_to_the_flow_scope(
        harness: EngineHarness) -> None:
    deploy(harness, with_task(service_task("task", "work", t.execution_listeners(("start", "s"), ("end", "e")))))
    pik = harness.create_instance("p")
    run_job(harness, "s", {"seen": "start"})
    task_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "task")
    assert variables_of(harness, task_key) == {"seen": '"start"'}
    [job] = harness.activate_jobs("work")
    assert harness.records().with_value_type(ValueType.JOB_BATCH)[-1].value["jobs"][0]["variables"]["seen"] == "start"
    harness.complete_job(job)
    run_job(harness, "e", {"ended": True})
    assert variables_of(harness, pik) == {"ended": "true"}


def test_a_listener_job_that_fails_without_retries_is_an_execution_listener_incident(harness: EngineHarness) -> None:
    deploy(harness, with_task(service_task("task", "work", t.execution_listeners(("start", "s", 1)))))
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("s")
    harness.fail_job(job, 0, "listener broke")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXECUTION_LISTENER_NO_RETRIES"
    assert incident.value["errorMessage"] == "listener broke"
    assert incident.value["jobKey"] == job
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_ACTIVATING

    harness.update_retries(job, 1)
    harness.resolve_incident(incident.key)
    run_job(harness, "s")
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_ACTIVATED
    assert created_jobs(harness)[-1][0] == "work"


def test_a_listener_job_type_expression_that_fails_is_an_incident_and_resolving_creates_the_job(
        harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task", listeners=t.execution_listeners(("start", "=kind")))))
    pik = harness.create_instance("p", {"kind": 1})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert not harness.jobs()
    harness.set_variables(pik, {"kind": "checker"})
    harness.resolve_incident(incident.key)
    assert created_jobs(harness) == [("checker", "task", "EXECUTION_LISTENER", "START")]


def test_an_undefined_task_with_an_end_listener_completes_through_a_complete_element_command(
        harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task", listeners=t.execution_listeners(("end", "e")))))
    pik = harness.create_instance("p")
    assert element_intents(harness, "task") == [PI.ACTIVATE_ELEMENT, PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED,
                                                PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING]
    run_job(harness, "e")
    assert element_intents(harness, "task")[-2:] == [PI.COMPLETE_EXECUTION_LISTENER, PI.ELEMENT_COMPLETED]
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_the_process_runs_its_listeners_around_its_whole_flow(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task"),
                              process_listeners=t.execution_listeners(("start", "p-start"), ("end", "p-end"))))
    pik = harness.create_instance("p")
    assert created_jobs(harness) == [("p-start", "p", "EXECUTION_LISTENER", "START")]
    assert element_intents(harness, "p")[-1] is PI.ELEMENT_ACTIVATING
    assert not element_intents(harness, "start")
    run_job(harness, "p-start", {"a": 1})
    assert variables_of(harness, pik) == {"a": "1"}
    assert created_jobs(harness)[-1] == ("p-end", "p", "EXECUTION_LISTENER", "END")
    assert element_intents(harness, "p")[-1] is PI.ELEMENT_COMPLETING
    run_job(harness, "p-end", {"b": 2})
    assert variables_of(harness, pik) == {"a": "1", "b": "2"}  # the process has no flow scope: its own
    assert element_intents(harness, "p") == [
        PI.ACTIVATE_ELEMENT, PI.ELEMENT_ACTIVATING, PI.COMPLETE_EXECUTION_LISTENER, PI.ELEMENT_ACTIVATED,
        PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING, PI.COMPLETE_EXECUTION_LISTENER, PI.ELEMENT_COMPLETED]


def test_events_run_their_listeners_too(harness: EngineHarness) -> None:
    start = '<bpmn:startEvent id="start"><bpmn:extensionElements>' + t.execution_listeners(("end", "start-end")) \
        + "</bpmn:extensionElements></bpmn:startEvent>"
    end = '<bpmn:endEvent id="end"><bpmn:extensionElements>' + t.execution_listeners(("start", "end-start")) \
        + "</bpmn:extensionElements></bpmn:endEvent>"
    deploy(harness, b.process("p", start, b.flow("f1", "start", "end"), end))
    pik = harness.create_instance("p")
    assert created_jobs(harness) == [("start-end", "start", "EXECUTION_LISTENER", "END")]
    run_job(harness, "start-end")
    assert created_jobs(harness)[-1] == ("end-start", "end", "EXECUTION_LISTENER", "START")
    run_job(harness, "end-start")
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_a_user_task_runs_its_start_listener_before_its_user_task_is_created(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.user_task("task", zeebe_user_task=True, listeners=t.execution_listeners(("start", "s")))))
    harness.create_instance("p")
    assert not harness.records().with_value_type(ValueType.USER_TASK)
    run_job(harness, "s")
    assert [r.intent.name for r in harness.records().with_value_type(ValueType.USER_TASK)] == ["CREATING", "CREATED"]


def test_a_script_task_runs_its_end_listener_after_its_result_is_set(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.script_task("task", "=1 + 1", "two", listeners=t.execution_listeners(("end", "e")))))
    pik = harness.create_instance("p")
    assert variables_of(harness, pik) == {"two": "2"}
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_COMPLETING
    run_job(harness, "e")
    assert element_intents(harness, "task")[-1] is PI.ELEMENT_COMPLETED


def test_canceling_an_instance_that_waits_for_a_listener_cancels_the_listener_job(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task", listeners=t.execution_listeners(("start", "s")))))
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("s")
    harness.cancel(pik)
    assert [r.intent for r in harness.jobs(pik) if r.record_type is RecordType.EVENT] == [
        JobIntent.CREATED, JobIntent.CANCELED]
    assert element_intents(harness, "task")[-2:] == [PI.ELEMENT_TERMINATING, PI.ELEMENT_TERMINATED]
    completed = harness.complete_job(job)
    assert completed is not None and completed.record_type is RecordType.COMMAND_REJECTION


def test_listener_retries_are_the_listeners_own(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task", listeners=t.execution_listeners(("start", "s", 7)))))
    harness.create_instance("p")
    [created] = harness.jobs(intent=JobIntent.CREATED)
    assert created.value["retries"] == 7
    assert created.value["customHeaders"] == {}


def test_a_listener_job_cannot_throw_a_bpmn_error(harness: EngineHarness) -> None:
    deploy(harness, with_task(t.task("task", listeners=t.execution_listeners(("start", "s")))))
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("s")
    response = harness.throw_error(job, "oops")
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_reason == (
        f"Cannot throw BPMN error from EXECUTION_LISTENER job with key '{job}', type 's' and processInstanceKey"
        f" '{pik}'")


def sub_process_with_listeners(listeners: str, inner: str = "") -> bytes:
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "inner"),
                        inner or '<bpmn:manualTask id="inner"/>', b.flow("s2", "inner", "sub_end"), b.end("sub_end"))
    sub = sub.replace('<bpmn:subProcess id="sub">',
                      f'<bpmn:subProcess id="sub"><bpmn:extensionElements>{listeners}</bpmn:extensionElements>')
    return b.process("p", b.start(), b.flow("f1", "start", "sub"), sub, b.flow("f2", "sub", "after"),
                     b.service_task("after", "after-work"), b.flow("f3", "after", "end"), b.end())


def test_an_embedded_sub_process_runs_its_listeners_around_its_flow(harness: EngineHarness) -> None:
    deploy(harness, sub_process_with_listeners(t.execution_listeners(
        ("start", "sub-start-1"), ("start", "sub-start-2"), ("end", "sub-end-1"), ("end", "sub-end-2"))))
    pik = harness.create_instance("p")
    for job_type in ("sub-start-1", "sub-start-2", "sub-end-1", "sub-end-2"):
        run_job(harness, job_type)
    completed = [r.value["type"] for r in harness.jobs(pik, JobIntent.COMPLETED) if r.record_type is RecordType.EVENT]
    assert completed == ["sub-start-1", "sub-start-2", "sub-end-1", "sub-end-2"]
    sequence = [(r.value["elementId"], r.intent) for r in harness.records().process_instance_records(pik)
                if r.value.get("elementId") in ("sub", "inner") and r.intent is not PI.ACTIVATE_ELEMENT]
    assert sequence == [
        ("sub", PI.ELEMENT_ACTIVATING),
        ("sub", PI.COMPLETE_EXECUTION_LISTENER), ("sub", PI.COMPLETE_EXECUTION_LISTENER),
        ("sub", PI.ELEMENT_ACTIVATED),
        ("inner", PI.ELEMENT_ACTIVATING), ("inner", PI.ELEMENT_ACTIVATED),
        ("inner", PI.COMPLETE_ELEMENT), ("inner", PI.ELEMENT_COMPLETING), ("inner", PI.ELEMENT_COMPLETED),
        ("sub", PI.COMPLETE_ELEMENT), ("sub", PI.ELEMENT_COMPLETING),
        ("sub", PI.COMPLETE_EXECUTION_LISTENER), ("sub", PI.COMPLETE_EXECUTION_LISTENER),
        ("sub", PI.ELEMENT_COMPLETED),
    ]


def test_the_next_element_sees_what_a_sub_process_end_listener_produced(harness: EngineHarness) -> None:
    deploy(harness, sub_process_with_listeners(t.execution_listeners(("end", "sub-end"))))
    harness.create_instance("p")
    run_job(harness, "sub-end", {"end_el_var": "baz"})
    [job] = harness.activate_jobs("after-work")
    assert harness.records().with_value_type(ValueType.JOB_BATCH)[-1].value["jobs"][0]["variables"] == {
        "end_el_var": "baz"}
    harness.complete_job(job)


def test_a_sub_process_start_listeners_variables_reach_the_tasks_inside(harness: EngineHarness) -> None:
    deploy(harness, sub_process_with_listeners(t.execution_listeners(("start", "sub-start")),
                                               b.service_task("inner", "inner-work")))
    harness.create_instance("p")
    run_job(harness, "sub-start", {"baz": 42})
    events = [(r.value_type, r.intent) for r in harness.records().only_events()
              if r.value_type in (ValueType.JOB, ValueType.VARIABLE)]
    assert events[:3] == [(ValueType.JOB, JobIntent.CREATED), (ValueType.JOB, JobIntent.COMPLETED),
                          (ValueType.VARIABLE, VariableIntent.CREATED)]
    harness.activate_jobs("inner-work")
    assert harness.records().with_value_type(ValueType.JOB_BATCH)[-1].value["jobs"][0]["variables"] == {"baz": 42}


def test_canceling_cancels_a_sub_process_start_listener_job(harness: EngineHarness) -> None:
    deploy(harness, sub_process_with_listeners(t.execution_listeners(("start", "sub-start"))))
    pik = harness.create_instance("p")
    harness.cancel(pik)
    [canceled] = harness.jobs(pik, JobIntent.CANCELED)
    assert (canceled.value["type"], canceled.value["jobKind"]) == ("sub-start", "EXECUTION_LISTENER")
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_TERMINATED


def xor_with_start_listener() -> bytes:
    gateway = ('<bpmn:exclusiveGateway id="xor" default="to_b"><bpmn:extensionElements>'
               + t.execution_listeners(("start", "xor-start")) + "</bpmn:extensionElements></bpmn:exclusiveGateway>")
    return b.process("p", b.start(), b.flow("f1", "start", "xor"), gateway,
                     b.flow("to_a", "xor", "end_a", "=foo &lt; 5"), b.flow("to_b", "xor", "end_b"),
                     b.end("end_a"), b.end("end_b"))


def test_an_exclusive_gateways_conditions_see_its_start_listeners_variables(harness: EngineHarness) -> None:
    deploy(harness, xor_with_start_listener())
    pik = harness.create_instance("p", {"foo": 1})
    assert element_intents(harness, "xor")[-1] is PI.ELEMENT_ACTIVATING
    run_job(harness, "xor-start", {"foo": 55})
    assert element_intents(harness, "xor") == [PI.ACTIVATE_ELEMENT, PI.ELEMENT_ACTIVATING,
                                               PI.COMPLETE_EXECUTION_LISTENER, PI.ELEMENT_ACTIVATED,
                                               PI.ELEMENT_COMPLETING, PI.ELEMENT_COMPLETED]
    taken = [r.value["elementId"] for r in harness.records().process_instance_records(pik)
             if r.intent is PI.SEQUENCE_FLOW_TAKEN]
    assert taken[-1] == "to_b"  # foo is 55 in the gateway's scope, so the default flow


def test_a_parallel_gateway_runs_its_start_listener_before_it_forks(harness: EngineHarness) -> None:
    fork = ('<bpmn:parallelGateway id="fork"><bpmn:extensionElements>' + t.execution_listeners(("start", "fork-start"))
            + "</bpmn:extensionElements></bpmn:parallelGateway>")
    deploy(harness, b.process("p", b.start(), b.flow("f1", "start", "fork"), fork, b.flow("a", "fork", "end_a"),
                              b.flow("b", "fork", "end_b"), b.end("end_a"), b.end("end_b")))
    pik = harness.create_instance("p")
    assert not [r for r in harness.records().process_instance_records(pik) if r.intent is PI.SEQUENCE_FLOW_TAKEN
                and r.value["elementId"] in ("a", "b")]
    run_job(harness, "fork-start")
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_end_listeners_on_a_gateway_are_refused_at_deployment(harness: EngineHarness) -> None:
    gateway = ('<bpmn:parallelGateway id="fork"><bpmn:extensionElements>' + t.execution_listeners(("end", "e"))
               + "</bpmn:extensionElements></bpmn:parallelGateway>")
    response = harness.deploy("p.bpmn", b.process("p", b.start(), b.flow("f1", "start", "fork"), gateway,
                                                  b.flow("f2", "fork", "end"), b.end()))
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert "parallel gateway 'fork': execution listeners of type 'end' are not supported by gateways" \
        in response.rejection_reason
