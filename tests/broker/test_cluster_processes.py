"""A cluster of real broker processes on loopback: 3 brokers, 3 partitions, replication factor 3, driven
through their embedded gateways by the grpcio client pyzeebe ships, as issue 11 asks.

- ``kill -9`` of a leader under load: no acknowledged command is lost, every instance completes, and
  the partitions it led get a new leader;
- SIGSTOP of a leader for longer than the election timeout, then SIGCONT: the others elect a new leader,
  the old one rejoins as a follower (one leader per partition, never two), nothing acknowledged is lost;
- a rolling restart of all three brokers under load;
- a message published to one partition correlates to an instance on another;
- a deployment made while one broker is down reaches every partition; once that broker is back and
  another is down (so that it is in every quorum), instances of it still start on every partition;
- a standalone gateway given every broker's command API routes to the leaders and follows a failover.

Time here is real (these are processes): waits poll with a deadline, nothing asserts on how long
anything took (``benchmarks/cluster.py`` measures the failover time).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from _processes import (
    InstanceLoad,
    ProcessCluster,
    complete_jobs,
    create_instance,
    deploy,
    free_port,
    process_cluster,
)
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.protocol import partition_for_correlation_key, partition_of
from zeebe_trio.testing import one_task_bpmn

pytestmark = pytest.mark.slow

T = TypeVar("T")


def deploy_with_retries(cluster: ProcessCluster, node: int, name: str, content: bytes) -> None:
    retry(lambda: deploy(cluster.stub(node), name, content))


def create_with_retries(cluster: ProcessCluster, node: int, process_id: str) -> int:
    return retry(lambda: create_instance(cluster.stub(node), process_id, timeout=5))


def test_kill_9_of_a_leader_under_load_loses_no_acknowledged_instance(tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        deploy_with_retries(cluster, 0, "p.bpmn", one_task_bpmn("p"))
        with InstanceLoad(cluster) as load:
            load.wait_created(30)
            victim = cluster.wait_for_leaders()[1]
            load.unreachable.add(victim)
            cluster.kill(victim)
            leaders = cluster.wait_for_leaders(besides=frozenset({victim}))
            created_at_kill = len(load.created)
            load.wait_created(created_at_kill + 60)
            load.stop_creating()
            load.wait_all_done()
            assert load.unexpected == []
        assert victim not in leaders.values()
        # instances were acknowledged on every partition, before and after the kill
        assert {partition_of(key) for key in load.created[created_at_kill:]} == {1, 2, 3}


def roles_of(cluster: ProcessCluster, node: int, *, via: int) -> dict[int, str]:
    """Partition -> the role ``node`` has in it, as the gateway of ``via`` shows the topology."""
    return {partition: role for partition, members in cluster.roles(via).items()
            for member, role in members if member == node}


def wait_until_rejoined(cluster: ProcessCluster, node: int, *, via: int) -> dict[int, str]:
    """Until the topology shows every replica of ``node`` again and a single leader per partition."""
    cluster.wait_for_leaders(via=via)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        roles = roles_of(cluster, node, via=via)
        if len(roles) == cluster.partitions and set(roles.values()) <= {"LEADER", "FOLLOWER"}:
            return roles
        time.sleep(0.05)
    raise AssertionError(f"node {node} did not rejoin: {cluster.roles(via)}")


def wait_for_step_down(cluster: ProcessCluster, node: int, partition: int, *, after_line: int) -> None:
    """Until ``node`` logs that its replica of ``partition`` went from leader to follower in a newer term."""
    pattern = re.compile(rf"partition {partition}, node {node}: leader in term (\d+) -> follower in term (\d+)")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in cluster.broker(node).lines[after_line:]:
            found = pattern.search(line)
            if found and int(found[2]) > int(found[1]):
                return
        time.sleep(0.05)
    raise AssertionError(f"node {node} never stepped down on partition {partition}:\n"
                         f"{''.join(cluster.broker(node).lines[after_line:])}")


def wait_until_gateways_agree(cluster: ProcessCluster, a: int, b: int) -> None:
    """Until the gateways of ``a`` and ``b`` show the same single leader for every partition (a handover
    to a primary may move one between two looks)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = cluster.wait_for_leaders(via=a), cluster.wait_for_leaders(via=b)
        if seen[0] == seen[1]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the gateways of nodes {a} and {b} still disagree on the leaders: {seen}")


def test_a_leader_paused_longer_than_the_election_timeout_rejoins_as_a_follower(tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        deploy_with_retries(cluster, 0, "p.bpmn", one_task_bpmn("p"))
        with InstanceLoad(cluster) as load:
            load.wait_created(20)
            before = cluster.wait_for_leaders()
            victim = before[1]
            other = next(node for node in range(3) if node != victim)
            led = {partition for partition, leader in before.items() if leader == victim}
            load.unreachable.add(victim)
            cluster.pause(victim)  # SIGSTOP: its process holds its sockets, but says nothing
            during = cluster.wait_for_leaders(via=other, besides=frozenset({victim}))
            load.wait_created(len(load.created) + 40)
            paused_output = len(cluster.broker(victim).lines)
            cluster.resume(victim)
            wait_until_rejoined(cluster, victim, via=other)
            # where it led, it stepped down to follower in the newer term (priority election may hand it
            # leadership back later, in a newer term still); no partition has two leaders
            for partition in led:
                wait_for_step_down(cluster, victim, partition, after_line=paused_output)
            wait_until_gateways_agree(cluster, victim, other)
            load.unreachable.discard(victim)
            load.wait_created(len(load.created) + 20)
            load.stop_creating()
            load.wait_all_done()
            assert load.unexpected == []
        assert victim not in {during[partition] for partition in led}
        assert len(set(load.created)) == len(load.created)  # no key handed out twice, as two leaders would


def test_a_rolling_restart_of_every_broker_under_load_loses_nothing(tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        deploy_with_retries(cluster, 0, "p.bpmn", one_task_bpmn("p"))
        with InstanceLoad(cluster) as load:
            load.wait_created(20)
            for node in range(3):
                load.unreachable.add(node)
                assert cluster.stop(node) == 0, cluster.broker(node).output
                other = (node + 1) % 3
                cluster.wait_for_leaders(via=other, besides=frozenset({node}))
                load.wait_created(len(load.created) + 20)
                cluster.start(node)
                cluster.wait_ready(node)
                wait_until_rejoined(cluster, node, via=other)
                load.unreachable.discard(node)
            load.wait_created(len(load.created) + 20)
            load.stop_creating()
            load.wait_all_done()
            assert load.unexpected == []
        assert len(set(load.created)) == len(load.created)


MESSAGE_PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:message id="ping" name="ping">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=key"/></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="waits" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="catch"/>
    <bpmn:intermediateCatchEvent id="catch"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="ping"/></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="catch" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_message_published_to_one_partition_correlates_to_an_instance_on_another(tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        deploy_with_retries(cluster, 0, "waits.bpmn", MESSAGE_PROCESS)
        stub = cluster.stub(1)
        waiting: dict[int, tuple[str, object]] = {}  # instance partition -> (correlation key, result future)
        for attempt in range(12):
            key = f"order-{attempt}"
            future = stub.CreateProcessInstanceWithResult.future(pb.CreateProcessInstanceWithResultRequest(
                request=pb.CreateProcessInstanceRequest(bpmnProcessId="waits", version=-1,
                                                        variables=json.dumps({"key": key})),
                requestTimeout=60_000), timeout=90)
            waiting[attempt] = (key, future)
        # publish through another broker's gateway; every message goes to its correlation key's partition
        publisher = cluster.stub(2)
        for key, _ in waiting.values():
            request = pb.PublishMessageRequest(name="ping", correlationKey=key, timeToLive=60_000,
                                               variables=json.dumps({"answer": key}))
            retry(lambda request=request: publisher.PublishMessage(request, timeout=20))  # type: ignore[misc]
        crossed = 0
        for key, future in waiting.values():
            result = future.result()  # type: ignore[attr-defined]
            assert json.loads(result.variables)["answer"] == key
            if partition_of(result.processInstanceKey) != partition_for_correlation_key(key, 3):
                crossed += 1
        assert crossed > 0  # instances on partitions other than their messages'


def test_a_deployment_while_a_broker_is_down_reaches_every_partition(tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        cluster.kill(2)
        cluster.wait_for_leaders(via=0, besides=frozenset({2}))
        deploy_with_retries(cluster, 0, "late.bpmn", one_task_bpmn("late", "late-work"))
        first = {partition_of(create_with_retries(cluster, 1, "late")) for _ in range(9)}
        assert first == {1, 2, 3}
        # the broker that was down comes back and catches up; then another goes down, so that it is in
        # every partition's quorum: instances still start everywhere
        cluster.start(2)
        cluster.wait_ready(2)
        wait_until_rejoined(cluster, 2, via=0)
        cluster.kill(0)
        cluster.wait_for_leaders(via=2, besides=frozenset({0}))
        second = {partition_of(create_with_retries(cluster, 2, "late")) for _ in range(9)}
        assert second == {1, 2, 3}
        jobs = complete_jobs(cluster.stub(2), "late-work", 18)
        assert len(jobs) == 18



def test_a_standalone_gateway_in_front_of_the_cluster_routes_to_the_leaders_and_follows_a_failover(
        tmp_path: Path) -> None:
    with process_cluster(tmp_path) as cluster:
        port = free_port()
        brokers = ",".join(f"127.0.0.1:{command_port}" for command_port in cluster.command_ports)
        gateway = subprocess.Popen([sys.executable, "-m", "zeebe_trio.cli", "gateway", "--broker", brokers,
                                    "--host", "127.0.0.1", "--port", str(port)], text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert gateway.stdout is not None
            for line in gateway.stdout:
                if "gateway ready" in line:
                    break
            stub = gateway_pb2_grpc.GatewayStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
            topology = retry(lambda: stub.Topology(pb.TopologyRequest(), timeout=5),
                             until=lambda t: len(t.brokers) == 3)
            assert (topology.clusterSize, topology.partitionsCount, topology.replicationFactor) == (3, 3, 3)
            retry(lambda: deploy(stub, "p.bpmn", one_task_bpmn("p")))
            before = [retry(lambda: create_instance(stub, "p", timeout=5)) for _ in range(6)]
            victim = cluster.wait_for_leaders()[1]
            cluster.kill(victim)
            after = [retry(lambda: create_instance(stub, "p", timeout=5)) for _ in range(6)]
            assert {partition_of(key) for key in before} == {partition_of(key) for key in after} == {1, 2, 3}
            worked = retry(lambda: complete_jobs(stub, "work", 12), until=lambda done: len(done) == 12)
            assert len(worked) == 12
        finally:
            gateway.kill()
            gateway.wait(timeout=30)


def retry(call: Callable[[], T], *, until: Callable[[T], bool] = lambda _: True, attempts: int = 100) -> T:
    """``call`` again while it fails as clients retry (or ``until`` says no), a tenth of a second apart."""
    last: object = None
    for _ in range(attempts):
        try:
            last = result = call()
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            last = error
        else:
            if until(result):
                return result
        time.sleep(0.1)
    raise AssertionError(f"no answer as expected after {attempts} attempts; the last: {last}")
