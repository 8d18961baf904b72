"""Migrating a running process instance to another process definition
(PROCESS_INSTANCE_MIGRATION.MIGRATE): the records written for each element kind migrated, the
instance carrying on on the target's path, and Zeebe's rejections word for word (Zeebe's
``MigrateProcessInstanceTest``, ``MigrateProcessInstanceRejectionTest``, ``MigrateServiceTaskTest``,
``MigrateUserTaskTest``). The event-waiting kinds are in ``test_process_instance_migration_events``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    Record,
    RecordType,
    RejectionType,
    TimerIntent,
    UserTaskIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_call_activity import call_activity
from zeebe_trio.testing.bpmn_messages import message, message_catch, receive_task
from zeebe_trio.testing.bpmn_multi_instance import multi_instance
from zeebe_trio.testing.bpmn_tasks import user_task

PI = ProcessInstanceIntent
MIG = ValueType.PROCESS_INSTANCE_MIGRATION


def one_task(process_id: str, task_id: str, job_type: str = "a") -> bytes:
    return b.process(process_id, b.start(), b.flow("to_task", "start", task_id), b.service_task(task_id, job_type),
                     b.flow("to_end", task_id, "end"), b.end())


# the target: the task renamed, and a second task after it
TWO_TASKS = b.process(
    "target", b.start(), b.flow("to_task", "start", "A2"), b.service_task("A2", "a"), b.flow("to_b", "A2", "B"),
    b.service_task("B", "b"), b.flow("to_end", "B", "end"), b.end())


def in_sub(process_id: str, sub_id: str, task_id: str, *extra: str) -> bytes:
    return b.process(
        process_id, b.start(), b.flow("to_sub", "start", sub_id),
        b.sub_process(sub_id, b.start("sub_start"), b.flow("to_task", "sub_start", task_id),
                      b.service_task(task_id, "a"), b.flow("to_sub_end", task_id, "sub_end"), b.end("sub_end")),
        b.flow("to_end", sub_id, "end"), b.end(), *extra)


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, name: str, xml: bytes) -> int:
    deployed = harness.deploy(name, xml)
    assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed
    return int(deployed.value["processesMetadata"][0]["processDefinitionKey"])


def migrate(harness: EngineHarness, pik: int, target: int, mappings: dict[str, str] | list[tuple[str, str]]) -> Record:
    pairs = list(mappings.items()) if isinstance(mappings, dict) else mappings
    response = harness.write(MIG, ProcessInstanceMigrationIntent.MIGRATE, {
        "processInstanceKey": pik, "targetProcessDefinitionKey": target,
        "mappingInstructions": [{"sourceElementId": s, "targetElementId": t} for s, t in pairs]}, key=pik)
    assert response is not None
    return response


def rejection(harness: EngineHarness, pik: int, target: int, mappings: dict[str, str]) -> tuple[RejectionType, str]:
    response = migrate(harness, pik, target, mappings)
    assert response.record_type is RecordType.COMMAND_REJECTION, response
    return response.rejection_type, response.rejection_reason


def after_migrate(harness: EngineHarness) -> list[tuple[ValueType, Any, str]]:
    """What the last MIGRATE command wrote, up to and including its MIGRATED event."""
    records = list(harness.records())
    start = max(i for i, r in enumerate(records) if r.value_type is MIG and r.record_type is RecordType.COMMAND)
    written = []
    for record in records[start + 1:]:
        written.append((record.value_type, record.intent, record.value.get("elementId", "")))
        if record.value_type is MIG:
            break
    return written


def key_of(harness: EngineHarness, pik: int, element_id: str) -> int:
    return next(r.key for r in harness.records().only_events().process_instance_records(pik)
                if r.value["elementId"] == element_id and r.intent is PI.ELEMENT_ACTIVATED)


# -- what a migration writes ------------------------------------------------------------------------------


def test_a_waiting_service_task_moves_to_the_target_and_the_instance_goes_on_on_its_path(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", one_task("source", "A"))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    pik = harness.create_instance("source")
    task_key = key_of(harness, pik, "A")
    event = migrate(harness, pik, target, {"A": "A2"})
    assert (event.record_type, event.intent, event.key) == (RecordType.EVENT, ProcessInstanceMigrationIntent.MIGRATED,
                                                            pik)
    assert event.value == {"processInstanceKey": pik, "targetProcessDefinitionKey": target,
                           "mappingInstructions": [{"sourceElementId": "A", "targetElementId": "A2"}]}
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A2"),
        (ValueType.JOB, JobIntent.MIGRATED, "A2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    migrated = harness.records().with_intent(PI.ELEMENT_MIGRATED).with_key(task_key)[0]
    assert {k: migrated.value[k] for k in ("processDefinitionKey", "bpmnProcessId", "version", "elementId",
                                           "flowScopeKey")} == {
        "processDefinitionKey": target, "bpmnProcessId": "target", "version": 1, "elementId": "A2",
        "flowScopeKey": pik}
    job_migrated = harness.jobs(pik, JobIntent.MIGRATED)[0]
    assert {k: job_migrated.value[k] for k in ("type", "processDefinitionKey", "processDefinitionVersion",
                                               "bpmnProcessId", "elementId", "elementInstanceKey")} == {
        "type": "a", "processDefinitionKey": target, "processDefinitionVersion": 1, "bpmnProcessId": "target",
        "elementId": "A2", "elementInstanceKey": task_key}

    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    [job_b] = harness.activate_jobs("b")
    assert harness.jobs(pik, JobIntent.CREATED).with_key(job_b)[0].value["processDefinitionKey"] == target
    harness.complete_job(job_b)
    events = harness.records().only_events().process_instance_records(pik)
    assert [(r.value["elementId"], r.intent) for r in events if r.intent is PI.ELEMENT_COMPLETED] == [
        ("start", PI.ELEMENT_COMPLETED), ("A2", PI.ELEMENT_COMPLETED), ("B", PI.ELEMENT_COMPLETED),
        ("end", PI.ELEMENT_COMPLETED), ("target", PI.ELEMENT_COMPLETED)]
    assert events[-1].value["processDefinitionKey"] == target


def test_a_new_version_of_the_same_process_is_a_target_too(harness: EngineHarness) -> None:
    v1 = deploy(harness, "p.bpmn", one_task("p", "A"))
    v2 = deploy(harness, "p.bpmn", b.process("p", b.start(), b.flow("to_task", "start", "A"),
                                             b.service_task("A", "a"), b.flow("to_b", "A", "B"),
                                             b.service_task("B", "b"), b.flow("to_end", "B", "end"), b.end()))
    pik = harness.create_instance("p", version=1)
    assert migrate(harness, pik, v2, {"A": "A"}).record_type is RecordType.EVENT
    process = harness.records().with_intent(PI.ELEMENT_MIGRATED).with_key(pik)[0]
    assert (process.value["version"], process.value["processDefinitionKey"]) == (2, v2) and v1 != v2
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    assert len(harness.activate_jobs("b")) == 1


def test_a_subprocess_migrates_before_the_task_inside_it(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", in_sub("source", "sub", "A"))
    target = deploy(harness, "target.bpmn", in_sub("target", "sub2", "A2"))
    pik = harness.create_instance("source")
    migrate(harness, pik, target, {"sub": "sub2", "A": "A2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "sub2"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A2"),
        (ValueType.JOB, JobIntent.MIGRATED, "A2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    events = harness.records().only_events().process_instance_records(pik)
    assert [r.value["elementId"] for r in events if r.intent is PI.ELEMENT_COMPLETED][-3:] == ["sub2", "end",
                                                                                              "target"]


def test_a_job_worker_user_task_migrates_its_job(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process("source", b.start(), b.flow("f", "start", "task"), user_task("task"),
                                             b.flow("g", "task", "end"), b.end()))
    target = deploy(harness, "target.bpmn", b.process("target", b.start(), b.flow("f", "start", "task2"),
                                                      user_task("task2"), b.flow("g", "task2", "end"), b.end()))
    pik = harness.create_instance("source")
    migrate(harness, pik, target, {"task": "task2"})
    assert after_migrate(harness)[1:3] == [(ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "task2"),
                                           (ValueType.JOB, JobIntent.MIGRATED, "task2")]


def test_a_camunda_user_task_migrates_its_user_task_and_completes_on_the_target(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process("source", b.start(), b.flow("f", "start", "task"),
                                             user_task("task", zeebe_user_task=True), b.flow("g", "task", "end"),
                                             b.end()))
    target = deploy(harness, "target.bpmn", b.process("target", b.start(), b.flow("f", "start", "task2"),
                                                      user_task("task2", zeebe_user_task=True),
                                                      b.flow("g", "task2", "end2"), b.end("end2")))
    pik = harness.create_instance("source")
    migrate(harness, pik, target, {"task": "task2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "task2"),
        (ValueType.USER_TASK, UserTaskIntent.MIGRATED, "task2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    task = harness.records().with_value_type(ValueType.USER_TASK).with_intent(UserTaskIntent.MIGRATED)[0]
    assert (task.value["processDefinitionKey"], task.value["bpmnProcessId"], task.value["elementId"]) == (
        target, "target", "task2")
    completed = harness.write(ValueType.USER_TASK, UserTaskIntent.COMPLETE, {"variables": {}}, key=task.key)
    assert completed is not None and completed.record_type is RecordType.EVENT, completed
    events = harness.records().only_events().process_instance_records(pik)
    assert [r.value["elementId"] for r in events if r.intent is PI.ELEMENT_COMPLETED][-2:] == ["end2", "target"]


def test_an_incident_moves_with_its_element_and_resolving_it_goes_on_on_the_target(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", one_task("source", "A"))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    pik = harness.create_instance("source")
    [job] = harness.activate_jobs("a")
    harness.fail_job(job, retries=0, error_message="boom")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    migrate(harness, pik, target, {"A": "A2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A2"),
        (ValueType.JOB, JobIntent.MIGRATED, "A2"),
        (ValueType.INCIDENT, IncidentIntent.MIGRATED, "A2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    migrated = harness.incidents(pik, IncidentIntent.MIGRATED)[0]
    assert migrated.key == incident.key
    assert (migrated.value["processDefinitionKey"], migrated.value["bpmnProcessId"]) == (target, "target")
    harness.update_retries(job, 1)
    harness.resolve_incident(incident.key)
    [again] = harness.activate_jobs("a")
    harness.complete_job(again)
    assert len(harness.activate_jobs("b")) == 1


def test_an_error_boundary_event_does_not_stop_a_migration(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        b.boundary("oops", "A", b.error_definition()), b.flow("h", "oops", "caught"), b.end("caught")))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        b.boundary("oops2", "A", b.error_definition()), b.flow("h", "oops2", "caught2"), b.end("caught2")))
    pik = harness.create_instance("source")
    assert migrate(harness, pik, target, {"A": "A"}).record_type is RecordType.EVENT
    [job] = harness.activate_jobs("a")
    harness.throw_error(job, "any")
    events = harness.records().only_events().process_instance_records(pik)
    assert [r.value["elementId"] for r in events if r.intent is PI.ELEMENT_COMPLETED][-3:] == ["oops2", "caught2",
                                                                                              "target"]


# -- Zeebe's rejections ------------------------------------------------------------------------------------


def test_an_unknown_instance_is_not_found(harness: EngineHarness) -> None:
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    assert rejection(harness, 2251799813685999, target, {}) == (
        RejectionType.NOT_FOUND,
        "Expected to migrate process instance but no process instance found with key '2251799813685999'")


def test_an_unknown_target_definition_is_not_found(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", one_task("source", "A"))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, 12345, {"A": "A2"}) == (
        RejectionType.NOT_FOUND,
        "Expected to migrate process instance to process definition but no process definition found with key"
        " '12345'")


@pytest.fixture
def waiting(harness: EngineHarness) -> tuple[int, int]:
    """An instance of 'source' waiting at A, and the key of 'target'."""
    deploy(harness, "source.bpmn", one_task("source", "A"))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    return harness.create_instance("source"), target


def test_duplicate_source_ids_are_an_invalid_argument(harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, target = waiting
    response = migrate(harness, pik, target, [("A", "A2"), ("A", "B")])
    assert (response.rejection_type, response.rejection_reason) == (
        RejectionType.INVALID_ARGUMENT,
        f"Expected to migrate process instance '{pik}' but the mapping instructions contain duplicate source"
        " element ids '[A]'.")


def test_a_mapping_from_an_unknown_source_element_is_an_invalid_argument(
        harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, target = waiting
    assert rejection(harness, pik, target, {"nope": "A2"}) == (
        RejectionType.INVALID_ARGUMENT,
        f"Expected to migrate process instance '{pik}' but mapping instructions contain a non-existing source"
        " element id 'nope'. Elements provided in mapping instructions must exist in the source process"
        " definition.")


def test_a_mapping_to_an_unknown_target_element_is_an_invalid_argument(
        harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, target = waiting
    assert rejection(harness, pik, target, {"A": "nope"}) == (
        RejectionType.INVALID_ARGUMENT,
        f"Expected to migrate process instance '{pik}' but mapping instructions contain a non-existing target"
        " element id 'nope'. Elements provided in mapping instructions must exist in the target process"
        " definition.")


def test_an_active_element_without_a_mapping_is_refused_and_nothing_is_written(
        harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, target = waiting
    before = len(list(harness.records()))
    assert rejection(harness, pik, target, {}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but no mapping instruction defined for active element with"
        " id 'A'. Elements cannot be migrated without a mapping.")
    assert [(r.record_type, r.value_type) for r in list(harness.records())[before:]] == [
        (RecordType.COMMAND, MIG), (RecordType.COMMAND_REJECTION, MIG)]


def test_an_element_mapped_to_one_of_another_type_is_refused(harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, target = waiting
    assert rejection(harness, pik, target, {"A": "end"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'A' and type 'SERVICE_TASK' is"
        " mapped to an element with id 'end' and different type 'END_EVENT'. Elements must be mapped to elements"
        " of the same type.")


def test_a_changed_flow_scope_is_refused(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", one_task("source", "A"))
    target = deploy(harness, "target.bpmn", in_sub("target", "sub", "A2"))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"A": "A2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but the flow scope of active element with id 'A' is changed."
        " The flow scope of the active element is expected to be 'target' but was 'sub'. The flow scope of an"
        " element cannot be changed during migration yet.")


def test_a_camunda_user_task_may_not_become_a_job_worker_user_task(harness: EngineHarness) -> None:
    # (the other way round Zeebe 8.8.17 converts the task: test_process_instance_migration_events)
    deploy(harness, "source.bpmn", b.process("source", b.start(), b.flow("f", "start", "task"),
                                             user_task("task", zeebe_user_task=True), b.flow("g", "task", "end"),
                                             b.end()))
    target = deploy(harness, "target.bpmn", b.process("target", b.start(), b.flow("f", "start", "task"),
                                                      user_task("task"), b.flow("g", "task", "end"), b.end()))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"task": "task"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active user task with id 'task' and implementation"
        " 'zeebe user task' is mapped to an user task with id 'task' and different implementation 'job worker'."
        " Elements must be mapped to elements of the same implementation.")


def test_a_timer_boundary_event_on_the_active_element_is_canceled_when_the_target_has_none(
        harness: EngineHarness) -> None:
    # Zeebe 8.8 migrates elements with timer boundary events (zeebe-trio refused them before)
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        b.boundary("late", "A", b.timer_definition(duration="PT1H")), b.flow("h", "late", "too_late"),
        b.end("too_late")))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    pik = harness.create_instance("source")
    migrate(harness, pik, target, {"A": "A2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A2"),
        (ValueType.JOB, JobIntent.MIGRATED, "A2"),
        (ValueType.TIMER, TimerIntent.CANCELED, ""),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]


def test_a_timer_boundary_event_on_the_target_element_is_subscribed_to(
        harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, _ = waiting
    target = deploy(harness, "with_timer.bpmn", b.process(
        "with_timer", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"),
        b.end(), b.boundary("late", "A", b.timer_definition(duration="PT1H")), b.flow("h", "late", "too_late"),
        b.end("too_late")))
    migrate(harness, pik, target, {"A": "A"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "with_timer"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (ValueType.TIMER, TimerIntent.CREATED, ""),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    harness.advance(60 * 60 * 1000)
    harness.run_due()
    events = harness.records().only_events().process_instance_records(pik)
    assert [r.value["elementId"] for r in events if r.intent is PI.ELEMENT_COMPLETED][-3:] == [
        "late", "too_late", "with_timer"]


def test_a_target_process_with_an_event_subprocess_subscribes_to_its_start_event(
        harness: EngineHarness, waiting: tuple[int, int]) -> None:
    pik, _ = waiting
    target = deploy(harness, "with_events.bpmn", b.process(
        "with_events", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"),
        b.end(), b.sub_process("on_timer", b.start("timer_start", b.timer_definition(duration="PT1H")),
                               b.flow("t", "timer_start", "timer_end"), b.end("timer_end"), triggered_by_event=True)))
    migrate(harness, pik, target, {"A": "A"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "with_events"),
        (ValueType.TIMER, TimerIntent.CREATED, ""),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]


def test_a_receive_task_may_not_become_a_service_task(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"), receive_task("wait", "msg"), b.flow("g", "wait", "end"),
        b.end(), definitions=message("msg", "ping", "=\"k\"")))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"wait": "A2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'wait' and type 'RECEIVE_TASK' is"
        " mapped to an element with id 'A2' and different type 'SERVICE_TASK'. Elements must be mapped to elements"
        " of the same type.")


def test_a_multi_instance_body_may_not_become_a_single_task(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "each"),
        multi_instance(b.service_task("each", "a"), input_collection="=[1, 2]"), b.flow("g", "each", "end"),
        b.end()))
    target = deploy(harness, "target.bpmn", TWO_TASKS)
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"each": "A2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'each' and type"
        " 'MULTI_INSTANCE_BODY' is mapped to an element with id 'A2' and different type 'SERVICE_TASK'. Elements"
        " must be mapped to elements of the same type.")


def timer_wait(process_id: str, event_id: str, duration: str = "PT1H") -> bytes:
    return b.process(process_id, b.start(), b.flow("f", "start", event_id),
                     b.intermediate_catch(event_id, b.timer_definition(duration=duration)),
                     b.flow("g", event_id, "after"), b.service_task("after", "after"), b.flow("h", "after", "end"),
                     b.end())


def test_a_timer_catch_event_keeps_its_due_date_and_triggers_on_the_target(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"),
        b.intermediate_catch("wait", b.timer_definition(duration="PT1H")), b.flow("g", "wait", "end"), b.end()))
    target = deploy(harness, "target.bpmn", timer_wait("target", "wait2", duration="PT5H"))
    pik = harness.create_instance("source")
    created = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CREATED)[0]
    migrate(harness, pik, target, {"wait": "wait2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "wait2"),
        (ValueType.TIMER, TimerIntent.MIGRATED, ""),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    timer = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.MIGRATED)[0]
    assert timer.key == created.key
    assert timer.value == {**created.value, "processDefinitionKey": target, "targetElementId": "wait2"}
    harness.advance(60 * 60 * 1000)  # the source's hour, not the target's five
    harness.run_due()
    [job] = harness.activate_jobs("after")
    harness.complete_job(job)
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "target" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_a_timer_catch_event_may_not_become_a_message_catch_event(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", timer_wait("source", "wait"))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "wait"), message_catch("wait", "msg"), b.flow("g", "wait", "end"),
        b.end(), definitions=message("msg", "ping", "=\"k\"")))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"wait": "wait"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'wait' has a catch event with id"
        " 'wait' that is mapped to a catch event with id 'wait'. These catch events have different event types:"
        " 'TIMER' and 'MESSAGE'. The event type of a catch event cannot be changed by process instance migration."
        " Please ensure the event type of the catch event remains the same or remove the mapping instruction for"
        " these catch events.")


def test_a_message_catch_event_may_not_become_a_timer_catch_event(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"), message_catch("wait", "msg"), b.flow("g", "wait", "end"),
        b.end(), definitions=message("msg", "ping", "=\"k\"")))
    target = deploy(harness, "target.bpmn", timer_wait("target", "wait"))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"wait": "wait"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'wait' has a catch event with id"
        " 'wait' that is mapped to a catch event with id 'wait'. These catch events have different event types:"
        " 'MESSAGE' and 'TIMER'. The event type of a catch event cannot be changed by process instance migration."
        " Please ensure the event type of the catch event remains the same or remove the mapping instruction for"
        " these catch events.")

def test_a_call_activity_migrates_and_its_called_instance_keeps_its_definition(harness: EngineHarness) -> None:
    child = deploy(harness, "child.bpmn", one_task("child", "work", "work"))
    deploy(harness, "source.bpmn", b.process("source", b.start(), b.flow("f", "start", "call"),
                                             call_activity("call", "child"), b.flow("g", "call", "end"), b.end()))
    target = deploy(harness, "target.bpmn", b.process("target", b.start(), b.flow("f", "start", "call2"),
                                                      call_activity("call2", "child"), b.flow("g", "call2", "after"),
                                                      b.service_task("after", "after"), b.flow("h", "after", "end"),
                                                      b.end()))
    pik = harness.create_instance("source")
    migrate(harness, pik, target, {"call": "call2"})
    assert after_migrate(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_MIGRATED, "call2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    [job] = harness.activate_jobs("work")
    assert harness.jobs(intent=JobIntent.CREATED).with_key(job)[0].value["processDefinitionKey"] == child
    harness.complete_job(job)
    [after] = harness.activate_jobs("after")  # the parent went on on the target's path
    harness.complete_job(after)
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "target" and events[-1].intent is PI.ELEMENT_COMPLETED

