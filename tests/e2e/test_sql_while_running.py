"""`zeebe-trio sql` against a running broker: fresh, read-only answers from the DuckDB exporter."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.testing import BrokerHarness, one_task_bpmn


async def _sql(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, ["sql", *argv]))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def test_sql_reads_fresh_data_from_the_running_broker_and_cannot_change_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.duckdb"
    config = BrokerConfig(data_dir=tmp_path / "data", embedded_gateway=False, command_api_port=0,
                          command_api_host="127.0.0.1",
                          exporters={"analytics": {"type": "duckdb", "args": {
                              "path": str(export), "flushDelay": 3600, "batchSize": 100_000}}})
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        harness = BrokerHarness(broker)
        await harness.deploy("p.bpmn", one_task_bpmn("p"))
        for _ in range(3):
            await harness.create_instance("p")
        partition = broker.partitions[1]
        with trio.fail_after(10):
            await partition.exporters.wait_delivered(partition.log_stream.last_position)
        assert partition.exporters.lowest_exported_position() < 0  # handed over, not yet written
        address = f"127.0.0.1:{broker.command_api_port}"
        # Nothing is flushed yet (an hour's delay): the query flushes first, so its answer is fresh.
        code, out, _ = await _sql(capsys, "--broker", address, "SELECT state, count(*) AS n FROM process_instances GROUP BY state")
        assert code == 0 and "ACTIVE" in out and " 3" in out
        code, _, _ = await _sql(capsys, "--broker", address, "DELETE FROM records")
        assert code == 0
        code, out, _ = await _sql(capsys, "--broker", address, "SELECT count(*) > 0 AS kept FROM records")
        assert code == 0 and "true" in out.lower()  # the delete was rolled back
        code, _, err = await _sql(capsys, "--broker", address, "SELECT * FROM no_such_table")
        assert code == 1 and "no_such_table" in err
        code, _, err = await _sql(capsys, "--broker", address, "--exporter", "missing", "SELECT 1")
        assert code == 1 and "missing" in err
        nursery.cancel_scope.cancel()
    # With the broker stopped, the same command reads the file itself.
    code, out, _ = await _sql(capsys, "--broker", "127.0.0.1:1", "--database", str(export),
                              "SELECT count(*) AS n FROM process_instances")
    assert code == 0 and "3" in out
