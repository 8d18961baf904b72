"""The DuckDB analytics exporter behind a real broker driven by a real gRPC client."""

from __future__ import annotations

import json
from pathlib import Path

import trio
from pyzeebe.proto import gateway_pb2 as pb
from zeebe_trio_duckdb import query

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.testing import one_task_bpmn

from .conftest import Client


async def test_sql_over_the_export_answers_for_instances_jobs_incidents_and_variables(tmp_path: Path) -> None:
    export = tmp_path / "export.duckdb"
    config = BrokerConfig(data_dir=tmp_path / "data", gateway_port=0, host="127.0.0.1", command_api_port=0, exporters={
        "analytics": {"type": "duckdb", "args": {"path": str(export), "flushDelay": 0.05, "batchSize": 50}}})
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        client = Client(f"127.0.0.1:{broker.gateway_port}")
        await client.deploy("p.bpmn", one_task_bpmn("p", "pay"))
        keys = []
        for amount in (10, 20, 30):
            created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
                bpmnProcessId="p", version=-1, variables=json.dumps({"amount": amount})))
            keys.append(created.processInstanceKey)
        jobs = {json.loads(j.variables)["amount"]: j for j in await client.activate("pay", max_jobs=3)}
        await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=jobs[10].key, variables='{"paid": true}'))
        await client.call("FailJob", pb.FailJobRequest(jobKey=jobs[20].key, retries=0, errorMessage="card declined"))
        await client.call("CancelProcessInstance", pb.CancelProcessInstanceRequest(processInstanceKey=keys[2]))
        client.close()
        partition = broker.partitions[1]
        with trio.fail_after(30):
            await partition.exporters.wait_exported(partition.log_stream.last_position)
        nursery.cancel_scope.cancel()

    def sql(statement: str) -> list[tuple]:  # type: ignore[type-arg]
        return [tuple(row) for row in query(export, statement).rows]

    states = dict(sql("SELECT process_instance_key, state FROM process_instances"))
    incidents = sql("SELECT error_type, error_message, state, process_instance_key FROM incidents")
    job_rows = sql("SELECT process_instance_key, state, worker, retries FROM jobs ORDER BY 1")
    paid = sql("SELECT value FROM variables WHERE name = 'paid'")
    amounts = sorted(r[0] for r in sql("SELECT value FROM variables WHERE name = 'amount'"))
    [unfinished] = sql("SELECT count(*) FROM process_instances WHERE end_time IS NULL")
    assert states == {keys[0]: "COMPLETED", keys[1]: "ACTIVE", keys[2]: "TERMINATED"}
    assert incidents == [("JOB_NO_RETRIES", "card declined", "ACTIVE", keys[1])]
    assert [(k, s) for k, s, _, _ in job_rows] == [(keys[0], "COMPLETED"), (keys[1], "FAILED"), (keys[2], "CANCELED")]
    assert all(worker == "e2e" for _, _, worker, _ in job_rows)
    assert paid == [("true",)]
    assert amounts == ["10", "20", "30"]
    assert unfinished == (1,)
