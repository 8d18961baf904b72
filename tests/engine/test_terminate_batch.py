"""PROCESS_INSTANCE_BATCH TERMINATE: a terminating container's children are terminated in batches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.engine.processing import _terminate_batch
from zeebe_trio.protocol import ProcessInstanceBatchIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_multi_instance import multi_instance

PI = ProcessInstanceIntent
BATCH = ValueType.PROCESS_INSTANCE_BATCH


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def _waiting_at_three_tasks(harness: EngineHarness) -> int:
    harness.deploy("three.bpmn", b.process(
        "three", b.start(), b.flow("to_task", "start", "task"),
        multi_instance(b.service_task("task", "work"), input_collection="= [1, 2, 3]"),
        b.flow("to_end", "task", "end"), b.end()))
    return harness.create_instance("three")


def _after_the_body_terminates(harness: EngineHarness, pik: int) -> list[tuple[ValueType, object, int]]:
    body = harness.records().process_instance_records(pik).filter(
        lambda r: r.value.get("bpmnElementType") == "MULTI_INSTANCE_BODY")[0]
    after = harness.records().skip_until(lambda r: r.intent is PI.ELEMENT_TERMINATING and r.key == body.key)
    return [(r.value_type, r.intent, r.key) for r in after.filter(
        lambda r: r.value_type is BATCH or r.intent is PI.TERMINATE_ELEMENT)]


def test_a_terminating_body_writes_one_batch_command_that_terminates_its_inner_instances(
        harness: EngineHarness) -> None:
    pik = _waiting_at_three_tasks(harness)
    inner = [r.key for r in harness.records().process_instance_records(pik).only_events().filter(
        lambda r: r.intent is PI.ELEMENT_ACTIVATED and r.value["bpmnElementType"] == "SERVICE_TASK")]
    harness.cancel(pik)

    records = _after_the_body_terminates(harness, pik)
    assert [(t, i) for t, i, _ in records] == [(BATCH, ProcessInstanceBatchIntent.TERMINATE)] + [
        (ValueType.PROCESS_INSTANCE, PI.TERMINATE_ELEMENT)] * 3
    assert [key for _, _, key in records[1:]] == inner
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_TERMINATED, "PROCESS", "three")


def test_a_batch_command_terminates_a_bounded_number_of_children_and_leaves_the_rest_to_the_next(
        harness: EngineHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_terminate_batch, "MAX_TERMINATIONS_PER_COMMAND", 2)
    pik = _waiting_at_three_tasks(harness)
    inner = [r.key for r in harness.records().process_instance_records(pik).only_events().filter(
        lambda r: r.intent is PI.ELEMENT_ACTIVATED and r.value["bpmnElementType"] == "SERVICE_TASK")]
    harness.cancel(pik)

    records = _after_the_body_terminates(harness, pik)
    assert [(t, i) for t, i, _ in records] == [
        (BATCH, ProcessInstanceBatchIntent.TERMINATE), (ValueType.PROCESS_INSTANCE, PI.TERMINATE_ELEMENT),
        (ValueType.PROCESS_INSTANCE, PI.TERMINATE_ELEMENT), (BATCH, ProcessInstanceBatchIntent.TERMINATE),
        (ValueType.PROCESS_INSTANCE, PI.TERMINATE_ELEMENT)]
    assert [records[i][2] for i in (1, 2, 4)] == inner
    second = harness.records().with_value_type(BATCH).with_intent(ProcessInstanceBatchIntent.TERMINATE)[-1]
    assert second.value["index"] == inner[2]  # it starts at the first child left
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_TERMINATED, "PROCESS", "three")
