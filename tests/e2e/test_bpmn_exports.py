"""The DuckDB exporter behind a real broker driven by a real gRPC client, for the BPMN event records:
an event-based gateway whose signal wins (its timer canceled), a timer that fires, and an escalation
caught on a subprocess reach the typed tables, and the ``timers``, ``signal_subscriptions`` and
``signals`` views answer real SQL about them; PROCESS_EVENT records are in the raw stream."""

from __future__ import annotations

import json
from pathlib import Path

import trio
from pyzeebe.proto import gateway_pb2 as pb
from zeebe_trio_duckdb import query

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.protocol import SignalSubscriptionIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s

from .conftest import Client

GATEWAY = b.process(
    "gw", b.start(), b.flow("f0", "start", "gateway"), s.event_based_gateway("gateway"),
    b.flow("to_timer", "gateway", "timer"), b.intermediate_catch("timer", b.timer_definition(duration="PT1H")),
    b.flow("to_signal", "gateway", "signal"), b.intermediate_catch("signal", b.signal_definition("sig")),
    b.flow("after_timer", "timer", "timed_out"), b.end("timed_out"),
    b.flow("after_signal", "signal", "signaled"), b.end("signaled"),
    definitions=s.signal("sig", "approved"))
TICK = b.process("tick", b.start(), b.flow("f1", "start", "now"),
                 b.intermediate_catch("now", b.timer_definition(duration="PT0S")), b.flow("f2", "now", "end"), b.end())
ESCALATING = b.process(
    "escalating", b.start(), b.flow("f1", "start", "sub"),
    b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "raise"),
                  s.throw("raise", s.escalation_definition("esc")), b.flow("s2", "raise", "sub_end"), b.end("sub_end")),
    b.flow("f2", "sub", "end"), b.end(),
    b.boundary("noted", "sub", s.escalation_definition("esc"), interrupting=False),
    b.flow("f3", "noted", "noted_end"), b.end("noted_end"),
    definitions=s.escalation("esc", "LOW_STOCK"))


async def _with_result(client: Client, process_id: str, results: dict[str, dict[str, object]]) -> None:
    response = await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId=process_id, version=-1), requestTimeout=20_000),
        timeout=30.0)
    results[process_id] = {"key": response.processInstanceKey, "variables": json.loads(response.variables)}


async def test_timer_signal_and_escalation_records_are_exported_and_the_views_answer(tmp_path: Path) -> None:
    export = tmp_path / "export.duckdb"
    config = BrokerConfig(data_dir=tmp_path / "data", gateway_port=0, host="127.0.0.1", command_api_port=0, exporters={
        "analytics": {"type": "duckdb", "args": {"path": str(export), "flushDelay": 0.05, "batchSize": 50}}})
    results: dict[str, dict[str, object]] = {}
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        client = Client(f"127.0.0.1:{broker.gateway_port}")
        await client.call("DeployResource", pb.DeployResourceRequest(resources=[
            pb.Resource(name="gw.bpmn", content=GATEWAY), pb.Resource(name="tick.bpmn", content=TICK),
            pb.Resource(name="escalating.bpmn", content=ESCALATING)]))
        async with trio.open_nursery() as runs:
            runs.start_soon(_with_result, client, "gw", results)
            with trio.fail_after(10):
                await BrokerHarness(broker).wait_for_record(
                    lambda r: r.value_type is ValueType.SIGNAL_SUBSCRIPTION
                    and r.intent is SignalSubscriptionIntent.CREATED)
            await client.call("BroadcastSignal", pb.BroadcastSignalRequest(signalName="approved",
                                                                           variables='{"by": "ana"}'))
            runs.start_soon(_with_result, client, "tick", results)
            runs.start_soon(_with_result, client, "escalating", results)
        client.close()
        partition = broker.partitions[1]
        with trio.fail_after(30):
            await partition.exporters.wait_exported(partition.log_stream.last_position)
        nursery.cancel_scope.cancel()

    def sql(statement: str) -> list[tuple]:  # type: ignore[type-arg]
        return [tuple(row) for row in query(export, statement).rows]

    assert results["gw"]["variables"] == {"by": "ana"}
    timers = sql("SELECT bpmn_process_id, target_element_id, state, process_instance_key, triggered_at IS NOT NULL,"
                 " canceled_at IS NOT NULL FROM timers ORDER BY bpmn_process_id")
    assert timers == [("gw", "timer", "CANCELED", results["gw"]["key"], False, True),
                      ("tick", "now", "TRIGGERED", results["tick"]["key"], True, False)]
    subscriptions = sql("SELECT bpmn_process_id, signal_name, catch_event_id, state FROM signal_subscriptions")
    assert subscriptions == [("gw", "approved", "signal", "DELETED")]
    signals = sql("SELECT signal_name, variables, subscriptions_reached FROM signals")
    assert [(name, json.loads(variables), reached) for name, variables, reached in signals] == [
        ("approved", {"by": "ana"}, 1)]
    escalations = sql("SELECT intent, escalation_code, throw_element_id, catch_element_id, process_instance_key"
                      " FROM escalation_events")
    assert escalations == [("ESCALATED", "LOW_STOCK", "raise", "noted", results["escalating"]["key"])]
    states = dict(sql("SELECT bpmn_process_id, state FROM process_instances"))
    assert states == {"gw": "COMPLETED", "tick": "COMPLETED", "escalating": "COMPLETED"}
    noted = sql("SELECT element_id FROM element_instances WHERE bpmn_process_id = 'escalating'"
                " AND state = 'COMPLETED' ORDER BY element_id")
    assert ("noted",) in noted and ("noted_end",) in noted
    process_events = sql("SELECT value->>'targetElementId', list(intent ORDER BY position) FROM records"
                         " WHERE value_type = 'PROCESS_EVENT' AND record_type = 'EVENT' GROUP BY 1 ORDER BY 1")
    assert process_events == [(target, ["TRIGGERING", "TRIGGERED"]) for target in ("noted", "now", "signal")]
