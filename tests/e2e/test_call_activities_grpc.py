"""A call activity driven by a real gRPC client: deploy parent and child together, create the parent
with result, let a worker complete the child's job, and see the child's variables in the parent's
result; cancelling the child on its own is refused as Zeebe refuses it."""

from __future__ import annotations

import json

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_call_activity as c

from .conftest import Client

PARENT = b.process("parent", b.start(), b.flow("f1", "start", "call"),
                   c.call_activity("call", "child", binding="deployment"), b.flow("f2", "call", "end"), b.end())
CHILD = b.process("child", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "child-work"),
                  b.flow("f2", "task", "end"), b.end())


async def _deploy_both(client: Client) -> None:
    await client.call("DeployResource", pb.DeployResourceRequest(resources=[
        pb.Resource(name="parent.bpmn", content=PARENT), pb.Resource(name="child.bpmn", content=CHILD)]))


async def test_the_parent_result_carries_what_the_child_produced(client: Client) -> None:
    await _deploy_both(client)
    results = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="parent", version=-1, variables='{"order": 7}'),
            requestTimeout=20_000)))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        [job] = await client.activate("child-work", request_timeout_ms=10_000)
        assert job.bpmnProcessId == "child"
        assert json.loads(job.variables) == {"order": 7}  # copied from the parent
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables='{"shipped": true}'))
    [result] = results
    assert result.bpmnProcessId == "parent"
    assert result.processInstanceKey != job.processInstanceKey
    assert json.loads(result.variables) == {"order": 7, "shipped": True}


async def test_a_child_instance_cannot_be_cancelled_on_its_own(client: Client) -> None:
    await _deploy_both(client)
    parent = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="parent", version=-1))
    [job] = await client.activate("child-work")
    with pytest.raises(grpc.RpcError) as error:
        await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
            processInstanceKey=job.processInstanceKey))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"Cancel the root process instance '{parent.processInstanceKey}' instead." in error.value.details()
    await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
        processInstanceKey=parent.processInstanceKey))
    with pytest.raises(grpc.RpcError) as completed:
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))
    assert completed.value.code() == grpc.StatusCode.NOT_FOUND  # the child's job went with it
