"""An event-based gateway driven by a real gRPC client: the gateway waits for a signal or a timer; a
BroadcastSignal request picks the signal path (the create-with-result variables name the path and carry
the signal's variables) and the timer that lost the race is canceled, never triggered."""

from __future__ import annotations

import json

import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.protocol import SignalSubscriptionIntent, TimerIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s
from zeebe_trio.testing import bpmn_tasks as t

from .conftest import Client

GATEWAY = b.process(
    "gw", b.start(), b.flow("f0", "start", "gateway"), s.event_based_gateway("gateway"),
    b.flow("to_timer", "gateway", "timer"), b.intermediate_catch("timer", b.timer_definition(duration="PT1H")),
    b.flow("to_signal", "gateway", "signal"), b.intermediate_catch("signal", b.signal_definition("sig")),
    b.flow("after_timer", "timer", "mark_timer"), t.script_task("mark_timer", '="timer"', "path"),
    b.flow("timer_done", "mark_timer", "timed_out"), b.end("timed_out"),
    b.flow("after_signal", "signal", "mark_signal"), t.script_task("mark_signal", '="signal"', "path"),
    b.flow("signal_done", "mark_signal", "signaled"), b.end("signaled"),
    definitions=s.signal("sig", "approved"))


def _log(client: Client) -> list:  # type: ignore[type-arg]
    broker = client.broker  # type: ignore[attr-defined]
    return broker.partitions[1].log_stream.read_after(-1, 10**9)  # type: ignore[no-any-return]


async def test_a_broadcast_signal_picks_the_signal_path_of_an_event_based_gateway(client: Client) -> None:
    await client.deploy("gw.bpmn", GATEWAY)
    results: list[pb.CreateProcessInstanceWithResultResponse] = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="gw", version=-1, variables='{"order": 9}'),
            requestTimeout=20_000), timeout=30.0))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        with trio.fail_after(10):  # the gateway subscribed to both events before the signal is sent
            await BrokerHarness(client.broker).wait_for_record(  # type: ignore[attr-defined]
                lambda r: r.value_type is ValueType.SIGNAL_SUBSCRIPTION and r.intent is SignalSubscriptionIntent.CREATED)
        await client.call("BroadcastSignal", pb.BroadcastSignalRequest(signalName="approved",
                                                                       variables='{"approver": "ana"}'))
    [result] = results
    assert json.loads(result.variables) == {"order": 9, "approver": "ana", "path": "signal"}
    timers = [(r.intent, r.value["targetElementId"]) for r in _log(client) if r.value_type is ValueType.TIMER]
    assert timers == [(TimerIntent.CREATED, "timer"), (TimerIntent.CANCELED, "timer")]
    subscriptions = [r.intent for r in _log(client) if r.value_type is ValueType.SIGNAL_SUBSCRIPTION]
    assert subscriptions == [SignalSubscriptionIntent.CREATED, SignalSubscriptionIntent.DELETED]
