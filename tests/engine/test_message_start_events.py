"""Message start events of processes (Zeebe's ``MessageStartEventTest``): the subscription opened at
deployment for the latest version only, an instance created per published message with the
message's variables, one running instance per correlation key, and buffered messages starting
instances when the process is deployed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    MessageStartEventSubscriptionIntent,
    ProcessInstanceIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m

PI = ProcessInstanceIntent
MSES = ValueType.MESSAGE_START_EVENT_SUBSCRIPTION


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def order_process(task: str = "work") -> bytes:
    return b.process("order", b.start("placed", b.message_definition("placed-message")), b.flow("f1", "placed", task),
                     b.service_task(task, "work"), b.flow("f2", task, "end"), b.end(),
                     definitions=m.message("placed-message", "order-placed"))


def started_instances(harness: EngineHarness) -> list[int]:
    return [r.key for r in harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED)
            if r.value["bpmnElementType"] == "PROCESS"]


def test_deploying_opens_the_message_start_event_subscription(harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())

    [created] = harness.records().with_value_type(MSES)
    assert created.intent is MessageStartEventSubscriptionIntent.CREATED
    assert created.value["messageName"] == "order-placed" and created.value["startEventId"] == "placed"
    assert created.value["bpmnProcessId"] == "order"
    process = harness.records().with_value_type(ValueType.PROCESS)[0]
    assert created.value["processDefinitionKey"] == process.key
    assert [r.value_type for r in harness.records()] == [
        ValueType.DEPLOYMENT, ValueType.PROCESS, MSES, ValueType.DEPLOYMENT]


def test_a_new_version_replaces_the_previous_versions_subscription(harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())
    harness.deploy("order.bpmn", order_process("work-2"))

    v1, v2 = harness.records().with_value_type(ValueType.PROCESS)
    assert [(r.intent, r.value["processDefinitionKey"]) for r in harness.records().with_value_type(MSES)] == [
        (MessageStartEventSubscriptionIntent.CREATED, v1.key),
        (MessageStartEventSubscriptionIntent.DELETED, v1.key),
        (MessageStartEventSubscriptionIntent.CREATED, v2.key),
    ]
    harness.publish_message("order-placed", "")
    [instance] = harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED).with_element_id("order")
    assert instance.value["processDefinitionKey"] == v2.key


def test_a_published_message_creates_an_instance_at_the_start_event_with_its_variables(
        harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())
    since = harness.last_position

    published = harness.publish_message("order-placed", "order-1", variables={"amount": 7})

    assert published is not None
    batch = [r for r in harness.records() if r.position > since and r.source_position == since + 1]
    assert [(r.value_type, r.intent.name) for r in batch] == [
        (ValueType.MESSAGE, "PUBLISHED"),
        (MSES, "CORRELATED"),
        (ValueType.PROCESS_EVENT, "TRIGGERING"),
        (ValueType.PROCESS_INSTANCE, "ACTIVATE_ELEMENT"),
        (ValueType.PROCESS_INSTANCE_CREATION, "CREATED"),
        (ValueType.MESSAGE, "EXPIRED"),
    ]
    correlated = batch[1]
    [pik] = started_instances(harness)
    assert correlated.value["processInstanceKey"] == pik and correlated.value["messageKey"] == published.key
    assert correlated.value["correlationKey"] == "order-1" and correlated.value["variables"] == {"amount": 7}
    assert harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("placed")
    amount = harness.records().with_value_type(ValueType.VARIABLE).filter(lambda r: r.value["name"] == "amount")[0]
    assert amount.value["scopeKey"] == pik and amount.value["value"] == "7"


def test_only_one_instance_runs_per_correlation_key(harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())

    harness.publish_message("order-placed", "order-1", time_to_live_ms=60_000)
    harness.publish_message("order-placed", "order-1", time_to_live_ms=60_000)
    assert len(started_instances(harness)) == 1

    harness.publish_message("order-placed", "order-2")
    harness.publish_message("order-placed", "")
    harness.publish_message("order-placed", "")
    assert len(started_instances(harness)) == 4  # other keys, and messages without one, are not locked


def test_the_correlation_key_is_free_again_once_the_instance_ended(harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())
    harness.publish_message("order-placed", "order-1")
    [first] = started_instances(harness)

    harness.cancel(first)
    harness.publish_message("order-placed", "order-1")

    assert len(started_instances(harness)) == 2


def test_buffered_messages_start_instances_when_the_process_is_deployed(harness: EngineHarness) -> None:
    harness.publish_message("order-placed", "order-1", time_to_live_ms=60_000, variables={"n": 1})
    harness.publish_message("order-placed", "order-2", time_to_live_ms=60_000, variables={"n": 2})

    harness.deploy("order.bpmn", order_process())

    assert len(started_instances(harness)) == 2
    correlated = harness.records().with_value_type(MSES).with_intent(MessageStartEventSubscriptionIntent.CORRELATED)
    assert [r.value["correlationKey"] for r in correlated] == ["order-1", "order-2"]
    # the messages correlated to the process once: a new version does not start them again
    harness.deploy("order.bpmn", order_process("work-2"))
    assert len(started_instances(harness)) == 2


def test_an_expired_message_starts_no_instance_on_deployment(harness: EngineHarness) -> None:
    harness.publish_message("order-placed", "order-1", time_to_live_ms=1_000)
    harness.advance(2_000)

    harness.deploy("order.bpmn", order_process())

    assert started_instances(harness) == []


def test_a_buffered_message_starts_the_next_instance_once_its_correlation_key_is_free(
        harness: EngineHarness) -> None:
    harness.deploy("order.bpmn", order_process())
    harness.publish_message("order-placed", "order-1", variables={"n": 1})
    harness.publish_message("order-placed", "order-1", time_to_live_ms=60_000, variables={"n": 2})
    [first] = started_instances(harness)

    [job] = harness.activate_jobs("work")
    since = harness.last_position
    harness.complete_job(job)

    instances = started_instances(harness)
    assert len(instances) == 2
    completed = harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_key(first)[0]
    correlated = [r for r in harness.records().with_value_type(MSES).with_intent(
        MessageStartEventSubscriptionIntent.CORRELATED) if r.position > since]
    assert len(correlated) == 1 and correlated[0].position > completed.position
    assert correlated[0].value["variables"] == {"n": 2}
    assert correlated[0].value["processInstanceKey"] == instances[1]
