"""The pluggy plugin module named by the ``zeebe_trio.exporters`` entry point."""

from __future__ import annotations

from zeebe_trio.exporters import ExporterFactory, hookimpl

from ._exporter import ARGUMENTS, DuckDbExporter


@hookimpl
def zeebe_trio_register_exporters() -> list[ExporterFactory]:
    return [
        ExporterFactory(
            name="duckdb",
            create=DuckDbExporter,
            description="analytics export into a DuckDB file (records + typed tables); query with `zeebe-trio sql`",
            arguments=ARGUMENTS,
        )
    ]
