"""The DuckDB export of forms (schema 3): FORM CREATED records as the engine writes them reach
``form_events`` and the ``forms`` view, and a schema 2 file is upgraded with its earlier form records."""

from __future__ import annotations

from pathlib import Path

from _duckdb_export import export
from zeebe_trio_duckdb import SCHEMA_VERSION, ExportStore, query

from zeebe_trio.exporters.testing import RecordBuilder
from zeebe_trio.protocol import FormIntent, Record, ValueType
from zeebe_trio.testing.bpmn_forms import form


def form_created(builder: RecordBuilder, form_id: str, version: int, *, version_tag: str = "") -> Record:
    key, deployment_key = builder.new_key(), builder.new_key()
    record = builder.record(ValueType.FORM, FormIntent.CREATED, {
        "formId": form_id, "version": version, "versionTag": version_tag, "formKey": key,
        "resourceName": f"{form_id}.form", "checksum": "00ff", "isDuplicate": False, "tenantId": "<default>",
        "deploymentKey": deployment_key, "resource": form(form_id),
    }, key=key, record_version=2)
    return record


async def test_form_versions_are_rows_of_the_forms_view(tmp_path: Path) -> None:
    builder = RecordBuilder()
    first = form_created(builder, "invoice", 1, version_tag="v1")
    second = form_created(builder, "invoice", 2)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert query(path, "SELECT form_key, form_id, version, version_tag, resource_name, deployment_key, tenant_id"
                       " FROM forms ORDER BY version").rows == [
        (first.key, "invoice", 1, "v1", "invoice.form", first.value["deploymentKey"], "<default>"),
        (second.key, "invoice", 2, "", "invoice.form", second.value["deploymentKey"], "<default>"),
    ]


async def test_a_schema_2_export_is_upgraded_with_its_earlier_form_records(tmp_path: Path) -> None:
    builder = RecordBuilder()
    created = form_created(builder, "invoice", 1)
    path = tmp_path / "old.duckdb"
    await export(path, builder.records)
    store = ExportStore(path, 1)
    store._connection.execute("DROP VIEW forms")
    store._connection.execute("DROP TABLE form_events")
    store._connection.execute("UPDATE schema_info SET version = 2")
    store.close()
    ExportStore(path, 1).close()
    assert query(path, "SELECT version FROM schema_info").rows == [(SCHEMA_VERSION,)]
    assert query(path, "SELECT form_key, form_id FROM forms").rows == [(created.key, "invoice")]
