"""An ad-hoc subprocess through a real gRPC client and a real broker over loopback: the two service tasks
that a variable names are activated, their jobs worked, and the instance completes with what they did
gathered in the output collection."""

from __future__ import annotations

import json

import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_ad_hoc import ad_hoc_process, ad_hoc_sub_process

from .conftest import Client

MODEL = ad_hoc_process(ad_hoc_sub_process(
    "tools", b.service_task("search", "search"), b.service_task("summarize", "summarize"),
    b.service_task("translate", "translate"),
    active_elements="=toolCalls", output_collection="toolResults", output_element="=result"),
    process_id="agent", ad_hoc_id="tools")


async def test_an_ad_hoc_sub_process_runs_the_service_tasks_a_variable_names_and_completes(client: Client) -> None:
    await client.deploy("agent.bpmn", MODEL)
    results = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="agent", version=-1,
                                                    variables=json.dumps({"toolCalls": ["search", "summarize"]})),
            requestTimeout=20_000, fetchVariables=["toolResults"])))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        with trio.fail_after(15):
            [search] = await _one_job(client, "search")
            [summarize] = await _one_job(client, "summarize")
        assert (search.elementId, summarize.elementId) == ("search", "summarize")
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=search.key,
                                                               variables=json.dumps({"result": "found"})))
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=summarize.key,
                                                               variables=json.dumps({"result": "short"})))
    [result] = results
    assert json.loads(result.variables) == {"toolResults": ["found", "short"]}
    assert await client.activate("translate", request_timeout_ms=100) == []  # never named, never activated


async def _one_job(client: Client, job_type: str) -> list:  # type: ignore[type-arg]
    jobs: list = []  # type: ignore[type-arg]
    while not jobs:
        jobs = await client.activate(job_type, request_timeout_ms=5_000)
    return jobs
