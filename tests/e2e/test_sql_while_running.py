"""`zeebe-trio sql` against a running broker: fresh, read-only answers from the DuckDB exporter."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.testing import BrokerHarness, one_task_bpmn

# Statements that would change the export or reach beyond it (files, other databases) are refused.
REFUSED = [
    ("DELETE FROM records", "only one SELECT"),
    ("COPY records TO '/tmp/leak.csv'", "only one SELECT"),
    ("ATTACH '/tmp/other.db' AS other", "only one SELECT"),
    ("SELECT 1; SELECT 2", "only one SELECT"),
    ("SELECT * FROM read_text('/etc/hostname')", "read_text"),
    ("SELECT * FROM glob('/etc/*')", "glob"),
    ("SELECT * FROM '/etc/hostname'", "/etc/hostname"),
]


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
        code, out, _ = await _sql(capsys, "--broker", address,
                                  "WITH s AS (SELECT state FROM process_instances) SELECT count(*) AS n FROM s")
        assert code == 0 and "3" in out  # CTEs are fine
        for statement, words in REFUSED:
            code, _, err = await _sql(capsys, "--broker", address, statement)
            assert code == 1 and words in err, (statement, err)
        code, out, _ = await _sql(capsys, "--broker", address, "SELECT count(*) > 0 AS kept FROM records")
        assert code == 0 and "true" in out.lower()  # nothing was changed
        code, _, err = await _sql(capsys, "--broker", address, "SELECT * FROM no_such_table")
        assert code == 1 and "no_such_table" in err
        code, _, err = await _sql(capsys, "--broker", address, "--exporter", "missing", "SELECT 1")
        assert code == 1 and "missing" in err
        nursery.cancel_scope.cancel()
    # With the broker stopped, the same command reads the file itself.
    code, out, _ = await _sql(capsys, "--broker", "127.0.0.1:1", "--database", str(export),
                              "SELECT count(*) AS n FROM process_instances")
    assert code == 0 and "3" in out


async def test_queries_from_other_hosts_are_refused(tmp_path: Path) -> None:
    from zeebe_trio.protocol import WIRE_VERSION, FrameDecoder, MessageType, encode_frame
    from zeebe_trio.testing import open_broker

    async with open_broker(tmp_path, command_api_enabled=True, command_api_port=0, command_api_host="127.0.0.1",
                           exporters={"analytics": {"type": "duckdb", "args": {"path": str(tmp_path / "e.duckdb")}}}
                           ) as harness:
        # A socket pair has no IP peer, so the server cannot tell it is local: it is treated as remote.
        ours, theirs = trio.socket.socketpair()
        client = trio.SocketStream(ours)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(harness.broker.command_api._serve_connection, trio.SocketStream(theirs))
            await client.send_all(encode_frame([MessageType.HELLO, WIRE_VERSION, "remote"]))
            await client.send_all(encode_frame([MessageType.QUERY, 7, None, "SELECT 1", 10]))
            decoder = FrameDecoder()
            answer = None
            with trio.fail_after(10):
                while answer is None:
                    for message in decoder.feed(await client.receive_some(65536)):
                        if message[0] in (MessageType.ERROR, MessageType.QUERY_RESULT) and message[1] == 7:
                            answer = message
            await client.aclose()
    assert answer[0] is MessageType.ERROR and "broker's host" in answer[3]
