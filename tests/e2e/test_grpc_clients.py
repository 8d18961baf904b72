"""Real Zeebe gRPC clients drive a real broker over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import one_task_bpmn

from .conftest import Client

GATEWAYS = (Path(__file__).parent.parent / "broker" / "gateways.bpmn").read_bytes()


async def test_topology_reports_one_healthy_leader_partition(client: Client) -> None:
    topology = await client.call("Topology", pb.TopologyRequest())
    [broker] = topology.brokers
    [partition] = broker.partitions
    assert (topology.clusterSize, topology.partitionsCount, topology.replicationFactor) == (1, 1, 1)
    assert partition.partitionId == 1
    assert partition.role == pb.Partition.PartitionBrokerRole.LEADER
    assert partition.health == pb.Partition.PartitionBrokerHealth.HEALTHY
    assert topology.gatewayVersion


async def test_deploy_create_and_complete_through_an_exclusive_and_a_parallel_gateway(client: Client) -> None:
    deployed = await client.deploy("gateways.bpmn", GATEWAYS)
    [deployment] = deployed.deployments
    assert deployment.process.bpmnProcessId == "gateways" and deployment.process.version == 1
    assert deployed.key == 2251799813685249
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="gateways", version=-1, variables=json.dumps({"amount": 250})))
    [check] = await client.activate("check")
    assert json.loads(check.variables) == {"amount": 250}
    assert json.loads(check.customHeaders) == {}
    assert check.processInstanceKey == instance.processInstanceKey
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=check.key, variables=json.dumps({"ok": True})))
    [a] = await client.activate("branch-a")
    [b] = await client.activate("branch-b")
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=a.key))
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=b.key))
    [after] = await client.activate("after-join")
    assert json.loads(after.variables) == {"amount": 250, "ok": True}
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=after.key))


async def test_create_with_result_waits_for_the_worker(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "calc"))
    results = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables='{"a": 2}'),
            requestTimeout=20_000, fetchVariables=["sum"])))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        [job] = await client.activate("calc", request_timeout_ms=10_000)  # long polling until the job exists
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables='{"sum": 4, "tmp": 1}'))
    [result] = results
    assert json.loads(result.variables) == {"sum": 4}
    assert result.bpmnProcessId == "p"


async def test_fail_raises_an_incident_and_resolve_after_retries_update_reactivates(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "flaky"))
    await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    [job] = await client.activate("flaky")
    await client.call("FailJob", pb.FailJobRequest(jobKey=job.key, retries=0, errorMessage="down"))
    assert await client.activate("flaky") == []
    incident_key = await _incident_key(client, job)
    await client.call("UpdateJobRetries", pb.UpdateJobRetriesRequest(jobKey=job.key, retries=2))
    await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident_key))
    [again] = await client.activate("flaky")
    assert again.key == job.key and again.retries == 2


async def _incident_key(client: Client, job: pb.ActivatedJob) -> int:
    """Incident keys are not returned by the gateway API; find it by resolving candidates is not
    possible either, so read it from the broker's log through the test's broker handle."""
    broker = client.broker  # type: ignore[attr-defined]
    from zeebe_trio.protocol import IncidentIntent, ValueType

    for record in broker.partitions[1].log_stream.read_after(-1, 10**9):
        if record.value_type is ValueType.INCIDENT and record.intent is IncidentIntent.CREATED \
                and record.value["jobKey"] == job.key:
            return int(record.key)
    raise AssertionError("no incident was created")


async def test_cancel_terminates_the_instance(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "never"))
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
        processInstanceKey=instance.processInstanceKey))
    assert await client.activate("never") == []
    with pytest.raises(grpc.RpcError) as error:
        await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(
            processInstanceKey=instance.processInstanceKey))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert str(instance.processInstanceKey) in error.value.details()


async def test_set_variables_are_visible_to_the_next_job(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "reader"))
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"a": 1}'))
    response = await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=instance.processInstanceKey, variables='{"b": {"c": [1, 2]}}', local=False))
    assert response.key > 0
    [job] = await client.activate("reader")
    assert json.loads(job.variables) == {"a": 1, "b": {"c": [1, 2]}}


@pytest.mark.parametrize(("rpc", "request_", "code", "words"), [
    ("CompleteJob", pb.CompleteJobRequest(jobKey=2251799813685999), grpc.StatusCode.NOT_FOUND, "no such job"),
    ("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="missing", version=-1),
     grpc.StatusCode.NOT_FOUND, "missing"),
    ("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1, variables="[1]"),
     grpc.StatusCode.INVALID_ARGUMENT, "variables"),
    ("DeployResource", pb.DeployResourceRequest(resources=[pb.Resource(name="x.bpmn", content=b"\x00garbage")]),
     grpc.StatusCode.INVALID_ARGUMENT, "x.bpmn"),
])
async def test_bad_requests_get_zeebes_status_codes_with_a_message(client: Client, rpc, request_, code, words) -> None:  # type: ignore[no-untyped-def]
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    with pytest.raises(grpc.RpcError) as error:
        await client.call(rpc, request_)
    assert error.value.code() == code
    assert words in error.value.details()


async def test_the_older_deploy_process_rpc_and_creating_by_key_and_by_version(client: Client) -> None:
    v1 = await client.call("DeployProcess", pb.DeployProcessRequest(
        processes=[pb.ProcessRequestObject(name="p.bpmn", definition=one_task_bpmn("p", "v1"))]))
    v2 = await client.deploy("p.bpmn", one_task_bpmn("p", "v2"))
    [meta1] = v1.processes
    assert (meta1.bpmnProcessId, meta1.version) == ("p", 1)
    assert v2.deployments[0].process.version == 2
    by_key = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        processDefinitionKey=meta1.processDefinitionKey))
    by_version = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=1))
    latest = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    assert by_key.version == by_version.version == 1 and latest.version == 2
    assert len(await client.activate("v1")) == 2 and len(await client.activate("v2")) == 1


async def test_set_variables_local_stays_in_its_scope_and_fetch_variable_limits_what_a_job_sees(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "scoped"))
    instance = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"a": 1, "b": 2}'))
    [job] = await client.activate("scoped")
    await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=job.elementInstanceKey, variables='{"a": 10, "local": true}', local=True))
    await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=job.elementInstanceKey, variables='{"b": 20}', local=False))
    await client.call("FailJob", pb.FailJobRequest(jobKey=job.key, retries=1))
    responses = await client.stream("ActivateJobs", pb.ActivateJobsRequest(
        type="scoped", worker="e2e", timeout=60_000, maxJobsToActivate=1, requestTimeout=-1,
        fetchVariable=["a", "b"]))
    [again] = [j for r in responses for j in r.jobs]
    assert json.loads(again.variables) == {"a": 10, "b": 20}  # the task's local a shadows the instance's
    result_a = await _instance_variable(client, instance.processInstanceKey, "a")
    assert result_a == "1"  # the local update never reached the instance scope


async def _instance_variable(client: Client, instance_key: int, name: str) -> str:
    from zeebe_trio.protocol import ValueType, VariableIntent

    broker = client.broker  # type: ignore[attr-defined]
    values = [r.value["value"] for r in broker.partitions[1].log_stream.read_after(-1, 10**9)
              if r.value_type is ValueType.VARIABLE and r.intent in (VariableIntent.CREATED, VariableIntent.UPDATED)
              and r.value["scopeKey"] == instance_key and r.value["name"] == name]
    return str(values[-1])


async def test_a_thrown_bpmn_error_without_a_catch_event_raises_an_unhandled_error_incident(client: Client) -> None:
    from zeebe_trio.protocol import IncidentIntent, ValueType

    await client.deploy("p.bpmn", one_task_bpmn("p", "thrower"))
    await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    [job] = await client.activate("thrower")
    await client.call("ThrowError", pb.ThrowErrorRequest(jobKey=job.key, errorCode="NOT_PAID", errorMessage="no money"))
    broker = client.broker  # type: ignore[attr-defined]
    [incident] = [r for r in broker.partitions[1].log_stream.read_after(-1, 10**9)
                  if r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED]
    assert incident.value["errorType"] == "UNHANDLED_ERROR_EVENT"
    assert "NOT_PAID" in incident.value["errorMessage"]
    with pytest.raises(grpc.RpcError) as error:
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
