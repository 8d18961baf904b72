"""`zeebe-trio sql` against a running broker: fresh, read-only answers from the DuckDB exporter."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import io
import json
import logging
import re
import socket
from pathlib import Path

import pytest
import trio
from zeebe_trio_duckdb import snapshot_path

from zeebe_trio import cli
from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.testing import BrokerHarness, one_task_bpmn

# Statements that would change the export or reach beyond it (files, other databases) are refused.
REFUSED = [
    ("DELETE FROM records", "only one SELECT"),
    ("COPY records TO '/tmp/leak.csv'", "only one SELECT"),
    ("ATTACH '/tmp/other.db' AS other", "only one SELECT"),
    ("PRAGMA show_tables", "only one SELECT"),
    ("SELECT 1; SELECT 2", "only one SELECT"),
    ("SELECT * FROM read_text('/etc/hostname')", "read_text"),
    ("SELECT * FROM read_csv('/etc/hostname')", "read_csv"),
    ("SELECT * FROM glob('/etc/*')", "glob"),
    ("SELECT * FROM '/etc/hostname'", "/etc/hostname"),
    ("SHOW '/etc/hostname'", "/etc/hostname"),
    ("SHOW DATABASES", "SHOW DATABASES"),
]
# The read-only catalog is answered: (query, a value in the answer).
CATALOG = [
    ("SHOW TABLES", "process_instances"),
    ("DESCRIBE process_instances", "start_time"),
    ("SHOW jobs", "job_type"),
    ("SELECT table_name FROM information_schema.tables", "records"),
    ("SELECT column_name FROM duckdb_columns() WHERE table_name = 'incidents'", "error_message"),
    ("SELECT table_name FROM duckdb_tables()", "records"),
    ("SELECT view_name FROM duckdb_views() WHERE NOT internal", "process_instances"),
]


async def _sql(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, ["sql", *argv]))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, export: Path, command_api_port: int, **args: object) -> BrokerConfig:
    return BrokerConfig(data_dir=tmp_path / "data", embedded_gateway=False, command_api_port=command_api_port,
                        command_api_host="127.0.0.1",
                        exporters={"analytics": {"type": "duckdb", "args": {"path": str(export), **args}}})


async def test_sql_reads_fresh_data_from_the_running_broker_and_cannot_change_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.duckdb"
    config = _config(tmp_path, export, 0, flushDelay=3600, batchSize=100_000)
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
        assert out.splitlines()[-1] == f"-- answered by the running broker at {address} (exporter 'analytics')"
        code, out, _ = await _sql(capsys, "--broker", address,
                                  "WITH s AS (SELECT state FROM process_instances) SELECT count(*) AS n FROM s")
        assert code == 0 and "3" in out  # CTEs are fine
        for statement, words in REFUSED:
            code, out, err = await _sql(capsys, "--broker", address, statement)
            assert code == 1 and words in err and out == "", (statement, err)
            assert len(err.splitlines()) == 1
        for statement, value in CATALOG:
            code, out, err = await _sql(capsys, "--broker", address, statement)
            assert code == 0 and value in out, (statement, err)
        code, out, _ = await _sql(capsys, "--broker", address, "SELECT count(*) > 0 AS kept FROM records")
        assert code == 0 and "true" in out.lower()  # nothing was changed
        code, _, err = await _sql(capsys, "--broker", address, "SELECT * FROM no_such_table")
        assert code == 1 and "no_such_table" in err
        code, _, err = await _sql(capsys, "--broker", address, "--exporter", "missing", "SELECT 1")
        assert code == 1 and "missing" in err
        nursery.cancel_scope.cancel()
    # With the broker stopped, the same command reads the file itself and says how old it is.
    code, out, _ = await _sql(capsys, "--database", str(export), "SELECT count(*) AS n FROM process_instances")
    assert code == 0 and "3" in out
    assert re.fullmatch(rf"-- answered from the export file {re.escape(str(export))}, written \d+ s ago",
                        out.splitlines()[-1])
    for statement, value in CATALOG:
        code, out, err = await _sql(capsys, "--database", str(export), statement)
        assert code == 0 and value in out, (statement, err)
    for statement, words in REFUSED:
        code, _, err = await _sql(capsys, "--database", str(export), statement)
        assert code == 1 and words in err, (statement, err)


async def test_csv_and_json_keep_stdout_machine_readable_and_say_the_source_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    export = tmp_path / "export.duckdb"
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(_config(tmp_path, export, 0)).run)
        harness = BrokerHarness(broker)
        await harness.deploy("p.bpmn", one_task_bpmn("p"))
        key = (await harness.create_instance("p")).key
        partition = broker.partitions[1]
        with trio.fail_after(10):
            await partition.exporters.wait_delivered(partition.log_stream.last_position)
        address = f"127.0.0.1:{broker.command_api_port}"
        caplog.clear()
        sql = ("SELECT process_instance_key, bpmn_process_id, state, start_time, end_time, 2.50 AS price,"
               " INTERVAL 90 SECOND AS waited, true AS flag FROM process_instances")
        code, out, err = await _sql(capsys, "--broker", address, "--format", "json", sql)
        assert code == 0, err
        [instance] = json.loads(out)
        assert instance == {"process_instance_key": key, "bpmn_process_id": "p", "state": "ACTIVE",
                            "start_time": instance["start_time"], "end_time": None, "price": 2.5,
                            "waited": "PT1M30S", "flag": True}
        datetime.datetime.fromisoformat(instance["start_time"])  # ISO 8601
        assert err.splitlines() == [f"-- answered by the running broker at {address} (exporter 'analytics')"]
        code, out, err = await _sql(capsys, "--broker", address, "--format", "csv", sql)
        assert code == 0, err
        header, row = list(csv.reader(io.StringIO(out)))
        assert header[:3] == ["process_instance_key", "bpmn_process_id", "state"]
        assert row[:3] == [str(key), "p", "ACTIVE"] and row[4:] == ["", "2.5", "PT1M30S", "true"]
        assert err.splitlines() == [f"-- answered by the running broker at {address} (exporter 'analytics')"]
        # Each query is a connection of its own: the broker does not log them at INFO.
        assert [r.getMessage() for r in caplog.records if r.name.startswith("zeebe_trio.broker")
                and r.levelno >= logging.INFO] == []
        nursery.cancel_scope.cancel()
    code, out, err = await _sql(capsys, "--database", str(export), "--format", "json", sql)
    assert code == 0 and json.loads(out)[0]["price"] == 2.5
    assert err.startswith(f"-- answered from the export file {export}, written ")


async def test_without_a_reachable_broker_the_answer_says_it_comes_from_the_snapshot_and_how_old_it_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.duckdb"
    unreachable = _closed_port()
    # The CLI's view of the configuration: the same export, a command API port nothing listens on.
    config_file = tmp_path / "cli.toml"
    config_file.write_text(f'[broker]\ncommand_api_port = {unreachable}\n[exporters.analytics]\ntype = "duckdb"\n'
                           f'args = {{ path = "{export}" }}\n')
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(_config(tmp_path, export, 0, flushDelay=0.01, snapshotInterval=0.01)).run)
        harness = BrokerHarness(broker)
        await harness.deploy("p.bpmn", one_task_bpmn("p"))
        await harness.create_instance("p")
        partition = broker.partitions[1]
        with trio.fail_after(10):
            await partition.exporters.wait_exported(partition.log_stream.last_position)
        assert snapshot_path(export).exists()  # published when the exporter opened, and after batches
        code, out, err = await _sql(capsys, "--config", str(config_file), "SELECT count(*) AS n FROM process_instances")
        assert code == 0, err
        assert re.fullmatch(
            rf"-- answered from the export snapshot {re.escape(str(snapshot_path(export)))}, written \d+ s ago;"
            rf" the broker at localhost:{unreachable} did not answer \(connection refused\)", out.splitlines()[-1])
        # Asked for the live broker explicitly, not reaching it is an error, not a quiet fallback.
        code, out, err = await _sql(capsys, "--config", str(config_file), "--broker", f"127.0.0.1:{unreachable}",
                                    "SELECT count(*) AS n FROM process_instances")
        assert code == 1 and out == ""
        assert err.splitlines() == [
            f"zeebe-trio sql: the broker at 127.0.0.1:{unreachable} did not answer (connection refused); start it"
            " or check --broker (without --broker the export file is read when no broker answers)"]
        nursery.cancel_scope.cancel()


async def test_a_broker_with_a_shared_secret_answers_sql_given_the_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "a-shared-secret-of-some-length"
    config = dataclasses.replace(_config(tmp_path, tmp_path / "export.duckdb", 0), command_api_secret=secret)
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        await BrokerHarness(broker).deploy("p.bpmn", one_task_bpmn("p"))
        partition = broker.partitions[1]
        with trio.fail_after(10):
            await partition.exporters.wait_delivered(partition.log_stream.last_position)  # the export is open
        address = f"127.0.0.1:{broker.command_api_port}"
        code, out, err = await _sql(capsys, "--broker", address, "SELECT 42 AS answer")
        assert code == 1 and "ZEEBE_TRIO_COMMAND_API_SECRET" in err and len(err.splitlines()) == 1
        monkeypatch.setenv("ZEEBE_TRIO_COMMAND_API_SECRET", secret)
        code, out, err = await _sql(capsys, "--broker", address, "SELECT 42 AS answer")
        assert code == 0 and "42" in out, err
        nursery.cancel_scope.cancel()


async def test_queries_from_other_hosts_are_refused(tmp_path: Path) -> None:
    from zeebe_trio.gateway._remote import complete_handshake, hello_frame
    from zeebe_trio.protocol import FrameDecoder, MessageType, encode_frame
    from zeebe_trio.testing import open_broker

    secret = "a-shared-secret-of-some-length"
    async with open_broker(tmp_path, command_api_enabled=True, command_api_port=0, command_api_host="127.0.0.1",
                           command_api_secret=secret,
                           exporters={"analytics": {"type": "duckdb", "args": {"path": str(tmp_path / "e.duckdb")}}}
                           ) as harness:
        # A socket pair has no IP peer, so the server cannot tell it is local: it is treated as remote.
        # Even an authenticated remote gateway gets no answers to SQL.
        ours, theirs = trio.socket.socketpair()
        client = trio.SocketStream(ours)
        decoder = FrameDecoder()
        received: list = []  # type: ignore[type-arg]

        async def next_message() -> list:  # type: ignore[type-arg]
            while not received:
                received.extend(decoder.feed(await client.receive_some(65536)))
            return received.pop(0)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(harness.broker.command_api._serve_connection, trio.SocketStream(theirs))
            nonce = b"n" * 16
            with trio.fail_after(10):
                await client.send_all(hello_frame("remote", nonce))
                await complete_handshake(next_message, client.send_all, name="remote", nonce=nonce, secret=secret,
                                         address="socketpair")
                await client.send_all(encode_frame([MessageType.QUERY, 7, None, "SELECT 1", 10]))
                answer = None
                while answer is None:
                    message = await next_message()
                    if message[0] in (MessageType.ERROR, MessageType.QUERY_RESULT) and message[1] == 7:
                        answer = message
            await client.aclose()
    assert answer[0] is MessageType.ERROR and "broker's host" in answer[3]
