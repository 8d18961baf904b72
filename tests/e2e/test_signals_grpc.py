"""Signals driven by a real gRPC client: a BroadcastSignal request triggers a waiting signal catch event
(its variables reach the instance, as a worker then sees them) and starts an instance of a process
with a signal start event."""

from __future__ import annotations

import json

from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s

from .conftest import Client

WAITING = b.process("waiting", b.start(), b.flow("f1", "start", "wait"),
                    b.intermediate_catch("wait", b.signal_definition("sig")), b.flow("f2", "wait", "task"),
                    b.service_task("task", "after-signal"), b.flow("f3", "task", "end"), b.end(),
                    definitions=s.signal("sig", "go"))
STARTED = b.process("started", b.start("start", b.signal_definition("sig")), b.flow("f1", "start", "task"),
                    b.service_task("task", "started-work"), b.flow("f2", "task", "end"), b.end(),
                    definitions=s.signal("sig", "go"))


async def test_a_broadcast_signal_continues_a_waiting_instance_and_starts_a_subscribed_process(
        client: Client) -> None:
    await client.call("DeployResource", pb.DeployResourceRequest(resources=[
        pb.Resource(name="waiting.bpmn", content=WAITING), pb.Resource(name="started.bpmn", content=STARTED)]))
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="waiting", version=-1, variables='{"order": 1}'))
    # the catch event subscribed in the batch that created the instance, before the response
    response = await client.call("BroadcastSignal", pb.BroadcastSignalRequest(
        signalName="go", variables='{"reason": "ready"}'))
    assert response.key > 0
    [job] = await client.activate("after-signal", request_timeout_ms=10_000)
    assert job.processInstanceKey == created.processInstanceKey
    assert json.loads(job.variables) == {"order": 1, "reason": "ready"}
    [started] = await client.activate("started-work", request_timeout_ms=10_000)
    assert started.bpmnProcessId == "started"
    assert json.loads(started.variables) == {"reason": "ready"}
