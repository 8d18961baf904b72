"""The DuckDB exporter on real files: typed tables and views, idempotence, readers in other processes."""

from __future__ import annotations

import datetime
import io
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
import trio
from zeebe_trio_duckdb import DuckDbExporter, ExportStore, query, run_sql_command, snapshot_path

from zeebe_trio.exporters import ExporterStatus, RetryPolicy, create_exporter_director
from zeebe_trio.exporters.testing import (
    BASE_TIMESTAMP,
    ExporterHarness,
    InMemoryCommittedLog,
    InMemoryPositionStore,
    RecordBuilder,
    realistic_records,
)
from zeebe_trio.protocol import (
    Record,
    RecordType,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
)

README = Path(__file__).parents[2] / "plugins" / "duckdb_exporter" / "README.md"


async def export(path: Path, records: list[Record], *, partition_id: int = 1, position: int = -1,
                 snapshot_interval: float = 0, close: bool = True, batch_size: int = 1000) -> ExporterHarness:
    harness = ExporterHarness(DuckDbExporter(), {"path": str(path), "batchSize": batch_size,
                                                 "snapshotInterval": snapshot_interval},
                              partition_id=partition_id, position=position)
    harness.configure()
    await harness.open()
    await harness.export(records)
    if close:
        await harness.close()
    return harness


def rows(path: Path, sql: str) -> list[tuple]:
    return query(path, sql).rows


@pytest.fixture
def lifecycle() -> tuple[RecordBuilder, dict[str, int]]:
    """A deployment and four instances: completed, retried, incident-then-resolved, still waiting."""
    builder = RecordBuilder(start_timestamp=BASE_TIMESTAMP - 3_600_000)  # 08:00 UTC
    definition = builder.deploy_process("order")
    keys = {"definition": definition}
    keys["plain"] = builder.process_instance("order", definition, tasks=("charge",), variables={"orderId": 1})
    builder.tick(60_000)
    keys["retried"] = builder.process_instance("order", definition, tasks=("charge",), fail_first_attempt=True)
    builder.tick(60_000)
    keys["incident"] = builder.process_instance("order", definition, tasks=("charge",), incident=True)
    builder.tick(60_000)
    keys["waiting"] = builder.process_instance("order", definition, tasks=("charge",), complete=False)
    keys["message"] = builder.publish_message("payment-received", "order-1", ttl_ms=1000, expire=True)
    return builder, keys


async def test_the_raw_stream_holds_every_record_with_its_metadata(tmp_path, lifecycle):
    builder, _ = lifecycle
    rejected = builder.record(ValueType.JOB, builder.records[-1].intent, {"retries": 1},
                              record_type=RecordType.COMMAND_REJECTION, rejection_type=RejectionType.NOT_FOUND,
                              rejection_reason="Expected to update retries of job 1, but no such job was found")
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert rows(path, "SELECT count(*), min(position), max(position) FROM records") == [
        (len(builder.records), 1, len(builder.records))]
    assert rows(path, f"SELECT record_type, rejection_type, rejection_reason, value->>'retries' FROM records"
                      f" WHERE position = {rejected.position}") == [
        ("COMMAND_REJECTION", "NOT_FOUND", "Expected to update retries of job 1, but no such job was found", "1")]
    first = builder.records[0]
    assert rows(path, "SELECT key, timestamp, value_type, intent, value->>'bpmnProcessId' FROM records"
                      " WHERE position = 1") == [
        (first.key, datetime.datetime(2025, 1, 1, 8, 0), "PROCESS", "CREATED", "order")]


async def test_process_instances_have_start_end_state_and_duration(tmp_path, lifecycle):
    builder, keys = lifecycle
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    result = dict((row[0], row[1:]) for row in rows(
        path, "SELECT process_instance_key, state, duration_ms, end_time IS NULL, bpmn_process_id, version"
              " FROM process_instances"))
    assert result[keys["plain"]] == ("COMPLETED", 40, False, "order", 1)
    assert result[keys["retried"]][0] == "COMPLETED" and result[keys["retried"]][1] > 40
    assert result[keys["incident"]][0] == "COMPLETED" and result[keys["incident"]][1] > 60_000
    assert result[keys["waiting"]] == ("ACTIVE", None, True, "order", 1)
    assert rows(path, "SELECT bpmn_process_id, version, resource_name FROM process_definitions") == [
        ("order", 1, "order.bpmn")]


async def test_element_instances_and_jobs(tmp_path, lifecycle):
    builder, keys = lifecycle
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    elements = rows(path, f"SELECT element_id, bpmn_element_type, state FROM element_instances"
                          f" WHERE process_instance_key = {keys['plain']} ORDER BY start_time, element_instance_key")
    assert elements == [("order", "PROCESS", "COMPLETED"), ("start", "START_EVENT", "COMPLETED"),
                        ("charge", "SERVICE_TASK", "COMPLETED"), ("end", "END_EVENT", "COMPLETED")]
    jobs = {row[0]: row[1:] for row in rows(
        path, "SELECT process_instance_key, state, worker, retries, failures, activations, last_error_message,"
              " completed_at IS NOT NULL FROM jobs")}
    assert jobs[keys["plain"]] == ("COMPLETED", "worker-1", 3, 0, 1, None, True)
    assert jobs[keys["retried"]] == ("COMPLETED", "worker-1", 2, 1, 2, "card declined", True)
    assert jobs[keys["incident"]] == ("COMPLETED", "worker-1", 1, 1, 2, "no route to host", True)
    assert jobs[keys["waiting"]] == ("CREATED", None, 3, 0, 0, None, False)


async def test_an_activated_job_is_reported_as_activated(tmp_path):
    builder = RecordBuilder()
    definition = builder.deploy_process("order")
    builder.process_instance("order", definition, tasks=("charge",))
    records = [r for r in builder.records if not (r.value_type is ValueType.JOB and r.intent.name.startswith("COMPLETE"))]
    cut = next(i for i, r in enumerate(records) if r.value_type is ValueType.JOB_BATCH)
    path = tmp_path / "export.duckdb"
    await export(path, records[: cut + 1])
    assert rows(path, "SELECT state, worker, activations, activated_at IS NOT NULL FROM jobs") == [
        ("ACTIVATED", "worker-1", 1, True)]


async def test_incidents_are_created_and_resolved(tmp_path, lifecycle):
    builder, keys = lifecycle
    open_incident = builder.records.index(next(r for r in builder.records if r.value_type is ValueType.INCIDENT))
    path = tmp_path / "export.duckdb"
    harness = await export(path, builder.records[: open_incident + 1], close=False)
    await harness.close()
    assert rows(path, "SELECT state, error_type, error_message, resolved_at FROM incidents") == [
        ("ACTIVE", "JOB_NO_RETRIES", "no route to host", None)]
    await export(path, builder.records, position=harness.controller.position)
    assert rows(path, "SELECT state, process_instance_key, element_id, epoch_ms(resolved_at - created_at)"
                      " FROM incidents") == [("RESOLVED", keys["incident"], "charge", 60_000)]


async def test_variables_latest_value_and_history(tmp_path, lifecycle):
    builder, keys = lifecycle
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    pi = keys["plain"]
    assert rows(path, f"SELECT name, value, versions FROM variables WHERE process_instance_key = {pi}"
                      " ORDER BY name") == [("orderId", "1", 1), ("paid", "true", 1)]
    assert rows(path, f"SELECT intent, value FROM variable_history WHERE process_instance_key = {pi}"
                      " AND name = 'paid'") == [("CREATED", "true")]


async def test_variable_updates_keep_history_and_latest(tmp_path):
    builder = RecordBuilder()
    for value in (1, 2, 3):
        builder.variable("counter", value, scope_key=42, process_instance_key=42)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert rows(path, "SELECT value, versions FROM variables") == [("3", 3)]
    assert rows(path, "SELECT intent, value FROM variable_history ORDER BY position") == [
        ("CREATED", "1"), ("UPDATED", "2"), ("UPDATED", "3")]


async def test_messages(tmp_path, lifecycle):
    builder, keys = lifecycle
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert rows(path, "SELECT message_key, name, correlation_key, state, time_to_live_ms, variables->>'amount'"
                      " FROM messages") == [
        (keys["message"], "payment-received", "order-1", "EXPIRED", 1000, "42")]


async def test_the_readme_queries_run_and_answer_the_questions(tmp_path, lifecycle):
    builder, keys = lifecycle
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    blocks = re.findall(r"```sql\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 6
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    for statement in statements:
        query(path, statement)
    not_finished = query(path, statements[0]).rows
    assert [row[0] for row in not_finished] == [keys["waiting"]]
    p95 = {(row[0], row[1]): row[2] for row in query(path, statements[1]).rows}
    assert p95[("order", "start")] == 0 and p95[("order", "order")] > 50_000


async def test_re_exporting_the_same_records_inserts_nothing_twice(tmp_path):
    records = list(realistic_records(30))
    path = tmp_path / "export.duckdb"
    await export(path, records, batch_size=100)
    counts = rows(path, "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM process_instance_events),"
                        " (SELECT count(*) FROM job_events), (SELECT count(*) FROM jobs)")
    # the broker lost every acknowledgement: the whole stream is delivered again to a fresh exporter
    harness = await export(path, records, batch_size=77)
    assert harness.controller.acknowledged[0] == len(records)  # committed position found on open
    assert rows(path, "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM process_instance_events),"
                      " (SELECT count(*) FROM job_events), (SELECT count(*) FROM jobs)") == counts
    # and the store itself ignores duplicates even without the committed-position shortcut
    store = ExportStore(path, 1)
    store.write_batch(records[:500])
    store.close()
    assert rows(path, "SELECT count(*) FROM records") == [(len(records),)]


async def test_two_partitions_share_one_file(tmp_path):
    path = tmp_path / "export.duckdb"
    one = list(realistic_records(5, partition_id=1))
    two = list(realistic_records(7, partition_id=2))
    first = await export(path, one, partition_id=1, close=False)
    second = await export(path, two, partition_id=2, close=False)
    await first.close()
    await second.close()
    assert rows(path, "SELECT partition_id, count(*) FROM process_instances GROUP BY 1 ORDER BY 1") == [(1, 5), (2, 7)]
    assert rows(path, "SELECT partition_id, position FROM exporter_positions ORDER BY 1") == [
        (1, len(one)), (2, len(two))]


async def test_configuration_errors_name_the_setting():
    from zeebe_trio.exporters import ExporterConfigurationError

    for args, message in (({"path": "/tmp/x", "batchSize": 0}, r"args\.batchSize must be at least 1"),
                          ({"path": "/tmp/x", "flushDelay": "soon"}, r"args\.flushDelay must be a float")):
        harness = ExporterHarness(DuckDbExporter(), args, exporter_id="analytics")
        with pytest.raises(ExporterConfigurationError, match=message):
            harness.configure()


async def test_the_director_drives_the_duckdb_exporter_from_configuration(tmp_path):
    records = list(realistic_records(20))
    log, store = InMemoryCommittedLog(records), InMemoryPositionStore()
    path = tmp_path / "{partitionId}" / "export.duckdb"
    director = create_exporter_director(
        partition_id=3, exporters_config={"analytics": {"type": "duckdb", "args": {"path": str(path)}}},
        reader=log, position_store=store,
        environ={"ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCH_SIZE": "100",
                 "ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_FLUSH_DELAY": "0.05"},
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(director.run)
        with trio.fail_after(20):
            await store.wait_position("analytics", records[-1].position)
        assert director.health()[0].status is ExporterStatus.HEALTHY
        assert director.lowest_exported_position() == records[-1].position
        nursery.cancel_scope.cancel()
    assert rows(tmp_path / "3" / "export.duckdb", "SELECT count(*) FROM process_instances") == [(20,)]


async def test_a_failing_write_is_retried_and_acknowledged_only_after_commit(tmp_path, monkeypatch):
    records = list(realistic_records(3))
    log, store = InMemoryCommittedLog(records), InMemoryPositionStore()
    failures = []
    original = ExportStore.write_batch

    def flaky(self, batch, encoded=None):
        if len(failures) < 2:
            failures.append(len(batch))
            raise duckdb.IOException("disk full")
        return original(self, batch, encoded)

    monkeypatch.setattr(ExportStore, "write_batch", flaky)
    director = create_exporter_director(
        partition_id=1, reader=log, position_store=store, retry=RetryPolicy(0.01, 2.0, 1.0),
        exporters_config={"a": {"type": "duckdb", "args": {"path": str(tmp_path / "e.duckdb"), "flushDelay": 0.01}}},
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(director.run)
        with trio.fail_after(20):
            await store.wait_position("a", records[-1].position)
        nursery.cancel_scope.cancel()
    assert failures == [len(records), len(records)]  # nothing acknowledged before the third attempt
    assert "disk full" in director.health()[0].last_error
    assert rows(tmp_path / "e.duckdb", "SELECT count(*) FROM records") == [(len(records),)]


async def test_in_process_queries_see_live_data_and_cannot_change_it(tmp_path):
    path = tmp_path / "export.duckdb"
    harness = await export(path, list(realistic_records(3)), close=False, batch_size=10)
    query(path, "DELETE FROM records")
    assert rows(path, "SELECT count(*) FROM records") != [(0,)]
    await harness.close()


WRITER = textwrap.dedent("""
    import sys, trio
    from zeebe_trio.exporters.testing import ExporterHarness, realistic_records
    from zeebe_trio_duckdb import DuckDbExporter

    async def main():
        harness = ExporterHarness(DuckDbExporter(), {"path": sys.argv[1], "batchSize": 100,
                                                     "snapshotInterval": 0.0 if sys.argv[2] == "0" else 1.0})
        harness.configure()
        await harness.open()
        await harness.export(list(realistic_records(10)))
        await harness.controller.advance(5.0)  # flushes the last partial batch
        await harness.controller.advance(5.0)  # runs the snapshot task the flush scheduled
        print("written", harness.controller.position, flush=True)
        sys.stdin.readline()  # hold the connection open until the test says so

    trio.run(main)
""")


def start_writer(path: Path, snapshots: bool) -> tuple[subprocess.Popen, int]:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "1" if snapshots else "0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = writer.stdout.readline()
    assert line.startswith("written"), line
    return writer, int(line.split()[1])


def test_readers_in_another_process_query_the_snapshot_while_the_writer_holds_the_file(tmp_path):
    path = tmp_path / "export.duckdb"
    writer, position = start_writer(path, snapshots=True)
    try:
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(path), read_only=True).close()  # the broker holds the file
        result = query(path, "SELECT count(*), max(position) FROM records")
        assert result.source == snapshot_path(path)
        assert result.rows == [(position, position)]
        out, err = io.StringIO(), io.StringIO()
        assert run_sql_command("SELECT state, count(*) AS n FROM process_instances GROUP BY state",
                               path=path, out=out, err=err) == 0
        assert out.getvalue().split("\n")[2].split() == ["COMPLETED", "10"]
        assert "from snapshot" in err.getvalue()
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    # the writer is gone: readers get the live file
    assert query(path, "SELECT count(*) FROM records").source == path


def test_a_crashed_writer_leaves_a_readable_export(tmp_path):
    path = tmp_path / "export.duckdb"
    writer, position = start_writer(path, snapshots=False)
    writer.kill()
    writer.wait(timeout=30)
    assert query(path, "SELECT max(position) FROM records").rows == [(position,)]


def test_sql_command_reports_errors_with_exit_codes(tmp_path):
    err = io.StringIO()
    assert run_sql_command("SELECT 1", path=tmp_path / "missing.duckdb", out=io.StringIO(), err=err) == 2
    assert "no DuckDB export at" in err.getvalue()
    store = ExportStore(tmp_path / "e.duckdb", 1)
    store.close()
    err = io.StringIO()
    assert run_sql_command("SELECT nope FROM records", path=tmp_path / "e.duckdb", out=io.StringIO(), err=err) == 1
    assert "nope" in err.getvalue()
    assert os.path.exists(tmp_path / "e.duckdb")


CATALOG_QUERIES = [
    ("SHOW TABLES", "process_instances"),
    ("SHOW ALL TABLES", "process_instances"),
    ("SHOW process_instances", "start_time"),
    ("DESCRIBE jobs", "job_type"),
    ("SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs'", "worker"),
    ("SELECT table_name FROM information_schema.tables", "records"),
    ("SELECT table_name FROM duckdb_tables()", "records"),
    ("SELECT column_name FROM duckdb_columns() WHERE table_name = 'incidents'", "error_message"),
    ("SELECT view_name FROM duckdb_views() WHERE NOT internal", "process_instances"),
]
# Anything that writes, reads beyond the export (files, settings, other databases) or is not a query.
REFUSED_QUERIES = [
    ("DELETE FROM records", "only one SELECT"),
    ("CREATE TABLE t AS SELECT 1", "only one SELECT"),
    ("COPY records TO '/tmp/leak.csv'", "only one SELECT"),
    ("ATTACH '/tmp/other.db' AS other", "only one SELECT"),
    ("PRAGMA show_tables", "only one SELECT"),
    ("SET threads = 1", "only one SELECT"),
    ("SELECT 1; SELECT 2", "only one SELECT"),
    ("SELECT * FROM read_csv('/etc/hostname')", "read_csv"),
    ("SELECT * FROM '/etc/hostname'", "/etc/hostname"),
    ("SHOW '/etc/hostname'", "/etc/hostname"),
    ("DESCRIBE '/etc/hostname'", "/etc/hostname"),
    ("SUMMARIZE SELECT * FROM read_text('/etc/hostname')", "read_text"),
    ("SHOW DATABASES", "SHOW DATABASES is not answered"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM information_schema.tables, read_text('/etc/hostname')", "read_text"),
]


async def test_catalog_queries_are_answered_by_the_live_store_and_from_the_file(tmp_path):
    from zeebe_trio_duckdb import read_export

    path = tmp_path / "export.duckdb"
    await export(path, list(realistic_records(2)))
    store = ExportStore(path, 1)
    try:
        for sql, expected in CATALOG_QUERIES:
            _, live_rows, _ = store.read(sql, 1000)
            assert expected in {str(value) for row in live_rows for value in row}, sql
    finally:
        store.close()
    for sql, expected in CATALOG_QUERIES:
        result = read_export(path, sql)
        assert expected in {str(value) for row in result.rows for value in row}, sql


async def test_writes_files_and_settings_stay_refused_live_and_from_the_file(tmp_path):
    from zeebe_trio_duckdb import QueryRefused, read_export

    path = tmp_path / "export.duckdb"
    await export(path, list(realistic_records(2)))
    store = ExportStore(path, 1)
    try:
        for sql, words in REFUSED_QUERIES:
            with pytest.raises(QueryRefused, match=re.escape(words)):
                store.read(sql, 10)
    finally:
        store.close()
    for sql, words in REFUSED_QUERIES:
        with pytest.raises(QueryRefused, match=re.escape(words)):
            read_export(path, sql)
    assert rows(path, "SELECT count(*) > 0 FROM records") == [(True,)]


async def test_values_are_plain_data_the_same_live_and_from_the_file(tmp_path):
    from zeebe_trio_duckdb import read_export

    path = tmp_path / "export.duckdb"
    await export(path, list(realistic_records(1)))
    sql = ("SELECT TIMESTAMP '2025-01-01 08:00:00.5' AS ts, DATE '2025-01-02' AS d, 1.50 AS dec,"
           " 12345678901234567890.123456789::DECIMAL(38,9) AS big, INTERVAL 90 SECOND AS i,"
           " INTERVAL 2 DAY + INTERVAL 3 HOUR AS long_i, 170141183460469231731687303715884105727::HUGEINT AS huge,"
           " [1, 2] AS list, {'a': 1} AS struct, NULL AS nothing")
    expected = ("2025-01-01T08:00:00.500000", "2025-01-02", 1.5, "12345678901234567890.123456789", "PT1M30S",
                "P2DT3H", "170141183460469231731687303715884105727", [1, 2], {"a": 1}, None)
    result = read_export(path, sql)
    assert result.rows == [expected] and not result.truncated and result.source == path
    assert result.written_at is not None and abs(time.time() - result.written_at) < 60  # just written
    store = ExportStore(path, 1)
    try:
        assert store.read(sql, 10) == (result.columns, [expected], False)
    finally:
        store.close()
    assert read_export(path, "SELECT * FROM range(5)", max_rows=3).truncated


async def test_a_shutdown_closes_the_exporter_without_warnings_and_publishes_the_last_snapshot(tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO)
    records = list(realistic_records(3))
    log, store = InMemoryCommittedLog(records), InMemoryPositionStore()
    path = tmp_path / "export.duckdb"
    director = create_exporter_director(
        partition_id=1, reader=log, position_store=store,
        exporters_config={"analytics": {"type": "duckdb", "args": {
            "path": str(path), "flushDelay": 3600, "batchSize": 100_000, "snapshotInterval": 3600}}})
    async with trio.open_nursery() as nursery:
        await nursery.start(director.run)
        with trio.fail_after(20):
            await director.wait_delivered(records[-1].position)  # buffered, not yet written
        nursery.cancel_scope.cancel()  # what SIGTERM does to the partition
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    snapshot = duckdb.connect(str(snapshot_path(path)), read_only=True)
    try:
        assert snapshot.execute("SELECT count(*) FROM records").fetchall() == [(len(records),)]
    finally:
        snapshot.close()


async def test_typed_columns_hold_only_what_their_type_can_and_the_json_keeps_the_rest(tmp_path):
    path = tmp_path / "export.duckdb"
    builder = RecordBuilder()
    definition = builder.deploy_process("order")
    builder.process_instance("order", definition)
    odd = [record for record in builder.records if record.value_type is ValueType.PROCESS_INSTANCE][0]
    odd.value = {**odd.value, "version": 2**40, "elementId": "lone \ud800"}  # INTEGER overflow, not UTF-8
    await export(path, builder.records)
    assert rows(path, f"SELECT version, element_id FROM process_instance_events WHERE position = {odd.position}") \
        == [(None, "lone \\ud800")]
    [(value,)] = rows(path, f"SELECT value FROM records WHERE position = {odd.position}")
    assert '"version":1099511627776' in value


async def test_a_record_it_cannot_encode_fails_its_export_call_and_is_not_buffered(tmp_path):
    records = list(realistic_records(3))
    poison = Record(record_type=RecordType.COMMAND, value_type=ValueType.VARIABLE_DOCUMENT,
                    intent=VariableDocumentIntent.UPDATE, key=-1, value={"variables": {b"k": 1}},
                    position=records[-1].position + 1, timestamp=BASE_TIMESTAMP)
    harness = ExporterHarness(DuckDbExporter(), {"path": str(tmp_path / "e.duckdb"), "batchSize": 1000,
                                                 "snapshotInterval": 0.0})
    harness.configure()
    await harness.open()
    await harness.export(records)
    with pytest.raises(TypeError, match="keys must be str"):
        await harness.export([poison])
    await harness.close()  # the flush on close writes what was buffered, without the poison
    assert rows(tmp_path / "e.duckdb", "SELECT count(*), max(position) FROM records") == [
        (len(records), records[-1].position)]
