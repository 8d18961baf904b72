"""CreateProcessInstance and CreateProcessInstanceWithResult with ``runtimeInstructions`` over real gRPC
(grpcio on loopback, messages from our generated gateway protocol: pyzeebe's stubs predate the field):
an instance terminated once the element the instruction names has completed, one that never reaches it
and answers with its result, and an unknown ``afterElementId`` rejected as Zeebe's gateway maps it."""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar

import betterproto
import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.broker import Broker
from zeebe_trio.gateway._generated import gateway_protocol as zb
from zeebe_trio.protocol import ProcessInstanceIntent, RecordType, RuntimeInstructionIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b

from .conftest import Client

R = TypeVar("R", bound=betterproto.Message)

TWO = b.process("two_steps", b.start(), b.flow("to_a", "start", "A"), b.service_task("A", "step-a"),
                b.flow("to_b", "A", "B"), b.service_task("B", "step-b"), b.flow("to_end", "B", "end"), b.end())


async def _call(client: Client, rpc: str, request: betterproto.Message, response: type[R]) -> R:
    method = client.channel.unary_unary(
        f"/gateway_protocol.Gateway/{rpc}", request_serializer=bytes,
        response_deserializer=lambda data: response().parse(data))
    return await trio.to_thread.run_sync(functools.partial(method, request, timeout=20.0))  # type: ignore[no-any-return]


def _terminate_after(element_id: str) -> zb.ProcessInstanceCreationRuntimeInstruction:
    return zb.ProcessInstanceCreationRuntimeInstruction(
        terminate=zb.TerminateProcessInstanceInstruction(after_element_id=element_id))


async def _wait_for(broker: Broker, predicate: Any) -> Any:
    with trio.fail_after(10):
        return await BrokerHarness(broker).wait_for_record(predicate)


async def test_an_instance_created_with_a_terminate_instruction_ends_once_that_element_completed(
        broker: Broker, client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    created = await _call(client, "CreateProcessInstance", zb.CreateProcessInstanceRequest(
        bpmn_process_id="two_steps", version=-1, runtime_instructions=[_terminate_after("A")]),
        zb.CreateProcessInstanceResponse)
    pik = created.process_instance_key
    [job] = await client.activate("step-a", request_timeout_ms=10_000)
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))
    interrupted = await _wait_for(broker, lambda r: r.value_type is ValueType.RUNTIME_INSTRUCTION)
    assert interrupted.intent is RuntimeInstructionIntent.INTERRUPTED and interrupted.key == pik
    assert interrupted.value["elementId"] == "A"
    await _wait_for(broker, lambda r: r.intent is ProcessInstanceIntent.ELEMENT_TERMINATED and r.key == pik)
    assert await client.activate("step-b", request_timeout_ms=200) == []  # the second task never ran
    creation = next(r for r in BrokerHarness(broker).records()
                    if r.value_type is ValueType.PROCESS_INSTANCE_CREATION and r.record_type is RecordType.EVENT)
    assert creation.value["runtimeInstructions"] == [{"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": "A"}]


CHOICE = b.process(
    "choice", b.start(), b.flow("f0", "start", "which"), '<bpmn:exclusiveGateway id="which" default="to_end"/>',
    b.flow("to_end", "which", "end"), b.end(),
    b.flow("to_never", "which", "never", condition="=false"), '<bpmn:manualTask id="never"/>',
    b.flow("f1", "never", "never_end"), b.end("never_end"))


async def test_an_instance_awaited_with_result_that_never_reaches_the_element_answers_with_its_result(
        client: Client) -> None:
    await client.deploy("choice.bpmn", CHOICE)
    result = await _call(client, "CreateProcessInstanceWithResult", zb.CreateProcessInstanceWithResultRequest(
        request=zb.CreateProcessInstanceRequest(
            bpmn_process_id="choice", version=-1, variables='{"n": 1}',
            runtime_instructions=[_terminate_after("never")]),
        request_timeout=10_000), zb.CreateProcessInstanceWithResultResponse)
    assert result.process_instance_key > 0 and result.bpmn_process_id == "choice"
    assert json.loads(result.variables) == {"n": 1}


async def test_an_unknown_after_element_id_is_invalid_argument(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    with pytest.raises(grpc.RpcError) as error:
        await _call(client, "CreateProcessInstance", zb.CreateProcessInstanceRequest(
            bpmn_process_id="two_steps", version=-1, runtime_instructions=[_terminate_after("missing")]),
            zb.CreateProcessInstanceResponse)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == (
        "Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to create instance of process with"
        " runtime instructions but no element found with id 'missing' in process definition 'two_steps'.")


async def test_an_instruction_that_sets_no_terminate_is_invalid_argument(client: Client) -> None:
    await client.deploy("two.bpmn", TWO)
    with pytest.raises(grpc.RpcError) as error:
        await _call(client, "CreateProcessInstance", zb.CreateProcessInstanceRequest(
            bpmn_process_id="two_steps", version=-1,
            runtime_instructions=[zb.ProcessInstanceCreationRuntimeInstruction()]),
            zb.CreateProcessInstanceResponse)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "INSTRUCTION_NOT_SET" in error.value.details()
