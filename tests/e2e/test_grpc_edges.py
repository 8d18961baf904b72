"""Real gRPC clients against a real broker: timeouts, job push, back-pressure and hostile input."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.protocol import ProcessInstanceCreationIntent
from zeebe_trio.testing import BrokerHarness, one_task_bpmn

from .conftest import Client


async def _instance(client: Client, job_type: str, variables: str = "{}") -> int:
    await client.deploy("p.bpmn", one_task_bpmn("p", job_type))
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=variables))
    return int(created.processInstanceKey)


async def test_a_timed_out_job_is_activated_again_by_a_long_polling_worker(client: Client) -> None:
    await _instance(client, "slow")
    [first] = await client.activate("slow", timeout_ms=300)
    assert await client.activate("slow") == []  # activated: nobody else gets it
    # Long polling: answered when the job times out and becomes activatable again.
    [second] = await client.activate("slow", request_timeout_ms=10_000)
    assert second.key == first.key
    late = await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=second.key))
    assert late is not None


async def test_a_job_stream_receives_new_jobs_at_once_and_closing_it_returns_jobs_to_polling(
        client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "pushed"))
    request = pb.StreamActivatedJobsRequest(type="pushed", worker="streamer", timeout=60_000)
    stream = client.stub.StreamActivatedJobs(request, timeout=20)
    try:
        with trio.fail_after(10):
            await client.broker.job_streams.wait_until_open("pushed")  # type: ignore[attr-defined]
        created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables='{"n": 1}'))
        job = await trio.to_thread.run_sync(next, stream)
    finally:
        stream.cancel()
    assert job.processInstanceKey == created.processInstanceKey and job.worker == "streamer"
    assert json.loads(job.variables) == {"n": 1}
    assert await client.activate("pushed") == []  # it was pushed and activated, not left for polling
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))
    # With the stream closed, new jobs wait for polling workers again.
    await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    [polled] = await client.activate("pushed", request_timeout_ms=5_000)
    assert polled.worker == "e2e"


async def test_over_the_in_flight_limit_requests_are_resource_exhausted(tmp_path: Path) -> None:
    config = BrokerConfig(data_dir=tmp_path, gateway_port=0, host="127.0.0.1", exporters={}, max_inflight_requests=1,
                          command_api_port=0)
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        client = Client(f"127.0.0.1:{broker.gateway_port}")
        await client.deploy("p.bpmn", one_task_bpmn("p", "hold"))
        waiting = trio.Event()

        async def hold_a_request() -> None:
            waiting.set()
            with pytest.raises(grpc.RpcError):  # cancelled when the test ends
                await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
                    request=pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1), requestTimeout=60_000))

        nursery.start_soon(hold_a_request)
        await waiting.wait()
        with trio.fail_after(10):  # the held request is on the log (and so in flight)
            await BrokerHarness(broker).wait_for_record(
                lambda r: r.intent is ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT)
        with pytest.raises(grpc.RpcError) as error:
            await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "limit" in error.value.details()
        client.close()
        nursery.cancel_scope.cancel()


async def test_an_oversized_payload_is_refused_with_a_clear_error_and_nothing_breaks(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    huge = json.dumps({"blob": "x" * (5 * 1024 * 1024)})
    with pytest.raises(grpc.RpcError) as error:
        await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=huge))
    assert error.value.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT)
    assert error.value.details()
    assert (await client.call("Topology", pb.TopologyRequest())).brokers


async def test_garbage_bytes_on_the_gateway_port_do_not_disturb_real_clients(broker: Broker, client: Client) -> None:
    for garbage in (b"\x00" * 64, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)) * 8):
        with socket.create_connection(("127.0.0.1", broker.gateway_port), timeout=5) as sock:
            await trio.to_thread.run_sync(sock.sendall, garbage)
    topology = await client.call("Topology", pb.TopologyRequest())
    assert topology.brokers[0].partitions[0].health == pb.Partition.PartitionBrokerHealth.HEALTHY


async def test_json_numbers_beyond_64_bits_are_kept_as_doubles_and_nan_is_refused(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "numbers"))
    await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"big": 123456789012345678901234567890, "ok": 7}'))
    [job] = await client.activate("numbers")
    assert json.loads(job.variables) == {"big": 1.2345678901234568e29, "ok": 7}
    for bad in ('{"x": NaN}', '{"x": Infinity}', '{"x": 1e999}'):
        with pytest.raises(grpc.RpcError) as error:
            await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
                bpmnProcessId="p", version=-1, variables=bad))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Property 'variables' is invalid" in error.value.details()
