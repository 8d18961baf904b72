"""Script tasks with a zeebe:script, record for record (Zeebe's ``ScriptTaskTest``): the FEEL expression is
evaluated when the task activates, its value waits in a PROCESS_EVENT and becomes the result variable as
the task completes at once; a failed evaluation is a resolvable EXTRACT_VALUE_ERROR incident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessEventIntent,
    ProcessInstanceIntent,
    RecordType,
    ValueType,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_tasks as t

PI = ProcessInstanceIntent


def with_task(task: str) -> bytes:
    return b.process("p", b.start(), b.flow("f1", "start", "task"), task, b.flow("f2", "task", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, task: str) -> None:
    response = harness.deploy("p.bpmn", with_task(task))
    assert response is not None and response.record_type is RecordType.EVENT, response and response.rejection_reason


def task_records(harness: EngineHarness) -> list[tuple[str, str, str]]:
    """(value type, intent, element id or variable name) from the script task's activation on."""
    records = harness.records().only_events().skip_until(
        lambda r: r.value.get("elementId") == "task" and r.intent is PI.ELEMENT_ACTIVATING)
    return [(r.value_type.name, r.intent.name, r.value.get("elementId") or r.value.get("targetElementId")
             or r.value.get("name", "")) for r in records]


def variables_of(harness: EngineHarness, scope_key: int) -> dict[str, str]:
    return {r.value["name"]: r.value["value"] for r in harness.records().with_value_type(ValueType.VARIABLE).only_events()
            if r.value["scopeKey"] == scope_key}


def test_a_script_task_evaluates_its_expression_and_completes_with_the_result(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=a + b", "sum"))
    pik = harness.create_instance("p", {"a": 1, "b": 2})
    assert task_records(harness)[:8] == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "task"),
        ("PROCESS_EVENT", "TRIGGERING", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "task"),
        ("PROCESS_EVENT", "TRIGGERED", "task"),
        ("VARIABLE", "CREATED", "sum"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "task"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
    ]
    assert variables_of(harness, pik)["sum"] == "3"
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED
    assert not harness.jobs()


def test_the_process_event_carries_the_result_variable(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", '={x: "y"}', "out"))
    harness.create_instance("p")
    [triggering] = harness.records().with_value_type(ValueType.PROCESS_EVENT).with_intent(ProcessEventIntent.TRIGGERING)
    element_key = next(r.key for r in harness.records().process_instance_records() if r.value["elementId"] == "task")
    assert triggering.value["variables"] == {"out": {"x": "y"}}
    assert triggering.value["scopeKey"] == element_key


def test_the_result_goes_through_the_output_mappings(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=a * 10", "result",
                                  mappings='<zeebe:output source="=result + 1" target="mapped"/>'))
    pik = harness.create_instance("p", {"a": 2})
    element_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "task")
    assert variables_of(harness, pik) == {"a": "2", "mapped": "21"}
    assert variables_of(harness, element_key) == {"result": "20"}


def test_the_expression_sees_the_input_mappings(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=local * 2", "twice",
                                  mappings='<zeebe:input source="=a + 1" target="local"/>'))
    pik = harness.create_instance("p", {"a": 4})
    assert variables_of(harness, pik)["twice"] == "10"


def test_an_updated_variable_is_updated_where_it_lives(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=count + 1", "count"))
    pik = harness.create_instance("p", {"count": 1})
    updated = harness.records().with_value_type(ValueType.VARIABLE).with_intent(VariableIntent.UPDATED)
    assert [(r.value["name"], r.value["value"], r.value["scopeKey"]) for r in updated] == [("count", "2", pik)]


def test_a_failing_expression_is_an_extract_value_incident_that_resolving_evaluates_again(
        harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=assert(x, x != null)", "checked"))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert incident.value["elementId"] == "task"
    assert "assert(x, x != null)" in incident.value["errorMessage"]
    assert task_records(harness)[-2:] == [("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "task"),
                                          ("INCIDENT", "CREATED", "task")]
    assert not harness.records().with_value_type(ValueType.PROCESS_EVENT)

    harness.set_variables(pik, {"x": 7})
    harness.resolve_incident(incident.key)
    assert variables_of(harness, pik)["checked"] == "7"
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_canceling_an_instance_whose_script_failed_resolves_the_incident(harness: EngineHarness) -> None:
    deploy(harness, t.script_task("task", "=assert(x, x != null)", "checked"))
    pik = harness.create_instance("p")
    harness.cancel(pik)
    assert task_records(harness)[-4:] == [
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "task"), ("INCIDENT", "RESOLVED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "task"), ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "p")]


def test_a_script_task_with_a_task_definition_is_still_a_job(harness: EngineHarness) -> None:
    task = ('<bpmn:scriptTask id="task"><bpmn:extensionElements><zeebe:taskDefinition type="script-worker"/>'
            "</bpmn:extensionElements></bpmn:scriptTask>")
    deploy(harness, task)
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("script-worker")
    harness.complete_job(job, {"done": True})
    assert [r.intent for r in harness.jobs(pik) if r.record_type is RecordType.EVENT] == [
        JobIntent.CREATED, JobIntent.COMPLETED]
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_a_script_expression_that_does_not_compile_refuses_the_deployment(harness: EngineHarness) -> None:
    response = harness.deploy("p.bpmn", with_task(t.script_task("task", "=1 +", "x")))
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert "script task 'task'" in response.rejection_reason
    assert "script expression" in response.rejection_reason
