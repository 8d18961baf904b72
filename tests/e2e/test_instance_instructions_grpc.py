"""Start instructions and ModifyProcessInstance through a real gRPC client (grpcio with pyzeebe's
stubs) over loopback: an instance started at a given element, with and without an awaited result;
a modification that activates an element with a variable and terminates another; and Zeebe's
rejections arriving as Zeebe's gateway maps them (INVALID_ARGUMENT, NOT_FOUND)."""

from __future__ import annotations

import json

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b

from .conftest import Client

TWO = b.process("two_steps", b.start(), b.flow("to_a", "start", "A"), b.service_task("A", "step-a"),
                b.flow("to_b", "A", "B"), b.service_task("B", "step-b"), b.flow("to_end", "B", "end"), b.end())


async def test_an_instance_started_at_the_second_task_skips_the_first(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="two_steps", version=-1, variables='{"n": 1}',
        startInstructions=[pb.ProcessInstanceCreationStartInstruction(elementId="B")]))
    assert created.processInstanceKey > 0
    assert await client.activate("step-a", request_timeout_ms=100) == []
    [job] = await client.activate("step-b", request_timeout_ms=10_000)
    assert job.processInstanceKey == created.processInstanceKey and json.loads(job.variables) == {"n": 1}


async def test_an_instance_started_at_its_end_event_returns_its_result(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    result = await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(
            bpmnProcessId="two_steps", version=-1, variables='{"done": true}',
            startInstructions=[pb.ProcessInstanceCreationStartInstruction(elementId="end")]),
        requestTimeout=10_000))
    assert json.loads(result.variables) == {"done": True}


async def test_a_start_instruction_at_an_unknown_element_is_invalid_argument(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    with pytest.raises(grpc.RpcError) as error:
        await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="two_steps", version=-1,
            startInstructions=[pb.ProcessInstanceCreationStartInstruction(elementId="missing")]))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == ("Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to create instance of process with start instructions but no element"
                                     " found with id 'missing'.")


async def test_a_modification_moves_the_token_from_the_first_task_to_the_second(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="two_steps", version=-1))
    [first] = await client.activate("step-a", request_timeout_ms=10_000)
    await client.call("ModifyProcessInstance", pb.ModifyProcessInstanceRequest(
        processInstanceKey=created.processInstanceKey, operationReference=42,
        activateInstructions=[pb.ModifyProcessInstanceRequest.ActivateInstruction(
            elementId="B", variableInstructions=[pb.ModifyProcessInstanceRequest.VariableInstruction(
                variables='{"moved": true}')])],
        terminateInstructions=[pb.ModifyProcessInstanceRequest.TerminateInstruction(
            elementInstanceKey=first.elementInstanceKey)]))
    [second] = await client.activate("step-b", request_timeout_ms=10_000)
    assert json.loads(second.variables) == {"moved": True}
    with pytest.raises(grpc.RpcError) as gone:  # the first task's job was canceled with it
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=first.key))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=second.key))


async def test_modification_rejections_keep_zeebes_status_codes(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="two_steps", version=-1))
    with pytest.raises(grpc.RpcError) as unknown_element:
        await client.call("ModifyProcessInstance", pb.ModifyProcessInstanceRequest(
            processInstanceKey=created.processInstanceKey,
            activateInstructions=[pb.ModifyProcessInstanceRequest.ActivateInstruction(elementId="nope")]))
    assert unknown_element.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert unknown_element.value.details() == (
        "Command 'MODIFY' rejected with code 'INVALID_ARGUMENT': Expected to modify instance of process 'two_steps' but it contains one or more activate instructions with"
        " an element that could not be found: 'nope'")
    missing = created.processInstanceKey + 1000
    with pytest.raises(grpc.RpcError) as unknown_instance:
        await client.call("ModifyProcessInstance", pb.ModifyProcessInstanceRequest(processInstanceKey=missing))
    assert unknown_instance.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown_instance.value.details() == (
        f"Command 'MODIFY' rejected with code 'NOT_FOUND': Expected to modify process instance but no process instance found with key '{missing}'")
