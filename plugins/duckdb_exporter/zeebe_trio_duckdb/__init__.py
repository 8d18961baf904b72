"""zeebe-trio-duckdb: export a zeebe-trio partition's records into DuckDB for analytics."""

from ._exporter import ARGUMENTS, DEFAULT_ARGS, DuckDbExporter
from ._query import (
    ExportNotAvailable,
    QueryResult,
    connect_read_only,
    format_table,
    query,
    read_export,
    run_sql_command,
)
from ._schema import EVENT_TABLES, SCHEMA_VERSION
from ._store import ExportStore, QueryRefused, plain_value, snapshot_path

__all__ = [
    "ARGUMENTS", "DEFAULT_ARGS", "DuckDbExporter", "EVENT_TABLES", "ExportNotAvailable", "ExportStore", "QueryRefused",
    "QueryResult", "SCHEMA_VERSION", "connect_read_only", "format_table", "plain_value", "query", "read_export",
    "run_sql_command", "snapshot_path",
]
