"""Compensation driven by a real gRPC client: a worker completes the charge, a later compensation throw
event compensates it, the refund handler's job reaches a worker (with the handler's element id and the
instance's variables), and the instance, awaited with CreateProcessInstanceWithResult, completes."""

from __future__ import annotations

import json

import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_compensation as c

from .conftest import Client

ORDER = b.process(
    "order", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
    *c.compensation("charge", c.handler_task("refund", "refund")),
    b.flow("f2", "charge", "ship"), b.service_task("ship", "ship"), b.flow("f3", "ship", "undo"),
    c.compensation_throw("undo"), b.flow("f4", "undo", "end"), b.end())


async def test_a_completed_task_is_compensated_by_a_later_throw_event_and_the_instance_completes(
        client: Client) -> None:
    await client.deploy("order.bpmn", ORDER)
    results = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1, variables='{"amount": 10}'),
            requestTimeout=20_000)))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        [charge] = await client.activate("charge", request_timeout_ms=10_000)
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=charge.key, variables='{"charged": true}'))
        [ship] = await client.activate("ship", request_timeout_ms=10_000)
        # shipping failed after all: its worker completes, and the throw event compensates the charge
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=ship.key, variables='{"shipped": false}'))
        [refund] = await client.activate("refund", request_timeout_ms=10_000)
        assert (refund.elementId, refund.processInstanceKey) == ("refund", charge.processInstanceKey)
        assert json.loads(refund.variables) == {"amount": 10, "charged": True, "shipped": False}
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=refund.key, variables='{"refunded": true}'))
    [result] = results
    assert result.processInstanceKey == charge.processInstanceKey
    assert json.loads(result.variables) == {"amount": 10, "charged": True, "shipped": False, "refunded": True}
