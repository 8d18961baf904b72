"""Receive tasks (Zeebe's ``ReceiveTaskTest``): the task subscribes to its message when it activates,
completes when the message correlates (its variables merged, or mapped by output mappings), and its
boundary events wait alongside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m

PI = ProcessInstanceIntent
SHOWN = {ValueType.PROCESS_INSTANCE, ValueType.MESSAGE_SUBSCRIPTION, ValueType.PROCESS_MESSAGE_SUBSCRIPTION,
         ValueType.PROCESS_EVENT}


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def timeline(harness: EngineHarness, since: int = 0) -> list[tuple[str, str, str]]:
    rows = []
    for record in harness.records():
        if record.position <= since or record.value_type not in SHOWN:
            continue
        value = record.value
        rows.append((record.value_type.name, record.intent.name,
                     value.get("elementId") or value.get("targetElementId") or value.get("messageName") or ""))
    return rows


PAID = m.message("paid-message", "paid", "=orderId")
RECEIVE = b.process("receive", b.start(), b.flow("f1", "start", "task"), m.receive_task("task", "paid-message"),
                    b.flow("f2", "task", "end"), b.end(), definitions=PAID)


def test_a_receive_task_subscribes_when_it_activates(harness: EngineHarness) -> None:
    harness.deploy("receive.bpmn", RECEIVE)
    harness.create_instance("receive", {"orderId": "order-1"})

    rows = timeline(harness)
    start = rows.index(("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "task"))
    assert rows[start:] == [
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "task"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATING", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "task"),
        ("MESSAGE_SUBSCRIPTION", "CREATE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "CREATED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CREATED", "task"),
    ]
    activated = harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED).with_element_id("task")[0]
    assert activated.value["bpmnElementType"] == "RECEIVE_TASK"


def test_a_receive_task_completes_when_its_message_correlates(harness: EngineHarness) -> None:
    harness.deploy("receive.bpmn", RECEIVE)
    pik = harness.create_instance("receive", {"orderId": "order-1"})
    since = harness.last_position

    harness.publish_message("paid", "order-1", variables={"amount": 9})

    rows = timeline(harness, since)
    start = rows.index(("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "task"))
    assert rows[start:start + 7] == [
        ("PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", "task"),
        ("PROCESS_EVENT", "TRIGGERING", "task"),
        ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "task"),
        ("PROCESS_EVENT", "TRIGGERED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "task"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
    ]
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_key(pik)
    amount = harness.records().with_value_type(ValueType.VARIABLE).filter(lambda r: r.value["name"] == "amount")[0]
    assert amount.value["scopeKey"] == pik


def test_a_receive_tasks_output_mappings_map_the_message_variables(harness: EngineHarness) -> None:
    model = b.process("receive", b.start(), b.flow("f1", "start", "task"),
                      m.receive_task("task", "paid-message", mappings=m.with_output("=amount * 2", "doubled")),
                      b.flow("f2", "task", "end"), b.end(), definitions=PAID)
    harness.deploy("receive.bpmn", model)
    pik = harness.create_instance("receive", {"orderId": "order-1"})

    harness.publish_message("paid", "order-1", variables={"amount": 4})

    on_instance = {r.value["name"]: r.value["value"] for r in harness.records().with_value_type(ValueType.VARIABLE)
                   if r.value["scopeKey"] == pik}
    assert on_instance["doubled"] == "8" and "amount" not in on_instance


def test_a_timer_boundary_event_on_a_receive_task_closes_its_message_subscription(harness: EngineHarness) -> None:
    model = b.process("receive", b.start(), b.flow("f1", "start", "task"), m.receive_task("task", "paid-message"),
                      b.boundary("late", "task", b.timer_definition(duration="PT1M")),
                      b.flow("f2", "task", "end"), b.end(), b.flow("f3", "late", "gave-up"), b.end("gave-up"),
                      definitions=PAID)
    harness.deploy("receive.bpmn", model)
    harness.create_instance("receive", {"orderId": "order-1"})
    since = harness.last_position

    harness.advance(60_000)

    rows = [row for row in timeline(harness, since) if "SUBSCRIPTION" in row[0]]
    assert rows == [
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETING", "task"),
        ("MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("MESSAGE_SUBSCRIPTION", "DELETED", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETE", "paid"),
        ("PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", "task"),
    ]
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("gave-up")


def test_a_message_boundary_event_on_a_receive_task_waits_for_its_own_message(harness: EngineHarness) -> None:
    cancel = m.message("cancel-message", "cancel", "=orderId")
    model = b.process("receive", b.start(), b.flow("f1", "start", "task"), m.receive_task("task", "paid-message"),
                      b.boundary("canceled", "task", b.message_definition("cancel-message")),
                      b.flow("f2", "task", "end"), b.end(), b.flow("f3", "canceled", "stopped"), b.end("stopped"),
                      definitions=PAID + cancel)
    harness.deploy("receive.bpmn", model)
    harness.create_instance("receive", {"orderId": "order-1"})
    subscriptions = harness.records().with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION).only_events()
    assert sorted(r.value["messageName"] for r in subscriptions if r.intent.name == "CREATED") == ["cancel", "paid"]

    harness.publish_message("cancel", "order-1")

    assert harness.records().only_events().with_intent(PI.ELEMENT_TERMINATED).with_element_id("task")
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("stopped")
    deleted = [r.value["messageName"] for r in harness.records().with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION)
               if r.intent.name == "DELETED"]
    assert deleted == ["paid"]  # the boundary's own subscription closed with its correlation
