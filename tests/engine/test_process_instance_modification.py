"""Modifying a running process instance (PROCESS_INSTANCE_MODIFICATION.MODIFY): activate instructions
with their flow scopes, ancestor selection and variables, terminate instructions, and Zeebe's
rejections, checked record for record (Zeebe's ``ModifyProcessInstanceTest`` and
``ModifyProcessInstanceRejectionTest``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    BpmnElementType,
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceModificationIntent,
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
from zeebe_trio.testing.bpmn_messages import message
from zeebe_trio.testing.bpmn_multi_instance import multi_instance
from zeebe_trio.testing.bpmn_tasks import user_task

PI = ProcessInstanceIntent
T = BpmnElementType
MOD = ValueType.PROCESS_INSTANCE_MODIFICATION

TWO_TASKS = b.process(
    "two", b.start(), b.flow("to_a", "start", "A"), b.service_task("A", "a"), b.flow("to_b", "A", "B"),
    b.service_task("B", "b"), b.flow("to_end", "B", "end"), b.end())

WITH_SUB = b.process(
    "with_sub", b.start(), b.flow("to_a", "start", "A"), b.service_task("A", "a"), b.flow("to_sub", "A", "sub"),
    b.sub_process("sub", b.start("sub_start"), b.flow("to_c", "sub_start", "C"), b.service_task("C", "c"),
                  b.flow("to_d", "C", "D"), b.service_task("D", "d"), b.flow("to_sub_end", "D", "sub_end"),
                  b.end("sub_end")),
    b.boundary("sub_timer", "sub", b.timer_definition(duration="PT1H")),
    b.flow("to_end", "sub", "end"), b.end(), b.flow("to_late", "sub_timer", "late"), b.end("late"))

EACH = b.process(
    "loop", b.start(), b.flow("to_each", "start", "each"),
    multi_instance(b.sub_process("each", b.start("each_start"), b.flow("to_inside", "each_start", "inside"),
                                 b.service_task("inside", "inside"), b.flow("to_each_end", "inside", "each_end"),
                                 b.end("each_end")),
                   input_collection="=[1, 2]"),
    b.flow("to_end", "each", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        for name, xml in (("two.bpmn", TWO_TASKS), ("with_sub.bpmn", WITH_SUB), ("each.bpmn", EACH)):
            deployed = h.deploy(name, xml)
            assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed
        yield h


def modify(harness: EngineHarness, pik: int, *, activate: list[dict[str, Any]] | None = None,
           terminate: list[int] | None = None) -> Record:
    response = harness.write(MOD, ProcessInstanceModificationIntent.MODIFY, {
        "processInstanceKey": pik, "activateInstructions": activate or [],
        "terminateInstructions": [{"elementInstanceKey": key} for key in terminate or []]}, key=pik)
    assert response is not None
    return response


def key_of(harness: EngineHarness, pik: int, element_id: str) -> int:
    return next(r.key for r in harness.records().only_events().process_instance_records(pik)
                if r.value["elementId"] == element_id and r.intent is PI.ELEMENT_ACTIVATED)


def after_modify(harness: EngineHarness) -> list[tuple[ValueType, object, str]]:
    """What the last MODIFY command wrote, up to and including its MODIFIED event."""
    records = list(harness.records())
    start = max(i for i, r in enumerate(records) if r.value_type is MOD and r.record_type is RecordType.COMMAND)
    written = []
    for record in records[start + 1:]:
        written.append((record.value_type, record.intent, record.value.get("elementId", "")))
        if record.value_type is MOD:
            break
    return written


def rejection(harness: EngineHarness, pik: int, **instructions: Any) -> tuple[RejectionType, str]:
    response = modify(harness, pik, **instructions)
    assert response.record_type is RecordType.COMMAND_REJECTION, response
    return response.rejection_type, response.rejection_reason


def test_an_empty_modification_is_modified_under_the_instance_key(harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    event = modify(harness, pik)
    assert (event.record_type, event.intent, event.key) == (RecordType.EVENT, ProcessInstanceModificationIntent.MODIFIED,
                                                            pik)
    assert event.value["processInstanceKey"] == pik
    assert event.value["activateInstructions"] == [] and event.value["terminateInstructions"] == []


def test_activating_a_root_element_writes_its_activate_command_before_the_modified_event(
        harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    event = modify(harness, pik, activate=[{"elementId": "B"}])
    assert after_modify(harness) == [(ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "B"),
                                     (MOD, ProcessInstanceModificationIntent.MODIFIED, "")]
    assert event.value["activateInstructions"] == [
        {"elementId": "B", "ancestorScopeKey": -1, "variableInstructions": [], "ancestorScopeKeys": [pik]}]
    b_activated = harness.records().only_events().process_instance_records(pik).with_element_id("B")
    assert [r.intent for r in b_activated] == [PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED]
    assert b_activated[0].value["flowScopeKey"] == pik
    # A, then the B of the modification and the B that A's completion reaches: three jobs, then done
    for job_type in ("a", "b", "b"):
        [job, *_] = harness.activate_jobs(job_type, max_jobs=1)
        harness.complete_job(job)
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "two" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_an_element_of_an_existing_subprocess_is_activated_in_it(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    sub_key = key_of(harness, pik, "sub")
    modify(harness, pik, activate=[{"elementId": "D"}])
    d = harness.records().only_events().process_instance_records(pik).with_element_id("D")[0]
    assert d.value["flowScopeKey"] == sub_key
    assert len(harness.records().only_events().process_instance_records(pik).with_element_id("sub")
               .with_intent(PI.ELEMENT_ACTIVATING)) == 1


def test_a_missing_subprocess_is_created_by_its_events_with_its_boundary_timer(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    modify(harness, pik, activate=[{"elementId": "D"}])
    assert after_modify(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATING, "sub"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATED, "sub"),
        (ValueType.TIMER, TimerIntent.CREATED, ""),
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "D"),
        (MOD, ProcessInstanceModificationIntent.MODIFIED, ""),
    ]
    sub_key = key_of(harness, pik, "sub")
    modified = harness.records().with_value_type(MOD).only_events()[-1]
    assert modified.value["activateInstructions"][0]["ancestorScopeKeys"] == sorted([pik, sub_key])
    ids = {r.value["elementId"] for r in harness.records().process_instance_records(pik)}
    assert "sub_start" not in ids and "C" not in ids


def test_variable_instructions_land_in_the_process_the_new_subprocess_and_the_element(
        harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    modify(harness, pik, activate=[{"elementId": "D", "variableInstructions": [
        {"variables": {"g": 1}, "elementId": ""}, {"variables": {"s": 2}, "elementId": "sub"},
        {"variables": {"d": 3}, "elementId": "D"}]}])
    sub_key = key_of(harness, pik, "sub")
    d_key = key_of(harness, pik, "D")
    variables = {r.value["name"]: (r.value["scopeKey"], json.loads(r.value["value"]))
                 for r in harness.records().with_value_type(ValueType.VARIABLE)}
    assert variables == {"g": (pik, 1), "s": (sub_key, 2), "d": (d_key, 3)}
    # each scope's variables are written as the scope is reached: the sub's between its two events
    seen = after_modify(harness)
    assert seen[:5] == [(ValueType.VARIABLE, seen[0][1], ""),
                        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATING, "sub"),
                        (ValueType.VARIABLE, seen[0][1], ""),
                        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATED, "sub"),
                        (ValueType.TIMER, seen[4][1], "")]
    assert seen[5:] == [(ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "D"), (ValueType.VARIABLE, seen[0][1], ""),
                        (MOD, ProcessInstanceModificationIntent.MODIFIED, "")]


def test_terminating_the_last_element_terminates_the_process_instance_by_events(harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    a_key = key_of(harness, pik, "A")
    modify(harness, pik, terminate=[a_key])
    assert after_modify(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "A"), (ValueType.JOB, JobIntent.CANCELED, "A"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "A"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "two"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "two"),
        (MOD, ProcessInstanceModificationIntent.MODIFIED, ""),
    ]
    with harness.read() as state:
        assert state.element_instance(pik) is None and state.element_instance(a_key) is None


def test_terminating_one_element_and_activating_another_keeps_the_instance(harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    a_key = key_of(harness, pik, "A")
    event = modify(harness, pik, activate=[{"elementId": "B"}], terminate=[a_key])
    assert event.value["terminateInstructions"] == [{"elementInstanceKey": a_key}]
    assert after_modify(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "B"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "A"), (ValueType.JOB, JobIntent.CANCELED, "A"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "A"),
        (MOD, ProcessInstanceModificationIntent.MODIFIED, ""),
    ]
    [job] = harness.activate_jobs("b")
    harness.complete_job(job)
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "two" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_terminating_a_subprocess_terminates_its_children_first_and_cancels_its_timer(
        harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    sub_key = key_of(harness, pik, "sub")
    modify(harness, pik, activate=[{"elementId": "end"}], terminate=[sub_key])
    assert after_modify(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "end"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "sub"), (ValueType.TIMER, TimerIntent.CANCELED, ""),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "C"), (ValueType.JOB, JobIntent.CANCELED, "C"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "C"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "sub"),
        (MOD, ProcessInstanceModificationIntent.MODIFIED, ""),
    ]
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "with_sub" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_an_ancestor_above_the_existing_subprocess_creates_a_second_instance_of_it(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    modify(harness, pik, activate=[{"elementId": "D", "ancestorScopeKey": pik}])
    subs = harness.records().only_events().process_instance_records(pik).with_element_id("sub") \
        .with_intent(PI.ELEMENT_ACTIVATED)
    assert len(subs) == 2
    d = harness.records().only_events().process_instance_records(pik).with_element_id("D")[0]
    assert d.value["flowScopeKey"] == subs[1].key


def test_an_element_of_a_multi_instance_subprocess_is_activated_in_the_inner_instance_selected(
        harness: EngineHarness) -> None:
    pik = harness.create_instance("loop")
    inner = [r.key for r in harness.records().only_events().process_instance_records(pik)
             if r.value["elementId"] == "each" and r.value["bpmnElementType"] == "SUB_PROCESS"
             and r.intent is PI.ELEMENT_ACTIVATED]
    assert len(inner) == 2
    reason = rejection(harness, pik, activate=[{"elementId": "inside"}])
    assert reason == (RejectionType.INVALID_ARGUMENT,
                      "Expected to modify instance of process 'loop' but it contains one or more activate instructions"
                      " for an element that has a flow scope with more than one active instance: 'each'. Can't decide"
                      " in which instance of the flow scope the element should be activated. Please specify an"
                      " ancestor element instance key for this activate instruction.")
    modify(harness, pik, activate=[{"elementId": "inside", "ancestorScopeKey": inner[1]}])
    insides = harness.records().only_events().process_instance_records(pik).with_element_id("inside") \
        .with_intent(PI.ELEMENT_ACTIVATING)
    assert [r.value["flowScopeKey"] for r in insides] == [inner[0], inner[1], inner[1]]


def test_an_element_of_a_multi_instance_body_that_is_not_active_cannot_be_activated(harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    # "each" is another process: deploy a process that has A and a multi-instance subprocess not reached yet
    assert rejection(harness, pik, activate=[{"elementId": "nope"}])[1].endswith("could not be found: 'nope'")
    xml = b.process("later", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"),
                    b.flow("g", "A", "each"),
                    multi_instance(b.sub_process("each", b.start("s"), b.flow("h", "s", "inside"),
                                                 b.service_task("inside", "inside")), input_collection="=[1]"))
    harness.deploy("later.bpmn", xml)
    later = harness.create_instance("later")
    assert rejection(harness, later, activate=[{"elementId": "inside"}]) == (
        RejectionType.INVALID_ARGUMENT,
        "Expected to modify instance of process 'later' but it contains one or more activate instructions that would"
        " result in the activation of multi-instance element 'each', which is currently unsupported.")


def test_modifying_an_unknown_instance_is_rejected_not_found(harness: EngineHarness) -> None:
    assert rejection(harness, 2251799813685999) == (
        RejectionType.NOT_FOUND,
        "Expected to modify process instance but no process instance found with key '2251799813685999'")


@pytest.mark.parametrize(("instructions", "reason"), [
    ({"activate": [{"elementId": "X"}, {"elementId": "Y"}]},
     "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions with an"
     " element that could not be found: 'X', 'Y'"),
    ({"activate": [{"elementId": "sub_timer"}, {"elementId": "start"}]},
     "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions for"
     " elements that are unsupported: 'sub_timer', 'start'. The activation of elements with type 'BOUNDARY_EVENT',"
     " 'START_EVENT' is not supported. Supported element types are: [PROCESS, SUB_PROCESS, EVENT_SUB_PROCESS,"
     " INTERMEDIATE_CATCH_EVENT, INTERMEDIATE_THROW_EVENT, END_EVENT, SERVICE_TASK, RECEIVE_TASK, USER_TASK,"
     " MANUAL_TASK, TASK, EXCLUSIVE_GATEWAY, INCLUSIVE_GATEWAY, PARALLEL_GATEWAY, EVENT_BASED_GATEWAY,"
     " MULTI_INSTANCE_BODY, CALL_ACTIVITY, BUSINESS_RULE_TASK, SCRIPT_TASK, SEND_TASK, AD_HOC_SUB_PROCESS]."),
    ({"terminate": [123]},
     "Expected to modify instance of process 'with_sub' but it contains one or more terminate instructions with an"
     " element instance that could not be found: '123'"),
    ({"activate": [{"elementId": "D", "variableInstructions": [{"variables": {}, "elementId": "Z"}]}]},
     "Expected to modify instance of process 'with_sub' but it contains one or more variable instructions with a"
     " scope element id that could not be found: 'Z'"),
    ({"activate": [{"elementId": "D", "variableInstructions": [{"variables": {}, "elementId": "A"}]}]},
     "Expected to modify instance of process 'with_sub' but it contains one or more variable instructions with a"
     " scope element that doesn't belong to the activating element's flow scope. These variables should be set"
     " before or after the modification."),
    ({"activate": [{"elementId": "D", "ancestorScopeKey": 77}]},
     "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions with an"
     " ancestor scope key that does not exist, or is not in an active state: '77'"),
])
def test_invalid_instructions_are_rejected_with_zeebes_reasons(harness: EngineHarness, instructions: dict[str, Any],
                                                                reason: str) -> None:
    pik = harness.create_instance("with_sub")
    before = len(harness.records())
    assert rejection(harness, pik, **instructions) == (RejectionType.INVALID_ARGUMENT, reason)
    assert [r.record_type for r in harness.records()[before:]] == [RecordType.COMMAND, RecordType.COMMAND_REJECTION]


def test_an_ancestor_that_is_not_a_flow_scope_of_the_element_is_rejected(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    a_key = key_of(harness, pik, "A")
    assert rejection(harness, pik, activate=[{"elementId": "D", "ancestorScopeKey": a_key}]) == (
        RejectionType.INVALID_ARGUMENT,
        "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions with an"
        f" ancestor scope key that is not an ancestor of the element to activate:\n- instance '{a_key}' of element"
        " 'A' is not an ancestor of element 'D'")


def test_an_ancestor_of_another_process_instance_is_rejected(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    other = harness.create_instance("with_sub")
    assert rejection(harness, pik, activate=[{"elementId": "D", "ancestorScopeKey": other}]) == (
        RejectionType.INVALID_ARGUMENT,
        "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions with an"
        f" ancestor scope key that does not belong to the modified process instance: '{other}'")


def test_activating_in_a_flow_scope_that_is_terminated_too_is_rejected(harness: EngineHarness) -> None:
    pik = harness.create_instance("with_sub")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    sub_key = key_of(harness, pik, "sub")
    assert rejection(harness, pik, activate=[{"elementId": "D"}], terminate=[sub_key]) == (
        RejectionType.INVALID_ARGUMENT,
        "Expected to modify instance of process 'with_sub' but it contains one or more activate instructions for"
        f" elements whose required flow scope instance is also being terminated: element 'D' requires flow scope"
        f" instance '{sub_key}' which is being terminated. Please provide a valid ancestor scope key for the"
        " activation or avoid terminating the required flow scope.")


def test_a_variable_name_too_long_for_a_state_key_is_rejected_before_processing(harness: EngineHarness) -> None:
    pik = harness.create_instance("two")
    kind, reason = rejection(harness, pik, activate=[{"elementId": "B", "variableInstructions": [
        {"variables": {"v" * 40_000: 1}, "elementId": ""}]}])
    assert kind is RejectionType.INVALID_ARGUMENT and "a variable name" in reason
    assert not harness.records().with_value_type(ValueType.VARIABLE)


PARENT = b.process("parent", b.start(), b.flow("to_call", "start", "call"),
                   call_activity("call", "child"),
                   b.flow("to_after", "call", "after"), b.service_task("after", "after"),
                   b.flow("to_end", "after", "end"), b.end())
CHILD = b.process("child", b.start(), b.flow("to_work", "start", "work"), b.service_task("work", "child-work"),
                  b.flow("to_end", "work", "end"), b.end())


def test_terminating_a_call_activity_terminates_the_child_instance_first(harness: EngineHarness) -> None:
    harness.deploy("child.bpmn", CHILD)
    harness.deploy("parent.bpmn", PARENT)
    pik = harness.create_instance("parent")
    call_key = key_of(harness, pik, "call")
    child = next(r.value["processInstanceKey"] for r in harness.records().only_events()
                 if r.value.get("bpmnProcessId") == "child" and r.value.get("bpmnElementType") == "PROCESS")
    modify(harness, pik, activate=[{"elementId": "after"}], terminate=[call_key])
    seen = [(value_type, intent, element_id) for value_type, intent, element_id in after_modify(harness)
            if value_type in (ValueType.PROCESS_INSTANCE, ValueType.JOB, MOD)]
    assert seen == [
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "after"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "call"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "child"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATING, "work"), (ValueType.JOB, JobIntent.CANCELED, "work"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "work"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "child"),
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_TERMINATED, "call"),
        (MOD, ProcessInstanceModificationIntent.MODIFIED, ""),
    ]
    with harness.read() as state:
        assert state.element_instance(child) is None
    [job] = harness.activate_jobs("after")
    harness.complete_job(job)
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "parent" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_terminating_everything_in_a_child_instance_is_rejected(harness: EngineHarness) -> None:
    harness.deploy("child.bpmn", CHILD)
    harness.deploy("parent.bpmn", PARENT)
    harness.create_instance("parent")
    child = next(r.value["processInstanceKey"] for r in harness.records().only_events()
                 if r.value.get("bpmnProcessId") == "child" and r.value.get("bpmnElementType") == "PROCESS")
    work = key_of(harness, child, "work")
    assert rejection(harness, child, terminate=[work]) == (
        RejectionType.INVALID_ARGUMENT,
        "Expected to modify instance of process 'child' but the given instructions would terminate the instance. The"
        " instance was created by a call activity in the parent process. To terminate this instance please modify"
        " the parent process instead.")
    assert rejection(harness, child, terminate=[child])[1].startswith(
        "Expected to modify instance of process 'child' but the given instructions would terminate the instance.")
    # nothing was written: the job is still there to complete
    [job] = harness.activate_jobs("child-work")
    harness.complete_job(job)
    assert harness.records().jobs().with_key(job)[-1].intent is JobIntent.COMPLETED


def test_terminating_an_element_with_an_incident_resolves_the_incident(harness: EngineHarness) -> None:
    xml = b.process("broken", b.start(), b.flow("f", "start", "bad"),
                    b.service_task("bad", "x", mappings='<zeebe:input source="= assert(foo, foo != null)" target="y"/>'),
                    b.flow("g", "bad", "end"), b.end())
    harness.deploy("broken.bpmn", xml)
    pik = harness.create_instance("broken")
    [incident] = harness.incidents(pik)
    bad_key = incident.value["elementInstanceKey"]
    modify(harness, pik, activate=[{"elementId": "end"}], terminate=[bad_key])
    assert [r.intent for r in harness.incidents(pik)] == [IncidentIntent.CREATED, IncidentIntent.RESOLVED]
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "broken" and events[-1].intent is PI.ELEMENT_COMPLETED


def test_terminating_a_camunda_user_task_cancels_it(harness: EngineHarness) -> None:
    xml = b.process("review", b.start(), b.flow("f", "start", "check"), user_task("check", zeebe_user_task=True),
                    b.flow("g", "check", "end"), b.end())
    harness.deploy("review.bpmn", xml)
    pik = harness.create_instance("review")
    check = key_of(harness, pik, "check")
    modify(harness, pik, terminate=[check])
    tasks = [r.intent for r in harness.records().with_value_type(ValueType.USER_TASK)]
    assert tasks[-2:] == [UserTaskIntent.CANCELING, UserTaskIntent.CANCELED]
    events = harness.records().only_events().process_instance_records(pik)
    assert events[-1].value["elementId"] == "review" and events[-1].intent is PI.ELEMENT_TERMINATED


def test_an_element_of_an_event_subprocess_is_activated_in_a_new_event_subprocess_instance(
        harness: EngineHarness) -> None:
    xml = b.process(
        "esp", b.sub_process("es", b.start("es_start", b.message_definition("m")), b.flow("f1", "es_start", "B"),
                             b.service_task("B", "b"), b.flow("f2", "B", "es_end"), b.end("es_end"),
                             triggered_by_event=True),
        b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        definitions=message("m", "go", "=key"))
    harness.deploy("esp.bpmn", xml)
    pik = harness.create_instance("esp", {"key": "k"})
    modify(harness, pik, activate=[{"elementId": "B"}])
    assert after_modify(harness) == [
        (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATING, "es"), (ValueType.PROCESS_INSTANCE, PI.ELEMENT_ACTIVATED, "es"),
        (ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, "B"), (MOD, ProcessInstanceModificationIntent.MODIFIED, "")]
    es_key = key_of(harness, pik, "es")
    assert harness.records().only_events().process_instance_records(pik).with_element_id("B")[0] \
        .value["flowScopeKey"] == es_key
    for job_type in ("b", "a"):
        [job] = harness.activate_jobs(job_type)
        harness.complete_job(job)
    done = [(r.value["elementId"], r.intent) for r in harness.records().only_events().process_instance_records(pik)
            if r.intent is PI.ELEMENT_COMPLETED]
    assert ("es", PI.ELEMENT_COMPLETED) in done and done[-1] == ("esp", PI.ELEMENT_COMPLETED)
