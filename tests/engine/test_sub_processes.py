"""Embedded subprocesses: their lifecycle inside the process, their variable scope, and termination
from the outside, checked record for record (Zeebe's ``EmbeddedSubProcessTest``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import JobIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b

PI = ProcessInstanceIntent

NESTED = b.process(
    "nested", b.start(), b.flow("to_sub", "start", "sub"),
    b.sub_process("sub", b.start("sub_start"), b.flow("to_task", "sub_start", "task"), b.service_task("task", "work"),
                  b.flow("to_sub_end", "task", "sub_end"), b.end("sub_end"),
                  mappings='<zeebe:input source="=x + 1" target="local"/>'
                           '<zeebe:output source="=local" target="fromSub"/>'),
    b.flow("to_end", "sub", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        h.deploy("nested.bpmn", NESTED)
        yield h


def events(harness: EngineHarness, pik: int) -> list[tuple[object, str, str]]:
    return harness.records().only_events().process_instance_records(pik).element_tuples()


def test_a_subprocess_runs_its_own_flow_between_its_activation_and_its_completion(harness: EngineHarness) -> None:
    pik = harness.create_instance("nested", {"x": 1})
    [job] = harness.activate_jobs("work")
    harness.complete_job(job, {"done": True})

    seen = [(intent, element_id) for intent, _type, element_id in events(harness, pik)]
    sub = seen.index((PI.ELEMENT_ACTIVATED, "sub"))
    assert seen[sub - 1] == (PI.ELEMENT_ACTIVATING, "sub")
    # everything inside happens between the subprocess's ACTIVATED and COMPLETING
    inner = seen[sub + 1:seen.index((PI.ELEMENT_COMPLETING, "sub"))]
    assert inner == [
        (PI.ELEMENT_ACTIVATING, "sub_start"), (PI.ELEMENT_ACTIVATED, "sub_start"),
        (PI.ELEMENT_COMPLETING, "sub_start"), (PI.ELEMENT_COMPLETED, "sub_start"),
        (PI.SEQUENCE_FLOW_TAKEN, "to_task"),
        (PI.ELEMENT_ACTIVATING, "task"), (PI.ELEMENT_ACTIVATED, "task"),
        (PI.ELEMENT_COMPLETING, "task"), (PI.ELEMENT_COMPLETED, "task"),
        (PI.SEQUENCE_FLOW_TAKEN, "to_sub_end"),
        (PI.ELEMENT_ACTIVATING, "sub_end"), (PI.ELEMENT_ACTIVATED, "sub_end"),
        (PI.ELEMENT_COMPLETING, "sub_end"), (PI.ELEMENT_COMPLETED, "sub_end"),
    ]
    assert seen[-5:] == [(PI.SEQUENCE_FLOW_TAKEN, "to_end"), (PI.ELEMENT_ACTIVATING, "end"),
                         (PI.ELEMENT_ACTIVATED, "end"), (PI.ELEMENT_COMPLETING, "end"), (PI.ELEMENT_COMPLETED, "end")] \
        or seen[-1] == (PI.ELEMENT_COMPLETED, "nested")
    assert seen[-1] == (PI.ELEMENT_COMPLETED, "nested")


def test_the_children_of_a_subprocess_have_it_as_their_flow_scope(harness: EngineHarness) -> None:
    pik = harness.create_instance("nested", {"x": 1})
    records = harness.records().only_events().process_instance_records(pik)
    sub_key = next(r.key for r in records if r.value["elementId"] == "sub")
    task = next(r for r in records if r.value["elementId"] == "task")
    assert task.value["flowScopeKey"] == sub_key
    assert next(r for r in records if r.value["elementId"] == "sub").value["flowScopeKey"] == pik


def test_a_subprocess_input_is_local_and_its_output_reaches_the_process(harness: EngineHarness) -> None:
    pik = harness.create_instance("nested", {"x": 1})
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    variables = harness.records().with_value_type(ValueType.VARIABLE)
    by_name = {r.value["name"]: r.value for r in variables}
    sub_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "sub")
    assert by_name["local"]["scopeKey"] == sub_key and json.loads(by_name["local"]["value"]) == 2
    assert by_name["fromSub"]["scopeKey"] == pik and json.loads(by_name["fromSub"]["value"]) == 2


def test_canceling_terminates_the_task_inside_then_the_subprocess_then_the_process(harness: EngineHarness) -> None:
    pik = harness.create_instance("nested", {"x": 1})
    [job] = harness.activate_jobs("work")
    harness.cancel(pik)
    seen = [(intent, element_id) for intent, _type, element_id in events(harness, pik)]
    terminating = seen[seen.index((PI.ELEMENT_TERMINATING, "nested")):]
    assert terminating == [
        (PI.ELEMENT_TERMINATING, "nested"), (PI.ELEMENT_TERMINATING, "sub"), (PI.ELEMENT_TERMINATING, "task"),
        (PI.ELEMENT_TERMINATED, "task"), (PI.ELEMENT_TERMINATED, "sub"), (PI.ELEMENT_TERMINATED, "nested"),
    ]
    assert harness.jobs(pik).only_events()[-1].intent is JobIntent.CANCELED
    assert harness.jobs(pik).only_events()[-1].key == job


def test_an_empty_path_out_of_a_nested_subprocess_completes_both_scopes() -> None:
    twice = b.process(
        "twice", b.start(), b.flow("f1", "start", "outer"),
        b.sub_process("outer", b.start("s1"), b.flow("f2", "s1", "inner"),
                      b.sub_process("inner", b.start("s2"), b.flow("f3", "s2", "e2"), b.end("e2")),
                      b.flow("f4", "inner", "e1"), b.end("e1")),
        b.flow("f5", "outer", "end"), b.end())
    with EngineHarness() as harness:
        harness.deploy("twice.bpmn", twice)
        pik = harness.create_instance("twice")
        completed = [element_id for intent, _t, element_id in events(harness, pik) if intent is PI.ELEMENT_COMPLETED]
    assert completed == ["start", "s1", "s2", "e2", "inner", "e1", "outer", "end", "twice"]
