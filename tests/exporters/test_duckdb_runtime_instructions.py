"""The DuckDB export of runtime instructions (schema 5): RUNTIME_INSTRUCTION INTERRUPTED records, as the
engine writes them when an instruction given at creation terminates its instance, reach
``runtime_instruction_events``, and a schema 4 file is upgraded with its earlier ones."""

from __future__ import annotations

from pathlib import Path

from _duckdb_export import export
from zeebe_trio_duckdb import SCHEMA_VERSION, ExportStore, query

from zeebe_trio.exporters.testing import RecordBuilder
from zeebe_trio.protocol import Record, RuntimeInstructionIntent, ValueType


def interrupted(builder: RecordBuilder, element_id: str) -> Record:
    key = builder.new_key()
    return builder.record(ValueType.RUNTIME_INSTRUCTION, RuntimeInstructionIntent.INTERRUPTED, {
        "processInstanceKey": key, "processDefinitionKey": 42, "tenantId": "<default>", "elementId": element_id,
    }, key=key)


async def test_an_interruption_by_a_runtime_instruction_is_a_row_naming_the_instance_and_the_element(
        tmp_path: Path) -> None:
    builder = RecordBuilder()
    record = interrupted(builder, "charge")
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert query(path, "SELECT process_instance_key, intent, process_definition_key, element_id, tenant_id"
                       " FROM runtime_instruction_events").rows == [
        (record.key, "INTERRUPTED", 42, "charge", "<default>")]


async def test_a_schema_4_export_is_upgraded_with_its_earlier_runtime_instruction_records(tmp_path: Path) -> None:
    builder = RecordBuilder()
    record = interrupted(builder, "charge")
    path = tmp_path / "old.duckdb"
    await export(path, builder.records)
    store = ExportStore(path, 1)
    store._connection.execute("DROP TABLE runtime_instruction_events")
    store._connection.execute("UPDATE schema_info SET version = 4")
    store.close()
    ExportStore(path, 1).close()
    assert query(path, "SELECT version FROM schema_info").rows == [(SCHEMA_VERSION,)]
    assert query(path, "SELECT process_instance_key, element_id FROM runtime_instruction_events").rows == [
        (record.key, "charge")]
