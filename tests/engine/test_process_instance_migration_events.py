"""Migrating elements that wait for events, and the element kinds Zeebe 8.8 migrates besides tasks:
message and signal catch events, receive tasks, boundary events (subscriptions migrated when mapped,
closed when not, opened for the target's new ones), event-based gateways, event subprocesses,
multi-instance bodies, exclusive gateways and tokens waiting at joins. The record sequences of
Zeebe's ``MigrateCatchEventTest``, ``MigrateBoundaryEventTest``, ``MigrateEventSubprocessTest``,
``MigrateMultiInstanceTest`` and ``MigrateGatewayTest``; after each migration the instance goes on on
the target's path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    CompensationSubscriptionIntent,
    IncidentIntent,
    JobIntent,
    MessageSubscriptionIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    RejectionType,
    SignalIntent,
    SignalSubscriptionIntent,
    TimerIntent,
    UserTaskIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_ad_hoc import ad_hoc_sub_process
from zeebe_trio.testing.bpmn_compensation import compensation, compensation_throw, handler_task
from zeebe_trio.testing.bpmn_gateways_events import inclusive_gateway, parallel_gateway
from zeebe_trio.testing.bpmn_messages import message, message_catch, receive_task
from zeebe_trio.testing.bpmn_multi_instance import multi_instance
from zeebe_trio.testing.bpmn_signals_escalations import event_based_gateway, signal
from zeebe_trio.testing.bpmn_tasks import user_task

PI = ProcessInstanceIntent
MIG = ValueType.PROCESS_INSTANCE_MIGRATION
PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION
MS = ValueType.MESSAGE_SUBSCRIPTION
SIG = ValueType.SIGNAL_SUBSCRIPTION
PROC = ValueType.PROCESS_INSTANCE
UT = ValueType.USER_TASK


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, name: str, xml: bytes) -> int:
    deployed = harness.deploy(name, xml)
    assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed
    return int(deployed.value["processesMetadata"][0]["processDefinitionKey"])


def migrate(harness: EngineHarness, pik: int, target: int, mappings: dict[str, str]) -> Record:
    response = harness.write(MIG, ProcessInstanceMigrationIntent.MIGRATE, {
        "processInstanceKey": pik, "targetProcessDefinitionKey": target,
        "mappingInstructions": [{"sourceElementId": s, "targetElementId": t} for s, t in mappings.items()]}, key=pik)
    assert response is not None
    return response


def migrated(harness: EngineHarness, pik: int, target: int, mappings: dict[str, str]) -> Record:
    response = migrate(harness, pik, target, mappings)
    assert response.record_type is RecordType.EVENT, response
    return response


def rejection(harness: EngineHarness, pik: int, target: int, mappings: dict[str, str]) -> tuple[RejectionType, str]:
    response = migrate(harness, pik, target, mappings)
    assert response.record_type is RecordType.COMMAND_REJECTION, response
    return response.rejection_type, response.rejection_reason


def after_migrate(harness: EngineHarness) -> list[tuple[ValueType, Any, str]]:
    """What the last MIGRATE command wrote, events and commands, up to and including the records the
    follow-up commands of that batch wrote (value type, intent, element/catch event id)."""
    records = list(harness.records())
    start = max(i for i, r in enumerate(records) if r.value_type is MIG and r.record_type is RecordType.COMMAND)
    written = []
    for record in records[start + 1:]:
        if record.record_type is RecordType.COMMAND_REJECTION:
            break
        value = record.value
        name = value.get("elementId") or value.get("targetElementId") or value.get("catchEventId") or ""
        written.append((record.value_type, record.intent, name))
    return written


def completed_ids(harness: EngineHarness, pik: int) -> list[str]:
    events = harness.records().only_events().process_instance_records(pik)
    return [r.value["elementId"] for r in events if r.intent is PI.ELEMENT_COMPLETED]


def wait_then_task(process_id: str, wait: str, *, definitions: str = "", task_type: str = "after",
                   end_id: str = "end") -> bytes:
    """start -> ``wait`` (an element's XML) -> a service task 'after' -> end."""
    wait_id = wait.split('id="', 1)[1].split('"', 1)[0]
    return b.process(process_id, b.start(), b.flow("f", "start", wait_id), wait, b.flow("g", wait_id, "after"),
                     b.service_task("after", task_type), b.flow("h", "after", end_id), b.end(end_id),
                     definitions=definitions)


PING = message("msg", "ping", "=\"k\"")


# -- message catch events and receive tasks ---------------------------------------------------------------


def test_a_message_catch_event_migrates_its_subscription_and_the_message_completes_it_on_the_target(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"), message_catch("wait", "msg"), b.flow("g", "wait", "end"),
        b.end(), definitions=PING))
    target = deploy(harness, "target.bpmn", wait_then_task("target", message_catch("wait2", "msg2"),
                                                           definitions=message("msg2", "other", "=\"other\"")))
    pik = harness.create_instance("source")
    subscription = harness.records().with_value_type(PMS).with_intent(ProcessMessageSubscriptionIntent.CREATED)[0]
    migrated(harness, pik, target, {"wait": "wait2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "wait2"),
        (PMS, ProcessMessageSubscriptionIntent.MIGRATED, "wait2"),
        (MS, MessageSubscriptionIntent.MIGRATE, ""),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
        (MS, MessageSubscriptionIntent.MIGRATED, ""),
    ]
    pms = harness.records().with_value_type(PMS).with_intent(ProcessMessageSubscriptionIntent.MIGRATED)[0]
    assert pms.key == subscription.key
    # the subscription keeps its message: name and correlation key are not evaluated again
    assert (pms.value["messageName"], pms.value["correlationKey"], pms.value["bpmnProcessId"]) == (
        "ping", "k", "target")
    ms = harness.records().with_value_type(MS).with_intent(MessageSubscriptionIntent.MIGRATED)[0]
    assert (ms.value["bpmnProcessId"], ms.value["messageName"], ms.value["interrupting"]) == ("target", "ping", True)

    harness.publish_message("ping", "k")
    [job] = harness.activate_jobs("after")
    harness.complete_job(job)
    assert completed_ids(harness, pik)[-4:] == ["wait2", "after", "end", "target"]


def test_a_receive_task_migrates_its_subscription(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"), receive_task("wait", "msg"), b.flow("g", "wait", "end"),
        b.end(), definitions=PING))
    target = deploy(harness, "target.bpmn", wait_then_task("target", receive_task("wait2", "msg"),
                                                           definitions=PING))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"wait": "wait2"})
    assert after_migrate(harness)[1:4] == [
        (PROC, PI.ELEMENT_MIGRATED, "wait2"),
        (PMS, ProcessMessageSubscriptionIntent.MIGRATED, "wait2"),
        (MS, MessageSubscriptionIntent.MIGRATE, ""),
    ]
    harness.publish_message("ping", "k")
    assert len(harness.activate_jobs("after")) == 1


def test_a_receive_task_mapped_to_one_with_the_same_message_keeps_its_subscription(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "A"), receive_task("A", "msg"), b.flow("g", "A", "end"), b.end(),
        definitions=PING))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "A"), receive_task("A", "msg"), b.flow("g", "A", "end"), b.end(),
        definitions=PING))
    pik = harness.create_instance("source")
    # A is mapped, but the receive task is its own catch event: mapping it migrates the subscription
    assert migrate(harness, pik, target, {"A": "A"}).record_type is RecordType.EVENT


# -- signal catch events ------------------------------------------------------------------------------------


def test_a_signal_catch_event_migrates_its_subscription_and_the_signal_completes_it_on_the_target(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "wait"), b.intermediate_catch("wait", b.signal_definition("sig")),
        b.flow("g", "wait", "end"), b.end(), definitions=signal("sig", "go")))
    target = deploy(harness, "target.bpmn", wait_then_task(
        "target", b.intermediate_catch("wait2", b.signal_definition("sig2")), definitions=signal("sig2", "other")))
    pik = harness.create_instance("source")
    created = harness.records().with_value_type(SIG).with_intent(SignalSubscriptionIntent.CREATED)[0]
    migrated(harness, pik, target, {"wait": "wait2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "wait2"),
        (SIG, SignalSubscriptionIntent.MIGRATED, "wait2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    moved = harness.records().with_value_type(SIG).with_intent(SignalSubscriptionIntent.MIGRATED)[0]
    assert moved.key == created.key
    assert moved.value == {**created.value, "processDefinitionKey": target, "bpmnProcessId": "target",
                           "catchEventId": "wait2"}
    harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": "go"})  # the source's name
    [job] = harness.activate_jobs("after")
    harness.complete_job(job)
    assert completed_ids(harness, pik)[-4:] == ["wait2", "after", "end", "target"]


# -- boundary events ---------------------------------------------------------------------------------------


def task_with_boundary(process_id: str, boundary_id: str | None, definition: str = "", *, definitions: str = "",
                       after_boundary: str = "too_late") -> bytes:
    elements = [b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end()]
    if boundary_id is not None:
        elements += [b.boundary(boundary_id, "A", definition), b.flow("h", boundary_id, after_boundary),
                     b.end(after_boundary)]
    return b.process(process_id, *elements, definitions=definitions)


def test_a_mapped_timer_boundary_event_keeps_its_due_date_and_fires_on_the_target(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "late", b.timer_definition(duration="PT1H")))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "late2", b.timer_definition(duration="PT5H"),
                                                               after_boundary="escalated"))
    pik = harness.create_instance("source")
    created = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CREATED)[0]
    migrated(harness, pik, target, {"A": "A", "late": "late2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (ValueType.TIMER, TimerIntent.MIGRATED, "late2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    timer = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.MIGRATED)[0]
    assert timer.key == created.key and timer.value["dueDate"] == created.value["dueDate"]
    harness.advance(60 * 60 * 1000)  # the source's hour
    harness.run_due()
    assert completed_ids(harness, pik)[-3:] == ["late2", "escalated", "target"]


def test_an_unmapped_timer_boundary_event_is_replaced_by_the_targets_own(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "late", b.timer_definition(duration="PT1H")))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "late2", b.timer_definition(duration="PT5H"),
                                                               after_boundary="escalated"))
    pik = harness.create_instance("source")
    harness.advance(30 * 60 * 1000)
    migrated(harness, pik, target, {"A": "A"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (ValueType.TIMER, TimerIntent.CANCELED, "late"),
        (ValueType.TIMER, TimerIntent.CREATED, "late2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    new_timer = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CREATED)[-1]
    assert new_timer.value["processDefinitionKey"] == target
    assert new_timer.value["dueDate"] == harness.now + 5 * 60 * 60 * 1000  # five hours from the migration
    harness.advance(5 * 60 * 60 * 1000)
    harness.run_due()
    assert completed_ids(harness, pik)[-3:] == ["late2", "escalated", "target"]


def test_a_boundary_event_the_target_does_not_have_is_closed(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "ping_b", b.message_definition("msg"),
                                                      definitions=PING))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", None))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"A": "A"})
    # the subscription's DELETE crosses to the message partition once the batch is written; it closes
    # both sides as leaving the element would
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (PMS, ProcessMessageSubscriptionIntent.DELETING, "ping_b"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
        (MS, MessageSubscriptionIntent.DELETE, ""),
        (MS, MessageSubscriptionIntent.DELETED, ""),
        (PMS, ProcessMessageSubscriptionIntent.DELETE, ""),
        (PMS, ProcessMessageSubscriptionIntent.DELETED, "ping_b"),
    ]
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    assert completed_ids(harness, pik)[-3:] == ["A", "end", "target"]


def test_a_boundary_event_only_the_target_has_is_subscribed_to(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", None))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "stop", b.signal_definition("sig"),
                                                               definitions=signal("sig", "stop"),
                                                               after_boundary="stopped"))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"A": "A"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (SIG, SignalSubscriptionIntent.CREATED, "stop"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": "stop"})
    assert completed_ids(harness, pik)[-3:] == ["stop", "stopped", "target"]


def test_a_mapped_message_boundary_event_migrates_and_correlates_on_the_target(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "ping_b", b.message_definition("msg"),
                                                      definitions=PING))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "ping_b2", b.message_definition("msg"),
                                                               definitions=PING, after_boundary="pinged"))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"A": "A", "ping_b": "ping_b2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (PMS, ProcessMessageSubscriptionIntent.MIGRATED, "ping_b2"),
        (MS, MessageSubscriptionIntent.MIGRATE, ""),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
        (MS, MessageSubscriptionIntent.MIGRATED, ""),
    ]
    harness.publish_message("ping", "k")
    assert completed_ids(harness, pik)[-3:] == ["ping_b2", "pinged", "target"]


def test_an_unmapped_message_boundary_event_with_the_same_message_is_refused(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "ping_b", b.message_definition("msg"),
                                                      definitions=PING))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "ping_b2", b.message_definition("msg"),
                                                               definitions=PING))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"A": "A"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'A' attempts to subscribe to a"
        " message it is already subscribed to with name 'ping'. Migrating active elements that subscribe to a"
        " message they are already subscribed to is not possible yet. Please provide a mapping instruction to"
        " message catch event with id 'ping_b2' to migrate the respective message subscription.")


def test_a_boundary_event_may_not_be_detached_from_its_element(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "late", b.timer_definition(duration="PT1H")))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "B"),
        b.service_task("B", "b"), b.flow("i", "B", "end"), b.end(),
        b.boundary("late2", "B", b.timer_definition(duration="PT1H")), b.flow("h", "late2", "too_late"),
        b.end("too_late")))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"A": "A", "late": "late2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'A' is mapped to an element with"
        " id 'A' and has a catch event with id 'late' that is mapped to a catch event with id 'late2'. These"
        " mappings detach the catch event from the element in the target process. Catch events must stay attached"
        " to the same element instance.")


def test_two_boundary_events_may_not_be_merged_into_one(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        b.boundary("t1", "A", b.timer_definition(duration="PT1H")), b.flow("h", "t1", "e1"), b.end("e1"),
        b.boundary("t2", "A", b.timer_definition(duration="PT2H")), b.flow("i", "t2", "e2"), b.end("e2")))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "t", b.timer_definition(duration="PT1H")))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"A": "A", "t1": "t", "t2": "t"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'A' has a catch event attached"
        " that is mapped to a catch event with id 't'. There are multiple mapping instructions that target this"
        " catch event: 't1', 't2'. Catch events cannot be merged by process instance migration. Please ensure the"
        " mapping instructions target a catch event only once.")


def test_a_boundary_event_may_not_change_its_event_type(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", "late", b.timer_definition(duration="PT1H")))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "sig_b", b.signal_definition("sig"),
                                                               definitions=signal("sig", "go")))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"A": "A", "late": "sig_b"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'A' has a catch event with id"
        " 'late' that is mapped to a catch event with id 'sig_b'. These catch events have different event types:"
        " 'TIMER' and 'SIGNAL'. The event type of a catch event cannot be changed by process instance migration."
        " Please ensure the event type of the catch event remains the same or remove the mapping instruction for"
        " these catch events.")


def test_a_new_subscription_whose_expression_fails_refuses_the_migration(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", None))
    target = deploy(harness, "target.bpmn", task_with_boundary("target", "late", b.timer_definition(
        duration="=missing_duration")))
    pik = harness.create_instance("source")
    rejection_type, reason = rejection(harness, pik, target, {"A": "A"})
    assert rejection_type is RejectionType.INVALID_STATE
    assert reason.startswith(f"Expected to migrate process instance '{pik}' but active element with id 'A' is mapped"
                             " to element with id 'A' that must be subscribed to a catch event. "), reason


# -- event-based gateways ---------------------------------------------------------------------------------


def gateway_process(process_id: str, timer_id: str, message_id: str, *, duration: str = "PT1H") -> bytes:
    return b.process(
        process_id, b.start(), b.flow("f", "start", "gw"), event_based_gateway("gw"),
        b.flow("to_timer", "gw", timer_id), b.intermediate_catch(timer_id, b.timer_definition(duration=duration)),
        b.flow("t_end", timer_id, "timed_out"), b.end("timed_out"),
        b.flow("to_msg", "gw", message_id), message_catch(message_id, "msg"), b.flow("m_end", message_id, "after"),
        b.service_task("after", "after"), b.flow("a_end", "after", "end"), b.end(), definitions=PING)


def test_an_event_based_gateway_migrates_the_subscriptions_of_its_events(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", gateway_process("source", "timer", "ping"))
    target = deploy(harness, "target.bpmn", gateway_process("target", "timer2", "ping2", duration="PT5H"))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"gw": "gw", "timer": "timer2", "ping": "ping2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "gw"),
        (PMS, ProcessMessageSubscriptionIntent.MIGRATED, "ping2"),
        (MS, MessageSubscriptionIntent.MIGRATE, ""),
        (ValueType.TIMER, TimerIntent.MIGRATED, "timer2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
        (MS, MessageSubscriptionIntent.MIGRATED, ""),
    ]
    harness.publish_message("ping", "k")
    [job] = harness.activate_jobs("after")
    harness.complete_job(job)
    assert completed_ids(harness, pik)[-5:] == ["gw", "ping2", "after", "end", "target"]


# -- event subprocesses -------------------------------------------------------------------------------------


def with_event_sub_process(process_id: str, start_id: str, definition: str, *, interrupting: bool = True,
                           definitions: str = "") -> bytes:
    return b.process(
        process_id, b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
        b.sub_process("on_event", b.start(start_id, definition, interrupting=interrupting),
                      b.flow("e", start_id, "handled"), b.end("handled"), triggered_by_event=True),
        definitions=definitions)


def test_an_event_subprocess_the_target_adds_is_subscribed_to(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", task_with_boundary("source", None))
    target = deploy(harness, "target.bpmn", with_event_sub_process("target", "timer_start",
                                                                   b.timer_definition(duration="PT1H")))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"A": "A"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.TIMER, TimerIntent.CREATED, "timer_start"),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    harness.advance(60 * 60 * 1000)
    harness.run_due()
    assert completed_ids(harness, pik)[-3:] == ["handled", "on_event", "target"]


def test_a_mapped_event_subprocess_start_event_migrates_its_subscription(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", with_event_sub_process("source", "ping_start", b.message_definition("msg"),
                                                          definitions=PING))
    target = deploy(harness, "target.bpmn", with_event_sub_process("target", "ping_start2",
                                                                   b.message_definition("msg"), interrupting=False,
                                                                   definitions=PING))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"A": "A", "ping_start": "ping_start2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PMS, ProcessMessageSubscriptionIntent.MIGRATED, "ping_start2"),
        (MS, MessageSubscriptionIntent.MIGRATE, ""),
        (PROC, PI.ELEMENT_MIGRATED, "A"),
        (ValueType.JOB, JobIntent.MIGRATED, "A"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
        (MS, MessageSubscriptionIntent.MIGRATED, ""),
    ]
    # the target's start event is non-interrupting: the subscription takes its flag
    pms = harness.records().with_value_type(PMS).with_intent(ProcessMessageSubscriptionIntent.MIGRATED)[0]
    assert pms.value["interrupting"] is False
    ms = harness.records().with_value_type(MS).with_intent(MessageSubscriptionIntent.MIGRATED)[0]
    assert ms.value["interrupting"] is False
    harness.publish_message("ping", "k")
    [job] = harness.activate_jobs("a")  # A goes on: the event subprocess did not interrupt it
    harness.complete_job(job)
    assert completed_ids(harness, pik)[-1] == "target"
    assert "on_event" in completed_ids(harness, pik)


# -- multi-instance bodies ---------------------------------------------------------------------------------


def each(process_id: str, element_id: str, *, sequential: bool = False) -> bytes:
    return b.process(process_id, b.start(), b.flow("f", "start", element_id),
                     multi_instance(b.service_task(element_id, "a"), input_collection="=[1, 2]",
                                    sequential=sequential),
                     b.flow("g", element_id, "end"), b.end())


def test_a_multi_instance_body_migrates_with_its_inner_instances(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", each("source", "each"))
    target = deploy(harness, "target.bpmn", each("target", "each2"))
    pik = harness.create_instance("source")
    migrated(harness, pik, target, {"each": "each2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "each2"),
        (PROC, PI.ELEMENT_MIGRATED, "each2"),
        (ValueType.JOB, JobIntent.MIGRATED, "each2"),
        (PROC, PI.ELEMENT_MIGRATED, "each2"),
        (ValueType.JOB, JobIntent.MIGRATED, "each2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    types = [r.value["bpmnElementType"] for r in harness.records().with_intent(PI.ELEMENT_MIGRATED)][1:]
    assert types == ["MULTI_INSTANCE_BODY", "SERVICE_TASK", "SERVICE_TASK"]
    for job in harness.activate_jobs("a"):
        harness.complete_job(job)
    assert completed_ids(harness, pik)[-3:] == ["each2", "end", "target"]


def test_a_parallel_multi_instance_body_may_not_become_a_sequential_one(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", each("source", "each"))
    target = deploy(harness, "target.bpmn", each("target", "each2", sequential=True))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"each": "each2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'each' has a different loop"
        " characteristics than the target element with id 'each2'. Both elements must have either sequential or"
        " parallel loop characteristics.")


# -- gateways ---------------------------------------------------------------------------------------------


def test_an_exclusive_gateway_with_an_incident_migrates_and_resolving_it_takes_the_targets_flows(
        harness: EngineHarness) -> None:
    def choice(process_id: str, condition: str) -> bytes:
        return b.process(process_id, b.start(), b.flow("f", "start", "gw"), '<bpmn:exclusiveGateway id="gw"/>',
                         b.flow("yes", "gw", "A", condition=condition), b.service_task("A", "a"),
                         b.flow("g", "A", "end"), b.end())
    deploy(harness, "source.bpmn", choice("source", "=missing > 1"))
    target = deploy(harness, "target.bpmn", choice("target", "=true"))
    pik = harness.create_instance("source")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    migrated(harness, pik, target, {"gw": "gw"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "gw"),
        (ValueType.INCIDENT, IncidentIntent.MIGRATED, "gw"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    harness.resolve_incident(incident.key)
    assert len(harness.activate_jobs("a")) == 1


def joining(process_id: str, gateway_id: str, flow_a: str, *, task_b: str = "B", inclusive: bool = False,
            extra_incoming: bool = False) -> bytes:
    """A and B in parallel, joined at ``gateway_id`` (A's flow into it is ``flow_a``; an inclusive join
    with ``inclusive``), then 'after'; ``extra_incoming``: a third branch C into the join."""
    join = inclusive_gateway if inclusive else parallel_gateway
    extra = [b.flow("to_c", "fork", "C"), b.service_task("C", "c"), b.flow("c_join", "C", gateway_id)] \
        if extra_incoming else []
    return b.process(
        process_id, b.start(), b.flow("f", "start", "fork"), parallel_gateway("fork"),
        b.flow("to_a", "fork", "A"), b.service_task("A", "a"), b.flow(flow_a, "A", gateway_id),
        b.flow("to_b", "fork", task_b), b.service_task(task_b, "b"), b.flow("b_join", task_b, gateway_id),
        *extra, join(gateway_id), b.flow("j", gateway_id, "after"), b.service_task("after", "after"),
        b.flow("a_end", "after", "end"), b.end())


def test_a_token_waiting_at_a_parallel_join_is_renamed_to_the_targets_flow(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", joining("source", "join", "a_join"))
    target = deploy(harness, "target.bpmn", joining("target", "join2", "a_join2"))
    pik = harness.create_instance("source")
    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a)  # A's token waits at the join for B's
    migrated(harness, pik, target, {"B": "B", "join": "join2", "a_join": "a_join2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.SEQUENCE_FLOW_DELETED, "a_join"),
        (PROC, PI.SEQUENCE_FLOW_TAKEN, "a_join2"),
        (PROC, PI.ELEMENT_MIGRATED, "B"),
        (ValueType.JOB, JobIntent.MIGRATED, "B"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    [job_b] = harness.activate_jobs("b")
    harness.complete_job(job_b)
    [after] = harness.activate_jobs("after")  # the target's join took both tokens
    harness.complete_job(after)
    assert completed_ids(harness, pik)[-4:] == ["join2", "after", "end", "target"]


def test_a_token_waiting_at_an_inclusive_join_keeps_its_flow_id_without_a_mapping(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", joining("source", "join", "a_join", inclusive=True))
    target = deploy(harness, "target.bpmn", joining("target", "join2", "a_join", inclusive=True))
    pik = harness.create_instance("source")
    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a)
    migrated(harness, pik, target, {"B": "B", "join": "join2"})
    assert after_migrate(harness)[:3] == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.SEQUENCE_FLOW_DELETED, "a_join"),
        (PROC, PI.SEQUENCE_FLOW_TAKEN, "a_join"),
    ]
    [job_b] = harness.activate_jobs("b")
    harness.complete_job(job_b)
    [after] = harness.activate_jobs("after")
    harness.complete_job(after)
    assert completed_ids(harness, pik)[-4:] == ["join2", "after", "end", "target"]


def test_a_join_may_not_lose_incoming_flows(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", joining("source", "join", "a_join", extra_incoming=True))
    target = deploy(harness, "target.bpmn", joining("target", "join2", "a_join2"))
    pik = harness.create_instance("source")
    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a)
    assert rejection(harness, pik, target, {"B": "B", "C": "B", "join": "join2", "a_join": "a_join2"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but the target gateway with id 'join2' has fewer incoming"
        " sequence flows than the joining gateway with id 'join'. The target gateway must have at least the same"
        " number of incoming sequence flows.")


def test_a_join_with_a_waiting_token_needs_a_mapping(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", joining("source", "join", "a_join"))
    target = deploy(harness, "target.bpmn", joining("target", "join2", "a_join2"))
    pik = harness.create_instance("source")
    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a)
    assert rejection(harness, pik, target, {"B": "B"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but no mapping instruction defined for the joining gateway"
        " with id 'join' that has taken incoming sequence flows. Joining gateways with taken incoming sequence"
        " flows cannot be migrated without a mapping.")


# -- what Zeebe 8.8 still refuses ---------------------------------------------------------------------------


def test_an_ad_hoc_subprocess_is_not_migrated(harness: EngineHarness) -> None:
    def ad_hoc(process_id: str) -> bytes:
        return b.process(process_id, b.start(), b.flow("f", "start", "adhoc"),
                         ad_hoc_sub_process("adhoc", b.service_task("A", "a"), active_elements="=[\"A\"]"),
                         b.flow("g", "adhoc", "end"), b.end())
    deploy(harness, "source.bpmn", ad_hoc("source"))
    target = deploy(harness, "target.bpmn", ad_hoc("target"))
    pik = harness.create_instance("source")
    assert rejection(harness, pik, target, {"adhoc": "adhoc", "A": "A"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but active element with id 'adhoc' has an unsupported type."
        " The migration of a AD_HOC_SUB_PROCESS is not supported.")


# -- compensation subscriptions of completed activities -------------------------------------------------


def compensable(process_id: str, boundary_id: str, handler_type: str) -> bytes:
    """A (compensable, its handler of ``handler_type``) -> B -> a compensation throw event -> end."""
    return b.process(
        process_id, b.start(), b.flow("f", "start", "A"), b.service_task("A", "a"), b.flow("g", "A", "B"),
        b.service_task("B", "b"), b.flow("h", "B", "undo"), compensation_throw("undo"), b.flow("i", "undo", "end"),
        b.end(), *compensation("A", handler_task(f"undo_{handler_type}", handler_type), boundary_id=boundary_id))


def test_a_completed_activitys_compensation_subscription_moves_with_its_mapped_boundary_event(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", compensable("source", "comp", "undo_a"))
    target = deploy(harness, "target.bpmn", compensable("target", "comp2", "undo_a2"))
    pik = harness.create_instance("source")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)  # A completed: its compensation subscription waits
    migrated(harness, pik, target, {"B": "B", "comp": "comp2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.COMPENSATION_SUBSCRIPTION, CompensationSubscriptionIntent.MIGRATED, ""),
        (PROC, PI.ELEMENT_MIGRATED, "B"),
        (ValueType.JOB, JobIntent.MIGRATED, "B"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    moved = harness.records().with_value_type(ValueType.COMPENSATION_SUBSCRIPTION).with_intent(
        CompensationSubscriptionIntent.MIGRATED)[0]
    assert (moved.value["processDefinitionKey"], moved.value["compensableActivityId"],
            moved.value["compensationHandlerId"]) == (target, "A", "undo_undo_a2")
    [job_b] = harness.activate_jobs("b")
    harness.complete_job(job_b)
    [handler] = harness.activate_jobs("undo_a2")  # the target's handler compensates A
    harness.complete_job(handler)
    assert completed_ids(harness, pik)[-2:] == ["end", "target"]


def test_a_compensation_subscription_whose_boundary_event_is_not_mapped_is_deleted(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", compensable("source", "comp", "undo_a"))
    target = deploy(harness, "target.bpmn", compensable("target", "comp2", "undo_a2"))
    pik = harness.create_instance("source")
    [job] = harness.activate_jobs("a")
    harness.complete_job(job)
    migrated(harness, pik, target, {"B": "B"})
    assert after_migrate(harness)[:2] == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (ValueType.COMPENSATION_SUBSCRIPTION, CompensationSubscriptionIntent.DELETED, ""),
    ]
    [job_b] = harness.activate_jobs("b")
    harness.complete_job(job_b)
    assert harness.activate_jobs("undo_a2") == []  # nothing left to compensate
    assert completed_ids(harness, pik)[-2:] == ["end", "target"]


# -- a job worker user task becoming a Camunda user task (Zeebe 8.8.17) ---------------------------------


def test_a_job_worker_user_task_becomes_a_camunda_user_task_keeping_its_attributes(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "task"),
        user_task("task", assignee="ana", candidate_groups="sales, support", due_date="2026-12-24T10:00:00Z",
                  form_key="my-form", headers={"region": "eu"}),
        b.flow("g", "task", "end"), b.end()))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "task2"),
        user_task("task2", zeebe_user_task=True, assignee="bob", priority="80"),
        b.flow("g", "task2", "done"), b.end("done")))
    pik = harness.create_instance("source")
    job = harness.jobs(pik, JobIntent.CREATED)[0]
    migrated(harness, pik, target, {"task": "task2"})
    assert after_migrate(harness) == [
        (PROC, PI.ELEMENT_MIGRATED, "target"),
        (PROC, PI.ELEMENT_MIGRATED, "task2"),
        (UT, UserTaskIntent.CREATING, "task2"),
        (UT, UserTaskIntent.CREATED, "task2"),
        (UT, UserTaskIntent.ASSIGNING, "task2"),
        (UT, UserTaskIntent.ASSIGNED, "task2"),
        (ValueType.JOB, JobIntent.CANCELED, "task"),
        (UT, UserTaskIntent.MIGRATED, "task2"),
        (MIG, ProcessInstanceMigrationIntent.MIGRATED, ""),
    ]
    canceled = harness.jobs(pik, JobIntent.CANCELED)[0]
    assert canceled.key == job.key and canceled.value["isJobToUserTaskMigration"] is True
    task = harness.records().with_value_type(UT).with_intent(UserTaskIntent.ASSIGNED)[0]
    assert {k: task.value[k] for k in ("assignee", "candidateGroupsList", "dueDate", "externalFormReference",
                                       "priority", "customHeaders", "processDefinitionKey", "elementId")} == {
        "assignee": "bob", "candidateGroupsList": ["sales", "support"], "dueDate": "2026-12-24T10:00Z",
        "externalFormReference": "my-form", "priority": 80, "customHeaders": {"region": "eu"},
        "processDefinitionKey": target, "elementId": "task2"}
    completed = harness.write(UT, UserTaskIntent.COMPLETE, {"variables": {}}, key=task.key)
    assert completed is not None and completed.record_type is RecordType.EVENT, completed
    assert completed_ids(harness, pik)[-3:] == ["task2", "done", "target"]


def test_a_job_worker_user_task_without_its_job_is_not_converted(harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", b.process(
        "source", b.start(), b.flow("f", "start", "task"), user_task("task", assignee="=missing.name"),
        b.flow("g", "task", "end"), b.end()))
    target = deploy(harness, "target.bpmn", b.process(
        "target", b.start(), b.flow("f", "start", "task"), user_task("task", zeebe_user_task=True),
        b.flow("g", "task", "end"), b.end()))
    pik = harness.create_instance("source")  # the assignee fails: an incident, no job
    assert harness.incidents(pik, IncidentIntent.CREATED)
    rejection_type, reason = rejection(harness, pik, target, {"task": "task"})
    assert rejection_type is RejectionType.INVALID_STATE
    assert reason.startswith(f"Expected to migrate a job for user task 'task' on process instance with key '{pik}',"
                             " but could not find job with key '-1'. Please resolve any incidents on the user task"
                             " before migrating the process instance."), reason


# -- message start events ---------------------------------------------------------------------------------


def started_by(process_id: str, message_name: str) -> bytes:
    return b.process(process_id, b.start("placed", b.message_definition("placed_msg")), b.flow("f", "placed", "A"),
                     b.service_task("A", "a"), b.flow("g", "A", "end"), b.end(),
                     definitions=message("placed_msg", message_name))


def test_an_instance_may_not_join_a_process_already_running_one_for_its_correlation_key(
        harness: EngineHarness) -> None:
    deploy(harness, "source.bpmn", started_by("source", "placed"))
    target = deploy(harness, "target.bpmn", started_by("target", "placed_again"))
    harness.publish_message("placed", "order-1")
    harness.publish_message("placed_again", "order-1")
    pik = next(r.key for r in harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED)
               if r.value["bpmnProcessId"] == "source" and r.value["bpmnElementType"] == "PROCESS")
    assert rejection(harness, pik, target, {"A": "A"}) == (
        RejectionType.INVALID_STATE,
        f"Expected to migrate process instance '{pik}' but target process definition '{target}' has an active"
        " instance triggered by a message start event with correlation key 'order-1'. Only one instance per"
        " correlation key is allowed for message start events.")
