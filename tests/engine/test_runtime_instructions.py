"""Creating a process instance with runtime instructions (TERMINATE_PROCESS_INSTANCE after an element),
checked record for record as Zeebe 8.8 writes them (Zeebe's
``CreateProcessInstanceWithTerminationInstructionTest`` and ``CreateProcessInstanceRejectionTest``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    BpmnElementType,
    Intent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    RuntimeInstructionIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as c
from zeebe_trio.testing.bpmn_gateways_events import manual_task
from zeebe_trio.testing.bpmn_multi_instance import multi_instance

PI = ProcessInstanceIntent
RI = RuntimeInstructionIntent
T = BpmnElementType

TASK = b.process("tasks", b.start(), b.flow("f1", "start", "task"), manual_task("task"),
                 b.flow("f2", "task", "work"), b.service_task("work", "work"), b.flow("f3", "work", "end"), b.end())

SUB = b.process(
    "sub", b.start(), b.flow("f1", "start", "outer"),
    b.sub_process("outer", b.start("outer_start"), b.flow("g1", "outer_start", "inside"), manual_task("inside"),
                  b.flow("g2", "inside", "outer_end"), b.end("outer_end")),
    b.flow("f2", "outer", "end"), b.end())

MULTI = b.process(
    "multi", b.start(), b.flow("f1", "start", "each"),
    multi_instance('<bpmn:manualTask id="each"></bpmn:manualTask>', input_collection="=[1, 2]"),
    b.flow("f2", "each", "end"), b.end())

CHOICE = b.process(
    "choice", b.start(), b.flow("f0", "start", "which"), '<bpmn:exclusiveGateway id="which" default="to_b"/>',
    b.flow("to_a", "which", "a", condition="=x = 1"), manual_task("a"), b.flow("f1", "a", "end_a"), b.end("end_a"),
    b.flow("to_b", "which", "b"), manual_task("b"), b.flow("f2", "b", "end_b"), b.end("end_b"))

GUARDED = b.process(
    "guarded", b.start(), b.flow("f1", "start", "checked"), b.service_task("checked", "check"),
    b.boundary("timeout", "checked", b.timer_definition(duration="PT1M")),
    b.flow("f2", "checked", "end"), b.end(), b.flow("f3", "timeout", "timed_out"), b.end("timed_out"))

WATCHED = b.process(
    "watched", b.start(), b.flow("f1", "start", "checked"), b.service_task("checked", "check"),
    b.boundary("reminder", "checked", b.timer_definition(duration="PT1M"), interrupting=False),
    b.flow("f2", "checked", "end"), b.end(), b.flow("f3", "reminder", "reminded"), b.end("reminded"))

CALLER = b.process("caller", b.start(), b.flow("f1", "start", "call"), c.call_activity("call", "tasks"),
                   b.flow("f2", "call", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        for name, xml in (("tasks.bpmn", TASK), ("sub.bpmn", SUB), ("multi.bpmn", MULTI), ("choice.bpmn", CHOICE),
                          ("guarded.bpmn", GUARDED), ("watched.bpmn", WATCHED), ("caller.bpmn", CALLER)):
            deployed = h.deploy(name, xml)
            assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed
        yield h


def create(harness: EngineHarness, process_id: str, *after: str, variables: dict[str, Any] | None = None,
           awaiting: bool = False) -> Record:
    intent = ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT if awaiting \
        else ProcessInstanceCreationIntent.CREATE
    response = harness.write(ValueType.PROCESS_INSTANCE_CREATION, intent, {
        "bpmnProcessId": process_id, "version": -1, "variables": variables or {},
        "runtimeInstructions": [{"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": element_id}
                                for element_id in after]})
    assert response is not None
    return response


def created(harness: EngineHarness, process_id: str, *after: str, variables: dict[str, Any] | None = None) -> int:
    response = create(harness, process_id, *after, variables=variables)
    assert response.intent is ProcessInstanceCreationIntent.CREATED, response
    return int(response.value["processInstanceKey"])


def sequence(harness: EngineHarness, pik: int) -> list[tuple[str, object, Intent]]:
    """The process instance's lifecycle records and runtime instruction events, in log order."""
    return [(r.value["elementId"], T(r.value["bpmnElementType"]) if r.value_type is ValueType.PROCESS_INSTANCE
             else ValueType.RUNTIME_INSTRUCTION, r.intent)
            for r in harness.records()
            if r.value_type in (ValueType.PROCESS_INSTANCE, ValueType.RUNTIME_INSTRUCTION)
            and r.value.get("processInstanceKey") == pik and "elementId" in r.value
            and r.record_type is not RecordType.COMMAND_REJECTION]


def after(records: list[tuple[str, object, Intent]], element_id: str, intent: Intent) -> list[tuple[str, object, Intent]]:
    """The records from the first one of ``element_id`` with ``intent`` on."""
    start = next(i for i, (eid, _, it) in enumerate(records) if eid == element_id and it is intent)
    return records[start:]


def interrupted(harness: EngineHarness, pik: int) -> list[Record]:
    return [r for r in harness.records().with_value_type(ValueType.RUNTIME_INSTRUCTION)
            if r.value["processInstanceKey"] == pik]


RUNTIME = ValueType.RUNTIME_INSTRUCTION


def test_terminate_after_a_task_terminates_the_instance_once_the_task_completed_instead_of_taking_its_flow(
        harness: EngineHarness) -> None:
    pik = created(harness, "tasks", "task")
    assert after(sequence(harness, pik), "task", PI.COMPLETE_ELEMENT) == [
        ("task", T.MANUAL_TASK, PI.COMPLETE_ELEMENT),
        ("task", T.MANUAL_TASK, PI.ELEMENT_COMPLETING), ("task", T.MANUAL_TASK, PI.ELEMENT_COMPLETED),
        ("task", RUNTIME, RI.INTERRUPTED),
        ("tasks", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("tasks", T.PROCESS, PI.ELEMENT_TERMINATING), ("tasks", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    [event] = interrupted(harness, pik)
    definition_key = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION) \
        .with_intent(ProcessInstanceCreationIntent.CREATED)[-1].value["processDefinitionKey"]
    assert event.record_type is RecordType.EVENT and event.key == pik
    assert event.value == {"processInstanceKey": pik, "processDefinitionKey": definition_key,
                           "tenantId": "<default>", "elementId": "task"}
    # the sequence flow to the service task is not taken
    assert not [r for r in harness.records().process_instance_records(pik) if r.value["elementId"] in ("f2", "work")]
    with harness.read() as state:
        assert state.element_instance(pik) is None
        assert state.runtime_instructions(pik, "task") == []  # removed with the instance


def test_the_creation_record_carries_the_runtime_instructions(harness: EngineHarness) -> None:
    response = create(harness, "tasks", "work")
    assert response.value["runtimeInstructions"] == [
        {"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": "work"}]
    assert create(harness, "tasks").value["runtimeInstructions"] == []


def test_terminate_after_a_service_task_waits_for_its_job_and_terminates_once_it_completed(
        harness: EngineHarness) -> None:
    pik = created(harness, "tasks", "work")
    assert interrupted(harness, pik) == []
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert after(sequence(harness, pik), "work", PI.COMPLETE_ELEMENT) == [
        ("work", T.SERVICE_TASK, PI.COMPLETE_ELEMENT),
        ("work", T.SERVICE_TASK, PI.ELEMENT_COMPLETING), ("work", T.SERVICE_TASK, PI.ELEMENT_COMPLETED),
        ("work", RUNTIME, RI.INTERRUPTED),
        ("tasks", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("tasks", T.PROCESS, PI.ELEMENT_TERMINATING), ("tasks", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    assert not [r for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "end"]


def test_terminate_after_a_subprocess_terminates_the_instance_once_the_subprocess_completed(
        harness: EngineHarness) -> None:
    pik = created(harness, "sub", "outer")
    assert after(sequence(harness, pik), "outer_end", PI.ELEMENT_COMPLETED) == [
        ("outer_end", T.END_EVENT, PI.ELEMENT_COMPLETED),
        ("outer", T.SUB_PROCESS, PI.COMPLETE_ELEMENT),
        ("outer", T.SUB_PROCESS, PI.ELEMENT_COMPLETING), ("outer", T.SUB_PROCESS, PI.ELEMENT_COMPLETED),
        ("outer", RUNTIME, RI.INTERRUPTED),
        ("sub", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("sub", T.PROCESS, PI.ELEMENT_TERMINATING), ("sub", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]


def test_terminate_after_an_element_inside_a_subprocess_terminates_the_subprocess_with_the_instance(
        harness: EngineHarness) -> None:
    pik = created(harness, "sub", "inside")
    assert after(sequence(harness, pik), "inside", PI.ELEMENT_COMPLETED) == [
        ("inside", T.MANUAL_TASK, PI.ELEMENT_COMPLETED),
        ("inside", RUNTIME, RI.INTERRUPTED),
        ("sub", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("sub", T.PROCESS, PI.ELEMENT_TERMINATING),
        ("outer", T.SUB_PROCESS, PI.TERMINATE_ELEMENT),
        ("outer", T.SUB_PROCESS, PI.ELEMENT_TERMINATING), ("outer", T.SUB_PROCESS, PI.ELEMENT_TERMINATED),
        ("sub", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    assert not [r for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "outer_end"]


def test_terminate_after_the_last_element_of_a_subprocess_refuses_the_subprocess_completion_it_asked_for(
        harness: EngineHarness) -> None:
    pik = created(harness, "sub", "outer_end")
    # As Zeebe's transitionToCompleted: the subprocess hears of its ended path (its COMPLETE_ELEMENT)
    # before the instruction runs; the interrupted process instance then refuses that completion.
    assert after(sequence(harness, pik), "outer_end", PI.ELEMENT_COMPLETED) == [
        ("outer_end", T.END_EVENT, PI.ELEMENT_COMPLETED),
        ("outer", T.SUB_PROCESS, PI.COMPLETE_ELEMENT),
        ("outer_end", RUNTIME, RI.INTERRUPTED),
        ("sub", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("sub", T.PROCESS, PI.ELEMENT_TERMINATING),
        ("outer", T.SUB_PROCESS, PI.TERMINATE_ELEMENT),
        ("outer", T.SUB_PROCESS, PI.ELEMENT_TERMINATING), ("outer", T.SUB_PROCESS, PI.ELEMENT_TERMINATED),
        ("sub", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    [refused] = harness.records().only_rejections().with_element_id("outer")
    assert refused.intent is PI.COMPLETE_ELEMENT and refused.rejection_reason == (
        "Expected flow scope instance to be not interrupted but was interrupted by an event with id 'outer_end'.")


def test_terminate_after_a_multi_instance_activity_skips_the_inner_instances_and_applies_to_the_body(
        harness: EngineHarness) -> None:
    pik = created(harness, "multi", "each")
    records = sequence(harness, pik)
    inner_completed = [r for r in records if r == ("each", T.MANUAL_TASK, PI.ELEMENT_COMPLETED)]
    assert len(inner_completed) == 2  # both inner instances ran: neither interrupted the instance
    assert after(records, "each", PI.COMPLETE_ELEMENT)[-7:] == [
        ("each", T.MULTI_INSTANCE_BODY, PI.COMPLETE_ELEMENT),
        ("each", T.MULTI_INSTANCE_BODY, PI.ELEMENT_COMPLETING), ("each", T.MULTI_INSTANCE_BODY, PI.ELEMENT_COMPLETED),
        ("each", RUNTIME, RI.INTERRUPTED),
        ("multi", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("multi", T.PROCESS, PI.ELEMENT_TERMINATING), ("multi", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    assert len(interrupted(harness, pik)) == 1


def test_terminate_after_a_call_activity_applies_once_the_called_instance_completed_it(
        harness: EngineHarness) -> None:
    # "task" is an element of the called process, not of the caller: only "call" may be named
    assert create(harness, "caller", "task").record_type is RecordType.COMMAND_REJECTION
    pik = created(harness, "caller", "call")
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert after(sequence(harness, pik), "call", PI.COMPLETE_ELEMENT) == [
        ("call", T.CALL_ACTIVITY, PI.COMPLETE_ELEMENT),
        ("call", T.CALL_ACTIVITY, PI.ELEMENT_COMPLETING), ("call", T.CALL_ACTIVITY, PI.ELEMENT_COMPLETED),
        ("call", RUNTIME, RI.INTERRUPTED),
        ("caller", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("caller", T.PROCESS, PI.ELEMENT_TERMINATING), ("caller", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    assert [r.value["elementId"] for r in harness.records().with_value_type(ValueType.RUNTIME_INSTRUCTION)] == ["call"]


def test_an_unknown_after_element_id_is_rejected(harness: EngineHarness) -> None:
    response = create(harness, "tasks", "task", "does-not-exist")
    assert response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_type is RejectionType.INVALID_ARGUMENT
    assert response.rejection_reason == (
        "Expected to create instance of process with runtime instructions but no element found with id"
        " 'does-not-exist' in process definition 'tasks'.")
    assert not harness.records().with_value_type(ValueType.PROCESS_INSTANCE)\
        .filter(lambda r: r.value.get("bpmnProcessId") == "tasks")


def test_an_instance_that_never_reaches_the_element_completes_as_without_the_instruction(
        harness: EngineHarness) -> None:
    pik = created(harness, "choice", "b", variables={"x": 1})
    records = sequence(harness, pik)
    assert records[-1] == ("choice", T.PROCESS, PI.ELEMENT_COMPLETED)
    assert not [r for r in records if r[0] == "b"]
    assert interrupted(harness, pik) == []
    with harness.read() as state:
        assert state.runtime_instructions(pik, "b") == []  # removed with the instance


def test_the_instruction_is_kept_until_the_element_ends(harness: EngineHarness) -> None:
    pik = created(harness, "tasks", "work")
    with harness.read() as state:
        assert state.runtime_instructions(pik, "work") == [
            {"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": "work"}]
        assert state.runtime_instructions(pik, "task") == []


def test_an_interrupting_boundary_event_that_terminates_the_activity_carries_out_its_instruction(
        harness: EngineHarness) -> None:
    pik = created(harness, "guarded", "checked")
    harness.advance(60_000)
    records = sequence(harness, pik)
    # As Zeebe: the task is terminated, then the process instance (the boundary event, activated as the
    # task ended, finds its flow scope interrupted by the instruction and is refused).
    assert after(records, "checked", PI.TERMINATE_ELEMENT) == [
        ("checked", T.SERVICE_TASK, PI.TERMINATE_ELEMENT),
        ("checked", T.SERVICE_TASK, PI.ELEMENT_TERMINATING), ("checked", T.SERVICE_TASK, PI.ELEMENT_TERMINATED),
        ("timeout", T.BOUNDARY_EVENT, PI.ACTIVATE_ELEMENT),
        ("checked", RUNTIME, RI.INTERRUPTED),
        ("guarded", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("guarded", T.PROCESS, PI.ELEMENT_TERMINATING), ("guarded", T.PROCESS, PI.ELEMENT_TERMINATED),
    ]
    [refused] = harness.records().only_rejections().with_element_id("timeout")
    assert refused.intent is PI.ACTIVATE_ELEMENT and refused.rejection_type is RejectionType.INVALID_STATE
    assert refused.rejection_reason == (
        "Expected flow scope instance to be not interrupted but was interrupted by an event with id 'checked'.")
    assert not [r for r in records if r[0] == "timed_out"]


def test_a_non_interrupting_boundary_event_leaves_the_activity_and_its_instruction_waiting(
        harness: EngineHarness) -> None:
    pik = created(harness, "watched", "checked")
    harness.advance(60_000)
    records = sequence(harness, pik)
    assert ("reminded", T.END_EVENT, PI.ELEMENT_COMPLETED) in records
    assert interrupted(harness, pik) == []
    [job] = harness.activate_jobs("check")
    harness.complete_job(job)
    assert sequence(harness, pik)[-4:] == [
        ("checked", RUNTIME, RI.INTERRUPTED), ("watched", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("watched", T.PROCESS, PI.ELEMENT_TERMINATING), ("watched", T.PROCESS, PI.ELEMENT_TERMINATED)]


def test_canceling_the_instance_terminates_the_activity_without_carrying_out_its_instruction(
        harness: EngineHarness) -> None:
    pik = created(harness, "tasks", "work")
    harness.cancel(pik)
    records = sequence(harness, pik)
    assert ("work", T.SERVICE_TASK, PI.ELEMENT_TERMINATED) in records
    assert records[-1] == ("tasks", T.PROCESS, PI.ELEMENT_TERMINATED)
    assert interrupted(harness, pik) == []


def _create_awaiting(harness: EngineHarness, process_id: str, after_element_id: str,
                     variables: dict[str, Any]) -> Record | None:
    return harness.write(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT, {
        "bpmnProcessId": process_id, "version": -1, "variables": variables, "fetchVariables": [],
        "runtimeInstructions": [{"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": after_element_id}]})


def test_an_instance_awaited_with_result_that_is_terminated_by_its_instruction_gives_no_result(
        harness: EngineHarness) -> None:
    response = _create_awaiting(harness, "tasks", "task", {"a": 1})
    assert response is None  # as for a canceled instance: the creator is not answered (its request times out)
    [creation] = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION)\
        .with_intent(ProcessInstanceCreationIntent.CREATED)
    pik = creation.value["processInstanceKey"]
    assert sequence(harness, pik)[-4:] == [
        ("task", RUNTIME, RI.INTERRUPTED), ("tasks", T.PROCESS, PI.TERMINATE_ELEMENT),
        ("tasks", T.PROCESS, PI.ELEMENT_TERMINATING), ("tasks", T.PROCESS, PI.ELEMENT_TERMINATED)]
    assert not harness.records().with_value_type(ValueType.PROCESS_INSTANCE_RESULT)
    with harness.read() as state:
        assert state.awaiting_result(pik) is None


def test_an_instance_awaited_with_result_that_never_reaches_the_element_answers_with_its_result(
        harness: EngineHarness) -> None:
    response = _create_awaiting(harness, "choice", "b", {"x": 1})
    assert response is not None and response.value_type is ValueType.PROCESS_INSTANCE_RESULT
    assert response.value["variables"] == {"x": 1}
