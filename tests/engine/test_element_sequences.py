"""The exact records each element writes, for each way it can end, in the style of Zeebe's engine tests.

The expected sequences are Zeebe's (8.x): from its engine tests (``ParallelGatewayTest``,
``ExclusiveGatewayTest``, ``CancelProcessInstanceTest``, ``JobFailIncidentTest``, ``MappingIncidentTest``) and,
for the order of records within one command's batch, from the processors that write them
(``ProcessInstanceCreationCreateProcessor``, ``StartEventProcessor``, ``EndEventProcessor``,
``UndefinedTaskProcessor``, ``JobWorkerTaskProcessor``, ``ExclusiveGatewayProcessor``, ``ParallelGatewayProcessor``,
``BpmnStateTransitionBehavior``, ``JobCompleteProcessor``, ``IncidentResolveProcessor``,
``VariableDocumentUpdateProcessor``). Like Zeebe's own tests, most compare the events (``only_events()``) and
the commands that matter to the element; where zeebe-trio writes something else today, a test asserts Zeebe's
sequence and is marked ``xfail(strict=True)`` naming the difference.

Every test runs on ``EngineHarness``: no broker, no fsync, its own clock, and a replaying engine whose
state must equal the processing engine's after every command.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    RecordType,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness

PI = ProcessInstanceIntent
ACTIVATE, ACTIVATING, ACTIVATED = PI.ACTIVATE_ELEMENT, PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED
COMPLETE, COMPLETING, COMPLETED = PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING, PI.ELEMENT_COMPLETED
TERMINATE, TERMINATING, TERMINATED = PI.TERMINATE_ELEMENT, PI.ELEMENT_TERMINATING, PI.ELEMENT_TERMINATED
TAKEN = PI.SEQUENCE_FLOW_TAKEN

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
         ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://zeebe-trio">')


def process(process_id: str, *elements: str) -> bytes:
    return (f'{_HEAD}<bpmn:process id="{process_id}" isExecutable="true">{"".join(elements)}'
            "</bpmn:process></bpmn:definitions>").encode()


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'


def service_task(task_id: str, job_type: str, *, retries: int = 3, mappings: str = "") -> str:
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}"'
            f' retries="{retries}"/>{io}</bpmn:extensionElements></bpmn:serviceTask>')


START = '<bpmn:startEvent id="start"/>'
END = '<bpmn:endEvent id="end"/>'
ONE_TASK = process("one_task", START, flow("to_task", "start", "task"), service_task("task", "work", retries=1),
                   flow("to_end", "task", "end"), END)


Element = tuple[Intent, str, str]


def lifecycle(element_type: str, element_id: str) -> list[Element]:
    """The events of an element that completes as soon as it is active."""
    return [(ACTIVATING, element_type, element_id), (ACTIVATED, element_type, element_id),
            (COMPLETING, element_type, element_id), (COMPLETED, element_type, element_id)]


def start_events(process_id: str, first_flow: str) -> list[Element]:
    """The events from the process's activation up to the start event's outgoing flow."""
    return [(ACTIVATING, "PROCESS", process_id), (ACTIVATED, "PROCESS", process_id),
            *lifecycle("START_EVENT", "start"), (TAKEN, "SEQUENCE_FLOW", first_flow)]


def process_completes(process_id: str) -> list[Element]:
    """The process's completion, from the COMPLETE_ELEMENT command its last child's completion writes."""
    return [(COMPLETE, "PROCESS", process_id), (COMPLETING, "PROCESS", process_id), (COMPLETED, "PROCESS", process_id)]


def gateway_records(element_type: str, element_id: str) -> list[Element]:
    """Zeebe's gateways complete within the command that activates them (ExclusiveGatewayProcessor,
    ParallelGatewayProcessor.finalizeActivation): no COMPLETE_ELEMENT."""
    return [(ACTIVATE, element_type, element_id), *lifecycle(element_type, element_id)]


def completed_through_a_command(element_type: str, element_id: str) -> list[Element]:
    """Zeebe's start and none end events and undefined and manual tasks write a COMPLETE_ELEMENT command once
    activated (StartEventProcessor, EndEventProcessor.NoneEndEventBehavior, UndefinedTaskProcessor)."""
    return [(ACTIVATE, element_type, element_id), (ACTIVATING, element_type, element_id),
            (ACTIVATED, element_type, element_id), (COMPLETE, element_type, element_id),
            (COMPLETING, element_type, element_id), (COMPLETED, element_type, element_id)]


def events_of(harness: EngineHarness, pik: int) -> list[Element]:
    return harness.records().only_events().process_instance_records(pik).element_tuples()


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


# -- none start event -> none end event -----------------------------------------------------------

STRAIGHT = process("straight", START, flow("to_end", "start", "end"), END)


def test_a_none_start_and_a_none_end_event_write_zeebes_events(harness: EngineHarness) -> None:
    harness.deploy("straight.bpmn", STRAIGHT)
    pik = harness.create_instance("straight")
    harness.create_instance("straight")  # another instance's records come after the first one's end

    assert events_of(harness, pik) == [*start_events("straight", "to_end"), *lifecycle("END_EVENT", "end"),
                                       *process_completes("straight")[1:]]
    # ProcessInstanceRecordStream's filters, as Zeebe's tests chain them
    limited = harness.records().limit_to_process_instance_completed(pik)
    assert limited[-1].intent is COMPLETED and limited[-1].key == pik
    assert limited.only_events().process_instance_records(pik).element_tuples() == events_of(harness, pik)
    assert harness.records()[-1].value["processInstanceKey"] != pik


def test_events_and_undefined_tasks_complete_through_a_complete_element_command(harness: EngineHarness) -> None:
    harness.deploy("pass.bpmn", process(
        "pass", START, flow("to_t", "start", "t"), '<bpmn:task id="t"/>', flow("to_m", "t", "m"),
        '<bpmn:manualTask id="m"/>', flow("to_end", "m", "end"), END))
    pik = harness.create_instance("pass")

    assert harness.process_instance_records(pik) == [
        (ACTIVATE, "PROCESS", "pass"), (ACTIVATING, "PROCESS", "pass"), (ACTIVATED, "PROCESS", "pass"),
        *completed_through_a_command("START_EVENT", "start"), (TAKEN, "SEQUENCE_FLOW", "to_t"),
        *completed_through_a_command("TASK", "t"), (TAKEN, "SEQUENCE_FLOW", "to_m"),
        *completed_through_a_command("MANUAL_TASK", "m"), (TAKEN, "SEQUENCE_FLOW", "to_end"),
        *completed_through_a_command("END_EVENT", "end"), *process_completes("pass")]


def test_creating_an_instance_writes_its_variables_then_the_activate_command_then_created(
        harness: EngineHarness) -> None:
    harness.deploy("straight.bpmn", STRAIGHT)
    harness.create_instance("straight", {"x": 1})

    create = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION).only_commands()[0]
    batch = harness.records().filter(lambda r: r.source_position == create.position)
    assert batch.types_and_intents() == [
        (ValueType.VARIABLE, VariableIntent.CREATED),
        (ValueType.PROCESS_INSTANCE, ACTIVATE),
        (ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED)]


# -- service task ---------------------------------------------------------------------------------

def test_a_service_task_creates_its_job_before_it_is_activated(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")

    records = harness.records().with_process_instance_key(pik).filter(
        lambda r: r.value_type in (ValueType.JOB, ValueType.PROCESS_INSTANCE) and r.value.get("elementId") == "task")
    assert [(r.value_type, r.intent) for r in records] == [
        (ValueType.PROCESS_INSTANCE, ACTIVATE), (ValueType.PROCESS_INSTANCE, ACTIVATING),
        (ValueType.JOB, JobIntent.CREATED), (ValueType.PROCESS_INSTANCE, ACTIVATED)]


def _complete_the_one_task(harness: EngineHarness) -> int:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    [job] = harness.activate_jobs("work")
    harness.complete_job(job, {"result": 42})
    return pik


def test_a_service_task_ends_when_its_job_completes(harness: EngineHarness) -> None:
    pik = _complete_the_one_task(harness)

    assert events_of(harness, pik)[:7] == start_events("one_task", "to_task")
    # the task's and the job's commands, and every event (the end event's commands are another test's)
    completion = harness.records().skip_until(
        lambda r: r.value_type is ValueType.JOB and r.intent is JobIntent.COMPLETE).filter(
        lambda r: r.value_type in (ValueType.JOB, ValueType.PROCESS_INSTANCE, ValueType.VARIABLE)
        and (r.record_type is RecordType.EVENT or r.value.get("elementId") in (None, "task")))
    assert [(r.value_type, r.intent, r.value.get("elementId") or r.value.get("name")) for r in completion] == [
        (ValueType.JOB, JobIntent.COMPLETE, None),
        (ValueType.JOB, JobIntent.COMPLETED, "task"),
        (ValueType.PROCESS_INSTANCE, COMPLETE, "task"),
        (ValueType.PROCESS_INSTANCE, COMPLETING, "task"),
        (ValueType.VARIABLE, VariableIntent.CREATED, "result"),  # the job's variables, at completion
        (ValueType.PROCESS_INSTANCE, COMPLETED, "task"),
        (ValueType.PROCESS_INSTANCE, TAKEN, "to_end"),
        *[(ValueType.PROCESS_INSTANCE, intent, element_id)
          for intent, _, element_id in [*lifecycle("END_EVENT", "end"), *process_completes("one_task")[1:]]]]
    # Zeebe has no JOB ACTIVATED: activation is the JOB_BATCH ACTIVATED event.
    assert harness.jobs(pik).types_and_intents() == [
        (ValueType.JOB, JobIntent.CREATED), (ValueType.JOB, JobIntent.COMPLETE), (ValueType.JOB, JobIntent.COMPLETED)]
    assert len(harness.records().with_value_type(ValueType.JOB_BATCH).with_intent(JobBatchIntent.ACTIVATED)) == 1


def test_completing_a_job_triggers_a_process_event_that_the_task_consumes(harness: EngineHarness) -> None:
    _complete_the_one_task(harness)

    complete = harness.records().jobs().with_intent(JobIntent.COMPLETE)[0]
    records = harness.records().skip_until(lambda r: r is complete).limit(
        lambda r: r.intent is COMPLETED and r.value.get("elementId") == "task")
    assert [(r.value_type.name, r.intent.name) for r in records] == [
        ("JOB", "COMPLETE"), ("JOB", "COMPLETED"), ("PROCESS_EVENT", "TRIGGERING"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT"), ("PROCESS_INSTANCE", "ELEMENT_COMPLETING"),
        ("PROCESS_EVENT", "TRIGGERED"), ("VARIABLE", "CREATED"), ("PROCESS_INSTANCE", "ELEMENT_COMPLETED")]


def test_a_timed_out_job_is_activatable_again_from_its_deadline(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    harness.create_instance("one_task")
    [job] = harness.activate_jobs("work", timeout_ms=1000)
    activated_at = harness.now

    harness.advance(999)
    assert harness.activate_jobs("work") == []
    harness.advance(5000)

    [time_out, timed_out] = harness.records().jobs().skip_until(lambda r: r.intent is JobIntent.TIME_OUT)
    assert (time_out.intent, timed_out.intent, timed_out.key) == (JobIntent.TIME_OUT, JobIntent.TIMED_OUT, job)
    assert time_out.timestamp == activated_at + 1000  # written when it fell due, not when the test looked
    assert timed_out.source_position == time_out.position
    assert harness.activate_jobs("work") == [job]


def test_a_job_failed_with_a_back_off_recurs_when_the_back_off_ends(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", process("retrying", START, flow("to_task", "start", "task"),
                                           service_task("task", "work", retries=3), flow("to_end", "task", "end"), END))
    pik = harness.create_instance("retrying")
    [job] = harness.activate_jobs("work")
    harness.fail_job(job, 2, "try later", backoff_ms=10_000)
    assert harness.activate_jobs("work") == []

    harness.advance(10_000)

    assert [intent for _, intent in harness.jobs(pik).types_and_intents()] == [
        JobIntent.CREATED, JobIntent.FAIL, JobIntent.FAILED, JobIntent.RECUR_AFTER_BACKOFF,
        JobIntent.RECURRED_AFTER_BACKOFF]
    assert harness.activate_jobs("work") == [job]


# -- exclusive gateway ----------------------------------------------------------------------------

XOR = process("xor_process", START, flow("to_xor", "start", "xor"), '<bpmn:exclusiveGateway id="xor" default="s2"/>',
              flow("s1", "xor", "a", "= foo &lt; 5"), flow("s2", "xor", "b"),
              '<bpmn:endEvent id="a"/>', '<bpmn:endEvent id="b"/>')


@pytest.mark.parametrize(("foo", "flow_id", "end_id"), [(4, "s1", "a"), (12, "s2", "b")],
                         ids=["condition", "default-flow"])
def test_an_exclusive_gateway_takes_one_flow(harness: EngineHarness, foo: int, flow_id: str, end_id: str) -> None:
    harness.deploy("xor.bpmn", XOR)
    pik = harness.create_instance("xor_process", {"foo": foo})

    assert events_of(harness, pik) == [
        *start_events("xor_process", "to_xor"), *lifecycle("EXCLUSIVE_GATEWAY", "xor"),
        (TAKEN, "SEQUENCE_FLOW", flow_id), *lifecycle("END_EVENT", end_id), *process_completes("xor_process")[1:]]
    assert harness.records().process_instance_records(pik).with_element_id("xor").element_tuples() == gateway_records(
        "EXCLUSIVE_GATEWAY", "xor")
    # ExclusiveGatewayTest.testProcessInstanceStatesWithExclusiveGateway: the events from the gateway on
    events = harness.records().only_events().process_instance_records(pik).skip_until(
        lambda r: r.value.get("elementId") == "xor").limit_to_process_instance_completed(pik)
    assert [r.intent for r in events] == [ACTIVATING, ACTIVATED, COMPLETING, COMPLETED, TAKEN,
                                          ACTIVATING, ACTIVATED, COMPLETING, COMPLETED, COMPLETING, COMPLETED]


NO_DEFAULT = process("no_default", START, flow("to_xor", "start", "xor"), '<bpmn:exclusiveGateway id="xor"/>',
                     flow("s1", "xor", "end", "= foo &lt; 5"), END)


def test_an_exclusive_gateway_without_a_matching_flow_raises_an_incident_and_stays_activating(
        harness: EngineHarness) -> None:
    harness.deploy("no_default.bpmn", NO_DEFAULT)
    pik = harness.create_instance("no_default", {"foo": 40})

    assert harness.process_instance_records(pik)[-2:] == [
        (ACTIVATE, "EXCLUSIVE_GATEWAY", "xor"), (ACTIVATING, "EXCLUSIVE_GATEWAY", "xor")]
    [incident] = harness.incidents(pik)
    assert (incident.intent, incident.value["errorType"], incident.value["elementId"]) == (
        IncidentIntent.CREATED, "CONDITION_ERROR", "xor")
    assert harness.records()[-1] is incident


def test_resolving_a_condition_incident_continues_the_gateway_from_the_resolve_command(
        harness: EngineHarness) -> None:
    harness.deploy("no_default.bpmn", NO_DEFAULT)
    pik = harness.create_instance("no_default", {"foo": 40})
    [incident] = harness.incidents(pik)
    harness.set_variables(pik, {"foo": 1})
    harness.resolve_incident(incident.key)

    resolve = harness.incidents(pik).only_commands()[0]
    after = harness.records().skip_until(lambda r: r is resolve)
    assert after.process_instance_records(pik).element_tuples() == [
        (ACTIVATED, "EXCLUSIVE_GATEWAY", "xor"), (COMPLETING, "EXCLUSIVE_GATEWAY", "xor"),
        (COMPLETED, "EXCLUSIVE_GATEWAY", "xor"), (TAKEN, "SEQUENCE_FLOW", "s1"),
        *completed_through_a_command("END_EVENT", "end"), *process_completes("no_default")]
    assert after.process_instance_records(pik)[0].source_position == resolve.position


# -- parallel gateway -----------------------------------------------------------------------------

FORK_JOIN = process("fork_join", START, flow("to_fork", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
                    flow("flow1", "fork", "join"), flow("flow2", "fork", "join"), '<bpmn:parallelGateway id="join"/>',
                    flow("to_end", "join", "end"), END)


def test_a_parallel_fork_and_join_activate_the_join_once_after_both_flows(harness: EngineHarness) -> None:
    # ParallelGatewayTest.shouldMergeParallelBranches / shouldPassThroughParallelGateway, events only
    harness.deploy("fork_join.bpmn", FORK_JOIN)
    pik = harness.create_instance("fork_join")

    events = harness.records().only_events().process_instance_records(pik).skip_until(
        lambda r: r.value.get("elementId") == "fork")
    assert events.element_tuples() == [
        *lifecycle("PARALLEL_GATEWAY", "fork"), (TAKEN, "SEQUENCE_FLOW", "flow1"),
        (TAKEN, "SEQUENCE_FLOW", "flow2"), *lifecycle("PARALLEL_GATEWAY", "join"),
        (TAKEN, "SEQUENCE_FLOW", "to_end"), *lifecycle("END_EVENT", "end"), *process_completes("fork_join")[1:]]


def test_every_flow_into_a_parallel_join_writes_an_activate_command_and_the_early_ones_are_rejected(
        harness: EngineHarness) -> None:
    harness.deploy("fork_join.bpmn", FORK_JOIN)
    pik = harness.create_instance("fork_join")

    join = harness.records().process_instance_records(pik).filter(
        lambda r: r.value.get("elementId") in ("flow1", "flow2", "join"))
    assert [(r.record_type, r.intent, r.value["elementId"]) for r in join][:6] == [
        (RecordType.EVENT, TAKEN, "flow1"), (RecordType.COMMAND, ACTIVATE, "join"),
        (RecordType.EVENT, TAKEN, "flow2"), (RecordType.COMMAND, ACTIVATE, "join"),
        (RecordType.EVENT, ACTIVATING, "join"), (RecordType.EVENT, ACTIVATED, "join")]
    [rejection] = harness.records().only_rejections()
    assert (rejection.intent, rejection.rejection_type, rejection.rejection_reason) == (
        ACTIVATE, RejectionType.INVALID_STATE,
        "Expected to be able to activate parallel gateway 'join', but not all sequence flows have been taken.")


TWICE = process(
    "twice", START, flow("to_split", "start", "splitting"), '<bpmn:parallelGateway id="splitting"/>',
    flow("to_joining", "splitting", "joining"), flow("to_exclusive1", "splitting", "exclusive"),
    flow("to_exclusive2", "splitting", "exclusive"), '<bpmn:exclusiveGateway id="exclusive"/>',
    flow("exclusive_to_joining", "exclusive", "joining"), '<bpmn:parallelGateway id="joining"/>',
    flow("to_end", "joining", "endEvent"), '<bpmn:endEvent id="endEvent"/>')
NOT_ALL_TAKEN = ("Expected to be able to activate parallel gateway 'joining', but not all sequence flows have"
                 " been taken.")


def test_a_parallel_join_whose_flow_is_taken_twice_is_activated_once(harness: EngineHarness) -> None:
    # camunda#6778: each activation of a join consumes one taken flow per incoming flow; the second
    # ACTIVATE_ELEMENT written for the same set is rejected, and the extra token waits at the join
    harness.deploy("twice.bpmn", TWICE)
    pik = harness.create_instance("twice")

    records = harness.records().process_instance_records(pik)
    assert len(records.with_element_id("joining").with_intent(ACTIVATED)) == 1
    assert len(records.with_element_id("endEvent").with_intent(ACTIVATED)) == 1
    rejected = records.only_rejections().filter(lambda r: r.value.get("bpmnElementType") == "PARALLEL_GATEWAY")
    assert {(r.intent, r.rejection_type, r.rejection_reason) for r in rejected} == {
        (ACTIVATE, RejectionType.INVALID_STATE, NOT_ALL_TAKEN)}
    # the token still on exclusive_to_joining keeps the process active
    assert not records.with_element_id("twice").with_intent(COMPLETED)


def test_a_parallel_join_whose_flow_is_taken_twice_rejects_the_other_two_activate_commands(
        harness: EngineHarness) -> None:
    harness.deploy("twice.bpmn", TWICE)
    pik = harness.create_instance("twice")

    records = harness.records().process_instance_records(pik).limit(
        lambda r: r.value.get("elementId") == "endEvent" and r.intent is COMPLETED)
    rejected = records.only_rejections().filter(lambda r: r.value.get("bpmnElementType") == "PARALLEL_GATEWAY")
    assert [(r.intent, r.rejection_type, r.rejection_reason) for r in rejected] == [
        (ACTIVATE, RejectionType.INVALID_STATE, NOT_ALL_TAKEN)] * 2
    assert len(records.with_element_id("joining").with_intent(ACTIVATED)) == 1


def test_a_parallel_fork_into_an_exclusive_merge_passes_it_twice(harness: EngineHarness) -> None:
    # ParallelGatewayTest.shouldCompleteScopeWithMultipleTokensOnSamePath
    harness.deploy("tokens.bpmn", process(
        "tokens", START, flow("to_fork", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
        flow("a", "fork", "join"), flow("b", "fork", "join"), '<bpmn:exclusiveGateway id="join"/>',
        flow("to_end", "join", "end"), END))
    pik = harness.create_instance("tokens")

    records = harness.records().process_instance_records(pik)
    after_fork = records.skip_until(lambda r: r.value.get("elementId") == "a")
    # every flow taken writes its target's ACTIVATE_ELEMENT (BpmnStateTransitionBehavior.takeSequenceFlow)
    assert after_fork.limit(lambda r: r.intent is ACTIVATE and r.value["elementId"] == "end").element_tuples() == [
        (TAKEN, "SEQUENCE_FLOW", "a"), (ACTIVATE, "EXCLUSIVE_GATEWAY", "join"),
        (TAKEN, "SEQUENCE_FLOW", "b"), (ACTIVATE, "EXCLUSIVE_GATEWAY", "join"),
        *lifecycle("EXCLUSIVE_GATEWAY", "join"), (TAKEN, "SEQUENCE_FLOW", "to_end"), (ACTIVATE, "END_EVENT", "end")]
    assert after_fork.only_events().element_tuples() == [
        (TAKEN, "SEQUENCE_FLOW", "a"), (TAKEN, "SEQUENCE_FLOW", "b"),
        *lifecycle("EXCLUSIVE_GATEWAY", "join"), (TAKEN, "SEQUENCE_FLOW", "to_end"),
        *lifecycle("EXCLUSIVE_GATEWAY", "join"), (TAKEN, "SEQUENCE_FLOW", "to_end"),
        # each end event completes through its COMPLETE_ELEMENT command, processed after the other's activation
        (ACTIVATING, "END_EVENT", "end"), (ACTIVATED, "END_EVENT", "end"),
        (ACTIVATING, "END_EVENT", "end"), (ACTIVATED, "END_EVENT", "end"),
        (COMPLETING, "END_EVENT", "end"), (COMPLETED, "END_EVENT", "end"),
        (COMPLETING, "END_EVENT", "end"), (COMPLETED, "END_EVENT", "end"), *process_completes("tokens")[1:]]


@pytest.mark.parametrize("gateway", ["exclusiveGateway", "parallelGateway"])
def test_a_gateway_without_outgoing_flows_completes_the_process(harness: EngineHarness, gateway: str) -> None:
    # ExclusiveGatewayTest.shouldEndScopeIfGatewayHasNoOutgoingFlows, ParallelGatewayTest.shouldCompleteScopeOnParallelGateway
    harness.deploy("dead_end.bpmn", process("dead_end", START, flow("to_gateway", "start", "gateway"),
                                            f'<bpmn:{gateway} id="gateway"/>'))
    pik = harness.create_instance("dead_end")

    element_type = "EXCLUSIVE_GATEWAY" if gateway == "exclusiveGateway" else "PARALLEL_GATEWAY"
    records = harness.records().process_instance_records(pik).skip_until(lambda r: r.value["elementId"] == "gateway")
    assert records.element_tuples() == [*gateway_records(element_type, "gateway"), *process_completes("dead_end")]


def test_undefined_and_manual_tasks_pass_through(harness: EngineHarness) -> None:
    harness.deploy("pass.bpmn", process(
        "pass", START, flow("to_t", "start", "t"), '<bpmn:task id="t"/>', flow("to_m", "t", "m"),
        '<bpmn:manualTask id="m"/>', flow("to_end", "m", "end"), END))
    pik = harness.create_instance("pass")

    assert events_of(harness, pik) == [
        *start_events("pass", "to_t"), *lifecycle("TASK", "t"), (TAKEN, "SEQUENCE_FLOW", "to_m"),
        *lifecycle("MANUAL_TASK", "m"), (TAKEN, "SEQUENCE_FLOW", "to_end"), *lifecycle("END_EVENT", "end"),
        *process_completes("pass")[1:]]


def test_parallel_branches_with_tasks_complete_the_process_after_the_last_end_event(harness: EngineHarness) -> None:
    # ParallelGatewayTest.shouldCompleteScopeWhenAllPathsCompleted
    harness.deploy("fork.bpmn", process(
        "fork_process", START, flow("to_fork", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
        flow("to_task1", "fork", "task1"), service_task("task1", "type1"), flow("to_end1", "task1", "end1"),
        '<bpmn:endEvent id="end1"/>',
        flow("to_task2", "fork", "task2"), service_task("task2", "type2"), flow("to_end2", "task2", "end2"),
        '<bpmn:endEvent id="end2"/>'))
    pik = harness.create_instance("fork_process")
    [job1] = harness.activate_jobs("type1")
    harness.complete_job(job1)
    assert (COMPLETED, "PROCESS", "fork_process") not in harness.process_instance_records(pik)
    [job2] = harness.activate_jobs("type2")
    harness.complete_job(job2)

    records = harness.process_instance_records(pik)
    assert [element_id for intent, element_type, element_id in records
            if intent is COMPLETED and element_type == "END_EVENT"] == ["end1", "end2"]
    assert records[-3:] == process_completes("fork_process")


# -- cancel ---------------------------------------------------------------------------------------

def test_canceling_an_instance_waiting_at_a_task_terminates_the_task_then_the_process(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    harness.cancel(pik)

    # CancelProcessInstanceTest.shouldCancelProcessInstance(WithEmbeddedSubProcess): 8 records without
    # the sub-process; the CANCEL command carries no element id. JobWorkerTaskProcessor.onTerminate cancels
    # the job before the task is terminated.
    cancel = harness.records().with_key(pik).with_intent(PI.CANCEL)[0]
    after = harness.records().skip_until(lambda r: r is cancel).filter(
        lambda r: r.value_type in (ValueType.PROCESS_INSTANCE, ValueType.JOB))
    assert [(r.value_type, r.intent, r.value.get("elementId", "")) for r in after] == [
        (ValueType.PROCESS_INSTANCE, PI.CANCEL, ""),
        (ValueType.PROCESS_INSTANCE, PI.CANCELING, "one_task"),
        (ValueType.PROCESS_INSTANCE, TERMINATE, "one_task"),
        (ValueType.PROCESS_INSTANCE, TERMINATING, "one_task"),
        (ValueType.PROCESS_INSTANCE, TERMINATE, "task"),
        (ValueType.PROCESS_INSTANCE, TERMINATING, "task"),
        (ValueType.JOB, JobIntent.CANCELED, "task"),
        (ValueType.PROCESS_INSTANCE, TERMINATED, "task"),
        (ValueType.PROCESS_INSTANCE, TERMINATED, "one_task")]
    [created] = harness.jobs(pik, JobIntent.CREATED)
    assert harness.jobs(pik, JobIntent.CANCELED)[0].key == created.key
    assert harness.activate_jobs("work") == []


def test_the_cancel_command_belongs_to_the_process_instance(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    harness.cancel(pik)

    assert [(intent, element_id) for intent, _, element_id in harness.process_instance_records(pik)
            if intent is PI.CANCEL] == [(PI.CANCEL, "")]


def test_a_terminating_process_terminates_its_children_through_a_batch_command(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    harness.cancel(pik)

    after = harness.records().skip_until(lambda r: r.intent is TERMINATING and r.key == pik)
    assert [(r.value_type.name, r.intent.name) for r in after[:3]] == [
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING"), ("PROCESS_INSTANCE_BATCH", "TERMINATE"),
        ("PROCESS_INSTANCE", "TERMINATE_ELEMENT")]


def test_canceling_an_instance_with_a_job_incident_resolves_the_incident_after_canceling_the_job(
        harness: EngineHarness) -> None:
    # JobFailIncidentTest.shouldDeleteIncidentIfJobIsCanceled; JobWorkerTaskProcessor.onTerminate cancels the
    # job, then resolves the element's incidents, then terminates.
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    [job] = harness.activate_jobs("work")
    harness.fail_job(job, 0)
    [incident] = harness.incidents(pik)
    harness.cancel(pik)

    after = harness.records().skip_until(lambda r: r.intent is TERMINATING and r.value.get("elementId") == "task")
    assert after.types_and_intents() == [
        (ValueType.PROCESS_INSTANCE, TERMINATING), (ValueType.JOB, JobIntent.CANCELED),
        (ValueType.INCIDENT, IncidentIntent.RESOLVED), (ValueType.PROCESS_INSTANCE, TERMINATED),
        (ValueType.PROCESS_INSTANCE, TERMINATED)]
    assert after[2].key == incident.key


# -- incidents ------------------------------------------------------------------------------------

def test_a_job_failed_without_retries_raises_an_incident_and_resolving_it_makes_the_job_activatable(
        harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    [job] = harness.activate_jobs("work")
    harness.fail_job(job, 0)

    fail = harness.jobs(pik, JobIntent.FAIL)[0]
    [incident] = harness.incidents(pik)
    task = harness.records().process_instance_records(pik).with_element_id("task").with_intent(ACTIVATED)[0]
    assert incident.source_position == fail.position  # JobFailIncidentTest.shouldCreateIncidentIfJobHasNoRetriesLeft
    assert (incident.value["errorType"], incident.value["errorMessage"], incident.value["elementInstanceKey"],
            incident.value["jobKey"]) == ("JOB_NO_RETRIES", "No more retries left.", task.key, job)
    assert harness.activate_jobs("work") == []

    rejection = harness.resolve_incident(incident.key)
    assert rejection is not None and rejection.record_type is RecordType.COMMAND_REJECTION
    assert (rejection.rejection_type, rejection.rejection_reason) == (
        RejectionType.INVALID_STATE,
        f"Expected to resolve incident with key '{incident.key}', but job with key '{job}' has no retries left."
        " Please update the job retries and retry resolving the incident")

    harness.update_retries(job, 1)
    resolved = harness.resolve_incident(incident.key)
    assert resolved is not None and (resolved.intent, resolved.key) == (IncidentIntent.RESOLVED, incident.key)
    # JobFailIncidentTest.shouldResolveIncidentIfJobRetriesIncreased: the job's lifecycle
    assert [(r.record_type, r.intent) for r in harness.jobs(pik)] == [
        (RecordType.EVENT, JobIntent.CREATED), (RecordType.COMMAND, JobIntent.FAIL),
        (RecordType.EVENT, JobIntent.FAILED), (RecordType.COMMAND, JobIntent.UPDATE_RETRIES),
        (RecordType.EVENT, JobIntent.RETRIES_UPDATED)]
    assert harness.records().process_instance_records(pik).with_key(task.key)[-1].intent is ACTIVATED

    assert harness.activate_jobs("work") == [job]
    harness.complete_job(job)
    assert harness.process_instance_records(pik)[-3:] == process_completes("one_task")


IO_TASK = process("io_task", START, flow("to_task", "start", "task"),
                  service_task("task", "work", mappings='<zeebe:input source="= assert(foo, foo != null)" target="bar"/>'),
                  flow("to_end", "task", "end"), END)


def test_a_failing_input_mapping_raises_an_incident_and_leaves_the_task_activating(harness: EngineHarness) -> None:
    harness.deploy("io_task.bpmn", IO_TASK)
    pik = harness.create_instance("io_task")

    assert harness.process_instance_records(pik)[-2:] == [(ACTIVATE, "SERVICE_TASK", "task"),
                                                         (ACTIVATING, "SERVICE_TASK", "task")]
    activate = harness.records().process_instance_records(pik).with_element_id("task").with_intent(ACTIVATE)[0]
    [incident] = harness.incidents(pik)
    assert harness.records()[-1] is incident
    assert (incident.value["errorType"], incident.value["elementInstanceKey"], incident.value["variableScopeKey"]) \
        == ("IO_MAPPING_ERROR", activate.key, activate.key)  # MappingIncidentTest.shouldCreateIncidentForInputMappingFailure
    assert harness.jobs(pik) == []


def test_resolving_an_input_mapping_incident_activates_the_task(harness: EngineHarness) -> None:
    harness.deploy("io_task.bpmn", IO_TASK)
    pik = harness.create_instance("io_task")
    [incident] = harness.incidents(pik)
    harness.set_variables(pik, {"foo": "bar"})
    resolved = harness.resolve_incident(incident.key)

    assert resolved is not None and (resolved.intent, resolved.key) == (IncidentIntent.RESOLVED, incident.key)
    resolve = harness.incidents(pik).only_commands()[0]
    assert harness.records().skip_until(lambda r: r is resolve)[:2].types_and_intents() == [
        (ValueType.INCIDENT, IncidentIntent.RESOLVE), (ValueType.INCIDENT, IncidentIntent.RESOLVED)]
    task = harness.records().process_instance_records(pik).with_element_id("task").only_events()
    assert [r.intent for r in task] == [ACTIVATING, ACTIVATED]
    assert harness.records().with_value_type(ValueType.VARIABLE).filter(
        lambda r: r.value["name"] == "bar")[0].value["scopeKey"] == task[0].key
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert harness.process_instance_records(pik)[-3:] == process_completes("io_task")


def test_setting_variables_on_a_process_instance_writes_the_variables_then_updated(harness: EngineHarness) -> None:
    harness.deploy("io_task.bpmn", IO_TASK)
    pik = harness.create_instance("io_task")
    harness.set_variables(pik, {"foo": "bar"})

    update = harness.records().skip_until(lambda r: r.value_type is ValueType.VARIABLE_DOCUMENT)
    assert update.types_and_intents() == [
        (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE),
        (ValueType.VARIABLE, VariableIntent.CREATED),
        (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED)]


def test_resolving_an_input_mapping_incident_continues_the_activation_from_the_resolve_command(
        harness: EngineHarness) -> None:
    harness.deploy("io_task.bpmn", IO_TASK)
    pik = harness.create_instance("io_task")
    [incident] = harness.incidents(pik)
    harness.set_variables(pik, {"foo": "bar"})
    harness.resolve_incident(incident.key)

    resolve = harness.incidents(pik).only_commands()[0]
    batch = harness.records().filter(lambda r: r.source_position == resolve.position)
    assert [(r.value_type, r.intent, r.value.get("elementId") or r.value.get("name")) for r in batch] == [
        (ValueType.INCIDENT, IncidentIntent.RESOLVED, "task"),
        (ValueType.VARIABLE, VariableIntent.CREATED, "bar"),
        (ValueType.JOB, JobIntent.CREATED, "task"),
        (ValueType.PROCESS_INSTANCE, ACTIVATED, "task")]


OUTPUT_TASK = process("output_task", START, flow("to_task", "start", "task"),
                      service_task("task", "work", mappings='<zeebe:output source="= assert(missing, missing != null)"'
                                                            ' target="out"/>'),
                      flow("to_end", "task", "end"), END)


def _fail_the_output_mapping(harness: EngineHarness) -> tuple[int, int]:
    harness.deploy("output_task.bpmn", OUTPUT_TASK)
    pik = harness.create_instance("output_task")
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    [incident] = harness.incidents(pik)
    return pik, incident.key


def test_a_failing_output_mapping_raises_an_incident_and_resolving_it_completes_the_task(
        harness: EngineHarness) -> None:
    pik, incident_key = _fail_the_output_mapping(harness)

    task = harness.records().process_instance_records(pik).with_element_id("task")
    assert [r.intent for r in task][-2:] == [COMPLETE, COMPLETING]
    incident = harness.records()[-1]
    assert (incident.key, incident.value["errorType"], incident.value["elementInstanceKey"]) == (
        incident_key, "IO_MAPPING_ERROR", task[-1].key)

    harness.set_variables(pik, {"missing": 1})
    harness.resolve_incident(incident_key)

    resolve = harness.incidents(pik).only_commands()[0]
    events = harness.records().skip_until(lambda r: r is resolve).only_events()
    assert [(r.value_type, r.intent, r.value.get("elementId") or r.value.get("name")) for r in events][:4] == [
        (ValueType.INCIDENT, IncidentIntent.RESOLVED, "task"),
        (ValueType.VARIABLE, VariableIntent.CREATED, "out"),
        (ValueType.PROCESS_INSTANCE, COMPLETED, "task"),
        (ValueType.PROCESS_INSTANCE, TAKEN, "to_end")]
    assert harness.process_instance_records(pik)[-3:] == process_completes("output_task")


def test_resolving_an_output_mapping_incident_completes_the_task_from_the_resolve_command(
        harness: EngineHarness) -> None:
    pik, incident_key = _fail_the_output_mapping(harness)
    harness.set_variables(pik, {"missing": 1})
    harness.resolve_incident(incident_key)

    resolve = harness.incidents(pik).only_commands()[0]
    completed = harness.records().process_instance_records(pik).with_element_id("task").with_intent(COMPLETED)[0]
    assert completed.source_position == resolve.position
    assert len(harness.records().process_instance_records(pik).with_element_id("task").with_intent(COMPLETE)) == 1


def test_a_thrown_error_without_a_catch_event_raises_an_unhandled_error_incident(harness: EngineHarness) -> None:
    harness.deploy("one_task.bpmn", ONE_TASK)
    pik = harness.create_instance("one_task")
    [job] = harness.activate_jobs("work")
    harness.throw_error(job, "NOT_FOUND", "no such order")

    assert [intent for _, intent in harness.jobs(pik).types_and_intents()] == [
        JobIntent.CREATED, JobIntent.THROW_ERROR, JobIntent.ERROR_THROWN]
    [incident] = harness.incidents(pik)
    throw = harness.jobs(pik, JobIntent.THROW_ERROR)[0]
    assert incident.source_position == throw.position
    assert (incident.value["errorType"], incident.value["errorMessage"], incident.value["jobKey"]) == (
        "UNHANDLED_ERROR_EVENT",
        "Expected to throw an error event with the code 'NOT_FOUND' with message 'no such order', but it was not"
        " caught. No error events are available in the scope.", job)
    assert harness.process_instance_records(pik)[-1] == (ACTIVATED, "SERVICE_TASK", "task")


def test_a_job_failed_with_retries_left_is_activatable_again_without_an_incident(harness: EngineHarness) -> None:
    harness.deploy("retrying.bpmn", process("retrying", START, flow("to_task", "start", "task"),
                                           service_task("task", "work", retries=3), flow("to_end", "task", "end"), END))
    pik = harness.create_instance("retrying")
    [job] = harness.activate_jobs("work")
    harness.fail_job(job, 2, "flaky")

    assert harness.records()[-2:].types_and_intents() == [(ValueType.JOB, JobIntent.FAIL),
                                                          (ValueType.JOB, JobIntent.FAILED)]
    assert harness.incidents(pik) == []
    assert harness.activate_jobs("work") == [job]


def test_canceling_an_instance_with_a_gateway_incident_resolves_it(harness: EngineHarness) -> None:
    # ExclusiveGatewayTest.shouldResolveIncidentsWhenTerminating
    harness.deploy("no_default.bpmn", NO_DEFAULT)
    pik = harness.create_instance("no_default", {"foo": 40})
    harness.cancel(pik)

    terminated = harness.records().process_instance_records(pik).limit_to_process_instance_terminated(pik)
    assert [(t, i) for i, t, _ in terminated.only_events().element_tuples()][-5:] == [
        ("PROCESS", PI.CANCELING), ("PROCESS", TERMINATING), ("EXCLUSIVE_GATEWAY", TERMINATING),
        ("EXCLUSIVE_GATEWAY", TERMINATED), ("PROCESS", TERMINATED)]
    assert [r.intent for r in harness.incidents(pik).only_events()] == [IncidentIntent.CREATED, IncidentIntent.RESOLVED]


# -- messages (buffered only: no catch events yet) --------------------------------------------------

def test_a_published_message_expires_when_its_time_to_live_ends(harness: EngineHarness) -> None:
    published = harness.publish_message("order-paid", "A-1", time_to_live_ms=60_000)
    assert published is not None and published.intent is MessageIntent.PUBLISHED
    harness.advance(59_999)
    assert harness.records().with_value_type(ValueType.MESSAGE).types_and_intents()[-1] == (
        ValueType.MESSAGE, MessageIntent.PUBLISHED)

    harness.advance(1)

    assert [intent for _, intent in harness.records().with_value_type(ValueType.MESSAGE).types_and_intents()] == [
        MessageIntent.PUBLISH, MessageIntent.PUBLISHED, MessageIntent.EXPIRE, MessageIntent.EXPIRED]
    assert harness.records()[-1].key == published.key


def test_a_message_without_a_time_to_live_expires_in_the_batch_that_publishes_it(harness: EngineHarness) -> None:
    published = harness.publish_message("order-paid", "A-1", time_to_live_ms=0)

    assert published is not None
    publish = harness.records()[0]
    batch = harness.records().filter(lambda r: r.source_position == publish.position)
    assert [(r.intent, r.key) for r in batch] == [(MessageIntent.PUBLISHED, published.key),
                                                  (MessageIntent.EXPIRED, published.key)]
