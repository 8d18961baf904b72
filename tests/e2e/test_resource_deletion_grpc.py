"""DeleteResource through a real gRPC client (grpcio with pyzeebe's stubs) over loopback: deleting
the latest version of a process makes the previous one answer CreateProcessInstance by id again and
the deleted key NOT_FOUND; a process with a running instance answers FAILED_PRECONDITION with Zeebe's
reason; decisions and forms are deleted by their keys; an unknown key is NOT_FOUND."""

from __future__ import annotations

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_decisions import dmn, literal_decision
from zeebe_trio.testing.bpmn_forms import form

from .conftest import Client


def order(task: str) -> bytes:
    return b.process("order", b.start(), b.flow("f1", "start", task), b.service_task(task, task),
                     b.flow("f2", task, "end"), b.end())


async def deploy_process(client: Client, content: bytes) -> int:
    deployed = await client.deploy("order.bpmn", content)
    [metadata] = [d.process for d in deployed.deployments]
    return int(metadata.processDefinitionKey)


async def test_deleting_the_latest_version_falls_back_to_the_previous_one(client: Client) -> None:
    v1 = await deploy_process(client, order("one"))
    v2 = await deploy_process(client, order("two"))
    assert await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=v2)) == pb.DeleteResourceResponse()
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="order", version=-1))
    assert (created.processDefinitionKey, created.version) == (v1, 1)
    with pytest.raises(grpc.RpcError) as gone:
        await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(processDefinitionKey=v2))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_process_with_a_running_instance_is_failed_precondition(client: Client) -> None:
    key = await deploy_process(client, order("one"))
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="order",
                                                                                       version=-1))
    with pytest.raises(grpc.RpcError) as refused:
        await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=key))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == (
        f"Command 'DELETE' rejected with code 'INVALID_STATE': Expected to delete resource with key `{key}`"
        " but there are still running instances")
    await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
        processInstanceKey=created.processInstanceKey))
    await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=key))


async def test_decision_requirements_and_forms_are_deleted_by_their_keys(client: Client) -> None:
    decisions = await client.deploy("d.dmn", dmn(literal_decision("a", '"one"')))
    graph_key = decisions.deployments[1].decisionRequirements.decisionRequirementsKey
    await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=graph_key))
    with pytest.raises(grpc.RpcError) as no_decision:
        await client.call("EvaluateDecision", pb.EvaluateDecisionRequest(decisionId="a"))
    assert "no decision found for id 'a'" in (no_decision.value.details() or "")
    forms = await client.deploy("f.form", form("f"))
    await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=forms.deployments[0].form.formKey))
    with pytest.raises(grpc.RpcError) as twice:
        await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=forms.deployments[0].form.formKey))
    assert twice.value.code() == grpc.StatusCode.NOT_FOUND


async def test_deleting_an_unknown_key_is_not_found(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        await client.call("DeleteResource", pb.DeleteResourceRequest(resourceKey=2251799813685999))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == (
        "Command 'DELETE' rejected with code 'NOT_FOUND': Expected to delete resource but no resource found"
        " with key `2251799813685999`")
