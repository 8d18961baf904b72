"""Call activities: the child process instance they create, the variables that cross into it and
back, their bindings to a called version, incidents when the called process is missing, and
cancellation from both sides, checked record for record (Zeebe's ``CallActivityTest`` and
``CallActivityIncidentTest``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.engine import Engine
from zeebe_trio.protocol import (
    BpmnElementType,
    DeploymentIntent,
    ErrorType,
    IncidentIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as c

PI = ProcessInstanceIntent
T = BpmnElementType


def parent_process(process_id: str = "parent", **call: Any) -> bytes:
    called = call.pop("called", "child")
    return b.process(process_id, b.start(), b.flow("to_call", "start", "call"), c.call_activity("call", called, **call),
                     b.flow("to_end", "call", "end"), b.end())


def child_process(process_id: str = "child", job_type: str = "child-work", start_id: str = "start") -> bytes:
    return b.process(process_id, b.start(start_id), b.flow("to_task", start_id, "task"),
                     b.service_task("task", job_type), b.flow("to_end", "task", "end"), b.end())


def empty_child(process_id: str = "child", start_id: str = "start") -> bytes:
    return b.process(process_id, b.start(start_id), b.flow("to_end", start_id, "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy_together(harness: EngineHarness, *resources: tuple[str, bytes]) -> Any:
    response = harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                             {"resources": [{"resourceName": n, "resource": r} for n, r in resources]})
    assert response is not None and response.record_type is RecordType.EVENT, response
    return response


def child_of(harness: EngineHarness, process_instance_key: int) -> dict[str, Any]:
    """The PROCESS record value of the child instance created from ``process_instance_key``."""
    return next(r.value for r in harness.records().with_value_type(ValueType.PROCESS_INSTANCE)
                if r.value.get("parentProcessInstanceKey") == process_instance_key
                and r.value["bpmnElementType"] == T.PROCESS.value)


def call_activity_key(harness: EngineHarness, process_instance_key: int) -> int:
    return next(r.key for r in harness.records().only_events().process_instance_records(process_instance_key)
                if r.value["bpmnElementType"] == T.CALL_ACTIVITY.value)


def variables_of(harness: EngineHarness, process_instance_key: int) -> list[tuple[int, str, Any]]:
    return [(r.value["scopeKey"], r.value["name"], json.loads(r.value["value"]))
            for r in harness.records().with_value_type(ValueType.VARIABLE)
            if r.value["processInstanceKey"] == process_instance_key]


def complete_child_job(harness: EngineHarness, variables: dict[str, Any] | None = None,
                       job_type: str = "child-work") -> None:
    [job] = harness.activate_jobs(job_type)
    harness.complete_job(job, variables or {})


def tuples(harness: EngineHarness, process_instance_key: int, *, events_only: bool = False) -> list[tuple[Any, str]]:
    records = harness.records()
    if events_only:
        records = records.only_events()
    return [(intent, element_type) for intent, element_type, _id in
            records.process_instance_records(process_instance_key).element_tuples()]


# -- activation and the child instance --------------------------------------------------------------

def test_a_call_activity_activates_and_creates_an_instance_of_the_called_process(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")

    call_records = [t for t in harness.records().only_events().process_instance_records(pik).element_tuples()
                    if t[2] == "call"]
    assert call_records == [(PI.ELEMENT_ACTIVATING, "CALL_ACTIVITY", "call"),
                            (PI.ELEMENT_ACTIVATED, "CALL_ACTIVITY", "call")]
    child = child_of(harness, pik)
    assert child["bpmnProcessId"] == "child" and child["elementId"] == "child"
    assert child["parentElementInstanceKey"] == call_activity_key(harness, pik)
    child_records = [(r.intent, r.value["bpmnElementType"]) for r in harness.records().with_value_type(
        ValueType.PROCESS_INSTANCE) if r.value.get("parentProcessInstanceKey") == pik]
    assert child_records[:6] == [
        (PI.ACTIVATE_ELEMENT, "PROCESS"), (PI.ELEMENT_ACTIVATING, "PROCESS"), (PI.ELEMENT_ACTIVATED, "PROCESS"),
        (PI.ACTIVATE_ELEMENT, "START_EVENT"), (PI.ELEMENT_ACTIVATING, "START_EVENT"),
        (PI.ELEMENT_ACTIVATED, "START_EVENT"),
    ]


def test_the_child_is_created_right_after_the_call_activity_is_activated(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    records = list(harness.records())
    activated = next(i for i, r in enumerate(records) if r.intent is PI.ELEMENT_ACTIVATED
                     and r.value_type is ValueType.PROCESS_INSTANCE and r.value.get("elementId") == "call")
    child_key = child_of(harness, pik)["processInstanceKey"]
    following = records[activated + 1:activated + 4]
    assert [(r.value_type, r.intent, r.key) for r in following] == [
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, child_key),
        (ValueType.VARIABLE, following[1].intent, following[1].key),  # the copied variable
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATING, child_key),
    ]
    assert following[1].value["scopeKey"] == child_key and following[1].value["name"] == "x"


def test_every_record_of_the_child_refers_to_its_parent_instance_and_call_activity(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness)
    child_key = child_of(harness, pik)["processInstanceKey"]
    child_records = harness.records().process_instance_records(child_key)
    assert child_records
    assert {(r.value["parentProcessInstanceKey"], r.value["parentElementInstanceKey"]) for r in child_records} \
        == {(pik, call_activity_key(harness, pik))}
    with harness.read() as state:
        assert state.calling_element_instance(pik) == -1


def test_the_child_knows_its_calling_element_instance_while_it_runs(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    child_key = child_of(harness, pik)["processInstanceKey"]
    with harness.read() as state:
        assert state.calling_element_instance(child_key) == call_activity_key(harness, pik)
        assert state.called_child_instance(call_activity_key(harness, pik)) == child_key
        assert state.root_process_instance(child_key) == pik


def test_the_child_completing_completes_the_call_activity_and_the_parent(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness)

    child_key = child_of(harness, pik)["processInstanceKey"]
    seen = [(r.intent, r.value["bpmnElementType"], r.key) for r in harness.records().with_value_type(
        ValueType.PROCESS_INSTANCE)]
    tail = seen[next(i for i, t in enumerate(seen) if t[0] is PI.COMPLETE_ELEMENT and t[2] == child_key):]
    assert [(intent, element_type) for intent, element_type, _key in tail] == [
        (PI.COMPLETE_ELEMENT, "PROCESS"), (PI.ELEMENT_COMPLETING, "PROCESS"), (PI.ELEMENT_COMPLETED, "PROCESS"),
        (PI.COMPLETE_ELEMENT, "CALL_ACTIVITY"), (PI.ELEMENT_COMPLETING, "CALL_ACTIVITY"),
        (PI.ELEMENT_COMPLETED, "CALL_ACTIVITY"), (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW"),
        (PI.ACTIVATE_ELEMENT, "END_EVENT"), (PI.ELEMENT_ACTIVATING, "END_EVENT"), (PI.ELEMENT_ACTIVATED, "END_EVENT"),
        (PI.COMPLETE_ELEMENT, "END_EVENT"), (PI.ELEMENT_COMPLETING, "END_EVENT"), (PI.ELEMENT_COMPLETED, "END_EVENT"),
        (PI.COMPLETE_ELEMENT, "PROCESS"), (PI.ELEMENT_COMPLETING, "PROCESS"), (PI.ELEMENT_COMPLETED, "PROCESS"),
    ]
    assert tail[0][2] == child_key and tail[-1][2] == pik
    with harness.read() as state:
        assert state.element_instance(pik) is None and state.element_instance(child_key) is None
        assert state.called_child_instance(call_activity_key(harness, pik)) == -1


def test_the_called_process_starts_at_its_none_start_event(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", empty_child(start_id="none-start"))
    pik = harness.create_instance("parent")
    child_key = child_of(harness, pik)["processInstanceKey"]
    starts = {r.value["elementId"] for r in harness.records().process_instance_records(child_key)
              if r.value["bpmnElementType"] == T.START_EVENT.value}
    assert starts == {"none-start"}
    assert tuples(harness, pik, events_only=True)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS")


# -- variables --------------------------------------------------------------------------------------

def test_all_parent_variables_are_copied_into_the_child_by_default(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1, "y": 2})
    child = child_of(harness, pik)
    child_key = child["processInstanceKey"]
    copied = [r.value for r in harness.records().with_value_type(ValueType.VARIABLE)
              if r.value["processInstanceKey"] == child_key]
    assert {(v["name"], v["value"]) for v in copied} == {("x", "1"), ("y", "2")}
    assert all(v["scopeKey"] == child_key and v["processDefinitionKey"] == child["processDefinitionKey"]
               and v["bpmnProcessId"] == "child" for v in copied)


def test_input_mappings_reach_the_child_along_with_all_parent_variables(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(mappings='<zeebe:input source="=x" target="y"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    child_key = child_of(harness, pik)["processInstanceKey"]
    assert {(name, value) for _scope, name, value in variables_of(harness, child_key)} == {("x", 1), ("y", 1)}


def test_without_propagating_parent_variables_only_the_input_mappings_reach_the_child(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(propagate_parent=False,
                                                 mappings='<zeebe:input source="=x" target="y"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    child_key = child_of(harness, pik)["processInstanceKey"]
    assert variables_of(harness, child_key) == [(child_key, "y", 1)]


def test_without_propagating_parent_variables_or_input_mappings_no_variable_reaches_the_child(
        harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(propagate_parent=False))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    child_key = child_of(harness, pik)["processInstanceKey"]
    assert variables_of(harness, child_key) == []


def test_the_child_variables_are_propagated_to_the_parent_by_default(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness, {"y": 2})
    assert variables_of(harness, pik) == [(pik, "y", 2)]


def test_unchanged_copies_of_parent_variables_are_not_written_back(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    complete_child_job(harness, {"x": 5, "y": 2})
    parent_variables = [r for r in harness.records().with_value_type(ValueType.VARIABLE)
                        if r.value["processInstanceKey"] == pik]
    assert [(r.intent.name, r.value["name"], r.value["value"]) for r in parent_variables] == [
        ("CREATED", "x", "1"), ("UPDATED", "x", "5"), ("CREATED", "y", "2")]


def test_child_variables_are_not_propagated_when_disabled(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(propagate_child=False))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    child_key = child_of(harness, pik)["processInstanceKey"]
    complete_child_job(harness, {"y": 2})
    assert variables_of(harness, child_key) == [(child_key, "y", 2)]
    assert variables_of(harness, pik) == []
    assert tuples(harness, pik, events_only=True)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS")


def test_output_mappings_decide_which_child_variables_reach_the_parent(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(propagate_child=False,
                                                 mappings='<zeebe:output source="=x" target="y"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness, {"x": 2})
    call_key = call_activity_key(harness, pik)
    assert sorted(variables_of(harness, pik)) == sorted([(call_key, "x", 2), (pik, "y", 2)])


def test_output_mappings_win_over_propagating_all_child_variables(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(propagate_child=True,
                                                 mappings='<zeebe:output source="=x" target="x"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness, {"x": 1, "y": 2})
    call_key = call_activity_key(harness, pik)
    assert sorted(variables_of(harness, pik)) == sorted([(call_key, "x", 1), (call_key, "y", 2), (pik, "x", 1)])


def test_variables_are_not_propagated_when_the_child_is_terminated(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(mappings='<zeebe:input source="=x" target="y"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent", {"x": 1})
    child_key = child_of(harness, pik)["processInstanceKey"]
    harness.cancel(pik)
    scopes_and_names = {(r.value["scopeKey"], r.value["name"]) for r in harness.records().with_value_type(
        ValueType.VARIABLE)}
    assert (child_key, "y") in scopes_and_names and (pik, "y") not in scopes_and_names


# -- bindings and the called process id ----------------------------------------------------------------

def test_the_latest_version_is_called_without_a_binding_type(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", empty_child(start_id="v1"))
    latest = harness.deploy("child.bpmn", empty_child(start_id="v2"))
    assert latest is not None
    [metadata] = latest.value["processesMetadata"]
    pik = harness.create_instance("parent")
    child = child_of(harness, pik)
    assert (child["version"], child["processDefinitionKey"]) == (2, metadata["processDefinitionKey"])


def test_binding_type_latest_calls_the_latest_version(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(binding="latest"))
    harness.deploy("child.bpmn", empty_child(start_id="v1"))
    harness.deploy("child.bpmn", empty_child(start_id="v2"))
    pik = harness.create_instance("parent")
    assert child_of(harness, pik)["version"] == 2


def test_binding_type_deployment_calls_the_version_deployed_with_the_calling_process(harness: EngineHarness) -> None:
    deployment = deploy_together(harness, ("parent.bpmn", parent_process(binding="deployment")),
                                 ("child.bpmn", empty_child(start_id="v1")))
    together = next(m for m in deployment.value["processesMetadata"] if m["bpmnProcessId"] == "child")
    harness.deploy("child.bpmn", empty_child(start_id="v2"))
    pik = harness.create_instance("parent")
    child = child_of(harness, pik)
    assert (child["version"], child["processDefinitionKey"]) == (1, together["processDefinitionKey"])


def test_binding_type_version_tag_calls_the_latest_version_with_that_tag(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(binding="versionTag", version_tag="v1.0"))
    harness.deploy("child.bpmn", c.process_with_version_tag("child", "v1.0", b.start("old"), b.flow("f", "old", "end"),
                                                            b.end()))
    tagged = harness.deploy("child.bpmn", c.process_with_version_tag("child", "v1.0", b.start("new"),
                                                                     b.flow("f", "new", "end"), b.end()))
    harness.deploy("child.bpmn", c.process_with_version_tag("child", "v2.0", b.start(), b.flow("f", "start", "end"),
                                                            b.end()))
    harness.deploy("child.bpmn", empty_child())
    assert tagged is not None
    [metadata] = tagged.value["processesMetadata"]
    pik = harness.create_instance("parent")
    child = child_of(harness, pik)
    assert (child["version"], child["processDefinitionKey"]) == (2, metadata["processDefinitionKey"])


def test_the_called_process_id_may_be_an_expression(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(called="=processId"))
    harness.deploy("child.bpmn", empty_child())
    pik = harness.create_instance("parent", {"processId": "child"})
    assert child_of(harness, pik)["bpmnProcessId"] == "child"


def test_an_expression_process_id_with_binding_type_deployment(harness: EngineHarness) -> None:
    deployment = deploy_together(harness, ("parent.bpmn", parent_process(called="=processId", binding="deployment")),
                                 ("child.bpmn", empty_child(start_id="v1")))
    together = next(m for m in deployment.value["processesMetadata"] if m["bpmnProcessId"] == "child")
    harness.deploy("child.bpmn", empty_child(start_id="v2"))
    pik = harness.create_instance("parent", {"processId": "child"})
    assert child_of(harness, pik)["processDefinitionKey"] == together["processDefinitionKey"]


def test_a_process_id_expression_that_is_not_a_string_is_an_incident(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(called="=processId"))
    pik = harness.create_instance("parent", {"processId": 5})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.value
    assert incident.value["errorMessage"] == \
        "Expected result of the expression 'processId' to be 'STRING', but was 'NUMBER'."


# -- incidents ----------------------------------------------------------------------------------------

def test_a_missing_called_process_is_an_incident_resolved_by_deploying_it(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    pik = harness.create_instance("parent")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.CALLED_ELEMENT_ERROR.value
    assert incident.value["errorMessage"] == "Expected process with BPMN process id 'child' to be deployed, but not found."
    assert incident.value["elementId"] == "call"
    assert (PI.ELEMENT_ACTIVATED, "CALL_ACTIVITY") not in tuples(harness, pik)

    harness.deploy("child.bpmn", empty_child())
    harness.resolve_incident(incident.key)
    seen = tuples(harness, pik, events_only=True)
    assert (PI.ELEMENT_ACTIVATED, "CALL_ACTIVITY") in seen
    assert seen[-1] == (PI.ELEMENT_COMPLETED, "PROCESS")


def test_a_missing_version_tag_is_an_incident(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(binding="versionTag", version_tag="v9"))
    harness.deploy("child.bpmn", empty_child())
    pik = harness.create_instance("parent")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.CALLED_ELEMENT_ERROR.value
    assert incident.value["errorMessage"] == (
        "Expected to call process with BPMN process id 'child' and version tag 'v9', but no such process found."
        " To resolve this incident, deploy a process with the given process id and version tag.")


def test_a_process_missing_from_the_deployment_is_an_incident(harness: EngineHarness) -> None:
    # Only an expression process id reaches run time: a static one is checked at deployment.
    harness.deploy("child.bpmn", empty_child())
    deployment = harness.deploy("parent.bpmn", parent_process(called="=processId", binding="deployment"))
    assert deployment is not None
    pik = harness.create_instance("parent", {"processId": "child"})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        "Expected to call process with BPMN process id 'child' with binding type 'deployment', but no such process"
        f" found in the deployment with key {deployment.key} which contained the current process. To resolve this"
        " incident, migrate the process instance to a process definition that is deployed together with the"
        " intended process definition to call.")


def test_a_static_process_id_bound_to_the_deployment_must_be_deployed_with_it(harness: EngineHarness) -> None:
    harness.deploy("child.bpmn", empty_child())
    rejection = harness.deploy("parent.bpmn", parent_process(binding="deployment"))
    assert rejection is not None and rejection.record_type is RecordType.COMMAND_REJECTION
    assert rejection.rejection_type is RejectionType.INVALID_ARGUMENT
    assert rejection.rejection_reason == (
        "Expected to deploy new resources, but encountered the following errors:\n"
        "'parent.bpmn': process 'parent': call activity 'call': Expected to find process with id 'child' in current"
        " deployment, but not found; deploy it together with this process, or bind the call activity to the"
        " 'latest' version")


def test_an_unchanged_process_gets_a_new_version_when_deployed_with_a_changed_one(harness: EngineHarness) -> None:
    first = deploy_together(harness, ("parent.bpmn", parent_process(binding="deployment")),
                            ("child.bpmn", empty_child()))
    again = deploy_together(harness, ("parent.bpmn", parent_process(binding="deployment")),
                            ("child.bpmn", empty_child()))
    assert [(m["version"], m["isDuplicate"]) for m in again.value["processesMetadata"]] == [(1, True), (1, True)]
    changed = deploy_together(harness, ("parent.bpmn", parent_process("parent", binding="deployment",
                                                                      mappings='<zeebe:input source="=1" target="a"/>')),
                              ("child.bpmn", empty_child()))
    assert [(m["bpmnProcessId"], m["version"], m["isDuplicate"]) for m in changed.value["processesMetadata"]] == [
        ("parent", 2, False), ("child", 2, False)]
    child_v2 = changed.value["processesMetadata"][1]["processDefinitionKey"]
    assert child_v2 != first.value["processesMetadata"][1]["processDefinitionKey"]
    pik = harness.create_instance("parent")
    assert child_of(harness, pik)["processDefinitionKey"] == child_v2


def test_a_failing_input_mapping_is_an_incident_and_the_call_activity_activates_once_resolved(
        harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(mappings='<zeebe:input source="=assert(x, x != null)" target="y"/>'))
    harness.deploy("child.bpmn", empty_child())
    pik = harness.create_instance("parent")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.IO_MAPPING_ERROR.value
    harness.set_variables(pik, {"x": 1})
    resolved = harness.resolve_incident(incident.key)
    assert resolved is not None
    activated = next(r for r in harness.records().process_instance_records(pik)
                     if r.intent is PI.ELEMENT_ACTIVATED and r.value["elementId"] == "call")
    assert activated.position > resolved.position


def test_an_incident_in_the_child_stays_in_the_child(harness: EngineHarness) -> None:
    child = b.process("child", b.start(), b.flow("to_task", "start", "task"),
                      b.service_task("task", "child-work", mappings='<zeebe:output source="=assert(x, x != null)"'
                                                                    ' target="y"/>'),
                      b.flow("to_end", "task", "end"), b.end())
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child)
    pik = harness.create_instance("parent")
    complete_child_job(harness)
    child_key = child_of(harness, pik)["processInstanceKey"]
    [incident] = harness.incidents(intent=IncidentIntent.CREATED)
    assert incident.value["processInstanceKey"] == child_key
    assert incident.value["elementId"] == "task" and incident.value["bpmnProcessId"] == "child"
    with harness.read() as state:
        assert state.element_incidents(call_activity_key(harness, pik)) == []


# -- cancellation ---------------------------------------------------------------------------------------

def test_canceling_the_parent_terminates_the_child(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    child_key = child_of(harness, pik)["processInstanceKey"]
    harness.cancel(pik)

    terminations = [(r.intent, r.value["bpmnElementType"], r.key) for r in harness.records().only_events()
                    .with_value_type(ValueType.PROCESS_INSTANCE) if r.intent in (PI.ELEMENT_TERMINATING,
                                                                                 PI.ELEMENT_TERMINATED)]
    assert [(intent, element_type) for intent, element_type, _key in terminations] == [
        (PI.ELEMENT_TERMINATING, "PROCESS"), (PI.ELEMENT_TERMINATING, "CALL_ACTIVITY"),
        (PI.ELEMENT_TERMINATING, "PROCESS"), (PI.ELEMENT_TERMINATING, "SERVICE_TASK"),
        (PI.ELEMENT_TERMINATED, "SERVICE_TASK"), (PI.ELEMENT_TERMINATED, "PROCESS"),
        (PI.ELEMENT_TERMINATED, "CALL_ACTIVITY"), (PI.ELEMENT_TERMINATED, "PROCESS"),
    ]
    assert terminations[2][2] == child_key and terminations[-1][2] == pik
    assert [r.intent for r in harness.jobs(child_key)][-1].name == "CANCELED"
    with harness.read() as state:
        assert state.element_instance(child_key) is None and state.element_instance(pik) is None


def test_canceling_the_parent_while_the_call_activity_is_completing_terminates_it(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process(mappings='<zeebe:output source="=assert(x, x != null)" target="y"/>'))
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    complete_child_job(harness)
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["elementId"] == "call"
    harness.cancel(pik)
    seen = tuples(harness, pik, events_only=True)
    assert seen[seen.index((PI.ELEMENT_COMPLETING, "CALL_ACTIVITY")):][-4:] == [
        (PI.ELEMENT_TERMINATING, "PROCESS"), (PI.ELEMENT_TERMINATING, "CALL_ACTIVITY"),
        (PI.ELEMENT_TERMINATED, "CALL_ACTIVITY"), (PI.ELEMENT_TERMINATED, "PROCESS")]
    assert harness.incidents(pik, IncidentIntent.RESOLVED)


def test_canceling_the_parent_while_the_call_activity_has_an_incident_terminates_it(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    pik = harness.create_instance("parent")
    harness.cancel(pik)
    assert tuples(harness, pik, events_only=True)[-4:] == [
        (PI.ELEMENT_TERMINATING, "PROCESS"), (PI.ELEMENT_TERMINATING, "CALL_ACTIVITY"),
        (PI.ELEMENT_TERMINATED, "CALL_ACTIVITY"), (PI.ELEMENT_TERMINATED, "PROCESS")]


def test_canceling_a_child_instance_is_rejected_naming_the_root(harness: EngineHarness) -> None:
    harness.deploy("root.bpmn", parent_process("root", called="parent"))
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    root = harness.create_instance("root")
    parent_key = child_of(harness, root)["processInstanceKey"]
    child_key = child_of(harness, parent_key)["processInstanceKey"]

    for key in (parent_key, child_key):
        rejection = harness.cancel(key)
        assert rejection is not None and rejection.record_type is RecordType.COMMAND_REJECTION
        assert rejection.rejection_type is RejectionType.INVALID_STATE
        assert rejection.rejection_reason == (
            f"Expected to cancel a process instance with key '{key}', but it is created by a parent process"
            f" instance. Cancel the root process instance '{root}' instead.")
    with harness.read() as state:
        assert state.element_instance(child_key) is not None


# -- nesting and create-with-result -------------------------------------------------------------------

def test_a_grandchild_completes_up_the_whole_call_tree(harness: EngineHarness) -> None:
    harness.deploy("root.bpmn", parent_process("root", called="parent"))
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    root = harness.create_instance("root", {"a": 1})
    parent_key = child_of(harness, root)["processInstanceKey"]
    child_key = child_of(harness, parent_key)["processInstanceKey"]
    assert {(name, value) for _s, name, value in variables_of(harness, child_key)} == {("a", 1)}
    with harness.read() as state:
        assert state.root_process_instance(child_key) == root
        assert state.process_depth(child_key) == 3
    complete_child_job(harness, {"fromGrandchild": True})
    for key in (child_key, parent_key, root):
        assert tuples(harness, key, events_only=True)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS")
    assert (root, "fromGrandchild", True) in variables_of(harness, root)


def test_canceling_the_root_terminates_the_whole_call_tree(harness: EngineHarness) -> None:
    harness.deploy("root.bpmn", parent_process("root", called="parent"))
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    root = harness.create_instance("root")
    parent_key = child_of(harness, root)["processInstanceKey"]
    child_key = child_of(harness, parent_key)["processInstanceKey"]
    harness.cancel(root)
    ended = [r.key for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)
             if r.value["bpmnElementType"] == T.PROCESS.value]
    assert ended == [child_key, parent_key, root]


def test_create_with_result_answers_when_the_parent_completes(harness: EngineHarness) -> None:
    harness.deploy("parent.bpmn", parent_process())
    harness.deploy("child.bpmn", child_process())
    answer = harness.write(ValueType.PROCESS_INSTANCE_CREATION,
                           ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT,
                           {"bpmnProcessId": "parent", "version": -1, "variables": {"x": 1}})
    assert answer is None  # the parent waits in its call activity
    assert not harness.records().with_value_type(ValueType.PROCESS_INSTANCE_RESULT)
    complete_child_job(harness, {"y": 2})
    [result] = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_RESULT)
    assert result.intent is ProcessInstanceResultIntent.COMPLETED
    assert result.value["bpmnProcessId"] == "parent" and result.value["variables"] == {"x": 1, "y": 2}


def test_a_recursive_call_stops_at_the_maximum_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    from zeebe_trio.testing import _engine_harness

    monkeypatch.setattr(_engine_harness, "Engine", functools.partial(Engine, max_process_depth=3))
    loop = b.process("loop", b.start(), b.flow("f1", "start", "call"),
                     c.call_activity("call", "loop", propagate_parent=False,
                                     mappings='<zeebe:input source="=depth + 1" target="depth"/>'),
                     b.flow("f2", "call", "end"), b.end())
    with EngineHarness() as harness:
        harness.deploy("loop.bpmn", loop)
        root = harness.create_instance("loop", {"depth": 1})
        [incident] = harness.incidents(intent=IncidentIntent.CREATED)
        assert incident.value["errorType"] == ErrorType.CALLED_ELEMENT_ERROR.value
        assert incident.value["errorMessage"] == (
            "The call activity has reached the maximum depth of 3. This is likely due to a recursive call. Cancel"
            " the root process instance if this was unintentional. Otherwise, consider increasing the maximum"
            " depth, or use process instance modification to adjust the process instance.")
        with harness.read() as state:
            assert state.process_depth(incident.value["processInstanceKey"]) == 3
            assert state.root_process_instance(incident.value["processInstanceKey"]) == root
            assert json.loads(state.variable_json(incident.value["elementInstanceKey"], "depth") or "null") == 4


def test_a_call_activity_in_a_subprocess_propagates_into_the_nearest_scope_holding_a_variable(
        harness: EngineHarness) -> None:
    parent = b.process(
        "parent", b.start(), b.flow("to_sub", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("to_call", "sub_start", "call"),
                      c.call_activity("call", "child"), b.flow("to_sub_end", "call", "sub_end"), b.end("sub_end"),
                      mappings='<zeebe:input source="=0" target="count"/>'),
        b.flow("to_end", "sub", "end"), b.end())
    harness.deploy("parent.bpmn", parent)
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    sub_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "sub")
    child_key = child_of(harness, pik)["processInstanceKey"]
    assert (child_key, "count", 0) in variables_of(harness, child_key)
    complete_child_job(harness, {"count": 3, "fresh": True})
    assert (sub_key, "count", 3) in variables_of(harness, pik)
    assert (pik, "fresh", True) in variables_of(harness, pik)
    assert tuples(harness, pik, events_only=True)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS")


def test_canceling_the_parent_terminates_a_child_called_from_a_subprocess(harness: EngineHarness) -> None:
    parent = b.process(
        "parent", b.start(), b.flow("to_sub", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("to_call", "sub_start", "call"),
                      c.call_activity("call", "child"), b.flow("to_sub_end", "call", "sub_end"), b.end("sub_end")),
        b.flow("to_end", "sub", "end"), b.end())
    harness.deploy("parent.bpmn", parent)
    harness.deploy("child.bpmn", child_process())
    pik = harness.create_instance("parent")
    child_key = child_of(harness, pik)["processInstanceKey"]
    harness.cancel(pik)
    terminated = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED)]
    assert terminated == ["task", "child", "call", "sub", "parent"]
    with harness.read() as state:
        assert state.element_instance(child_key) is None and state.element_instance(pik) is None
