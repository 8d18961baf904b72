"""zeebe-trio-duckdb: export a zeebe-trio partition's records into DuckDB for analytics."""

from ._exporter import DEFAULT_ARGS, DuckDbExporter
from ._query import ExportNotAvailable, QueryResult, connect_read_only, format_table, query, run_sql_command
from ._schema import EVENT_TABLES, SCHEMA_VERSION
from ._store import ExportStore, snapshot_path

__all__ = [
    "DEFAULT_ARGS", "DuckDbExporter", "EVENT_TABLES", "ExportNotAvailable", "ExportStore", "QueryResult",
    "SCHEMA_VERSION", "connect_read_only", "format_table", "query", "run_sql_command", "snapshot_path",
]
