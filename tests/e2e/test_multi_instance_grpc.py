"""A multi-instance service task through a real gRPC client and a real broker over loopback: one job
per item, each with its own item, the results collected in order for a create-with-result caller."""

from __future__ import annotations

import json

import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_multi_instance import multi_instance

from .conftest import Client

MODEL = b.process(
    "fan-out", b.start(), b.flow("to_task", "start", "task"),
    multi_instance(b.service_task("task", "price"), input_collection="=items", input_element="item",
                   output_collection="prices", output_element="=price"),
    b.flow("to_end", "task", "end"), b.end())


async def test_a_parallel_multi_instance_task_hands_each_worker_its_item_and_collects_the_results(
        client: Client) -> None:
    await client.deploy("fan-out.bpmn", MODEL)
    results = []

    async def create() -> None:
        results.append(await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
            request=pb.CreateProcessInstanceRequest(bpmnProcessId="fan-out", version=-1,
                                                    variables=json.dumps({"items": ["a", "bb", "ccc"]})),
            requestTimeout=20_000, fetchVariables=["prices"])))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(create)
        jobs: list = []  # type: ignore[type-arg]
        with trio.fail_after(15):
            while len(jobs) < 3:
                jobs += await client.activate("price", request_timeout_ms=5_000)
        by_item = {json.loads(job.variables)["item"]: job for job in jobs}
        assert sorted(by_item) == ["a", "bb", "ccc"]
        assert {json.loads(job.variables)["loopCounter"] for job in jobs} == {1, 2, 3}
        assert {job.elementId for job in jobs} == {"task"}
        for item in ("ccc", "a", "bb"):  # completion order does not decide the position
            await client.call("CompleteJob", pb.CompleteJobRequest(
                jobKey=by_item[item].key, variables=json.dumps({"price": len(item) * 10})))
    [result] = results
    assert json.loads(result.variables) == {"prices": [10, 20, 30]}
