"""Terminate end events: completing one terminates the other element instances of its flow scope, and
the flow scope completes (a subprocess then takes its outgoing flows); checked record for record as
Zeebe's ``TerminateEndEventTest`` does (service tasks stand in for its user tasks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.engine.bpmn import parse_bpmn
from zeebe_trio.engine.bpmn.model import ExecutableEndEvent, TerminateEventDefinition, transform_process
from zeebe_trio.protocol import JobIntent, ProcessInstanceIntent, Record, RecordType, RejectionType, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_gateways_events as g

PI = ProcessInstanceIntent


class Harness(EngineHarness):
    def deploy(self, name: str, resource: bytes) -> Record | None:
        response = super().deploy(name, resource)
        assert response is not None and response.record_type is RecordType.EVENT, response
        return response


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with Harness() as h:
        yield h


def terminate_end(element_id: str = "terminate-end") -> str:
    return b.end(element_id, g.terminate_definition())


def through(element_type: str, element_id: str) -> list[tuple[object, str, str]]:
    return [(intent, element_type, element_id) for intent in
            (PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED, PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING,
             PI.ELEMENT_COMPLETED)]


def lived(element_type: str, element_id: str) -> list[tuple[object, str, str]]:
    """The events of ``through`` (without the COMPLETE_ELEMENT command)."""
    return [entry for entry in through(element_type, element_id) if entry[0] is not PI.COMPLETE_ELEMENT]


def events(harness: EngineHarness, pik: int) -> list[tuple[object, str, str]]:
    return harness.records().only_events().process_instance_records(pik).element_tuples()


PROCESS_DONE = [(PI.ELEMENT_COMPLETING, "PROCESS", "p"), (PI.ELEMENT_COMPLETED, "PROCESS", "p")]


def test_a_terminate_end_event_completes_the_process_instance(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process("p", b.start(), b.flow("f", "start", "terminate-end"), terminate_end()))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    at = seen.index((PI.ELEMENT_ACTIVATING, "END_EVENT", "terminate-end"))
    assert seen[at:] == [*through("END_EVENT", "terminate-end"), (PI.COMPLETE_ELEMENT, "PROCESS", "p"), *PROCESS_DONE]
    records = harness.records().only_events().process_instance_records(pik).with_element_id("terminate-end")
    assert {r.value["bpmnEventType"] for r in records} == {"TERMINATE"}


PARALLEL = b.process(
    "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
    b.flow("to_a", "fork", "A"), b.service_task("A", "a"), b.flow("to_none", "A", "none-end"), b.end("none-end"),
    b.flow("to_b", "fork", "B"), b.service_task("B", "b"), b.flow("to_term", "B", "terminate-end"), terminate_end())


def test_a_terminate_end_event_terminates_the_other_element_instances_then_the_process_completes(
        harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", PARALLEL)
    pik = harness.create_instance("p")
    [job] = harness.activate_jobs("b")
    start = len(harness.records())
    harness.complete_job(job)
    after = harness.records()[start:]
    assert after.process_instance_records(pik).element_tuples() == [
        (PI.COMPLETE_ELEMENT, "SERVICE_TASK", "B"),
        (PI.ELEMENT_COMPLETING, "SERVICE_TASK", "B"), (PI.ELEMENT_COMPLETED, "SERVICE_TASK", "B"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_term"),
        (PI.ACTIVATE_ELEMENT, "END_EVENT", "terminate-end"), *through("END_EVENT", "terminate-end"),
        (PI.TERMINATE_ELEMENT, "SERVICE_TASK", "A"),
        (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "A"), (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "A"),
        (PI.COMPLETE_ELEMENT, "PROCESS", "p"), *PROCESS_DONE,
    ]
    [canceled] = after.jobs().with_intent(JobIntent.CANCELED)
    assert canceled.value["elementId"] == "A"
    assert (PI.ELEMENT_COMPLETED, "END_EVENT", "none-end") not in events(harness, pik)
    with harness.read() as state:
        assert state.element_instance(pik) is None


def test_a_token_on_its_way_when_the_scope_is_interrupted_is_rejected(harness: EngineHarness) -> None:
    # the flow to the task is taken (after a second gateway), but its ACTIVATE_ELEMENT comes after the
    # terminate end event's COMPLETE_ELEMENT
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_term", "fork", "terminate-end"), terminate_end(),
        b.flow("to_pass", "fork", "pass"), g.parallel_gateway("pass"),
        b.flow("to_task", "pass", "task"), b.service_task("task", "work"), b.flow("to_end", "task", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    at = seen.index((PI.ELEMENT_COMPLETED, "PARALLEL_GATEWAY", "fork"))
    assert seen[at + 1:] == [
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_term"), (PI.ACTIVATE_ELEMENT, "END_EVENT", "terminate-end"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_pass"), (PI.ACTIVATE_ELEMENT, "PARALLEL_GATEWAY", "pass"),
        (PI.ELEMENT_ACTIVATING, "END_EVENT", "terminate-end"), (PI.ELEMENT_ACTIVATED, "END_EVENT", "terminate-end"),
        (PI.COMPLETE_ELEMENT, "END_EVENT", "terminate-end"),
        (PI.ELEMENT_ACTIVATING, "PARALLEL_GATEWAY", "pass"), (PI.ELEMENT_ACTIVATED, "PARALLEL_GATEWAY", "pass"),
        (PI.ELEMENT_COMPLETING, "PARALLEL_GATEWAY", "pass"), (PI.ELEMENT_COMPLETED, "PARALLEL_GATEWAY", "pass"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_task"), (PI.ACTIVATE_ELEMENT, "SERVICE_TASK", "task"),
        (PI.ELEMENT_COMPLETING, "END_EVENT", "terminate-end"), (PI.ELEMENT_COMPLETED, "END_EVENT", "terminate-end"),
        (PI.COMPLETE_ELEMENT, "PROCESS", "p"),
        (PI.ACTIVATE_ELEMENT, "SERVICE_TASK", "task"),  # the rejection
        *PROCESS_DONE,
    ]
    [rejection] = harness.records().only_rejections().process_instance_records(pik)
    assert rejection.rejection_type is RejectionType.INVALID_STATE
    assert rejection.rejection_reason == ("Expected flow scope instance to be not interrupted but was interrupted by"
                                          " an event with id 'terminate-end'.")
    assert not harness.jobs(pik)


SUB = b.process(
    "p", b.start(), b.flow("to_fork", "start", "process_fork"), g.parallel_gateway("process_fork"),
    b.flow("to_a", "process_fork", "A"), b.service_task("A", "a"), b.flow("to_end_a", "A", "end_after_A"),
    b.end("end_after_A"),
    b.flow("to_sub", "process_fork", "subprocess"),
    b.sub_process(
        "subprocess", b.start("sub_start"), b.flow("to_sub_fork", "sub_start", "subprocess_fork"),
        g.parallel_gateway("subprocess_fork"),
        b.flow("to_b", "subprocess_fork", "B"), b.service_task("B", "b"), b.flow("to_end_b", "B", "end_after_B"),
        b.end("end_after_B"),
        b.flow("to_c", "subprocess_fork", "C"), b.service_task("C", "c"), b.flow("to_term", "C", "terminate-end"),
        terminate_end()),
    b.flow("to_end_after_subprocess", "subprocess", "end_after_subprocess"), b.end("end_after_subprocess"))


def test_a_terminate_end_event_in_a_subprocess_terminates_its_children_and_the_subprocess_completes(
        harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", SUB)
    pik = harness.create_instance("p")
    [job_c] = harness.activate_jobs("c")
    start = len(harness.records())
    harness.complete_job(job_c)
    after = harness.records()[start:].only_events().process_instance_records(pik).element_tuples()
    assert after == [
        (PI.ELEMENT_COMPLETING, "SERVICE_TASK", "C"), (PI.ELEMENT_COMPLETED, "SERVICE_TASK", "C"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_term"), *lived("END_EVENT", "terminate-end"),
        (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "B"), (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "B"),
        (PI.ELEMENT_COMPLETING, "SUB_PROCESS", "subprocess"), (PI.ELEMENT_COMPLETED, "SUB_PROCESS", "subprocess"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_end_after_subprocess"),
        *lived("END_EVENT", "end_after_subprocess"),
    ]
    assert (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "A") not in events(harness, pik)

    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a)
    assert events(harness, pik)[-6:] == [*lived("END_EVENT", "end_after_A"), *PROCESS_DONE]


def test_a_terminate_end_event_in_a_subprocess_leaves_a_waiting_join_outside_alone(harness: EngineHarness) -> None:
    # the interruption is the subprocess's: the process's own tokens and joins are not dropped
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_a", "fork", "A"), b.service_task("A", "a"), b.flow("a_join", "A", "join"),
        b.flow("to_sub", "fork", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("to_term", "sub_start", "terminate-end"), terminate_end()),
        b.flow("sub_join", "sub", "join"), g.parallel_gateway("join"), b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p")
    assert (PI.ELEMENT_COMPLETED, "SUB_PROCESS", "sub") in events(harness, pik)
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    seen = events(harness, pik)
    assert [i for it, _t, i in seen if it is PI.ELEMENT_COMPLETED and _t == "PARALLEL_GATEWAY"] == ["fork", "join"]
    assert seen[-2:] == PROCESS_DONE


def test_cancelling_after_a_terminate_end_event_in_a_subprocess_still_terminates_everything(
        harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", SUB)
    pik = harness.create_instance("p")
    harness.cancel(pik)
    seen = events(harness, pik)
    assert seen[-1] == (PI.ELEMENT_TERMINATED, "PROCESS", "p")
    assert {i for it, _t, i in seen if it is PI.ELEMENT_TERMINATED} == {"A", "B", "C", "subprocess", "p"}


def test_the_model_gives_a_terminate_end_event_its_definition() -> None:
    [parsed] = parse_bpmn("p.bpmn", PARALLEL)
    process = transform_process(parsed)
    end = process.flow_node("terminate-end")
    assert isinstance(end, ExecutableEndEvent) and isinstance(end.event_definition, TerminateEventDefinition)
    assert end.event_definition.kind == "terminate" and end.event_type == "TERMINATE"
    none_end = process.flow_node("none-end")
    assert isinstance(none_end, ExecutableEndEvent) and none_end.event_definition is None
    assert none_end.event_type == "NONE"


def test_a_terminate_end_event_deploys(harness: EngineHarness) -> None:
    response = harness.deploy("p.bpmn", PARALLEL)
    assert response is not None and response.value_type is ValueType.DEPLOYMENT
