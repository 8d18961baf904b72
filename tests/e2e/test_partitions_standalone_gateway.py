"""Three partitions behind a standalone ``zeebe-trio gateway`` process (``ZEEBE_TRIO_PARTITIONS=3`` on
the broker): the gateway learns the partitions from the broker's topology, creates right after a
deployment succeed on every partition (the deployment is on each partition's log before the client
hears of it), and one worker's activation gets the jobs of all of them."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.protocol import partition_of
from zeebe_trio.testing import one_task_bpmn

from .test_standalone_gateway import TIMEOUT, _free_port, broker_env, running

pytestmark = pytest.mark.slow


def test_a_standalone_gateway_routes_over_the_three_partitions_of_a_broker(tmp_path: Path) -> None:
    command_port, grpc_port = _free_port(), _free_port()
    env = {**broker_env(tmp_path, command_port), "ZEEBE_TRIO_PARTITIONS": "3"}
    gateway_args = ["gateway", "--broker", f"127.0.0.1:{command_port}", "--host", "127.0.0.1", "--port", str(grpc_port)]
    with running(["broker"], env, "broker ready"), \
            running(gateway_args, {**os.environ, "PYTHONUNBUFFERED": "1"}, "gateway ready"), \
            grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        topology = stub.Topology(pb.TopologyRequest(), timeout=TIMEOUT)
        assert topology.partitionsCount == 3
        assert sorted(p.partitionId for b in topology.brokers for p in b.partitions) == [1, 2, 3]
        stub.DeployResource(pb.DeployResourceRequest(resources=[
            pb.Resource(name="p.bpmn", content=one_task_bpmn("p", "work"))]), timeout=TIMEOUT)
        created = [stub.CreateProcessInstance(pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1),
                                              timeout=TIMEOUT).processInstanceKey for _ in range(3)]
        assert sorted(partition_of(key) for key in created) == [1, 2, 3]
        jobs: list = []  # type: ignore[type-arg]
        for _ in range(10):
            jobs += [j for r in stub.ActivateJobs(pb.ActivateJobsRequest(
                type="work", worker="w", timeout=60_000, maxJobsToActivate=3 - len(jobs), requestTimeout=2_000),
                timeout=TIMEOUT) for j in r.jobs]
            if len(jobs) == 3:
                break
        assert sorted(job.processInstanceKey for job in jobs) == sorted(created)
        for job in jobs:
            stub.CompleteJob(pb.CompleteJobRequest(jobKey=job.key), timeout=TIMEOUT)
