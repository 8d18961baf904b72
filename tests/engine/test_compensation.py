"""Compensation: compensation boundary events and their handlers, compensation throw and end events,
and the COMPENSATION_SUBSCRIPTION records between them, checked record for record against Zeebe's
``CompensationEventExecutionTest`` and ``BpmnCompensationSubscriptionBehaviour``.

Every test runs with the harness's replaying twin, so the subscriptions' state is replayed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    CompensationSubscriptionIntent,
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    UserTaskIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as ca
from zeebe_trio.testing import bpmn_compensation as c
from zeebe_trio.testing import bpmn_multi_instance as mi

PI = ProcessInstanceIntent
CS = CompensationSubscriptionIntent
PIV, CSV = ValueType.PROCESS_INSTANCE, ValueType.COMPENSATION_SUBSCRIPTION


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, xml: bytes) -> None:
    response = harness.deploy("compensation.bpmn", xml)
    assert response is not None and response.record_type is RecordType.EVENT, response


def work(harness: EngineHarness, job_type: str, count: int = 1, variables: dict[str, Any] | None = None) -> None:
    jobs = harness.activate_jobs(job_type)
    assert len(jobs) == count, f"{job_type}: {len(jobs)} jobs"
    for job in jobs:
        harness.complete_job(job, variables)


def subscriptions(harness: EngineHarness, pik: int) -> list[Record]:
    return harness.records().only_events().with_value_type(CSV).with_process_instance_key(pik)


def trail(harness: EngineHarness, pik: int, *, flows: bool = False) -> list[tuple[str, str]]:
    """(intent, element id or compensable activity id) of the instance's process instance and compensation
    subscription events, in log order."""
    seen = []
    for record in harness.records().only_events().with_process_instance_key(pik):
        if record.value_type is PIV and (flows or record.intent is not PI.SEQUENCE_FLOW_TAKEN):
            seen.append((record.intent.name, record.value["elementId"]))
        elif record.value_type is CSV:
            seen.append((f"CS_{record.intent.name}", record.value["compensableActivityId"]))
    return seen


def lifecycle(element_id: str, *intents: str) -> list[tuple[str, str]]:
    return [(intent, element_id) for intent in intents]


def passes(element_id: str) -> list[tuple[str, str]]:
    return lifecycle(element_id, "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")


# charge -> undo (compensation throw) -> end, refund compensating charge
THROW = b.process(
    "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
    *c.compensation("charge", c.handler_task("refund", "refund")),
    b.flow("f2", "charge", "undo"), c.compensation_throw("undo"), b.flow("f3", "undo", "end"), b.end())


def test_a_compensation_throw_event_activates_the_handler_of_a_completed_activity_and_waits_for_it(
        harness: EngineHarness) -> None:
    deploy(harness, THROW)
    pik = harness.create_instance("p")
    work(harness, "charge")
    work(harness, "refund")

    assert trail(harness, pik) == [
        *lifecycle("p", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"), *passes("start"),
        *lifecycle("charge", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING"),
        ("CS_CREATED", "charge"),  # before the activity's ELEMENT_COMPLETED
        ("ELEMENT_COMPLETED", "charge"),
        *lifecycle("undo", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"),
        *passes("charge_compensation"),  # the boundary event, activated and completed at once
        ("CS_TRIGGERED", "charge"),
        *lifecycle("refund", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
        ("CS_COMPLETED", "charge"),
        *lifecycle("undo", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
        *passes("end"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
    ]


def test_the_handler_runs_beside_the_throw_event_with_the_event_type_compensation(harness: EngineHarness) -> None:
    deploy(harness, THROW)
    pik = harness.create_instance("p")
    work(harness, "charge")

    records = harness.records().process_instance_records(pik)
    undo = records.with_element_id("undo").with_intent(PI.ELEMENT_ACTIVATED)[0]
    boundary = records.with_element_id("charge_compensation").with_intent(PI.ELEMENT_ACTIVATING)[0]
    assert (boundary.value["bpmnElementType"], boundary.value["bpmnEventType"], boundary.value["flowScopeKey"]) \
        == ("BOUNDARY_EVENT", "COMPENSATION", pik)
    [command] = records.only_commands().with_element_id("refund").with_intent(PI.ACTIVATE_ELEMENT)
    assert (command.value["bpmnElementType"], command.value["bpmnEventType"], command.value["flowScopeKey"]) \
        == ("SERVICE_TASK", "COMPENSATION", undo.value["flowScopeKey"])
    # the activation command comes before the subscription's TRIGGERED, the boundary event's records before both
    log = harness.records()
    assert log.index(boundary) < log.index(command) < log.index(subscriptions(harness, pik)[1])
    [job] = harness.jobs(pik, JobIntent.CREATED).filter(lambda r: r.value["elementId"] == "refund")
    assert job.value["elementInstanceKey"] == command.key


def test_compensation_subscription_records_carry_zeebes_fields(harness: EngineHarness) -> None:
    deploy(harness, THROW)
    pik = harness.create_instance("p")
    work(harness, "charge")
    work(harness, "refund")

    records = harness.records().process_instance_records(pik)
    charge = records.with_element_id("charge").with_intent(PI.ELEMENT_ACTIVATED)[0]
    undo = records.with_element_id("undo").with_intent(PI.ELEMENT_ACTIVATED)[0]
    refund = records.with_element_id("refund").with_intent(PI.ELEMENT_ACTIVATED)[0]
    created, triggered, completed = subscriptions(harness, pik)
    assert created.key == triggered.key == completed.key
    assert [r.intent for r in (created, triggered, completed)] == [CS.CREATED, CS.TRIGGERED, CS.COMPLETED]
    assert created.value == {
        "tenantId": "<default>", "processInstanceKey": pik,
        "processDefinitionKey": charge.value["processDefinitionKey"], "compensableActivityId": "charge",
        "throwEventId": "", "throwEventInstanceKey": -1, "compensationHandlerId": "refund",
        "compensationHandlerInstanceKey": -1, "compensableActivityScopeKey": pik,
        "compensableActivityInstanceKey": charge.key, "variables": {}}
    assert triggered.value == {**created.value, "throwEventId": "undo", "throwEventInstanceKey": undo.key,
                               "compensationHandlerInstanceKey": refund.key}
    assert completed.value == triggered.value


def test_a_compensation_throw_event_with_nothing_to_compensate_completes_at_once(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
        b.flow("f2", "charge", "undo"), c.compensation_throw("undo"), b.flow("f3", "undo", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "charge")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_COMPLETED", "charge")) + 1:] == [
        *passes("undo"), *passes("end"), *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]
    assert subscriptions(harness, pik) == []


def test_a_compensation_end_event_compensates_then_ends_its_path(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
        *c.compensation("charge", c.handler_task("refund", "refund")),
        b.flow("f2", "charge", "undo"), c.compensation_end("undo")))
    pik = harness.create_instance("p")
    work(harness, "charge")
    work(harness, "refund")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_COMPLETED", "charge")) + 1:] == [
        *lifecycle("undo", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"), *passes("charge_compensation"),
        ("CS_TRIGGERED", "charge"), *passes("refund"), ("CS_COMPLETED", "charge"),
        *lifecycle("undo", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]
    end = harness.records().process_instance_records(pik).with_element_id("undo")[0]
    assert (end.value["bpmnElementType"], end.value["bpmnEventType"]) == ("END_EVENT", "COMPENSATION")


# fork -> A, B (each with a handler) -> join -> throw
def parallel_tasks(throw: str) -> bytes:
    return b.process(
        "p", b.start(), b.flow("f0", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
        b.flow("fa", "fork", "A"), b.service_task("A", "A"), *c.compensation("A", c.handler_task("undo_A", "undo-A")),
        b.flow("fb", "fork", "B"), b.service_task("B", "B"), *c.compensation("B", c.handler_task("undo_B", "undo-B")),
        b.flow("ja", "A", "join"), b.flow("jb", "B", "join"), '<bpmn:parallelGateway id="join"/>',
        b.flow("ft", "join", "throw"), throw, b.flow("fe", "throw", "end"), b.end())


def test_a_throw_event_with_an_activity_ref_compensates_that_activity_only(harness: EngineHarness) -> None:
    deploy(harness, parallel_tasks(c.compensation_throw("throw", "A")))
    pik = harness.create_instance("p")
    work(harness, "A")
    work(harness, "B")
    assert harness.activate_jobs("undo-B") == []
    work(harness, "undo-A")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_ACTIVATED", "throw")) + 1:] == [
        *passes("A_compensation"), ("CS_TRIGGERED", "A"), *passes("undo_A"), ("CS_COMPLETED", "A"),
        *lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("end"),
        ("ELEMENT_COMPLETING", "p"),
        ("CS_DELETED", "B"),  # B's subscription was never triggered: deleted as the process completes
        ("ELEMENT_COMPLETED", "p")]


def test_a_throw_event_without_activity_ref_compensates_every_completed_activity_and_waits_for_all(
        harness: EngineHarness) -> None:
    deploy(harness, parallel_tasks(c.compensation_throw("throw")))
    pik = harness.create_instance("p")
    work(harness, "A")
    work(harness, "B")
    work(harness, "undo-B")
    assert ("ELEMENT_COMPLETED", "throw") not in trail(harness, pik)  # it waits for undo_A too
    work(harness, "undo-A")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_ACTIVATED", "throw")) + 1:] == [
        *passes("A_compensation"), ("CS_TRIGGERED", "A"), *passes("B_compensation"), ("CS_TRIGGERED", "B"),
        *lifecycle("undo_A", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"),
        *lifecycle("undo_B", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"),
        *lifecycle("undo_B", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), ("CS_COMPLETED", "B"),
        *lifecycle("undo_A", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), ("CS_COMPLETED", "A"),
        *lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("end"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]


def test_an_activity_that_has_not_completed_is_not_compensated(harness: EngineHarness) -> None:
    # Zeebe's shouldNotTriggerCompensationForActivityIfActive
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
        b.flow("fa", "fork", "A"), b.service_task("A", "A"), *c.compensation("A", c.handler_task("undo_A", "undo-A")),
        b.flow("fb", "fork", "B"), b.service_task("B", "B"), b.flow("ft", "B", "throw"),
        c.compensation_throw("throw", "A"), b.flow("fe", "throw", "end"), b.end(), b.flow("fa2", "A", "end_a"),
        b.end("end_a")))
    pik = harness.create_instance("p")
    work(harness, "B")
    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_COMPLETED", "B")) + 1:] == [*passes("throw"), *passes("end")]
    work(harness, "A")  # completes now, after the throw: its subscription is created, then deleted at the end
    assert harness.activate_jobs("undo-A") == []
    assert [r.intent for r in subscriptions(harness, pik)] == [CS.CREATED, CS.DELETED]
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_an_activity_is_compensated_once_for_each_time_it_completed_and_not_again(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"), b.service_task("A", "A"),
        *c.compensation("A", c.handler_task("undo_A", "undo-A")),
        b.flow("f1", "A", "loop"), '<bpmn:exclusiveGateway id="loop" default="again"/>',
        b.flow("again", "loop", "A"), b.flow("done", "loop", "fork", "=n >= 2"),
        '<bpmn:parallelGateway id="fork"/>',
        b.flow("t1", "fork", "throw_1"), c.compensation_throw("throw_1", "A"), b.flow("e1", "throw_1", "end_1"),
        b.end("end_1"),
        b.flow("t2", "fork", "throw_2"), c.compensation_throw("throw_2", "A"), b.flow("e2", "throw_2", "end_2"),
        b.end("end_2")))
    pik = harness.create_instance("p", {"n": 0})
    work(harness, "A", variables={"n": 1})
    work(harness, "A", variables={"n": 2})
    # the first throw event triggers both subscriptions; the second finds nothing left and completes
    work(harness, "undo-A", count=2)

    seen = trail(harness, pik)
    assert [s for s in seen if s[0].startswith("CS_")] == [
        ("CS_CREATED", "A"), ("CS_CREATED", "A"), ("CS_TRIGGERED", "A"), ("CS_TRIGGERED", "A"),
        ("CS_COMPLETED", "A"), ("CS_COMPLETED", "A")]
    throws = [s for s in seen if s[1].startswith("throw_") and s[0] == "ELEMENT_COMPLETED"]
    assert throws == [("ELEMENT_COMPLETED", "throw_2"), ("ELEMENT_COMPLETED", "throw_1")]
    assert seen[-1] == ("ELEMENT_COMPLETED", "p")


# sub(A with handler) -> throw (process level)
NESTED = b.process(
    "p", b.start(), b.flow("f0", "start", "sub"),
    b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "A"), b.service_task("A", "A"),
                  *c.compensation("A", c.handler_task("undo_A", "undo-A")), b.flow("s2", "A", "sub_end"),
                  b.end("sub_end")),
    b.flow("f1", "sub", "throw"), c.compensation_throw("throw"), b.flow("f2", "throw", "end"), b.end())


def test_a_completed_subprocess_stands_for_the_subscriptions_inside_it_and_passes_the_compensation_down(
        harness: EngineHarness) -> None:
    deploy(harness, NESTED)
    pik = harness.create_instance("p")
    work(harness, "A")
    work(harness, "undo-A")

    seen = trail(harness, pik)
    sub_completing = seen.index(("ELEMENT_COMPLETING", "sub"))
    assert seen[sub_completing:sub_completing + 3] == [
        ("ELEMENT_COMPLETING", "sub"), ("CS_CREATED", "sub"), ("ELEMENT_COMPLETED", "sub")]
    assert seen[seen.index(("ELEMENT_ACTIVATED", "throw")) + 1:] == [
        ("CS_TRIGGERED", "sub"),  # no handler of its own: triggered, then its children
        *passes("A_compensation"), ("CS_TRIGGERED", "A"), *passes("undo_A"),
        ("CS_COMPLETED", "A"), ("CS_COMPLETED", "sub"),
        *lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("end"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]
    sub_record = subscriptions(harness, pik)[1]
    sub_key = harness.records().process_instance_records(pik).with_element_id("sub")[0].key
    assert (sub_record.value["compensableActivityId"], sub_record.value["compensationHandlerId"],
            sub_record.value["compensableActivityScopeKey"]) == ("sub", "", pik)
    a_record = subscriptions(harness, pik)[0]
    assert a_record.value["compensableActivityScopeKey"] == sub_key
    # the handler of A runs in the process, beside the throw event, not in the completed subprocess
    undo = harness.records().process_instance_records(pik).with_element_id("undo_A")[0]
    assert undo.value["flowScopeKey"] == pik


def test_a_throw_event_referencing_a_subprocess_compensates_what_completed_inside_it(
        harness: EngineHarness) -> None:
    deploy(harness, NESTED.replace(b'<bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>',
                                   b'<bpmn:compensateEventDefinition activityRef="sub"/></bpmn:intermediateThrowEvent>'))
    pik = harness.create_instance("p")
    work(harness, "A")
    work(harness, "undo-A")
    assert [(r.intent, r.value["compensableActivityId"]) for r in subscriptions(harness, pik)] == [
        (CS.CREATED, "A"), (CS.CREATED, "sub"), (CS.TRIGGERED, "sub"), (CS.TRIGGERED, "A"),
        (CS.COMPLETED, "A"), (CS.COMPLETED, "sub")]
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_a_throw_event_inside_a_subprocess_compensates_its_own_scope_only(harness: EngineHarness) -> None:
    # Zeebe's shouldNotTriggerCompensationOnParentScope
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"), b.service_task("A", "A"),
        *c.compensation("A", c.handler_task("undo_A", "undo-A")), b.flow("f1", "A", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "B"), b.service_task("B", "B"),
                      *c.compensation("B", c.handler_task("undo_B", "undo-B")), b.flow("s2", "B", "inner_throw"),
                      c.compensation_end("inner_throw")),
        b.flow("f2", "sub", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "A")
    work(harness, "B")
    assert harness.activate_jobs("undo-A") == []
    work(harness, "undo-B")

    assert [(r.intent, r.value["compensableActivityId"]) for r in subscriptions(harness, pik)] == [
        (CS.CREATED, "A"), (CS.CREATED, "B"), (CS.TRIGGERED, "B"), (CS.COMPLETED, "B"), (CS.DELETED, "A")]
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_a_multi_instance_activity_is_compensated_once_through_its_body(harness: EngineHarness) -> None:
    # Zeebe's shouldTriggerCompensationForMultiInstanceActivityOnlyOnce: the boundary event is the body's
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"),
        mi.multi_instance(b.service_task("A", "A"), input_collection="=[1,2,3]"),
        *c.compensation("A", c.handler_task("undo_A", "undo-A")),
        b.flow("f1", "A", "throw"), c.compensation_throw("throw"), b.flow("f2", "throw", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "A", count=3)
    work(harness, "undo-A")

    [created, triggered, completed] = subscriptions(harness, pik)
    body = harness.records().process_instance_records(pik).filter(
        lambda r: r.value["bpmnElementType"] == "MULTI_INSTANCE_BODY")[0]
    assert (created.value["compensableActivityId"], created.value["compensableActivityInstanceKey"],
            created.value["compensationHandlerId"]) == ("A", body.key, "undo_A")
    assert [triggered.intent, completed.intent] == [CS.TRIGGERED, CS.COMPLETED]
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_a_multi_instance_subprocess_has_each_inner_activity_compensated(harness: EngineHarness) -> None:
    # Zeebe's shouldTriggerCompensationForMultiInstanceSubprocess
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "A"), b.service_task("A", "A"),
                        *c.compensation("A", c.handler_task("undo_A", "undo-A")), b.flow("s2", "A", "sub_end"),
                        b.end("sub_end"))
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "sub"), mi.multi_instance(sub, input_collection="=[1,2,3]"),
        b.flow("f1", "sub", "throw"), c.compensation_throw("throw", "sub"), b.flow("f2", "throw", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "A", count=3)
    work(harness, "undo-A", count=3)

    records = subscriptions(harness, pik)
    created = [r for r in records if r.intent is CS.CREATED]
    # three A's (scope: an inner subprocess each), three inner subprocesses (scope: the body), the body
    assert [r.value["compensableActivityId"] for r in created] == ["A", "sub", "A", "sub", "A", "sub", "sub"]
    assert [r.value["compensationHandlerId"] for r in created] == ["undo_A", "", "undo_A", "", "undo_A", "", ""]
    assert sum(r.intent is CS.TRIGGERED for r in records) == 7
    assert sum(r.intent is CS.COMPLETED for r in records) == 7
    seen = trail(harness, pik)
    assert seen.count(("ELEMENT_COMPLETED", "undo_A")) == 3
    assert seen[-7:] == [*lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("end"),
                         *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")][-7:]


def test_a_multi_instance_handler_completes_its_subscription_when_its_body_completes(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"), b.service_task("A", "A"),
        *c.compensation("A", mi.multi_instance(c.handler_task("undo_A", "undo-A"), input_collection="=[1,2]")),
        b.flow("f1", "A", "throw"), c.compensation_throw("throw"), b.flow("f2", "throw", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "A")
    jobs = harness.activate_jobs("undo-A")
    assert len(jobs) == 2
    harness.complete_job(jobs[0])
    assert [r.intent for r in subscriptions(harness, pik)] == [CS.CREATED, CS.TRIGGERED]
    harness.complete_job(jobs[1])

    [_, triggered, completed] = subscriptions(harness, pik)
    body = harness.records().process_instance_records(pik).filter(
        lambda r: r.value["bpmnElementType"] == "MULTI_INSTANCE_BODY" and r.value["elementId"] == "undo_A")[0]
    assert triggered.value["compensationHandlerInstanceKey"] == body.key
    assert body.value["bpmnEventType"] == "COMPENSATION"
    assert completed.intent is CS.COMPLETED
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_a_failing_handler_raises_an_incident_and_compensation_goes_on_once_it_is_resolved(
        harness: EngineHarness) -> None:
    deploy(harness, THROW)
    pik = harness.create_instance("p")
    work(harness, "charge")
    [job] = harness.activate_jobs("refund")
    harness.fail_job(job, retries=0, error_message="the bank is down")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert (incident.value["elementId"], incident.value["errorType"]) == ("refund", "JOB_NO_RETRIES")
    assert [r.intent for r in subscriptions(harness, pik)] == [CS.CREATED, CS.TRIGGERED]

    harness.update_retries(job, 1)
    harness.resolve_incident(incident.key)
    work(harness, "refund")
    assert [r.intent for r in subscriptions(harness, pik)] == [CS.CREATED, CS.TRIGGERED, CS.COMPLETED]
    assert trail(harness, pik)[-1] == ("ELEMENT_COMPLETED", "p")


def test_subscriptions_left_are_deleted_when_the_instance_completes(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
        *c.compensation("charge", c.handler_task("refund", "refund")), b.flow("f2", "charge", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "charge")

    seen = trail(harness, pik)
    assert seen[-4:] == [*passes("end")[2:], ("ELEMENT_COMPLETING", "p"), ("CS_DELETED", "charge"),
                         ("ELEMENT_COMPLETED", "p")][-4:]
    assert seen[-3:] == [("ELEMENT_COMPLETING", "p"), ("CS_DELETED", "charge"), ("ELEMENT_COMPLETED", "p")]
    with harness.read() as state:
        assert state.compensation_subscriptions(pik) == []


def test_canceling_an_instance_during_compensation_terminates_the_handler_and_deletes_the_subscriptions(
        harness: EngineHarness) -> None:
    # Zeebe's shouldActivateAndTerminateCompensationHandlerForIntermediateThrowEvent
    deploy(harness, THROW)
    pik = harness.create_instance("p")
    work(harness, "charge")
    harness.cancel(pik)

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_TERMINATING", "p")):] == [
        ("ELEMENT_TERMINATING", "p"), ("CS_DELETED", "charge"),
        *lifecycle("undo", "ELEMENT_TERMINATING", "ELEMENT_TERMINATED"),
        *lifecycle("refund", "ELEMENT_TERMINATING", "ELEMENT_TERMINATED"),
        ("ELEMENT_TERMINATED", "p")]
    with harness.read() as state:
        assert state.compensation_subscriptions(pik) == []


def test_terminating_a_subprocess_deletes_the_subscriptions_inside_it(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "A"), b.service_task("A", "A"),
                      *c.compensation("A", c.handler_task("undo_A", "undo-A")), b.flow("s2", "A", "B"),
                      b.service_task("B", "B"), b.flow("s3", "B", "sub_end"), b.end("sub_end")),
        b.boundary("cancel_sub", "sub", b.message_definition("m")), b.flow("f1", "cancel_sub", "end_canceled"),
        b.end("end_canceled"), b.flow("f2", "sub", "end"), b.end(),
        definitions='<bpmn:message id="m" name="stop"><bpmn:extensionElements>'
                    '<zeebe:subscription correlationKey="=&quot;k&quot;"/></bpmn:extensionElements></bpmn:message>'))
    pik = harness.create_instance("p")
    work(harness, "A")
    harness.publish_message("stop", "k")

    seen = trail(harness, pik)
    terminating = seen.index(("ELEMENT_TERMINATING", "sub"))
    assert seen[terminating:terminating + 2] == [("ELEMENT_TERMINATING", "sub"), ("CS_DELETED", "A")]
    assert [r.intent for r in subscriptions(harness, pik)] == [CS.CREATED, CS.DELETED]
    assert seen[-1] == ("ELEMENT_COMPLETED", "p")


def test_the_handler_applies_its_input_and_output_mappings(harness: EngineHarness) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
        *c.compensation("charge", c.handler_task(
            "refund", "refund", mappings='<zeebe:input source="=x + 1" target="y"/>'
                                         '<zeebe:output source="=y * 10" target="refunded"/>')),
        b.flow("f2", "charge", "undo"), c.compensation_end("undo")))
    pik = harness.create_instance("p", {"x": 1})
    work(harness, "charge")
    [job] = harness.activate_jobs("refund")
    job_record = harness.records().jobs().with_key(job).filter(lambda r: r.intent.name == "CREATED")[0]
    refund = harness.records().process_instance_records(pik).with_element_id("refund")[0]
    harness.complete_job(job)

    variables = harness.records().only_events().with_value_type(ValueType.VARIABLE).with_process_instance_key(pik)
    assert [(v.value["name"], v.value["value"], v.value["scopeKey"]) for v in variables] == [
        ("x", "1", pik), ("y", "2", refund.key), ("refunded", "20", pik)]
    assert job_record.value["elementId"] == "refund"


def test_compensation_event_subprocesses_are_refused_as_zeebe_refuses_them(harness: EngineHarness) -> None:
    # Zeebe's CompensationEventTest.shouldNotDeployCompensationEventSubprocess(OnProcessLevel)
    def event_sub_process() -> str:
        return b.sub_process("on_compensation", b.start("comp_start", c.compensate_definition()),
                             b.flow("e1", "comp_start", "e_end"), b.end("e_end"), triggered_by_event=True)

    nested = harness.deploy("nested.bpmn", b.process(
        "p", b.start(), b.flow("f0", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "sub_end"), b.end("sub_end"),
                      event_sub_process()),
        b.flow("f1", "sub", "end"), b.end()))
    assert nested is not None and nested.record_type is RecordType.COMMAND_REJECTION
    assert "compensation start event 'comp_start': start events in event subprocesses must be one of: message," \
        " timer, error, signal or escalation" in nested.rejection_reason
    top = harness.deploy("top.bpmn", b.process("p", b.start(), b.flow("f0", "start", "end"), b.end(),
                                               event_sub_process()))
    assert top is not None and top.record_type is RecordType.COMMAND_REJECTION
    assert "a compensation event subprocess is not allowed on the process level" in top.rejection_reason


def test_a_throw_event_in_an_event_subprocess_compensates_the_scope_around_it_too(harness: EngineHarness) -> None:
    # BpmnCompensationSubscriptionBehaviour.getCompensationScopeKeys: inside an event subprocess, the
    # compensation reaches the activities of the scope the event subprocess interrupted
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"), b.service_task("A", "A"),
        *c.compensation("A", c.handler_task("undo_A", "undo-A")), b.flow("f1", "A", "B"),
        b.service_task("B", "B"), b.flow("f2", "B", "end"), b.end(),
        b.sub_process("on_timeout", b.start("timeout", b.timer_definition(duration="PT1M")),
                      b.flow("e1", "timeout", "throw"), c.compensation_throw("throw"), b.flow("e2", "throw", "e_end"),
                      b.end("e_end"), triggered_by_event=True)))
    pik = harness.create_instance("p")
    work(harness, "A")
    harness.advance(60_000)
    harness.run_due()
    work(harness, "undo-A")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_ACTIVATED", "throw")) + 1:] == [
        *passes("A_compensation"), ("CS_TRIGGERED", "A"), *passes("undo_A"), ("CS_COMPLETED", "A"),
        *lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("e_end"),
        *lifecycle("on_timeout", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]
    records = harness.records().process_instance_records(pik)
    esp = records.with_element_id("on_timeout")[0]
    assert records.with_element_id("undo_A")[0].value["flowScopeKey"] == esp.key


@pytest.mark.parametrize("handler", [
    '<bpmn:task id="undo_A" isForCompensation="true"/>',
    '<bpmn:manualTask id="undo_A" isForCompensation="true"/>',
    '<bpmn:scriptTask id="undo_A" isForCompensation="true"><bpmn:extensionElements>'
    '<zeebe:script expression="=&quot;undone&quot;" resultVariable="outcome"/></bpmn:extensionElements>'
    "</bpmn:scriptTask>",
], ids=["undefined task", "manual task", "FEEL script task"])
def test_a_handler_that_does_not_wait_completes_its_compensation_at_once(harness: EngineHarness, handler: str) -> None:
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "A"), b.service_task("A", "A"), *c.compensation("A", handler),
        b.flow("f1", "A", "throw"), c.compensation_throw("throw"), b.flow("f2", "throw", "end"), b.end()))
    pik = harness.create_instance("p")
    work(harness, "A")

    seen = trail(harness, pik)
    assert seen[seen.index(("ELEMENT_ACTIVATED", "throw")) + 1:] == [
        *passes("A_compensation"), ("CS_TRIGGERED", "A"), *passes("undo_A"), ("CS_COMPLETED", "A"),
        *lifecycle("throw", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"), *passes("end"),
        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]


def test_a_call_activity_is_compensated_by_a_camunda_user_task_handler(harness: EngineHarness) -> None:
    deploy(harness, b.process("child", b.start(), b.flow("f1", "start", "work"), b.service_task("work", "work"),
                              b.flow("f2", "work", "end"), b.end()))
    deploy(harness, b.process(
        "p", b.start(), b.flow("f0", "start", "call"), ca.call_activity("call", "child"),
        *c.compensation("call", '<bpmn:userTask id="review" isForCompensation="true"><bpmn:extensionElements>'
                                '<zeebe:userTask/></bpmn:extensionElements></bpmn:userTask>'),
        b.flow("f1", "call", "undo"), c.compensation_end("undo")))
    pik = harness.create_instance("p")
    work(harness, "work")
    [created] = harness.records().with_value_type(ValueType.USER_TASK).with_intent(UserTaskIntent.CREATED)
    assert created.value["elementId"] == "review"
    harness.write(ValueType.USER_TASK, UserTaskIntent.COMPLETE, {"variables": {}}, key=created.key)

    assert [(r.intent, r.value["compensableActivityId"]) for r in subscriptions(harness, pik)] == [
        (CS.CREATED, "call"), (CS.TRIGGERED, "call"), (CS.COMPLETED, "call")]
    assert trail(harness, pik)[-4:] == [*lifecycle("undo", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED"),
                                        *lifecycle("p", "ELEMENT_COMPLETING", "ELEMENT_COMPLETED")]
