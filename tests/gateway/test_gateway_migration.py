"""MigrateProcessInstance in the gateway: the request becomes a PROCESS_INSTANCE_MIGRATION MIGRATE
command on the instance's partition (the migration plan flattened into the record as Zeebe's
``ProcessInstanceMigrationRecord`` holds it), and a rejection keeps Zeebe's status code."""

from __future__ import annotations

import grpc
import pytest
from pyzeebe.proto import gateway_pb2

from zeebe_trio.protocol import ProcessInstanceMigrationIntent, RejectionType, ValueType, encode_key

MIG = ValueType.PROCESS_INSTANCE_MIGRATION
Request = gateway_pb2.MigrateProcessInstanceRequest


async def test_a_migration_is_sent_to_the_instances_partition_with_its_plan(gateway):
    broker = gateway.broker
    broker.respond(MIG, ProcessInstanceMigrationIntent.MIGRATE,
                   lambda p, c: broker.event(c, ProcessInstanceMigrationIntent.MIGRATED, c.value, key=c.key))
    key = encode_key(2, 40)
    response = await gateway.call("MigrateProcessInstance", Request(
        processInstanceKey=key, operationReference=7,
        migrationPlan=Request.MigrationPlan(
            targetProcessDefinitionKey=encode_key(1, 9),
            mappingInstructions=[Request.MappingInstruction(sourceElementId="a", targetElementId="a2"),
                                 Request.MappingInstruction(sourceElementId="sub", targetElementId="sub")])))
    assert response == gateway_pb2.MigrateProcessInstanceResponse()
    [(partition_id, command)] = broker.commands
    assert (partition_id, command.key, command.intent) == (2, key, ProcessInstanceMigrationIntent.MIGRATE)
    assert command.value == {
        "processInstanceKey": key,
        "targetProcessDefinitionKey": encode_key(1, 9),
        "mappingInstructions": [{"sourceElementId": "a", "targetElementId": "a2"},
                                {"sourceElementId": "sub", "targetElementId": "sub"}],
    }


@pytest.mark.parametrize(("rejection", "status"), [
    (RejectionType.NOT_FOUND, grpc.StatusCode.NOT_FOUND),
    (RejectionType.INVALID_ARGUMENT, grpc.StatusCode.INVALID_ARGUMENT),
    (RejectionType.INVALID_STATE, grpc.StatusCode.FAILED_PRECONDITION),
])
async def test_a_rejected_migration_keeps_zeebes_status(gateway, rejection, status):
    broker = gateway.broker
    broker.respond(MIG, ProcessInstanceMigrationIntent.MIGRATE,
                   lambda p, c: broker.rejection(c, rejection, "no way"))
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("MigrateProcessInstance", Request(processInstanceKey=encode_key(1, 5)))
    assert caught.value.code() is status
    assert caught.value.details() == f"Command 'MIGRATE' rejected with code '{rejection.name}': no way"
