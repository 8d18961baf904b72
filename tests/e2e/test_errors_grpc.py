"""BPMN errors thrown by a real gRPC worker (the ThrowError RPC): an error boundary event on an embedded
subprocess catches an error thrown from a service task inside it, and the instance completes through
the boundary path with the error's code, message and variables; an error nobody catches is an
incident, and resolving it makes the job activatable again so a worker can finish it."""

from __future__ import annotations

import json

import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.protocol import IncidentIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import bpmn as b

from .conftest import Client

CATCH_DECLINED = ('<bpmn:errorEventDefinition errorRef="err_declined"><bpmn:extensionElements><zeebe:error'
                  ' errorCodeVariable="code" errorMessageVariable="why"/></bpmn:extensionElements>'
                  '</bpmn:errorEventDefinition>')
ORDER = b.process(
    "order", b.start(), b.flow("f1", "start", "payment"),
    b.sub_process("payment", b.start("pay_start"), b.flow("s1", "pay_start", "charge"),
                  b.service_task("charge", "charge"), b.flow("s2", "charge", "pay_end"), b.end("pay_end")),
    b.flow("f2", "payment", "ship"), b.service_task("ship", "ship"), b.flow("f3", "ship", "shipped"),
    b.end("shipped"),
    b.boundary("declined", "payment", CATCH_DECLINED), b.flow("f4", "declined", "cancelled"), b.end("cancelled"),
    definitions='<bpmn:error id="err_declined" errorCode="DECLINED"/>')


async def _create_with_result(client: Client, results: list[pb.CreateProcessInstanceWithResultResponse],
                              variables: str) -> None:
    results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
        request=pb.CreateProcessInstanceRequest(bpmnProcessId="order", version=-1, variables=variables),
        requestTimeout=20_000), timeout=30.0))


def _log(client: Client) -> list:  # type: ignore[type-arg]
    broker = client.broker  # type: ignore[attr-defined]
    return broker.partitions[1].log_stream.read_after(-1, 10**9)  # type: ignore[no-any-return]


async def test_an_error_thrown_inside_a_subprocess_is_caught_by_its_boundary_event(client: Client) -> None:
    await client.deploy("order.bpmn", ORDER)
    results: list[pb.CreateProcessInstanceWithResultResponse] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_create_with_result, client, results, '{"amount": 120}')
        [job] = await client.activate("charge", request_timeout_ms=10_000)
        assert job.elementId == "charge" and json.loads(job.variables) == {"amount": 120}
        await client.call("ThrowError", pb.ThrowErrorRequest(
            jobKey=job.key, errorCode="DECLINED", errorMessage="card declined", variables='{"attempt": 1}'))
    [result] = results
    assert result.processInstanceKey == job.processInstanceKey
    assert json.loads(result.variables) == {"amount": 120, "code": "DECLINED", "why": "card declined",
                                            "attempt": 1}
    completed = [r.value["elementId"] for r in _log(client) if r.value_type is ValueType.PROCESS_INSTANCE
                 and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED]
    terminated = [r.value["elementId"] for r in _log(client) if r.value_type is ValueType.PROCESS_INSTANCE
                  and r.intent is ProcessInstanceIntent.ELEMENT_TERMINATED]
    assert completed == ["start", "pay_start", "declined", "cancelled", "order"]
    assert terminated == ["charge", "payment"]
    assert await client.activate("ship") == []  # the normal path was never taken


async def test_an_uncaught_error_is_an_incident_and_resolving_it_lets_a_worker_finish(client: Client) -> None:
    await client.deploy("order.bpmn", ORDER)
    results: list[pb.CreateProcessInstanceWithResultResponse] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_create_with_result, client, results, '{"amount": 5}')
        [job] = await client.activate("charge", request_timeout_ms=10_000)
        await client.call("ThrowError", pb.ThrowErrorRequest(jobKey=job.key, errorCode="TIMEOUT",
                                                             errorMessage="bank unreachable"))
        [incident] = [r for r in _log(client) if r.value_type is ValueType.INCIDENT
                      and r.intent is IncidentIntent.CREATED]
        assert incident.value["errorType"] == "UNHANDLED_ERROR_EVENT"
        assert incident.value["elementId"] == "charge" and incident.value["jobKey"] == job.key
        assert "'TIMEOUT'" in incident.value["errorMessage"]
        assert await client.activate("charge") == []  # the job waits for the incident
        await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident.key))
        [again] = await client.activate("charge", request_timeout_ms=10_000)
        assert again.key == job.key
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=again.key, variables='{"paid": true}'))
        [ship] = await client.activate("ship", request_timeout_ms=10_000)
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=ship.key))
    [result] = results
    assert json.loads(result.variables) == {"amount": 5, "paid": True}
    resolved = [r.key for r in _log(client) if r.value_type is ValueType.INCIDENT
                and r.intent is IncidentIntent.RESOLVED]
    assert resolved == [incident.key]
