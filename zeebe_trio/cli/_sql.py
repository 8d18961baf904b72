"""``zeebe-trio sql``: read-only SQL over the DuckDB analytics export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import trio

from ._common import load_config
from ._errors import CliError, UsageError


def _sql(args: argparse.Namespace) -> int:
    """Ask the running broker first (fresh data, read on the exporter's own connection); when no
    broker answers, read the export file (or its snapshot) directly."""
    if args.database is None:
        config = load_config(args.config)
        address = args.broker or f"localhost:{config.command_api_port}"
        try:
            columns, rows, truncated = trio.run(_query_broker, address, args)
        except OSError:
            pass  # no broker there: read the file below
        except Exception as error:  # BrokerError, or the query failed in the exporter
            raise CliError(str(getattr(error, "message", error))) from None
        else:
            print(_format_table(columns, rows), end="")
            if truncated:
                print(f"(only the first {args.max_rows} rows shown)", file=sys.stderr)
            return 0
        duckdb_exporters = [s for s in config.exporter_settings().values() if s.get("type") == "duckdb"]
        if not duckdb_exporters:
            raise UsageError("no broker answered and no DuckDB exporter is configured; pass --database FILE")
        args.database = duckdb_exporters[0]["args"]["path"]
    try:
        from zeebe_trio_duckdb import run_sql_command
    except ImportError:
        raise UsageError("the DuckDB exporter (zeebe-trio-duckdb) is not installed:"
                         " pip install -e plugins/duckdb_exporter") from None
    return int(run_sql_command(args.query, path=args.database, max_rows=args.max_rows))


async def _query_broker(address: str, args: argparse.Namespace) -> Any:
    from zeebe_trio.gateway._remote import query_broker

    return await query_broker(address, args.query, exporter_id=args.exporter, max_rows=args.max_rows,
                              timeout=args.timeout)


def _format_table(columns: list[str], rows: list[list[Any]]) -> str:
    try:
        from zeebe_trio_duckdb import format_table
    except ImportError:
        lines = ["\t".join(columns), *("\t".join(str(v) for v in row) for row in rows)]
        return "\n".join(lines) + "\n"
    return str(format_table(columns, rows))




def register(commands: Any) -> None:
    sql = commands.add_parser("sql", help="run read-only SQL over the DuckDB analytics export")
    sql.add_argument("query")
    sql.add_argument("--broker", help="a running broker's command API (default localhost:<command_api_port>)")
    sql.add_argument("--exporter", help="the exporter id to ask (default: the first queryable one)")
    sql.add_argument("--database", help="read this .duckdb file directly instead of asking a broker")
    sql.add_argument("--config", type=Path, help="broker config file, to find the broker and the export")
    sql.add_argument("--max-rows", type=int, default=1000, help="rows to show at most (default 1000)")
    sql.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a broker's answer")
    sql.set_defaults(handler=_sql)
