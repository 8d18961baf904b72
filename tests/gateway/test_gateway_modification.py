"""ModifyProcessInstance in the gateway: the request becomes a PROCESS_INSTANCE_MODIFICATION MODIFY
command on the instance's partition (keys and variable documents mapped as Zeebe's gateway maps
them), and a rejection keeps Zeebe's status code."""

from __future__ import annotations

import grpc
import pytest
from pyzeebe.proto import gateway_pb2

from zeebe_trio.protocol import ProcessInstanceModificationIntent, RejectionType, ValueType, encode_key

MOD = ValueType.PROCESS_INSTANCE_MODIFICATION
Request = gateway_pb2.ModifyProcessInstanceRequest


async def test_a_modification_is_sent_to_the_instances_partition_with_its_instructions(gateway):
    broker = gateway.broker
    broker.respond(MOD, ProcessInstanceModificationIntent.MODIFY,
                   lambda p, c: broker.event(c, ProcessInstanceModificationIntent.MODIFIED, c.value, key=c.key))
    key = encode_key(2, 40)
    response = await gateway.call("ModifyProcessInstance", Request(
        processInstanceKey=key, operationReference=7,
        activateInstructions=[
            Request.ActivateInstruction(elementId="task", ancestorElementInstanceKey=encode_key(2, 41),
                                        variableInstructions=[Request.VariableInstruction(variables='{"x": 1}',
                                                                                          scopeId="sub")]),
            Request.ActivateInstruction(elementId="other")],
        terminateInstructions=[Request.TerminateInstruction(elementInstanceKey=encode_key(2, 42))]))
    assert response == gateway_pb2.ModifyProcessInstanceResponse()
    [(partition_id, command)] = broker.commands
    assert (partition_id, command.key, command.intent) == (2, key, ProcessInstanceModificationIntent.MODIFY)
    assert command.value == {
        "processInstanceKey": key,
        "activateInstructions": [
            {"elementId": "task", "ancestorScopeKey": encode_key(2, 41),
             "variableInstructions": [{"variables": {"x": 1}, "elementId": "sub"}]},
            {"elementId": "other", "ancestorScopeKey": -1, "variableInstructions": []}],
        "terminateInstructions": [{"elementInstanceKey": encode_key(2, 42)}],
    }


async def test_a_variable_instruction_that_is_not_json_is_invalid_argument(gateway):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("ModifyProcessInstance", Request(
            processInstanceKey=encode_key(1, 5),
            activateInstructions=[Request.ActivateInstruction(
                elementId="task", variableInstructions=[Request.VariableInstruction(variables="{nope")])]))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert gateway.broker.commands == []


async def test_a_rejected_modification_keeps_zeebes_status(gateway):
    broker = gateway.broker
    broker.respond(MOD, ProcessInstanceModificationIntent.MODIFY,
                   lambda p, c: broker.rejection(c, RejectionType.NOT_FOUND, "no such instance"))
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("ModifyProcessInstance", Request(processInstanceKey=encode_key(1, 5)))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "Command 'MODIFY' rejected with code 'NOT_FOUND': no such instance"
