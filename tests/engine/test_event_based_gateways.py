"""Event-based gateways: on activation the gateway subscribes to the events after it (timers, signals);
the first trigger completes the gateway, closes the other subscriptions and activates that event, which
completes at once and continues (Zeebe's ``EventBasedGatewayTest``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    ProcessInstanceIntent,
    SignalIntent,
    SignalSubscriptionIntent,
    TimerIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s

PI = ProcessInstanceIntent
SHOWN = {ValueType.PROCESS_INSTANCE, ValueType.TIMER, ValueType.SIGNAL_SUBSCRIPTION, ValueType.PROCESS_EVENT}

GATEWAY = b.process(
    "gw", b.start(), b.flow("f0", "start", "gateway"), s.event_based_gateway("gateway"),
    b.flow("to_timer", "gateway", "timer"), b.intermediate_catch("timer", b.timer_definition(duration="PT10S")),
    b.flow("to_signal", "gateway", "signal"), b.intermediate_catch("signal", b.signal_definition("sig")),
    b.flow("after_timer", "timer", "timed_out"), b.end("timed_out"),
    b.flow("after_signal", "signal", "signaled"), b.end("signaled"),
    definitions=s.signal("sig", "go"))


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def timeline(harness: EngineHarness, since: int = 0) -> list[tuple[str, str, str]]:
    rows = []
    for record in harness.records():
        if record.position < since or record.value_type not in SHOWN:
            continue
        v = record.value
        name = v.get("elementId") or v.get("targetElementId") or v.get("catchEventId") or ""
        rows.append((record.value_type.name, record.intent.name, name))
    return rows


def test_activating_the_gateway_subscribes_to_every_event_after_it(harness: EngineHarness) -> None:
    harness.deploy("gw.bpmn", GATEWAY)
    pik = harness.create_instance("gw")
    rows = timeline(harness)
    start = rows.index(("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "gateway"))
    assert rows[start:start + 4] == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "gateway"), ("TIMER", "CREATED", "timer"),
        ("SIGNAL_SUBSCRIPTION", "CREATED", "signal"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "gateway"),
    ]
    gateway_key = harness.records().only_events().with_intent(PI.ELEMENT_ACTIVATED).with_element_id("gateway")[0].key
    assert harness.records().with_value_type(ValueType.TIMER)[0].value["elementInstanceKey"] == gateway_key
    assert harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)[0].value["catchEventInstanceKey"] \
        == gateway_key
    assert not harness.records().with_element_id("timer").with_value_type(ValueType.PROCESS_INSTANCE)
    assert pik > 0


def test_the_first_event_completes_the_gateway_closes_the_others_and_continues_through_it(
        harness: EngineHarness) -> None:
    harness.deploy("gw.bpmn", GATEWAY)
    pik = harness.create_instance("gw")
    mark = harness.last_position + 1
    harness.advance(10_000)
    assert timeline(harness, mark)[:18] == [
        ("TIMER", "TRIGGER", "timer"), ("TIMER", "TRIGGERED", "timer"),
        ("PROCESS_EVENT", "TRIGGERING", "timer"), ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "gateway"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "gateway"), ("SIGNAL_SUBSCRIPTION", "DELETED", "signal"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "gateway"), ("PROCESS_EVENT", "TRIGGERED", "timer"),
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "timer"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "timer"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "timer"), ("PROCESS_INSTANCE", "COMPLETE_ELEMENT", "timer"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "timer"), ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "timer"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "after_timer"),
        ("PROCESS_INSTANCE", "ACTIVATE_ELEMENT", "timed_out"),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "timed_out"), ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "timed_out"),
    ]
    # the flows to the events are not taken (the BPMN specification)
    assert not harness.records().with_element_id("to_timer")
    assert harness.records().limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_signal_after_the_gateway_wins_cancels_the_timer_and_brings_its_variables(
        harness: EngineHarness) -> None:
    harness.deploy("gw.bpmn", GATEWAY)
    pik = harness.create_instance("gw")
    harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": "go", "variables": {"reason": "now"}})
    assert [r.intent for r in harness.records().with_value_type(ValueType.TIMER)] == [TimerIntent.CREATED,
                                                                                      TimerIntent.CANCELED]
    assert [r.intent for r in harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)] == [
        SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED]
    canceled = harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.CANCELED)[0]
    deleted = harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION) \
        .with_intent(SignalSubscriptionIntent.DELETED)[0]
    assert canceled.position < deleted.position  # Zeebe closes timers, then messages, then signals
    completed = [r.value["elementId"] for r in harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED)]
    assert completed[-4:] == ["gateway", "signal", "signaled", "gw"]
    merged = harness.records().with_value_type(ValueType.VARIABLE) \
        .filter(lambda r: r.value["name"] == "reason" and r.value["scopeKey"] == pik)
    assert merged and merged[-1].value["value"] == '"now"'
    harness.advance(20_000)
    assert not harness.records().with_value_type(ValueType.TIMER).with_intent(TimerIntent.TRIGGER)


def test_a_second_trigger_after_the_first_finds_no_subscription(harness: EngineHarness) -> None:
    harness.deploy("gw.bpmn", GATEWAY)
    harness.create_instance("gw")
    harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": "go"})
    harness.write(ValueType.SIGNAL, SignalIntent.BROADCAST, {"signalName": "go"})
    assert len(harness.records().only_events().with_intent(PI.ELEMENT_COMPLETED).with_element_id("signal")) == 1


def test_canceling_the_instance_terminates_the_gateway_and_closes_its_subscriptions(harness: EngineHarness) -> None:
    harness.deploy("gw.bpmn", GATEWAY)
    pik = harness.create_instance("gw")
    harness.cancel(pik)
    assert harness.records().with_intent(PI.ELEMENT_TERMINATED).with_element_id("gateway")
    assert [r.intent for r in harness.records().with_value_type(ValueType.TIMER)] == [TimerIntent.CREATED,
                                                                                      TimerIntent.CANCELED]
    assert [r.intent for r in harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION)] == [
        SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED]
