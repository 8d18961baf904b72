"""Creating a process instance at given elements (start instructions), checked record for record as
Zeebe writes them (Zeebe's ``CreateProcessInstanceAnywhereTest``) and with Zeebe's rejections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    BpmnElementType,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_gateways_events import manual_task, parallel_gateway
from zeebe_trio.testing.bpmn_multi_instance import multi_instance
from zeebe_trio.testing.bpmn_signals_escalations import event_based_gateway

PI = ProcessInstanceIntent
T = BpmnElementType

FORK = b.process(
    "fork", b.start(), b.flow("f0", "start", "forking"), parallel_gateway("forking"),
    b.flow("f1", "forking", "task1"), manual_task("task1"), b.flow("f2", "forking", "task2"), manual_task("task2"),
    b.flow("f3", "task1", "joining"), b.flow("f4", "task2", "joining"), parallel_gateway("joining"),
    b.flow("f5", "joining", "end"), b.end())

NESTED = b.process(
    "nested", b.start("start_root"), b.flow("to_outer", "start_root", "outer"),
    b.sub_process("outer", b.start("start_outer"), b.flow("to_inner", "start_outer", "inner"),
                  b.sub_process("inner", b.start("start_inner"), b.flow("to_task", "start_inner", "task"),
                                b.service_task("task", "work"), b.flow("to_inner_end", "task", "inner_end"),
                                b.end("inner_end")),
                  b.flow("to_outer_end", "inner", "outer_end"), b.end("outer_end")),
    b.boundary("outer_timer", "outer", b.timer_definition(duration="PT1H")),
    b.flow("to_end", "outer", "end"), b.end(), b.end("timed_out"), b.flow("to_timed_out", "outer_timer", "timed_out"))

ODD = b.process(
    "odd", b.start(), b.flow("to_gateway", "start", "gateway"), event_based_gateway("gateway"),
    b.flow("to_timer", "gateway", "timer"), b.intermediate_catch("timer", b.timer_definition(duration="PT1M")),
    b.flow("to_end", "timer", "end"), b.end(),
    b.flow("to_other", "gateway", "other"), b.intermediate_catch("other", b.timer_definition(duration="PT2M")),
    b.flow("to_other_end", "other", "other_end"), b.end("other_end"),
    multi_instance(b.sub_process("each", b.start("each_start"), b.flow("to_inside", "each_start", "inside"),
                                 manual_task("inside"), b.flow("to_each_end", "inside", "each_end"), b.end("each_end")),
                   input_collection="=[1, 2]"),
    b.service_task("checked", "check"), b.boundary("checked_timer", "checked", b.timer_definition(duration="PT1M")))


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        for name, xml in (("fork.bpmn", FORK), ("nested.bpmn", NESTED), ("odd.bpmn", ODD)):
            deployed = h.deploy(name, xml)
            assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed
        yield h


def create(harness: EngineHarness, process_id: str, *element_ids: str, variables: dict[str, Any] | None = None,
           awaiting: bool = False) -> Record:
    intent = ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT if awaiting \
        else ProcessInstanceCreationIntent.CREATE
    response = harness.write(ValueType.PROCESS_INSTANCE_CREATION, intent, {
        "bpmnProcessId": process_id, "version": -1, "variables": variables or {},
        "startInstructions": [{"elementId": element_id} for element_id in element_ids]})
    assert response is not None
    return response


def sequence(harness: EngineHarness, pik: int) -> list[tuple[str, T, object]]:
    return [(r.value["elementId"], T(r.value["bpmnElementType"]), r.intent)
            for r in harness.records().process_instance_records(pik)
            if r.record_type is not RecordType.COMMAND_REJECTION]


def test_an_instance_started_at_an_end_event_activates_the_process_by_events_and_the_end_event_by_command(
        harness: EngineHarness) -> None:
    created = create(harness, "fork", "end")
    pik = created.value["processInstanceKey"]
    assert created.intent is ProcessInstanceCreationIntent.CREATED
    assert created.value["startInstructions"] == [{"elementId": "end"}]
    assert sequence(harness, pik) == [
        ("fork", T.PROCESS, PI.ELEMENT_ACTIVATING), ("fork", T.PROCESS, PI.ELEMENT_ACTIVATED),
        ("end", T.END_EVENT, PI.ACTIVATE_ELEMENT),
        ("end", T.END_EVENT, PI.ELEMENT_ACTIVATING), ("end", T.END_EVENT, PI.ELEMENT_ACTIVATED),
        ("end", T.END_EVENT, PI.COMPLETE_ELEMENT),
        ("end", T.END_EVENT, PI.ELEMENT_COMPLETING), ("end", T.END_EVENT, PI.ELEMENT_COMPLETED),
        ("fork", T.PROCESS, PI.COMPLETE_ELEMENT),
        ("fork", T.PROCESS, PI.ELEMENT_COMPLETING), ("fork", T.PROCESS, PI.ELEMENT_COMPLETED),
    ]
    # the creation's CREATED event follows the commands written while it was processed
    creation = [r for r in harness.records() if r.value_type is ValueType.PROCESS_INSTANCE_CREATION]
    assert [r.intent for r in creation] == [ProcessInstanceCreationIntent.CREATE, ProcessInstanceCreationIntent.CREATED]


def test_an_instance_started_at_both_branches_of_a_fork_never_activates_the_start_event_or_the_fork(
        harness: EngineHarness) -> None:
    pik = create(harness, "fork", "task1", "task2").value["processInstanceKey"]
    seen = sequence(harness, pik)
    assert seen[:4] == [("fork", T.PROCESS, PI.ELEMENT_ACTIVATING), ("fork", T.PROCESS, PI.ELEMENT_ACTIVATED),
                        ("task1", T.MANUAL_TASK, PI.ACTIVATE_ELEMENT), ("task2", T.MANUAL_TASK, PI.ACTIVATE_ELEMENT)]
    ids = {element_id for element_id, _, _ in seen}
    assert "start" not in ids and "forking" not in ids
    assert ("joining", T.PARALLEL_GATEWAY, PI.ELEMENT_COMPLETED) in seen
    assert seen[-1] == ("fork", T.PROCESS, PI.ELEMENT_COMPLETED)


def test_an_element_in_nested_subprocesses_gets_its_flow_scopes_created_with_their_subscriptions(
        harness: EngineHarness) -> None:
    pik = create(harness, "nested", "task", variables={"x": 1}).value["processInstanceKey"]
    assert sequence(harness, pik)[:8] == [
        ("nested", T.PROCESS, PI.ELEMENT_ACTIVATING), ("nested", T.PROCESS, PI.ELEMENT_ACTIVATED),
        ("outer", T.SUB_PROCESS, PI.ELEMENT_ACTIVATING), ("outer", T.SUB_PROCESS, PI.ELEMENT_ACTIVATED),
        ("inner", T.SUB_PROCESS, PI.ELEMENT_ACTIVATING), ("inner", T.SUB_PROCESS, PI.ELEMENT_ACTIVATED),
        ("task", T.SERVICE_TASK, PI.ACTIVATE_ELEMENT), ("task", T.SERVICE_TASK, PI.ELEMENT_ACTIVATING),
    ]
    records = list(harness.records())
    outer_activated = next(i for i, r in enumerate(records) if r.value.get("elementId") == "outer"
                           and r.intent is PI.ELEMENT_ACTIVATED)
    timer = next(i for i, r in enumerate(records) if r.value_type is ValueType.TIMER)
    assert records[timer].value["targetElementId"] == "outer_timer" and timer == outer_activated + 1
    # the variables come first, in the process scope
    variable = next(r for r in records if r.value_type is ValueType.VARIABLE)
    assert variable.value["scopeKey"] == pik and variable.position < records[outer_activated].position
    ids = {element_id for element_id, _, _ in sequence(harness, pik)}
    assert not ids & {"start_root", "start_outer", "start_inner"}
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert sequence(harness, pik)[-1] == ("nested", T.PROCESS, PI.ELEMENT_COMPLETED)
    assert ("outer_end", T.END_EVENT, PI.ELEMENT_COMPLETED) in sequence(harness, pik)


def test_two_elements_of_one_subprocess_share_the_subprocess_instance(harness: EngineHarness) -> None:
    pik = create(harness, "nested", "task", "outer_end").value["processInstanceKey"]
    activating = [r for r in harness.records().process_instance_records(pik)
                  if r.intent is PI.ELEMENT_ACTIVATING and r.value["elementId"] == "outer"]
    assert len(activating) == 1
    commands = [(r.value["elementId"], r.value["flowScopeKey"]) for r in harness.records().only_commands()
                .process_instance_records(pik) if r.intent is PI.ACTIVATE_ELEMENT]
    assert commands[:2] == [("task", commands[0][1]), ("outer_end", activating[0].key)]


def test_a_start_instruction_with_an_awaited_result_answers_when_the_instance_completes(
        harness: EngineHarness) -> None:
    result = create(harness, "fork", "end", variables={"a": 1}, awaiting=True)
    assert result.value_type is ValueType.PROCESS_INSTANCE_RESULT
    assert result.value["variables"] == {"a": 1}


@pytest.mark.parametrize(("element_id", "reason"), [
    ("nope", "Expected to create instance of process with start instructions but no element found with id 'nope'."),
    ("inside", "Expected to create instance of process with start instructions but the element with id 'inside' is"
               " inside a multi-instance subprocess. The creation of elements inside a multi-instance subprocess is"
               " not supported."),
    ("timer", "Expected to create instance of process with start instructions but the element with id 'timer'"
              " belongs to an event-based gateway. The creation of elements belonging to an event-based gateway is"
              " not supported."),
])
def test_a_start_instruction_zeebe_cannot_start_at_is_rejected(harness: EngineHarness, element_id: str,
                                                                reason: str) -> None:
    response = create(harness, "odd", element_id)
    assert response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_type is RejectionType.INVALID_ARGUMENT
    assert response.rejection_reason == reason
    assert not [r for r in harness.records().only_events() if r.value_type is ValueType.PROCESS_INSTANCE]


@pytest.mark.parametrize(("element_id", "element_type"), [
    ("start", "START_EVENT"), ("checked_timer", "BOUNDARY_EVENT"), ("to_end", "SEQUENCE_FLOW")])
def test_a_start_instruction_at_a_start_event_boundary_event_or_flow_is_rejected(
        harness: EngineHarness, element_id: str, element_type: str) -> None:
    response = create(harness, "odd", element_id)
    assert response.rejection_type is RejectionType.INVALID_ARGUMENT
    assert response.rejection_reason.startswith(
        f"Expected to create instance of process with start instructions but the element with id '{element_id}'"
        f" targets unsupported element type '{element_type}'. Supported element types are: [PROCESS, SUB_PROCESS,")
    assert "START_EVENT," not in response.rejection_reason


def test_an_instance_of_a_multi_instance_subprocess_can_be_started_at_the_multi_instance_body(
        harness: EngineHarness) -> None:
    pik = create(harness, "odd", "each").value["processInstanceKey"]
    seen = sequence(harness, pik)
    assert seen[2] == ("each", T.MULTI_INSTANCE_BODY, PI.ACTIVATE_ELEMENT)
    assert [s for s in seen if s[0] == "inside" and s[2] is PI.ELEMENT_COMPLETED] == \
        [("inside", T.MANUAL_TASK, PI.ELEMENT_COMPLETED)] * 2
    assert seen[-1] == ("odd", T.PROCESS, PI.ELEMENT_COMPLETED)


def test_variables_of_an_instance_started_by_instructions_are_in_its_root_scope(harness: EngineHarness) -> None:
    pik = create(harness, "nested", "task", variables={"x": 7}).value["processInstanceKey"]
    [job] = harness.activate_jobs("work")
    job_record = harness.records().jobs().with_key(job)[0]
    assert job_record.value["processInstanceKey"] == pik
    variable = next(r for r in harness.records() if r.value_type is ValueType.VARIABLE)
    assert json.loads(variable.value["value"]) == 7
