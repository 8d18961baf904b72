"""Reading the export without disturbing the broker.

DuckDB lets one process write a database file and no other process open it meanwhile. So readers
first try the live file read-only (works whenever the broker is stopped) and, if it is locked by the
writing broker (or already open in this process), open the snapshot the exporter publishes next to
it (``<path>.snapshot``, at most ``snapshotInterval`` seconds old). Readers never write, and the
snapshot is replaced by atomic rename, so a reader can neither corrupt the export nor see a torn file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import duckdb

from ._store import QueryRefused, _check_export_query, plain_value, snapshot_path


class ExportNotAvailable(Exception):
    """Neither the export database nor its snapshot can be opened."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    source: Path
    """The file that answered: the live database or its snapshot."""
    truncated: bool = False
    """More rows than were asked for exist (``read_export``'s ``max_rows``)."""
    written_at: float | None = None
    """When ``source`` was last written (seconds since the epoch), for saying how old the answer is."""

    @property
    def from_snapshot(self) -> bool:
        return self.source.name.endswith(".snapshot")


def connect_read_only(
    path: str | os.PathLike[str], *, allow_snapshot: bool = True
) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A read-only connection to the export at ``path`` (live file if free, else its snapshot)."""
    live = Path(path)
    snapshot = snapshot_path(live)
    live_error: Exception | None = None
    if live.exists():
        try:
            return duckdb.connect(str(live), read_only=True), live
        except duckdb.Error as error:  # locked by the broker, or open in this process
            live_error = error
    if allow_snapshot and snapshot.exists():
        return duckdb.connect(str(snapshot), read_only=True), snapshot
    if live_error is not None:
        raise ExportNotAvailable(
            f"{live} is in use ({live_error}) and no snapshot {snapshot.name} has been published yet;"
            " wait for the exporter's first batch or set its snapshotInterval above 0"
        ) from live_error
    raise ExportNotAvailable(f"no DuckDB export at {live}; check the duckdb exporter's args.path")


_OPEN_IN_THIS_PROCESS = "different configuration"


def query(path: str | os.PathLike[str], sql: str, parameters: Sequence[Any] | None = None) -> QueryResult:
    """Run ``sql`` read-only against the export at ``path`` and return all rows.

    In the broker's own process (where the exporter holds the file) the query runs on the live
    database inside a transaction that is always rolled back; elsewhere see ``connect_read_only``.
    """
    try:
        connection, source = connect_read_only(path, allow_snapshot=False)
    except ExportNotAvailable as error:
        if _OPEN_IN_THIS_PROCESS not in str(error.__cause__):
            connection, source = connect_read_only(path)
        else:
            connection, source = duckdb.connect(str(path)), Path(path)
            connection.execute("BEGIN TRANSACTION")
    try:
        cursor = connection.execute(sql, parameters or [])
        columns = [item[0] for item in cursor.description or []]
        return QueryResult(columns, cursor.fetchall(), source)
    finally:
        connection.close()  # rolls back the in-process transaction, if any


def _written_at(path: Path) -> float | None:
    times = [candidate.stat().st_mtime for candidate in (path, Path(f"{path}.wal")) if candidate.exists()]
    return max(times, default=None)


def read_export(path: str | os.PathLike[str], sql: str, *, max_rows: int = 1000) -> QueryResult:
    """What ``zeebe-trio sql`` runs when it reads the export itself: the checks of a query the broker
    answers (one SELECT, SHOW or DESCRIBE over the export's own tables and catalog, else
    ``QueryRefused``), on a read-only connection to the live file or, while a broker holds it, its
    snapshot (``connect_read_only``). At most ``max_rows`` rows, values as ``plain_value``s.

    Raises ``ExportNotAvailable``, ``QueryRefused`` or ``duckdb.Error``."""
    connection, source = connect_read_only(path)
    try:
        _check_export_query(connection, sql)
        cursor = connection.execute(sql)
        columns = [item[0] for item in cursor.description or []]
        rows = cursor.fetchmany(max_rows + 1) if cursor.description else []
    finally:
        connection.close()
    return QueryResult(columns, [tuple(plain_value(value) for value in row) for row in rows[:max_rows]], source,
                       truncated=len(rows) > max_rows, written_at=_written_at(source))


def run_sql_command(sql: str, *, path: str | os.PathLike[str], out: TextIO | None = None,
                    err: TextIO | None = None, max_rows: int = 1000) -> int:
    """Read the export at ``path`` (``read_export``) and print a table; returns the process exit code
    (2: no export there, 1: the query was refused or failed)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        result = read_export(path, sql, max_rows=max_rows)
    except ExportNotAvailable as error:
        print(f"zeebe-trio sql: {error}", file=err)
        return 2
    except (duckdb.Error, QueryRefused) as error:
        print(f"zeebe-trio sql: {error}", file=err)
        return 1
    if result.columns:
        out.write(format_table(result.columns, result.rows))
    if result.truncated:
        print(f"(only the first {max_rows} rows shown)", file=err)
    if result.from_snapshot:
        print(f"(from snapshot {result.source})", file=err)
    return 0


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table with a header line and a row count."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[index]) for row in cells)]) for index, name in enumerate(columns)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)
