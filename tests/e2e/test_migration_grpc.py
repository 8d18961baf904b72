"""MigrateProcessInstance through a real gRPC client (grpcio with pyzeebe's stubs) over loopback:
an instance started on version 1 of a process, waiting at a service task, moves to version 2 and
finishes on version 2's path; a migration without a mapping for the waiting task answers
FAILED_PRECONDITION with Zeebe's reason."""

from __future__ import annotations

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b

from .conftest import Client

V1 = b.process("order", b.start(), b.flow("to_charge", "start", "charge"), b.service_task("charge", "charge"),
               b.flow("to_end", "charge", "end"), b.end())
V2 = b.process("order", b.start(), b.flow("to_charge", "start", "charge_card"), b.service_task("charge_card", "charge"),
               b.flow("to_ship", "charge_card", "ship"), b.service_task("ship", "ship"), b.flow("to_end", "ship", "end"),
               b.end())

Plan = pb.MigrateProcessInstanceRequest.MigrationPlan
Mapping = pb.MigrateProcessInstanceRequest.MappingInstruction


async def deploy_both(client: Client) -> int:
    await client.deploy("order.bpmn", V1)
    deployed = await client.deploy("order.bpmn", V2)
    [metadata] = [d.process for d in deployed.deployments]
    assert metadata.version == 2
    return int(metadata.processDefinitionKey)


async def test_an_instance_moves_from_version_1_to_version_2_and_finishes_on_its_path(client: Client) -> None:
    v2 = await deploy_both(client)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="order", version=1))
    assert created.version == 1
    await client.call("MigrateProcessInstance", pb.MigrateProcessInstanceRequest(
        processInstanceKey=created.processInstanceKey,
        migrationPlan=Plan(targetProcessDefinitionKey=v2,
                           mappingInstructions=[Mapping(sourceElementId="charge", targetElementId="charge_card")])))
    [charge] = await client.activate("charge", request_timeout_ms=10_000)
    assert (charge.processDefinitionKey, charge.processDefinitionVersion, charge.elementId) == (v2, 2, "charge_card")
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=charge.key))
    [ship] = await client.activate("ship", request_timeout_ms=10_000)  # only version 2 has this task
    assert ship.processInstanceKey == created.processInstanceKey
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=ship.key))
    with pytest.raises(grpc.RpcError) as finished:  # the instance completed: nothing left to cancel
        await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
            processInstanceKey=created.processInstanceKey))
    assert finished.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_migration_without_a_mapping_for_the_waiting_task_is_failed_precondition(client: Client) -> None:
    v2 = await deploy_both(client)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="order", version=1))
    with pytest.raises(grpc.RpcError) as refused:
        await client.call("MigrateProcessInstance", pb.MigrateProcessInstanceRequest(
            processInstanceKey=created.processInstanceKey, migrationPlan=Plan(targetProcessDefinitionKey=v2)))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == (
        f"Command 'MIGRATE' rejected with code 'INVALID_STATE': Expected to migrate process instance"
        f" '{created.processInstanceKey}' but no mapping instruction defined for active element with id 'charge'."
        " Elements cannot be migrated without a mapping.")
    [charge] = await client.activate("charge", request_timeout_ms=10_000)  # still on version 1
    assert charge.processDefinitionVersion == 1 and charge.elementId == "charge"


async def test_migrating_an_unknown_instance_is_not_found(client: Client) -> None:
    v2 = await deploy_both(client)
    with pytest.raises(grpc.RpcError) as missing:
        await client.call("MigrateProcessInstance", pb.MigrateProcessInstanceRequest(
            processInstanceKey=2251799813685999, migrationPlan=Plan(targetProcessDefinitionKey=v2)))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
