"""Reading the export without disturbing the broker.

DuckDB lets one process write a database file and no other process open it meanwhile. So readers
first try the live file read-only (works whenever the broker is stopped) and, if it is locked by the
writing broker (or already open in this process), open the snapshot the exporter publishes next to
it (``<path>.snapshot``, at most ``snapshotInterval`` seconds old). Readers never write, and the
snapshot is replaced by atomic rename, so a reader can neither corrupt the export nor see a torn file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import duckdb

from ._store import snapshot_path


class ExportNotAvailable(Exception):
    """Neither the export database nor its snapshot can be opened."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    source: Path
    """The file that answered: the live database or its snapshot."""


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


def run_sql_command(sql: str, *, path: str | os.PathLike[str], out: TextIO | None = None,
                    err: TextIO | None = None, max_rows: int = 1000) -> int:
    """What ``zeebe-trio sql "SELECT ..."`` runs: prints a table, returns the process exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        connection, source = connect_read_only(path)
    except ExportNotAvailable as error:
        print(f"zeebe-trio sql: {error}", file=err)
        return 2
    try:
        cursor = connection.execute(sql)
        if cursor.description is None:
            return 0
        columns = [item[0] for item in cursor.description]
        rows = cursor.fetchmany(max_rows + 1)
        out.write(format_table(columns, rows[:max_rows]))
        if len(rows) > max_rows:
            print(f"(only the first {max_rows} rows shown)", file=err)
        if source != Path(path):
            print(f"(from snapshot {source})", file=err)
        return 0
    except duckdb.Error as error:
        print(f"zeebe-trio sql: {error}", file=err)
        return 1
    finally:
        connection.close()


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table with a header line and a row count."""
    cells = [[("NULL" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(name), *(len(row[index]) for row in cells)]) for index, name in enumerate(columns)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
