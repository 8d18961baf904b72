"""Message correlation to waiting elements, record for record as Zeebe writes it (Zeebe's
``MessageCorrelationTest``, ``BoundaryEventTest``, ``EventSubProcessTest``, ``PublishMessageTest``):
the subscription opened both ways, a published message correlated and acknowledged, a buffered message
correlated when the subscription opens, once per process, and the subscriptions closed when the
element leaves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    ErrorType,
    IncidentIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceIntent,
    ProcessMessageSubscriptionIntent,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m

PI = ProcessInstanceIntent
SHOWN = {ValueType.PROCESS_INSTANCE, ValueType.MESSAGE, ValueType.MESSAGE_SUBSCRIPTION,
         ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ValueType.PROCESS_EVENT}
LIFECYCLE_NOISE = {PI.ELEMENT_ACTIVATING, PI.ELEMENT_COMPLETING}


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def timeline(harness: EngineHarness, since: int = 0) -> list[tuple[str, str, str]]:
    """(value type, intent, element id / message name) of the message-related records after position
    ``since``, leaving out ELEMENT_ACTIVATING and ELEMENT_COMPLETING."""
    rows = []
    for record in harness.records():
        if record.position <= since or record.value_type not in SHOWN:
            continue
        if record.value_type is ValueType.PROCESS_INSTANCE and record.intent in LIFECYCLE_NOISE:
            continue
        value = record.value
        name = value.get("elementId") or value.get("targetElementId") or value.get("messageName") \
            or value.get("name") or ""
        rows.append((record.value_type.name, record.intent.name, name))
    return rows


PAID = m.message("paid-message", "paid", "=orderId")
WAIT = b.process("wait", b.start(), b.flow("f1", "start", "catch"), m.message_catch("catch", "paid-message"),
                 b.flow("f2", "catch", "end"), b.end(), definitions=PAID)


def test_an_intermediate_message_catch_event_opens_its_subscription_on_both_partitions(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    harness.create_instance("wait", {"orderId": "order-1"})

    rows = timeline(harness)
    start = rows.index(("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "catch"))
    assert rows[start:] == [
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "catch"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATING", "catch"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "catch"),
        ("MESSAGE_SUBSCRIPTION", "CREATE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CREATED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATED", "catch"),
    ]
    created = harness.records().with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()[0]
    assert created.value["correlationKey"] == "order-1" and created.value["interrupting"] is True


def test_a_published_message_correlates_to_the_open_subscription_and_completes_the_catch_event(
        harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait", {"orderId": "order-1"})
    since = harness.last_position

    published = harness.publish_message("paid", "order-1", variables={"amount": 12})

    assert published is not None and published.intent is MessageIntent.PUBLISHED
    assert timeline(harness, since) == [
        ("MESSAGE", "PUBLISH", "paid"),
        ("MESSAGE", "PUBLISHED", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CORRELATING", "paid"),
        ("MESSAGE", "EXPIRED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "catch"),
        ("PROCESS_EVENT", "TRIGGERING", "catch"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "catch"),
        ("PROCESS_EVENT", "TRIGGERED", "catch"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "catch"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "end"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "end"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "end"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "end"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "wait"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "wait"),
        ("MESSAGE_SUBSCRIPTION", "CORRELATE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CORRELATED", "paid"),
    ]
    pms = harness.records().with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION).with_intent(
        ProcessMessageSubscriptionIntent.CORRELATED)[0]
    assert pms.value["messageKey"] == published.key and pms.value["variables"] == {"amount": 12}
    # without output mappings the message's variables are merged into the process instance
    variable = harness.records().with_value_type(ValueType.VARIABLE).filter(
        lambda r: r.value["name"] == "amount")[0]
    assert variable.value["scopeKey"] == pik and variable.value["value"] == "12"


def test_a_buffered_message_correlates_when_the_subscription_is_created(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    harness.publish_message("paid", "order-1", time_to_live_ms=60_000, variables={"amount": 3})
    pik = harness.create_instance("wait", {"orderId": "order-1"})

    rows = timeline(harness)
    start = rows.index(("MESSAGE_SUBSCRIPTION", "CREATE", "paid"))
    assert rows[start:start + 6] == [
        ("MESSAGE_SUBSCRIPTION", "CREATE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CREATED", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CORRELATING", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "catch"),
        ("PROCESS_EVENT", "TRIGGERING", "catch"),
    ]
    assert ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATE", "paid") not in rows  # the correlation acknowledges it
    assert ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "wait") in rows
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_key(pik)


def test_a_buffered_message_correlates_once_per_process(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    harness.publish_message("paid", "order-1", time_to_live_ms=60_000)
    first = harness.create_instance("wait", {"orderId": "order-1"})
    second = harness.create_instance("wait", {"orderId": "order-1"})

    completed = {r.key for r in harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED)
                 if r.value["bpmnElementType"] == "PROCESS"}
    assert completed == {first}

    harness.publish_message("paid", "order-1")  # a second message correlates to the waiting one
    completed = {r.key for r in harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED)
                 if r.value["bpmnElementType"] == "PROCESS"}
    assert completed == {first, second}


def test_a_published_message_correlates_once_per_process_of_several_waiting_instances(
        harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    harness.create_instance("wait", {"orderId": "order-1"})
    harness.create_instance("wait", {"orderId": "order-1"})
    since = harness.last_position

    harness.publish_message("paid", "order-1", time_to_live_ms=60_000)

    assert [row for row in timeline(harness, since) if row[1] == "CORRELATING"] == [
        ("MESSAGE_SUBSCRIPTION", "CORRELATING", "paid")]


def test_a_message_with_another_correlation_key_does_not_correlate(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    harness.create_instance("wait", {"orderId": "order-1"})
    since = harness.last_position

    harness.publish_message("paid", "order-2")

    assert timeline(harness, since) == [("MESSAGE", "PUBLISH", "paid"), ("MESSAGE", "PUBLISHED", "paid"),
                                        ("MESSAGE", "EXPIRED", "paid")]


def test_a_correlation_key_that_is_no_string_or_number_raises_an_extract_value_incident(
        harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait", {"orderId": True})

    incident = harness.incidents(pik, IncidentIntent.CREATED)[0]
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.name
    assert incident.value["elementId"] == "catch"
    assert incident.value["errorMessage"] == ("Failed to extract the correlation key for 'orderId': The value must"
                                              " be either a string or a number, but was 'BOOLEAN'.")
    assert not harness.records().with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION)

    harness.set_variables(pik, {"orderId": 42})
    harness.resolve_incident(incident.key)
    created = harness.records().with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()[0]
    assert created.value["correlationKey"] == "42"


def test_leaving_the_element_deletes_its_subscription_on_both_partitions(harness: EngineHarness) -> None:
    harness.deploy("wait.bpmn", WAIT)
    pik = harness.create_instance("wait", {"orderId": "order-1"})
    since = harness.last_position

    harness.cancel(pik)

    rows = [row for row in timeline(harness, since) if "SUBSCRIPTION" in row[0]]
    assert rows == [
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETING", "catch"),
        ("MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "DELETED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", "catch"),
    ]
    since = harness.last_position
    harness.publish_message("paid", "order-1")
    assert ("MESSAGE_SUBSCRIPTION", "CORRELATING", "paid") not in timeline(harness, since)


def test_output_mappings_map_the_message_variables(harness: EngineHarness) -> None:
    model = b.process("mapped", b.start(), b.flow("f1", "start", "catch"),
                      m.message_catch("catch", "paid-message", mappings=m.with_output("=amount", "paidAmount")),
                      b.flow("f2", "catch", "end"), b.end(), definitions=PAID)
    harness.deploy("mapped.bpmn", model)
    pik = harness.create_instance("mapped", {"orderId": "order-1"})

    harness.publish_message("paid", "order-1", variables={"amount": 5})

    on_instance = {r.value["name"]: r.value["value"] for r in harness.records().with_value_type(ValueType.VARIABLE)
                   if r.value["scopeKey"] == pik}
    assert on_instance["paidAmount"] == "5"
    assert "amount" not in on_instance


def test_a_message_id_is_unique_while_the_message_is_buffered(harness: EngineHarness) -> None:
    first = harness.publish_message("paid", "order-1", time_to_live_ms=60_000, message_id="m-1")
    second = harness.publish_message("paid", "order-1", time_to_live_ms=60_000, message_id="m-1")

    assert first is not None and first.record_type is RecordType.EVENT
    assert second is not None and second.record_type is RecordType.COMMAND_REJECTION
    assert second.rejection_type is RejectionType.ALREADY_EXISTS
    assert second.rejection_reason == ("Expected to publish a new message with id 'm-1', but a message with that"
                                       " id was already published")


TASK = b.process("task", b.start(), b.flow("f1", "start", "work"), b.service_task("work", "work"),
                 b.boundary("paid", "work", b.message_definition("paid-message"), interrupting=False),
                 b.flow("f2", "work", "end"), b.end(), b.flow("f3", "paid", "notified"), b.end("notified"),
                 definitions=PAID)


def test_a_non_interrupting_boundary_event_correlates_several_messages(harness: EngineHarness) -> None:
    harness.deploy("task.bpmn", TASK)
    harness.create_instance("task", {"orderId": "order-1"})

    harness.publish_message("paid", "order-1", variables={"n": 1})
    harness.publish_message("paid", "order-1", variables={"n": 2})

    notified = harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("notified")
    assert len(notified) == 2
    assert not harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED).with_element_id("work")

    [job] = harness.activate_jobs("work")
    since = harness.last_position
    harness.complete_job(job)
    rows = [row for row in timeline(harness, since) if "SUBSCRIPTION" in row[0]]
    assert rows == [
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETING", "paid"),
        ("MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "DELETED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", "paid"),
    ]


def test_an_interrupting_boundary_event_terminates_the_task_and_closes_on_correlation(
        harness: EngineHarness) -> None:
    model = b.process("task", b.start(), b.flow("f1", "start", "work"), b.service_task("work", "work"),
                      b.boundary("paid", "work", b.message_definition("paid-message")),
                      b.flow("f2", "work", "end"), b.end(), b.flow("f3", "paid", "notified"), b.end("notified"),
                      definitions=PAID)
    harness.deploy("task.bpmn", model)
    harness.create_instance("task", {"orderId": "order-1"})
    since = harness.last_position

    harness.publish_message("paid", "order-1")

    rows = timeline(harness, since)
    start = rows.index(("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "paid"))
    assert rows[start:start + 6] == [
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "paid"),
        ("PROCESS_EVENT", "TRIGGERING", "paid"),
        ("PROCESS_INSTANCE", "TERMINATE_ELEMENT", "work"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATING", "work"),
        ("PROCESS_INSTANCE", "ELEMENT_TERMINATED", "work"),
        ("PROCESS_EVENT", "TRIGGERED", "paid"),
    ]
    assert ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETING", "paid") not in rows  # closed by the correlation
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("notified")
    assert harness.jobs(intent=JobIntent.CANCELED)


def test_a_message_event_subprocess_starts_in_its_container(harness: EngineHarness) -> None:
    model = b.process("sub", b.start(), b.flow("f1", "start", "work"), b.service_task("work", "work"),
                      b.flow("f2", "work", "end"), b.end(),
                      b.sub_process("handler", b.start("paid", b.message_definition("paid-message"),
                                                       interrupting=False),
                                    b.flow("f3", "paid", "handled"), b.end("handled"), triggered_by_event=True),
                      definitions=PAID)
    harness.deploy("sub.bpmn", model)
    pik = harness.create_instance("sub", {"orderId": "order-1"})
    created = harness.records().with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION).only_events()[0]
    assert created.value["elementInstanceKey"] == pik and created.value["interrupting"] is False

    harness.publish_message("paid", "order-1", variables={"v": 1})

    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("handler")
    assert not harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED).with_element_id("work")


def test_an_interrupting_message_event_subprocess_terminates_the_process_flow(harness: EngineHarness) -> None:
    model = b.process("sub", b.start(), b.flow("f1", "start", "work"), b.service_task("work", "work"),
                      b.flow("f2", "work", "end"), b.end(),
                      b.sub_process("handler", b.start("paid", b.message_definition("paid-message")),
                                    b.flow("f3", "paid", "handled"), b.end("handled"), triggered_by_event=True),
                      definitions=PAID)
    harness.deploy("sub.bpmn", model)
    pik = harness.create_instance("sub", {"orderId": "order-1"})

    harness.publish_message("paid", "order-1")

    assert harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED).with_element_id("work")
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_key(pik)


def test_message_throw_and_end_events_run_as_job_workers(harness: EngineHarness) -> None:
    model = b.process("notify", b.start(), b.flow("f1", "start", "throw"), m.message_throw("throw", "send-mail"),
                      b.flow("f2", "throw", "end"), m.message_throw("end", "send-sms", end=True))
    deployed = harness.deploy("notify.bpmn", model)
    assert deployed is not None and deployed.record_type is RecordType.EVENT, deployed.rejection_reason
    pik = harness.create_instance("notify")

    [mail] = harness.activate_jobs("send-mail")
    harness.complete_job(mail)
    [sms] = harness.activate_jobs("send-sms")
    harness.complete_job(sms)

    events = [(r.value["elementId"], r.value["bpmnEventType"]) for r in harness.records().only_events()
              .with_intent(PI.ELEMENT_COMPLETED) if r.value["bpmnElementType"] in ("INTERMEDIATE_THROW_EVENT", "END_EVENT")]
    assert events == [("throw", "MESSAGE"), ("end", "MESSAGE")]
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_key(pik)
