"""MigrateProcessInstance through a real gRPC client (grpcio with pyzeebe's stubs) over loopback:
an instance started on version 1 of a process, waiting at a service task, moves to version 2 and
finishes on version 2's path; a migration without a mapping for the waiting task answers
FAILED_PRECONDITION with Zeebe's reason; a message catch event migrated with its subscription takes
the message published afterwards on version 2's path."""

from __future__ import annotations

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.protocol import ProcessMessageSubscriptionIntent, ValueType
from zeebe_trio.testing import BrokerHarness
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


WAIT_V1 = b.process("payment", b.start(), b.flow("to_wait", "start", "paid"),
                    '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="msg"/>'
                    '</bpmn:intermediateCatchEvent>', b.flow("to_end", "paid", "end"), b.end(),
                    definitions='<bpmn:message id="msg" name="payment-received"><bpmn:extensionElements>'
                                '<zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>')
WAIT_V2 = b.process("payment", b.start(), b.flow("to_wait", "start", "paid_v2"),
                    '<bpmn:intermediateCatchEvent id="paid_v2"><bpmn:messageEventDefinition messageRef="msg"/>'
                    '</bpmn:intermediateCatchEvent>', b.flow("to_ship", "paid_v2", "ship"),
                    b.service_task("ship", "ship"), b.flow("to_end", "ship", "end"), b.end(),
                    definitions='<bpmn:message id="msg" name="payment-received"><bpmn:extensionElements>'
                                '<zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>')


async def test_a_waiting_message_catch_event_keeps_its_subscription_and_the_message_reaches_version_2(
        client: Client) -> None:
    await client.deploy("payment.bpmn", WAIT_V1)
    deployed = await client.deploy("payment.bpmn", WAIT_V2)
    [v2] = [int(d.process.processDefinitionKey) for d in deployed.deployments]
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="payment", version=1, variables='{"orderId": "order-7"}'))
    # the subscription is open on the message's partition before the migration moves it
    with trio.fail_after(10):
        await BrokerHarness(client.broker).wait_for_record(  # type: ignore[attr-defined]
            lambda r: r.value_type is ValueType.PROCESS_MESSAGE_SUBSCRIPTION
            and r.intent is ProcessMessageSubscriptionIntent.CREATED)
    await client.call("MigrateProcessInstance", pb.MigrateProcessInstanceRequest(
        processInstanceKey=created.processInstanceKey,
        migrationPlan=Plan(targetProcessDefinitionKey=v2,
                           mappingInstructions=[Mapping(sourceElementId="paid", targetElementId="paid_v2")])))
    await client.call("PublishMessage", pb.PublishMessageRequest(
        name="payment-received", correlationKey="order-7", timeToLive=60_000))
    [ship] = await client.activate("ship", request_timeout_ms=10_000)  # version 2's path after the message
    assert (ship.processInstanceKey, ship.processDefinitionVersion) == (created.processInstanceKey, 2)
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=ship.key))
