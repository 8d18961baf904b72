"""User tasks in both forms, record for record (Zeebe's ``UserTaskTest`` and ``JobWorkerUserTaskTest``):
a job worker user task is a job of type ``io.camunda.zeebe:userTask`` carrying the task's attributes as
custom headers; a Camunda user task (zeebe:userTask) has USER_TASK records, completed and assigned by
USER_TASK commands, and canceled with its element."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.engine.bpmn.behaviors._user_tasks import zoned_date_time
from zeebe_trio.engine.state import UserTaskLifecycle
from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    TimerIntent,
    UserTaskIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_tasks as t

PI = ProcessInstanceIntent
UT = UserTaskIntent


def single_task(task: str) -> bytes:
    return b.process("p", b.start(), b.flow("f1", "start", "task"), task, b.flow("f2", "task", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, task: str) -> None:
    response = harness.deploy("p.bpmn", single_task(task))
    assert response is not None and response.record_type is RecordType.EVENT, response and response.rejection_reason


def user_task_records(harness: EngineHarness) -> list[Record]:
    return list(harness.records().with_value_type(ValueType.USER_TASK).only_events())


def the_user_task(harness: EngineHarness) -> Record:
    return harness.records().with_value_type(ValueType.USER_TASK).with_intent(UT.CREATED)[-1]


def complete(harness: EngineHarness, key: int, variables: dict[str, Any] | None = None) -> Record:
    response = harness.write(ValueType.USER_TASK, UT.COMPLETE, {"variables": variables or {}}, key=key)
    assert response is not None
    return response


def assign(harness: EngineHarness, key: int, assignee: str, intent: UserTaskIntent = UT.ASSIGN) -> Record:
    response = harness.write(ValueType.USER_TASK, intent, {"assignee": assignee}, key=key)
    assert response is not None
    return response


def task_events(harness: EngineHarness) -> list[tuple[str, str]]:
    """(value type, intent) of the user task's and the task element's events, in log order."""
    return [(r.value_type.name, r.intent.name) for r in harness.records().only_events()
            if r.value.get("elementId") == "task" and r.value_type in (ValueType.USER_TASK, ValueType.PROCESS_INSTANCE,
                                                                       ValueType.JOB)]


def process_variables(harness: EngineHarness, pik: int) -> dict[str, str]:
    """Name -> JSON value of the variables written in the process instance's own scope."""
    return {r.value["name"]: r.value["value"] for r in harness.records().with_value_type(ValueType.VARIABLE).only_events()
            if r.value["scopeKey"] == pik}


# -- job worker user tasks ------------------------------------------------------------------------------


def test_a_job_worker_user_task_is_a_job_of_zeebes_user_task_type_with_one_retry(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task"))
    harness.create_instance("p")
    [created] = harness.jobs(intent=JobIntent.CREATED)
    assert created.value["type"] == "io.camunda.zeebe:userTask"
    assert created.value["retries"] == 1
    assert created.value["customHeaders"] == {}
    # the job before ELEMENT_ACTIVATED, as Zeebe's JobWorkerTaskProcessor writes them
    assert task_events(harness) == [("PROCESS_INSTANCE", "ELEMENT_ACTIVATING"), ("JOB", "CREATED"),
                                    ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED")]


def test_a_job_worker_user_task_hands_its_static_attributes_to_the_job_as_zeebes_headers(
        harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", assignee="alice", candidate_groups="sales, ops", candidate_users="bob,carol",
                                due_date="2023-02-28T08:16:00+02:00", follow_up_date="2023-03-01T10:00:00Z",
                                form_key="camunda-forms:bpmn:form1", headers={"mine": "yes"}))
    harness.create_instance("p")
    [created] = harness.jobs(intent=JobIntent.CREATED)
    assert created.value["customHeaders"] == {
        "mine": "yes",
        "io.camunda.zeebe:formKey": "camunda-forms:bpmn:form1",
        "io.camunda.zeebe:assignee": "alice",
        "io.camunda.zeebe:candidateGroups": '["sales","ops"]',
        "io.camunda.zeebe:candidateUsers": '["bob","carol"]',
        "io.camunda.zeebe:dueDate": "2023-02-28T08:16+02:00",
        "io.camunda.zeebe:followUpDate": "2023-03-01T10:00Z",
    }


def test_a_job_worker_user_task_evaluates_its_expressions_when_it_activates(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", assignee="=who", candidate_groups="=groups",
                                due_date='=date and time("2024-01-02T03:04:05@Europe/Berlin")'))
    harness.create_instance("p", {"who": "dora", "groups": ["a"]})
    [created] = harness.jobs(intent=JobIntent.CREATED)
    headers = created.value["customHeaders"]
    assert headers["io.camunda.zeebe:assignee"] == "dora"
    assert headers["io.camunda.zeebe:candidateGroups"] == '["a"]'
    assert headers["io.camunda.zeebe:dueDate"] == "2024-01-02T03:04:05+01:00[Europe/Berlin]"


def test_a_due_date_that_is_no_date_time_is_an_extract_value_incident_resolved_by_a_better_value(
        harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", due_date="=due"))
    pik = harness.create_instance("p", {"due": "tomorrow"})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert incident.value["errorMessage"] == "Invalid date-time format 'tomorrow' for expression 'due'."
    assert not harness.jobs(intent=JobIntent.CREATED)
    assert task_events(harness)[-1] == ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING")

    harness.set_variables(pik, {"due": "2030-01-01T00:00:00Z"})
    harness.resolve_incident(incident.key)
    [created] = harness.jobs(intent=JobIntent.CREATED)
    assert created.value["customHeaders"]["io.camunda.zeebe:dueDate"] == "2030-01-01T00:00Z"


def test_a_due_date_of_the_wrong_type_names_the_types_zeebe_accepts(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", due_date="=due"))
    pik = harness.create_instance("p", {"due": 12})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        "Expected result of the expression 'due' to be one of '[DATE_TIME, STRING]', but was 'NUMBER'.")


def test_candidate_groups_must_be_a_list_of_strings(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", candidate_groups="=groups"))
    pik = harness.create_instance("p", {"groups": [1, 2]})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert incident.value["errorMessage"] == (
        "Expected result of the expression 'groups' to be 'ARRAY' containing 'STRING' items, but was 'ARRAY'"
        " containing at least one non-'STRING' item.")


def test_completing_the_job_of_a_job_worker_user_task_completes_it(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task"))
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("io.camunda.zeebe:userTask")
    harness.complete_job(job, {"approved": True})
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED
    assert process_variables(harness, pik) == {"approved": "true"}


# -- Camunda user tasks ---------------------------------------------------------------------------------


def test_a_camunda_user_task_is_created_then_activated_then_assigned(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, assignee="alice"))
    harness.create_instance("p")
    assert task_events(harness) == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING"),
        ("USER_TASK", "CREATING"), ("USER_TASK", "CREATED"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED"),
        ("USER_TASK", "ASSIGNING"), ("USER_TASK", "ASSIGNED"),
    ]
    creating, created, assigning, assigned = user_task_records(harness)
    assert creating.value["assignee"] == "alice"
    assert created.value["assignee"] == ""  # Zeebe creates the task unassigned, then assigns it
    assert assigning.value["assignee"] == assigned.value["assignee"] == "alice"
    assert assigned.value["changedAttributes"] == ["assignee"]
    assert {r.key for r in user_task_records(harness)} == {created.value["userTaskKey"]}


def test_a_camunda_user_task_without_an_assignee_is_only_created(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True))
    pik = harness.create_instance("p")
    assert task_events(harness) == [("PROCESS_INSTANCE", "ELEMENT_ACTIVATING"), ("USER_TASK", "CREATING"),
                                    ("USER_TASK", "CREATED"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED")]
    created = the_user_task(harness).value
    element_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "task")
    assert created == {
        "userTaskKey": created["userTaskKey"],
        "assignee": "",
        "candidateGroupsList": [],
        "candidateUsersList": [],
        "dueDate": "",
        "followUpDate": "",
        "formKey": -1,
        "changedAttributes": [],
        "variables": {},
        "bpmnProcessId": "p",
        "processDefinitionVersion": 1,
        "processDefinitionKey": created["processDefinitionKey"],
        "processInstanceKey": pik,
        "elementId": "task",
        "elementInstanceKey": element_key,
        "tenantId": "<default>",
        "externalFormReference": "",
        "customHeaders": {},
        "creationTimestamp": harness.now,
        "action": "",
        "priority": 50,
    }
    assert not harness.jobs()


def test_a_camunda_user_task_record_carries_its_evaluated_attributes(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, candidate_groups="=groups", candidate_users="u1, u2",
                                due_date="=due", follow_up_date="2023-03-01T10:00:00Z", priority="=prio",
                                external_reference="https://forms/1", headers={"h": "v"}))
    harness.create_instance("p", {"groups": ["g"], "due": "2023-02-28T08:16:23+02:00", "prio": 80})
    created = the_user_task(harness).value
    assert created["candidateGroupsList"] == ["g"]
    assert created["candidateUsersList"] == ["u1", "u2"]
    assert created["dueDate"] == "2023-02-28T08:16:23+02:00"
    assert created["followUpDate"] == "2023-03-01T10:00Z"
    assert created["priority"] == 80
    assert created["externalFormReference"] == "https://forms/1"
    assert created["customHeaders"] == {"h": "v"}


def test_a_priority_outside_zero_to_a_hundred_is_an_incident(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, priority="=prio"))
    pik = harness.create_instance("p", {"prio": 101})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert incident.value["errorMessage"] == "Expected priority to be in the range [0,100] but was '101'."
    assert not user_task_records(harness)


def test_completing_a_camunda_user_task_completes_its_element_with_the_variables(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, assignee="alice"))
    pik = harness.create_instance("p")
    key = the_user_task(harness).key
    response = complete(harness, key, {"approved": True})
    assert (response.record_type, response.intent) == (RecordType.EVENT, UT.COMPLETED)
    assert response.value["variables"] == {"approved": True}
    assert response.value["action"] == "complete"
    after = harness.records().skip_until(lambda r: r.value_type is ValueType.USER_TASK and r.intent is UT.COMPLETE)
    assert [(r.record_type.name, r.value_type.name, r.intent.name) for r in after][:7] == [
        ("COMMAND", "USER_TASK", "COMPLETE"),
        ("EVENT", "USER_TASK", "COMPLETING"),
        ("EVENT", "USER_TASK", "COMPLETED"),
        ("COMMAND", "PROCESS_INSTANCE", "COMPLETE_ELEMENT"),
        ("EVENT", "PROCESS_INSTANCE", "ELEMENT_COMPLETING"),
        ("EVENT", "VARIABLE", "CREATED"),
        ("EVENT", "PROCESS_INSTANCE", "ELEMENT_COMPLETED"),
    ]
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED
    assert process_variables(harness, pik) == {"approved": "true"}
    with harness.read() as state:
        assert state.user_task(key) is None


def test_a_camunda_user_tasks_output_mappings_see_the_completion_variables(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True,
                                mappings='<zeebe:output source="=decision = &quot;yes&quot;" target="approved"/>'))
    pik = harness.create_instance("p")
    complete(harness, the_user_task(harness).key, {"decision": "yes"})
    assert process_variables(harness, pik) == {"approved": "true"}


def test_completing_a_user_task_that_does_not_exist_is_rejected_with_zeebes_message(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True))
    response = complete(harness, 2251799813685999)
    assert response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_type is RejectionType.NOT_FOUND
    assert response.rejection_reason == (
        "Expected to complete user task with key '2251799813685999', but no such user task was found")


def test_a_completed_user_task_cannot_be_completed_again(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True))
    harness.create_instance("p")
    key = the_user_task(harness).key
    complete(harness, key)
    again = complete(harness, key)
    assert again.rejection_type is RejectionType.NOT_FOUND


def test_assigning_a_user_task_writes_assigning_and_assigned(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, assignee="alice"))
    harness.create_instance("p")
    key = the_user_task(harness).key
    response = assign(harness, key, "bob")
    assert (response.record_type, response.intent) == (RecordType.EVENT, UT.ASSIGNED)
    assert response.value["assignee"] == "bob" and response.value["action"] == "assign"
    assert [r.intent for r in user_task_records(harness)][-2:] == [UT.ASSIGNING, UT.ASSIGNED]
    with harness.read() as state:
        stored = state.user_task(key)
        assert stored is not None and stored.lifecycle is UserTaskLifecycle.CREATED and stored.assignee == "bob"
    # the new assignee may complete it
    assert complete(harness, key).intent is UT.COMPLETED


def test_assigning_a_user_task_that_does_not_exist_is_rejected(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True))
    response = assign(harness, 2251799813685999, "bob")
    assert response.rejection_type is RejectionType.NOT_FOUND
    assert response.rejection_reason == (
        "Expected to assign user task with key '2251799813685999', but no such user task was found")


def test_claiming_a_task_assigned_to_someone_else_is_rejected(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, assignee="alice"))
    harness.create_instance("p")
    key = the_user_task(harness).key
    refused = assign(harness, key, "bob", UT.CLAIM)
    assert refused.rejection_type is RejectionType.INVALID_STATE
    assert refused.rejection_reason == (
        f"Expected to claim user task with key '{key}', but it has already been assigned")
    assert assign(harness, key, "alice", UT.CLAIM).intent is UT.ASSIGNED
    assert [r.intent for r in user_task_records(harness)][-2:] == [UT.CLAIMING, UT.ASSIGNED]
    assert user_task_records(harness)[-1].value["action"] == "claim"


def test_an_empty_or_null_due_date_is_left_empty(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True, due_date="=due", follow_up_date="=null"))
    harness.create_instance("p", {"due": ""})
    created = the_user_task(harness).value
    assert (created["dueDate"], created["followUpDate"]) == ("", "")


def test_canceling_the_instance_cancels_its_user_task(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task", zeebe_user_task=True))
    pik = harness.create_instance("p")
    key = the_user_task(harness).key
    harness.cancel(pik)
    assert task_events(harness)[-4:] == [
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING"),
        ("USER_TASK", "CANCELING"), ("USER_TASK", "CANCELED"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED"),
    ]
    assert complete(harness, key).rejection_type is RejectionType.NOT_FOUND


def test_canceling_the_instance_cancels_the_job_of_a_job_worker_user_task(harness: EngineHarness) -> None:
    deploy(harness, t.user_task("task"))
    pik = harness.create_instance("p")
    harness.cancel(pik)
    assert task_events(harness)[-3:] == [("PROCESS_INSTANCE", "ELEMENT_TERMINATING"), ("JOB", "CANCELED"),
                                         ("PROCESS_INSTANCE", "ELEMENT_TERMINATED")]


def test_a_form_id_needs_a_deployed_form(harness: EngineHarness) -> None:
    task = t.user_task("task", zeebe_user_task=True).replace(
        "<zeebe:userTask/>", '<zeebe:userTask/><zeebe:formDefinition formId="invoice"/>')
    deploy(harness, task)
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"
    assert incident.value["errorMessage"].startswith("Expected to find a form with id 'invoice', but no form")


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-02-28T08:16:00+02:00", "2023-02-28T08:16+02:00"),
    ("2023-02-28T08:16:23Z", "2023-02-28T08:16:23Z"),
    ("2023-02-28T08:16:23.5+00:00", "2023-02-28T08:16:23.500Z"),
    ("2023-02-28T08:16:00+01:00[Europe/Berlin]", "2023-02-28T08:16+01:00[Europe/Berlin]"),
    ("2023-02-28T08:16:00", None),  # no offset: not a zoned date-time
    ("tomorrow", None),
])
def test_due_dates_are_written_as_java_writes_a_zoned_date_time(text: str, expected: str | None) -> None:
    assert zoned_date_time(text) == expected


def test_the_user_task_state_replays_to_the_same_state(harness: EngineHarness) -> None:
    # The harness compares the replayed state after every command; this walks through every transition.
    deploy(harness, t.user_task("task", zeebe_user_task=True, assignee="a"))
    harness.create_instance("p")
    key = the_user_task(harness).key
    assign(harness, key, "b")
    complete(harness, key, {"x": json.loads("[1, 2]")})
    assert harness.records().only_rejections() == []


def test_a_boundary_timer_on_a_job_worker_user_task_fires_and_takes_its_path() -> None:
    # the job form activates through the state transition too, which opens its boundary events'
    # subscriptions (it once wrote ELEMENT_ACTIVATED itself, and no timer was ever created)

    model = b.process("remind", b.start(), b.flow("f1", "start", "approve"), '<bpmn:userTask id="approve"/>',
                      b.flow("f2", "approve", "end"), b.end(),
                      b.boundary("late", "approve", b.timer_definition(duration="PT1H")), b.flow("f3", "late", "escalated"),
                      b.end("escalated"))
    with EngineHarness() as harness:
        harness.deploy("remind.bpmn", model)
        pik = harness.create_instance("remind")
        harness.advance(3_600_000)
        timers = [r.intent for r in harness.records().with_value_type(ValueType.TIMER).only_events()]
        completed = [r.value["elementId"] for r in harness.records().only_events().process_instance_records(pik)
                     if r.intent.name == "ELEMENT_COMPLETED"]
    assert timers == [TimerIntent.CREATED, TimerIntent.TRIGGERED]
    assert completed == ["start", "late", "escalated", "remind"]
