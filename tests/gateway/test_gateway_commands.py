"""Unary RPCs end to end: request mapping, routing, response mapping, error statuses (real grpcio client)."""

from __future__ import annotations

import json

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2

from zeebe_trio.gateway import BrokerError, message_partition
from zeebe_trio.gateway._routing import java_string_hash
from zeebe_trio.protocol import (
    DeploymentIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
    encode_key,
)

DEPLOYMENT_KEY = encode_key(1, 10)
JOB_KEY_ON_2 = encode_key(2, 77)


def _deployment_created(broker, partition_id, command):
    resource = command.value["resources"][0]
    return broker.event(
        command,
        DeploymentIntent.CREATED,
        {
            "resources": command.value["resources"],
            "processesMetadata": [
                {
                    "bpmnProcessId": "order",
                    "version": 3,
                    "processDefinitionKey": encode_key(1, 11),
                    "resourceName": resource["resourceName"],
                    "checksum": b"",
                    "isDuplicate": False,
                    "tenantId": "<default>",
                }
            ],
            "decisionsMetadata": [],
            "decisionRequirementsMetadata": [],
            "formMetadata": [],
            "tenantId": command.value["tenantId"],
        },
        key=DEPLOYMENT_KEY,
    )


async def test_deploy_resource_sends_one_create_to_partition_one_and_maps_process_metadata(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.DEPLOYMENT, DeploymentIntent.CREATE, lambda p, c: _deployment_created(broker, p, c)
    )

    response = await gateway.call(
        "DeployResource",
        gateway_pb2.DeployResourceRequest(
            resources=[gateway_pb2.Resource(name="order.bpmn", content=b"<xml/>")]
        ),
    )

    ((partition_id, command),) = broker.commands
    assert partition_id == 1
    assert command.value == {
        "resources": [{"resourceName": "order.bpmn", "resource": b"<xml/>"}],
        "tenantId": "<default>",
    }
    assert response.key == DEPLOYMENT_KEY
    assert response.tenantId == "<default>"
    (deployment,) = response.deployments
    assert deployment.WhichOneof("Metadata") == "process"
    assert (deployment.process.bpmnProcessId, deployment.process.version) == ("order", 3)
    assert deployment.process.processDefinitionKey == encode_key(1, 11)
    assert deployment.process.resourceName == "order.bpmn"


async def test_deprecated_deploy_process_maps_to_the_same_command_and_answers_processes(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.DEPLOYMENT, DeploymentIntent.CREATE, lambda p, c: _deployment_created(broker, p, c)
    )

    response = await gateway.call(
        "DeployProcess",
        gateway_pb2.DeployProcessRequest(
            processes=[gateway_pb2.ProcessRequestObject(name="a.bpmn", definition=b"x")]
        ),
    )

    assert broker.commands[0][1].value["resources"] == [{"resourceName": "a.bpmn", "resource": b"x"}]
    assert response.key == DEPLOYMENT_KEY
    assert [p.bpmnProcessId for p in response.processes] == ["order"]


def _instance_created(broker, partition_id, command):
    value = command.value
    return broker.event(
        command,
        ProcessInstanceCreationIntent.CREATED,
        {
            **value,
            "bpmnProcessId": value["bpmnProcessId"] or "order",
            "version": 3,
            "processDefinitionKey": encode_key(1, 11),
            "processInstanceKey": encode_key(partition_id, 500),
        },
        key=encode_key(partition_id, 500),
    )


async def test_create_process_instance_round_robins_over_partitions_and_maps_the_instance(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.PROCESS_INSTANCE_CREATION,
        ProcessInstanceCreationIntent.CREATE,
        lambda p, c: _instance_created(broker, p, c),
    )

    responses = [
        await gateway.call(
            "CreateProcessInstance",
            gateway_pb2.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1, variables='{"a": 1}'),
        )
        for _ in range(3)
    ]

    assert [partition_id for partition_id, _ in broker.commands] == [1, 2, 3]
    assert broker.commands[0][1].value == {
        "bpmnProcessId": "order",
        "version": -1,
        "processDefinitionKey": -1,
        "variables": {"a": 1},
        "startInstructions": [],
        "runtimeInstructions": [],
        "fetchVariables": [],
        "tenantId": "<default>",
    }
    assert [r.processInstanceKey for r in responses] == [encode_key(p, 500) for p in (1, 2, 3)]
    assert (responses[0].bpmnProcessId, responses[0].version, responses[0].tenantId) == (
        "order",
        3,
        "<default>",
    )


async def test_create_process_instance_by_definition_key(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.PROCESS_INSTANCE_CREATION,
        ProcessInstanceCreationIntent.CREATE,
        lambda p, c: _instance_created(broker, p, c),
    )

    await gateway.call(
        "CreateProcessInstance",
        gateway_pb2.CreateProcessInstanceRequest(processDefinitionKey=encode_key(1, 11)),
    )

    value = broker.commands[0][1].value
    assert (value["processDefinitionKey"], value["bpmnProcessId"], value["version"]) == (
        encode_key(1, 11),
        "",
        -1,
    )
    assert value["variables"] == {}


async def test_start_instructions_are_passed_to_the_creation_command(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.PROCESS_INSTANCE_CREATION,
        ProcessInstanceCreationIntent.CREATE,
        lambda p, c: _instance_created(broker, p, c),
    )
    request = gateway_pb2.CreateProcessInstanceRequest(
        bpmnProcessId="order",
        version=-1,
        startInstructions=[
            gateway_pb2.ProcessInstanceCreationStartInstruction(elementId="task"),
            gateway_pb2.ProcessInstanceCreationStartInstruction(elementId="other"),
        ],
    )
    await gateway.call("CreateProcessInstance", request)
    [(_, command)] = gateway.broker.commands
    assert command.value["startInstructions"] == [{"elementId": "task"}, {"elementId": "other"}]


async def test_create_with_result_waits_for_completion_and_fetches_variables(gateway):
    broker = gateway.broker

    def completed(partition_id, command):
        return broker.event(
            command,
            ProcessInstanceResultIntent.COMPLETED,
            {
                "bpmnProcessId": "order",
                "version": 3,
                "processDefinitionKey": encode_key(1, 11),
                "processInstanceKey": encode_key(partition_id, 9),
                "variables": {"total": 10, "secret": 1},
                "tenantId": "<default>",
            },
        )

    broker.respond(
        ValueType.PROCESS_INSTANCE_CREATION,
        ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT,
        completed,
    )
    request = gateway_pb2.CreateProcessInstanceWithResultRequest(
        request=gateway_pb2.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1),
        requestTimeout=5000,
        fetchVariables=["total"],
    )

    response = await gateway.call("CreateProcessInstanceWithResult", request)

    assert broker.commands[0][1].value["fetchVariables"] == ["total"]
    assert json.loads(response.variables) == {"total": 10}
    assert response.processInstanceKey == encode_key(1, 9)


async def test_create_with_result_honours_its_request_timeout(gateway):
    async def never_completes(partition_id, command):
        await trio.sleep_forever()

    gateway.broker.respond(
        ValueType.PROCESS_INSTANCE_CREATION,
        ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT,
        never_completes,
    )
    request = gateway_pb2.CreateProcessInstanceWithResultRequest(
        request=gateway_pb2.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1),
        requestTimeout=100,
    )

    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("CreateProcessInstanceWithResult", request)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert caught.value.details().startswith("Time out between gateway and broker")


@pytest.mark.parametrize(
    ("rejection_type", "status"),
    [
        (RejectionType.INVALID_STATE, grpc.StatusCode.FAILED_PRECONDITION),
        (RejectionType.NOT_FOUND, grpc.StatusCode.NOT_FOUND),
        (RejectionType.INVALID_ARGUMENT, grpc.StatusCode.INVALID_ARGUMENT),
        (RejectionType.ALREADY_EXISTS, grpc.StatusCode.ALREADY_EXISTS),
        (RejectionType.PROCESSING_ERROR, grpc.StatusCode.INTERNAL),
    ],
)
async def test_a_rejection_keeps_its_type_in_the_status_code_and_its_reason_in_the_message(
    gateway, rejection_type, status
):
    broker = gateway.broker
    reason = f"Expected to complete job with key '{JOB_KEY_ON_2}', but it is in state 'FAILED'"
    broker.respond(
        ValueType.JOB, JobIntent.COMPLETE, lambda p, c: broker.rejection(c, rejection_type, reason)
    )

    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call(
            "CompleteJob", gateway_pb2.CompleteJobRequest(jobKey=JOB_KEY_ON_2, variables='{"x": 1}')
        )

    assert caught.value.code() is status
    assert (
        caught.value.details() == f"Command 'COMPLETE' rejected with code '{rejection_type.name}': {reason}"
    )
    ((partition_id, command),) = broker.commands
    assert (partition_id, command.key, command.value) == (2, JOB_KEY_ON_2, {"variables": {"x": 1}})


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (BrokerError.RESOURCE_EXHAUSTED, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (BrokerError.PARTITION_UNAVAILABLE, grpc.StatusCode.UNAVAILABLE),
        (BrokerError.TIMEOUT, grpc.StatusCode.DEADLINE_EXCEEDED),
        (BrokerError.INTERNAL, grpc.StatusCode.INTERNAL),
    ],
)
async def test_broker_errors_map_to_retryable_statuses(gateway, code, status):
    gateway.broker.respond(
        ValueType.JOB, JobIntent.FAIL, lambda p, c: BrokerError(code, "partition 2 says no")
    )

    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("FailJob", gateway_pb2.FailJobRequest(jobKey=JOB_KEY_ON_2, retries=1))

    assert caught.value.code() is status
    assert "partition 2 says no" in caught.value.details()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            "[1, 2]",
            "Property 'variables' is invalid: Expected document to be a root level object, but was 'ARRAY'",
        ),
        (
            '"text"',
            "Property 'variables' is invalid: Expected document to be a root level object, but was 'STRING'",
        ),
        (
            "{not json",
            "Property 'variables' is invalid: Invalid JSON value: '{not json': Expecting property name enclosed in"
            " double quotes: line 1 column 2 (char 1)",
        ),
        (
            '{"a": "\\ud800"}',
            "Property 'variables' is invalid: the string at variables.a holds the lone surrogate '\\ud800' at index"
            " 0, which is not Unicode text",
        ),
        ('{"a": ' + "[" * 101 + "]" * 101 + "}",
         "Property 'variables' is invalid: the value at …"),
        ('{"a": 1' + "0" * 400 + "}", "Property 'variables' is invalid: Invalid JSON value: '{\"a\": 1000"),
    ],
)
async def test_variables_that_are_not_a_json_object_are_an_invalid_argument(gateway, variables, message):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call(
            "CreateProcessInstance",
            gateway_pb2.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1, variables=variables),
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(message)
    assert gateway.broker.commands == []


async def test_a_key_from_a_partition_the_cluster_does_not_have_is_not_found(gateway):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("CompleteJob", gateway_pb2.CompleteJobRequest(jobKey=encode_key(7, 1)))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert "partition 7" in caught.value.details() and "1..3" in caught.value.details()


async def test_a_key_that_is_not_a_key_is_an_invalid_argument_naming_the_field(gateway):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call("ResolveIncident", gateway_pb2.ResolveIncidentRequest(incidentKey=0))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "'incidentKey'" in caught.value.details()


async def test_cancel_goes_to_the_instance_partition(gateway):
    broker = gateway.broker
    key = encode_key(3, 5)
    broker.respond(
        ValueType.PROCESS_INSTANCE,
        ProcessInstanceIntent.CANCEL,
        lambda p, c: broker.event(c, ProcessInstanceIntent.CANCELING, {}, key=c.key),
    )

    await gateway.call(
        "CancelProcessInstance", gateway_pb2.CancelProcessInstanceRequest(processInstanceKey=key)
    )

    assert [(p, c.key) for p, c in broker.commands] == [(3, key)]


async def test_set_variables_local_and_propagate(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.VARIABLE_DOCUMENT,
        VariableDocumentIntent.UPDATE,
        lambda p, c: broker.event(c, VariableDocumentIntent.UPDATED, c.value, key=encode_key(p, 321)),
    )
    scope = encode_key(2, 40)

    local = await gateway.call(
        "SetVariables",
        gateway_pb2.SetVariablesRequest(elementInstanceKey=scope, variables='{"a": 1}', local=True),
    )
    await gateway.call(
        "SetVariables", gateway_pb2.SetVariablesRequest(elementInstanceKey=scope, variables="")
    )

    assert local.key == encode_key(2, 321)
    assert [(p, c.value) for p, c in broker.commands] == [
        (2, {"scopeKey": scope, "updateSemantics": "LOCAL", "variables": {"a": 1}}),
        (2, {"scopeKey": scope, "updateSemantics": "PROPAGATE", "variables": {}}),
    ]


async def test_publish_message_goes_to_the_partition_of_its_correlation_key(gateway):
    broker = gateway.broker
    broker.respond(
        ValueType.MESSAGE,
        MessageIntent.PUBLISH,
        lambda p, c: broker.event(c, MessageIntent.PUBLISHED, c.value, key=encode_key(p, 1)),
    )

    response = await gateway.call(
        "PublishMessage",
        gateway_pb2.PublishMessageRequest(
            name="paid", correlationKey="order-1", timeToLive=1000, variables='{"x": 1}'
        ),
    )

    expected_partition = message_partition("order-1", [1, 2, 3])
    ((partition_id, command),) = broker.commands
    assert partition_id == expected_partition
    assert command.value == {
        "name": "paid",
        "correlationKey": "order-1",
        "timeToLive": 1000,
        "messageId": "",
        "variables": {"x": 1},
        "tenantId": "<default>",
    }
    assert response.key == encode_key(expected_partition, 1)


def test_message_partition_uses_javas_string_hash_like_zeebe():
    assert java_string_hash(b"hello") == 99162322  # "hello".hashCode()
    assert java_string_hash(b"polygenelubricants") == -(2**31)  # Integer.MIN_VALUE
    assert message_partition("hello", [1, 2, 3]) == 99162322 % 3 + 1
    assert message_partition("polygenelubricants", [1, 2, 3]) == 2**31 % 3 + 1


async def test_a_tenant_other_than_the_default_is_refused_while_multi_tenancy_is_off(gateway):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.call(
            "BroadcastSignal", gateway_pb2.BroadcastSignalRequest(signalName="stop", tenantId="acme")
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "tenant identifier 'acme'" in caught.value.details()
