"""``zeebe-trio sql``: read-only SQL over the DuckDB analytics export.

Every answer says where it came from, on one line starting with ``-- ``: the running broker (fresh),
or the export file or its snapshot and how old that is. For ``--format table`` the line is the last
one on stdout; for ``csv`` and ``json`` it goes to stderr, so that stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from ._common import leaves, load_config
from ._errors import CliError, UsageError

FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class _Answer:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    source: str
    """The ``-- answered ...`` line."""


def _sql(args: argparse.Namespace) -> int:
    """Ask the running broker first (fresh data, read on the exporter's own connection); when no
    broker answers and none was asked for by ``--broker``, read the export file (or its snapshot)."""
    if args.max_rows < 1:
        raise UsageError(f"--max-rows must be at least 1, got {args.max_rows}")
    if args.database is not None:
        answer = _from_file(args.database, args)
    else:
        config = load_config(args.config)
        address = args.broker or f"localhost:{config.command_api_port}"
        try:
            answer = _from_broker(address, args, secret=config.command_api_secret,
                                  tls_certificate=config.command_api_tls_certificate)
        except _NoAnswer as no_answer:
            if args.broker is not None:  # the user asked for the live broker: no quiet fallback
                raise CliError(f"the broker at {address} did not answer ({no_answer}); start it or check"
                               " --broker (without --broker the export file is read when no broker answers)"
                               ) from None
            answer = _from_file(_export_path(config, args.exporter), args,
                                why=f"the broker at {address} did not answer ({no_answer})")
    _print(answer, args)
    return 0


class _NoAnswer(Exception):
    """Nothing answered at the broker's address (connection refused, timed out)."""


def _from_broker(address: str, args: argparse.Namespace, *, secret: str, tls_certificate: Any) -> _Answer:
    from zeebe_trio.gateway._remote import query_broker

    ssl_context = None
    if tls_certificate:
        # On the broker's host: trust exactly the broker's own command-API certificate.
        from zeebe_trio.gateway._tls import pinned_context

        ssl_context = pinned_context(tls_certificate, setting="command_api_tls_certificate")

    async def ask() -> Any:
        return await query_broker(address, args.query, exporter_id=args.exporter, max_rows=args.max_rows,
                                  timeout=args.timeout, secret=secret, ssl_context=ssl_context)

    try:
        answer = trio.run(ask)
    except OSError as error:
        raise _NoAnswer(_connect_failure(error)) from None
    except trio.TooSlowError:
        raise _NoAnswer(f"no answer within {args.timeout:g} s; raise --timeout") from None
    except Exception as error:  # BrokerError: the broker refused, or the query failed in the exporter
        raise CliError(str(getattr(error, "message", error))) from None
    columns, rows, truncated, answered_by = answer
    exporter = answered_by or args.exporter  # a broker of an older version does not say
    return _Answer(list(columns), [list(row) for row in rows], bool(truncated),
                   f"-- answered by the running broker at {address}"
                   + (f" (exporter '{exporter}')" if exporter else ""))


def _connect_failure(error: OSError) -> str:
    """``connection refused``, rather than trio's "all attempts to connect to ... failed"."""
    attempts = leaves(error.__cause__) if isinstance(error.__cause__, BaseExceptionGroup) else [error]
    reasons = sorted({os.strerror(attempt.errno).lower() if isinstance(attempt, OSError) and attempt.errno
                      else str(attempt) for attempt in attempts})
    return ", ".join(reasons) or str(error)


def _export_path(config: Any, exporter_id: str | None) -> str:
    """The DuckDB export file of the configured exporter ``exporter_id`` (else the first DuckDB one)."""
    from zeebe_trio.exporters import exporter_factories, load_exporter_settings

    settings = load_exporter_settings(config.exporter_settings(), os.environ, exporter_factories())
    exports = [item for item in settings if item.type == "duckdb" and item.enabled
               and (exporter_id is None or item.id == exporter_id)]
    if not exports or not exports[0].args.get("path"):
        which = f"no DuckDB exporter '{exporter_id}'" if exporter_id else "no DuckDB exporter"
        raise UsageError(f"no broker answered and {which} is configured; pass --database FILE")
    return str(exports[0].args["path"]).replace("{partitionId}", "1")


def _from_file(path: str, args: argparse.Namespace, why: str = "") -> _Answer:
    try:
        from zeebe_trio_duckdb import ExportNotAvailable, QueryRefused, read_export
    except ImportError:
        raise UsageError("the DuckDB exporter (zeebe-trio-duckdb) is not installed:"
                         " pip install -e plugins/duckdb_exporter") from None
    import duckdb

    try:
        result = read_export(path, args.query, max_rows=args.max_rows)
    except ExportNotAvailable as error:
        raise CliError(str(error) + (f"; {why}" if why else "")) from None
    except (QueryRefused, duckdb.Error) as error:
        raise CliError(str(error)) from None
    kind = "export snapshot" if result.from_snapshot else "export file"
    written = "" if result.written_at is None else f", written {_age(time.time() - result.written_at)} ago"
    return _Answer(result.columns, [list(row) for row in result.rows], result.truncated,
                   f"-- answered from the {kind} {result.source}{written}" + (f"; {why}" if why else ""))


def _age(seconds: float) -> str:
    """``3 min 12 s``, ``2 h 5 min``, ``4 d 3 h``: how old something is, to the second at most."""
    seconds = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {unit}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def _print(answer: _Answer, args: argparse.Namespace) -> None:
    if args.format == "table":
        if answer.columns:
            sys.stdout.write(_format_table(answer.columns, answer.rows))
        print(answer.source)
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(answer.columns)
        writer.writerows([_csv_cell(value) for value in row] for row in answer.rows)
        sys.stdout.write(buffer.getvalue())
        print(answer.source, file=sys.stderr)
    else:
        objects = [dict(zip(answer.columns, (_json_value(value) for value in row), strict=True))
                   for row in answer.rows]
        print(json.dumps(objects, indent=2, ensure_ascii=False))
        print(answer.source, file=sys.stderr)
    sys.stdout.flush()
    if answer.truncated:
        print(f"(only the first {args.max_rows} rows shown; raise --max-rows for more)", file=sys.stderr)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value


def _format_table(columns: list[str], rows: list[list[Any]]) -> str:
    try:
        from zeebe_trio_duckdb import format_table
    except ImportError:
        lines = ["\t".join(columns), *("\t".join(str(v) for v in row) for row in rows)]
        return "\n".join(lines) + "\n"
    return str(format_table(columns, rows))


def register(commands: Any) -> None:
    sql = commands.add_parser(
        "sql", help="run read-only SQL over the DuckDB analytics export",
        description="Read-only SQL over the DuckDB analytics export: one SELECT, or a catalog query"
                    " (SHOW TABLES, DESCRIBE <table>, information_schema, duckdb_tables()). Asks the running"
                    " broker; when none answers (and --broker was not given) reads the export file or its"
                    " snapshot. A line starting with '-- ' says which answered and how old it is (stdout"
                    " for table, stderr for csv and json).")
    sql.add_argument("query")
    sql.add_argument("--broker", help="a running broker's command API (default localhost:<command_api_port>);"
                                      " given explicitly, failing to reach it is an error, not a fallback")
    sql.add_argument("--exporter", help="the exporter id to ask (default: the first queryable one)")
    sql.add_argument("--database", help="read this .duckdb file directly instead of asking a broker")
    sql.add_argument("--config", type=Path, help="broker config file, to find the broker and the export")
    sql.add_argument("--format", choices=FORMATS, default="table",
                     help="table (default), csv (a header line, then one line per row) or json (a list of"
                          " objects, column -> value; times as ISO 8601)")
    sql.add_argument("--max-rows", type=int, default=1000, help="rows to show at most (default 1000)")
    sql.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a broker's answer")
    sql.set_defaults(handler=_sql)
