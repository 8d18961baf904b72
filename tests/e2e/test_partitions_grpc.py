"""A broker with three partitions behind its embedded gateway, driven by a real gRPC client over
loopback: the deployment reaches every partition, creates go round-robin (keys carry their partition in
the top 13 bits), a worker gets jobs of every partition, a message published to its correlation key's
partition correlates to an instance on another, a signal reaches catch events on every partition, the
topology shows three partitions, all partitions export into one DuckDB file, and after a restart
everything is still there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import trio
from pyzeebe.proto import gateway_pb2 as pb
from zeebe_trio_duckdb import query

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.protocol import (
    CommandDistributionIntent,
    ProcessInstanceIntent,
    Record,
    ValueType,
    partition_for_correlation_key,
    partition_of,
)
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m
from zeebe_trio.testing import bpmn_signals_escalations as s
from zeebe_trio.testing import one_task_bpmn

from .conftest import Client

PARTITIONS = 3


def _config(tmp_path: Path) -> BrokerConfig:
    return BrokerConfig(data_dir=tmp_path / "data", gateway_port=0, host="127.0.0.1", command_api_port=0,
                        partitions=PARTITIONS, exporters={
                            "analytics": {"type": "duckdb", "args": {"path": str(tmp_path / "export.duckdb"),
                                                                     "flushDelay": 0.05, "batchSize": 50}}})


def _records(broker: Broker, partition_id: int) -> list[Record]:
    return broker.partitions[partition_id].log_stream.read_after(0, 1_000_000)


async def _wait_for(broker: Broker, partition_id: int, predicate: Callable[[Record], bool]) -> Record:
    with trio.fail_after(15):
        while True:
            for record in _records(broker, partition_id):
                if predicate(record):
                    return record
            await trio.sleep(0.02)


def _completed(pik: int) -> Callable[[Record], bool]:
    return lambda r: (r.key == pik and r.value_type is ValueType.PROCESS_INSTANCE
                      and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED)


async def _deploy_everywhere(client: Client, broker: Broker, name: str, resource: bytes) -> int:
    deployed = await client.deploy(name, resource)
    await _wait_for(broker, 1, lambda r: r.key == deployed.key and r.intent is CommandDistributionIntent.FINISHED)
    return int(deployed.key)


async def _create(client: Client, process_id: str, variables: dict | None = None) -> int:  # type: ignore[type-arg]
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId=process_id, version=-1, variables=json.dumps(variables or {})))
    return int(created.processInstanceKey)


async def test_three_partitions_deploy_run_correlate_broadcast_export_and_survive_a_restart(tmp_path: Path) -> None:
    config = _config(tmp_path)
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        client = Client(f"127.0.0.1:{broker.gateway_port}")

        topology = await client.call("Topology", pb.TopologyRequest())
        assert topology.partitionsCount == PARTITIONS
        assert sorted(p.partitionId for p in topology.brokers[0].partitions) == [1, 2, 3]

        await _deploy_everywhere(client, broker, "work.bpmn", one_task_bpmn("work", "task"))
        instances = [await _create(client, "work", {"n": n}) for n in range(6)]
        assert sorted(partition_of(key) for key in instances) == [1, 1, 2, 2, 3, 3]  # round-robin

        # a worker gets the jobs of every partition, and completes them
        jobs: list = []  # type: ignore[type-arg]
        with trio.fail_after(15):
            while len(jobs) < 6:
                jobs += await client.activate("task", max_jobs=6 - len(jobs), request_timeout_ms=2_000)
        assert sorted(partition_of(job.key) for job in jobs) == [1, 1, 2, 2, 3, 3]
        for job in jobs:
            await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables="{}"))
        for pik in instances:
            await _wait_for(broker, partition_of(pik), _completed(pik))

        # create-with-result answers from whichever partition the create lands on
        results: list = []  # type: ignore[type-arg]

        async def with_result() -> None:
            results.append(await client.call("CreateProcessInstanceWithResult",
                                             pb.CreateProcessInstanceWithResultRequest(
                                                 request=pb.CreateProcessInstanceRequest(bpmnProcessId="work",
                                                                                         version=-1),
                                                 requestTimeout=15_000)))

        async with trio.open_nursery() as waiting:
            for _ in range(PARTITIONS):
                waiting.start_soon(with_result)
            done = 0
            with trio.fail_after(15):
                while done < PARTITIONS:
                    for job in await client.activate("task", request_timeout_ms=1_000):
                        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables="{}"))
                        done += 1
        assert sorted(partition_of(r.processInstanceKey) for r in results) == [1, 2, 3]

        # a message on its correlation key's partition correlates to an instance on another partition
        paid = m.message("paid-message", "paid", "=orderId")
        await _deploy_everywhere(client, broker, "wait.bpmn", b.process(
            "wait", b.start(), b.flow("f1", "start", "catch"), m.message_catch("catch", "paid-message"),
            b.flow("f2", "catch", "end"), b.end(), definitions=paid))
        order = next(f"order-{n}" for n in range(100) if partition_for_correlation_key(f"order-{n}", PARTITIONS) == 3)
        waiting_instance = -1
        while partition_of(waiting_instance) not in (1, 2):
            waiting_instance = await _create(client, "wait", {"orderId": order})
        await _wait_for(broker, 3, lambda r: r.value_type is ValueType.MESSAGE_SUBSCRIPTION
                        and r.intent.name == "CREATED" and r.value["elementInstanceKey"] > 0
                        and r.value["processInstanceKey"] == waiting_instance)
        await client.call("PublishMessage", pb.PublishMessageRequest(name="paid", correlationKey=order,
                                                                     timeToLive=0, variables="{}"))
        await _wait_for(broker, partition_of(waiting_instance), _completed(waiting_instance))

        # a signal broadcast reaches the catch events of every partition
        alert = s.signal("sig", "alert")
        await _deploy_everywhere(client, broker, "catch.bpmn", b.process(
            "catch", b.start(), b.flow("f1", "start", "wait"), b.intermediate_catch("wait", b.signal_definition("sig")),
            b.flow("f2", "wait", "end"), b.end(), definitions=alert))
        catching = [await _create(client, "catch") for _ in range(PARTITIONS)]
        for pik in catching:
            await _wait_for(broker, partition_of(pik), lambda r, pik=pik: r.value_type is ValueType.SIGNAL_SUBSCRIPTION
                            and r.value.get("catchEventInstanceKey", 0) > 0 and partition_of(r.key) > 0
                            and r.value["bpmnProcessId"] == "catch" and _instance_of(r, pik, broker))
        await client.call("BroadcastSignal", pb.BroadcastSignalRequest(signalName="alert", variables="{}"))
        for pik in catching:
            await _wait_for(broker, partition_of(pik), _completed(pik))

        # a timer start event lives on the deployment partition only: its instance starts there
        await _deploy_everywhere(client, broker, "timed.bpmn", b.process(
            "timed", b.start("start", b.timer_definition(date="2020-01-01T00:00:00Z")), b.flow("f1", "start", "end"),
            b.end()))
        started = await _wait_for(broker, 1, lambda r: r.value_type is ValueType.PROCESS_INSTANCE
                                  and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED
                                  and r.value.get("bpmnProcessId") == "timed" and r.value.get("bpmnElementType") == "PROCESS")
        assert partition_of(started.key) == 1
        assert not [r for partition_id in (2, 3) for r in _records(broker, partition_id) if r.value_type is ValueType.TIMER]

        # one left waiting across the restart
        left = await _create(client, "work")
        for partition_id in range(1, PARTITIONS + 1):
            exporters = broker.partitions[partition_id].exporters
            with trio.fail_after(30):
                await exporters.wait_exported(broker.partitions[partition_id].log_stream.last_position)
        answer = await broker.query_exporter("SELECT DISTINCT partition_id FROM process_instances ORDER BY 1")
        assert [tuple(row) for row in answer.rows] == [(1,), (2,), (3,)]
        client.close()
        nursery.cancel_scope.cancel()

    rows = query(tmp_path / "export.duckdb", "SELECT partition_id, count(*) FROM records GROUP BY 1 ORDER BY 1").rows
    assert [row[0] for row in rows] == [1, 2, 3]

    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        client = Client(f"127.0.0.1:{broker.gateway_port}")
        again = [await _create(client, "work") for _ in range(PARTITIONS)]
        assert sorted(partition_of(key) for key in again) == [1, 2, 3]
        waiting_keys = {left, *again}
        done_keys: set[int] = set()
        with trio.fail_after(15):
            while len(done_keys) < len(waiting_keys):
                for job in await client.activate("task", request_timeout_ms=1_000):
                    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key, variables="{}"))
                    done_keys.add(job.processInstanceKey)
        assert done_keys == waiting_keys
        client.close()
        nursery.cancel_scope.cancel()


def _instance_of(record: Record, pik: int, broker: Broker) -> bool:
    """Whether the catch event instance of a signal subscription belongs to process instance ``pik``."""
    element = record.value["catchEventInstanceKey"]
    return any(r.key == element and r.value.get("processInstanceKey") == pik
               for r in _records(broker, partition_of(pik)) if r.value_type is ValueType.PROCESS_INSTANCE)
