"""The DuckDB side of the exporter: synchronous, called from one worker thread per exporter.

One connection per exporter (partition). Several partitions of one broker may share a database file:
DuckDB allows many connections within one process, and a per-file lock serializes batches and
snapshots so a snapshot copy never sees a half-written file.

Readers in other processes cannot open a file a writer process holds, so after a batch (at most every
``snapshotInterval`` seconds) the store publishes a consistent copy next to the database
(``<path>.snapshot``, replaced atomically) that readers open read-only. See ``_query``.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from zeebe_trio.protocol import Record, RecordType

from ._schema import (
    EVENT_TABLES,
    EVENT_TABLES_BY_VALUE_TYPE,
    RAW_INSERT,
    SCHEMA_VERSION,
    TABLES_DDL,
    VIEWS_DDL,
    event_table_insert,
    json_text,
    text,
)

_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: Path) -> threading.Lock:
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(str(path.resolve()), threading.Lock())


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def snapshot_path(path: str | os.PathLike[str]) -> Path:
    """Where the read-only snapshot of the export database at ``path`` is published."""
    return Path(f"{os.fspath(path)}.snapshot")


_EVENT_INSERTS = {table.name: event_table_insert(table) for table in EVENT_TABLES}


EncodedBatch = tuple[list[list[Any]], dict[str, list[list[Any]]]]


def build_batch(records: Sequence[Record]) -> EncodedBatch:
    """Column lists for the raw table and for each typed event table touched by ``records``.

    Raises for a record whose value is not JSON data (a bytes key, say): the exporter encodes records
    when they are handed to it, so the call that brought that record fails, not every later write."""
    raw: list[list[Any]] = [[] for _ in range(11)]
    typed: dict[str, list[list[Any]]] = {}
    (partition, position, source, key, timestamp, record_type, value_type, intent,
     rejection_type, rejection_reason, value_json) = raw
    for record in records:
        partition.append(record.partition_id)
        position.append(record.position)
        source.append(record.source_position)
        key.append(record.key)
        timestamp.append(record.timestamp)
        record_type.append(record.record_type.name)
        value_type.append(record.value_type.name)
        intent.append(record.intent.name)
        rejection_type.append(record.rejection_type.name if record.rejection_type is not None else None)
        rejection_reason.append(text(record.rejection_reason) if record.rejection_reason else None)
        value_json.append(json_text(record.value))
        if record.record_type is not RecordType.EVENT:
            continue
        table = EVENT_TABLES_BY_VALUE_TYPE.get(record.value_type)
        if table is None:
            continue
        columns = typed.get(table.name)
        if columns is None:
            columns = typed[table.name] = [[] for _ in range(5 + len(table.columns))]
        value = record.value
        columns[0].append(record.partition_id)
        columns[1].append(record.position)
        columns[2].append(record.timestamp)
        columns[3].append(record.intent.name)
        columns[4].append(record.key)
        for index, column in enumerate(table.columns, start=5):
            columns[index].append(column.convert(value.get(column.field)))
    return raw, typed


def merge_batches(parts: Sequence[EncodedBatch]) -> EncodedBatch:
    """One ``build_batch`` result from several, in order."""
    if len(parts) == 1:
        return parts[0]
    raw: list[list[Any]] = [[] for _ in range(11)]
    typed: dict[str, list[list[Any]]] = {}
    for part_raw, part_typed in parts:
        for column, values in zip(raw, part_raw, strict=True):
            column.extend(values)
        for table, columns in part_typed.items():
            merged = typed.setdefault(table, [[] for _ in columns])
            for column, values in zip(merged, columns, strict=True):
                column.extend(values)
    return raw, typed


def _iso_duration(delta: datetime.timedelta) -> str:
    """An interval as an ISO 8601 duration: ``PT1M30.5S``, ``P2DT3H``, ``-PT5S``."""
    sign, delta = ("-", -delta) if delta < datetime.timedelta(0) else ("", delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    second_text = f"{seconds}.{delta.microseconds:06d}".rstrip("0") if delta.microseconds else str(seconds)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (
        f"{second_text}S" if seconds or delta.microseconds else "")
    date = f"{delta.days}D" if delta.days else ""
    return f"{sign}P{date}T{time}" if time else (f"{sign}P{date}" if date else "PT0S")


def plain_value(value: Any) -> Any:
    """A query result value as plain data (None, bool, int, float, str, list, dict), the same whether it
    crosses the command API (MessagePack) or is read from the file: timestamps, dates and times as
    ISO 8601 strings, intervals as ISO 8601 durations, decimals as numbers (as text when a float would
    change them), integers beyond 64 bits and anything else as text."""
    if value is None or isinstance(value, (bool, float, str)):
        return value
    if isinstance(value, int):
        return value if -(1 << 63) <= value < (1 << 64) else str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _iso_duration(value)
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value():
            return plain_value(int(value))
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [plain_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain_value(item) for key, item in value.items()}
    return str(value)


class QueryRefused(ValueError):
    """A query asked for more than reading the export (another statement kind, files, databases)."""


# Table functions a query may use: they compute values or describe the export's own catalog, and
# touch no file or setting.
_SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_CATALOG_TABLE_FUNCTIONS = frozenset({"duckdb_tables", "duckdb_columns", "duckdb_views", "duckdb_schemas",
                                      "duckdb_constraints", "duckdb_indexes"})
# SHOW TABLES; SHOW ALL TABLES, SHOW and DESCRIBE without a table. (SHOW <table> and DESCRIBE <table>
# name a table, checked like any other.)
_SHOW_LISTS = frozenset({'"tables"', "__show_tables_expanded"})
_CATALOG_SCHEMA = "information_schema"


def _check_export_query(connection: Any, sql: str) -> None:
    """Refuse anything but one SELECT (or SHOW / DESCRIBE / SUMMARIZE) that reads only the export's
    tables, views and CTEs and its catalog (``information_schema``, ``duckdb_tables()`` and the like)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(str(error)) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(str(s.type).rsplit(".", 1)[-1] for s in statements) or "nothing"
        raise QueryRefused(f"only one SELECT statement (or SHOW, DESCRIBE) is answered, not {kinds}")
    (tree_json,) = connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    tree = json.loads(tree_json)
    if tree.get("error"):
        raise QueryRefused(str(tree.get("error_message") or "the query does not parse"))
    known = {name.lower() for (name,) in connection.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    ctes: set[str] = set()
    tables: list[str] = []
    functions: list[str] = []
    shows: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "TABLE_FUNCTION":
                functions.append(str(node.get("function", {}).get("function_name", "")).lower())
            elif kind == "BASE_TABLE":
                if str(node.get("schema_name", "")).lower() != _CATALOG_SCHEMA:
                    tables.append(str(node.get("table_name", "")).lower())
            elif kind == "SHOW_REF":
                name = str(node.get("table_name", ""))
                if node.get("show_type") == "SHOW_SPECIAL":
                    shows.append(name)
                elif name:
                    tables.append(name.lower())
            for entry in (node.get("cte_map") or {}).get("map", []) or []:
                if isinstance(entry, dict) and "key" in entry:
                    ctes.add(str(entry["key"]).lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    refused = sorted({f for f in functions if f not in _SAFE_TABLE_FUNCTIONS | _CATALOG_TABLE_FUNCTIONS})
    if refused:
        raise QueryRefused(f"table function(s) {', '.join(refused)} may not be used in queries of the export")
    refused = sorted({name.strip('"') for name in shows if name not in _SHOW_LISTS})
    if refused:
        raise QueryRefused(f"SHOW {', '.join(refused).upper()} is not answered; SHOW TABLES, SHOW <table> and"
                           " DESCRIBE <table> are")
    unknown = sorted({t for t in tables if t not in known and t not in ctes})
    if unknown:
        raise QueryRefused(f"no table or view named {', '.join(unknown)} in the export")


class ExportStore:
    """An open export database for one partition."""

    def __init__(self, path: Path, partition_id: int) -> None:
        self.path = path
        self.partition_id = partition_id
        self._lock = _file_lock(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._connection = duckdb.connect(str(path))
            try:
                self._create_schema()
            except BaseException:
                self._connection.close()
                raise

    def _create_schema(self) -> None:
        connection = self._connection
        connection.execute("BEGIN")
        for statement in TABLES_DDL:
            connection.execute(statement)
        version = connection.execute("SELECT max(version) FROM schema_info").fetchone()
        if version is None or version[0] is None:
            connection.execute("INSERT INTO schema_info VALUES (?)", [SCHEMA_VERSION])
        elif version[0] > SCHEMA_VERSION:
            connection.execute("ROLLBACK")
            raise RuntimeError(
                f"{self.path} has export schema version {version[0]}, this zeebe-trio-duckdb writes"
                f" version {SCHEMA_VERSION}; upgrade zeebe-trio-duckdb or export to a new file"
            )
        elif version[0] < SCHEMA_VERSION:
            self._upgrade_from(version[0])
        for statement in VIEWS_DDL:
            connection.execute(statement)
        connection.execute("COMMIT")

    def _upgrade_from(self, version: int) -> None:
        """Bring a file written by an older schema version up to date, inside the open transaction.

        Tables are only ever added (``TABLES_DDL`` has just created the missing ones), and ``records``
        always held every record, so a table added since ``version`` is filled from the events already
        in ``records``, converted exactly as ``build_batch`` converts new ones."""
        connection = self._connection
        for table in EVENT_TABLES:
            if table.since <= version:
                continue
            after = (-1, -1)  # keyset paging: the inserts below would end an open result set
            while chunk := connection.execute(
                    "SELECT partition_id, position, epoch_ms(timestamp), intent, key, value FROM records"
                    " WHERE record_type = 'EVENT' AND value_type = ? AND key IS NOT NULL"
                    " AND (partition_id, position) > (?, ?) ORDER BY partition_id, position LIMIT 10000",
                    [table.value_type.name, *after]).fetchall():
                after = (chunk[-1][0], chunk[-1][1])
                columns: list[list[Any]] = [[] for _ in range(5 + len(table.columns))]
                for partition_id, position, timestamp, intent, key, value_text in chunk:
                    value = json.loads(value_text) if value_text is not None else {}
                    for index, item in enumerate((partition_id, position, timestamp, intent, key)):
                        columns[index].append(item)
                    for index, column in enumerate(table.columns, start=5):
                        columns[index].append(column.convert(value.get(column.field)))
                connection.execute(_EVENT_INSERTS[table.name], columns)
        connection.execute("UPDATE schema_info SET version = ?", [SCHEMA_VERSION])

    def committed_position(self) -> int:
        """The highest position of this partition committed to the database (-1 if none)."""
        row = self._connection.execute(
            "SELECT position FROM exporter_positions WHERE partition_id = ?", [self.partition_id]
        ).fetchone()
        return row[0] if row else -1

    def write_batch(self, records: Sequence[Record], encoded: Sequence[EncodedBatch] | None = None) -> None:
        """Insert ``records`` (idempotently) and advance this partition's position, in one transaction.
        ``encoded`` is ``records`` already through ``build_batch`` (in parts, in order)."""
        raw, typed = merge_batches(encoded) if encoded is not None else build_batch(records)
        connection = self._connection
        with self._lock:
            connection.execute("BEGIN")
            try:
                connection.execute(RAW_INSERT, raw)
                for table_name, columns in typed.items():
                    connection.execute(_EVENT_INSERTS[table_name], columns)
                connection.execute(
                    "INSERT INTO exporter_positions VALUES (?, ?, now()) ON CONFLICT (partition_id) DO UPDATE"
                    " SET position = greatest(exporter_positions.position, excluded.position),"
                    " exported_at = excluded.exported_at",
                    [self.partition_id, records[-1].position],
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def read(self, sql: str, max_rows: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        """Run ``sql`` on the live database inside a transaction that is always rolled back, so a
        query can read the freshest data and can change nothing. Only one SELECT over the export's
        own tables and views, or its catalog, is accepted: no files, no other databases
        (``QueryRefused`` says why). Values are ``plain_value``s.
        Blocking: run it in the worker thread."""
        connection = self._connection
        with self._lock:
            _check_export_query(connection, sql)
            connection.execute("BEGIN TRANSACTION")
            try:
                cursor = connection.execute(sql)
                if cursor.description is None:
                    return [], [], False
                columns = [item[0] for item in cursor.description]
                rows = cursor.fetchmany(max_rows + 1)
            finally:
                connection.execute("ROLLBACK")
        return columns, [tuple(plain_value(v) for v in row) for row in rows[:max_rows]], len(rows) > max_rows

    def publish_snapshot(self) -> Path:
        """Publish a transactionally consistent read-only copy for readers in other processes.

        The copy is made by DuckDB (``COPY FROM DATABASE`` into a new attached file), never by
        opening the database file ourselves: closing any descriptor of a file drops this process's
        POSIX lock on it, which would let another process open the live file while we write.
        """
        target = snapshot_path(self.path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        alias = f"snapshot_{os.getpid()}_{threading.get_ident()}"
        for leftover in (temporary, Path(f"{temporary}.wal")):
            leftover.unlink(missing_ok=True)
        connection = self._connection
        (database,) = connection.execute("SELECT current_database()").fetchone() or ("",)
        connection.execute(f"ATTACH '{_sql_string(str(temporary))}' AS {alias}")
        try:
            connection.execute(f'COPY FROM DATABASE "{database}" TO {alias}')
        finally:
            connection.execute(f"DETACH {alias}")
        os.replace(temporary, target)
        return target

    def close(self) -> None:
        with self._lock:
            self._connection.close()
            # DuckDB keeps the database instance (and so the file's configuration lock in this
            # process) until the Python connection object dies; drop it now rather than whenever
            # the garbage collector breaks some reference cycle that still holds this store.
            del self._connection
