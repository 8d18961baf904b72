"""The command line's entry point: the parser, logging, and turning failures into one line each."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from . import _client, _server, _sql, _storage
from . import _common as common
from ._errors import CliError

# Libraries whose DEBUG/INFO lines are noise to an operator (hpack logs every header it encodes).
_THIRD_PARTY_LOGGERS = ("hpack", "h2", "grpclib", "asyncio", "duckdb", "pluggy")


def build_parser() -> argparse.ArgumentParser:
    from . import __doc__ as doc

    parser = argparse.ArgumentParser(prog="zeebe-trio", description=(doc or "").split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log zeebe-trio at debug level and show tracebacks of failures;"
                             " -vv also logs the libraries underneath (h2, hpack, grpclib) at debug level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _server.register(commands)
    _client.register(commands)
    _sql.register(commands)
    _storage.register(commands)
    return parser


def configure_logging(verbosity: int) -> None:
    logging.basicConfig(level=logging.DEBUG if verbosity >= 2 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("zeebe_trio").setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    for name in _THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # every failure becomes one line; -v adds the traceback
        leaves = common.leaves(error)
        known = [leaf for leaf in leaves if isinstance(leaf, CliError)]
        if known:
            message, code = known[0].message, known[0].code
        else:
            leaf = leaves[0]
            message = (f"unexpected {type(leaf).__name__}: {_one_line(str(leaf)) or 'no message'}"
                       + ("" if args.verbose else " (run with -v for the traceback)"))
            code = 1
        if args.verbose:
            traceback.print_exception(error, file=sys.stderr)
        print(f"zeebe-trio {getattr(args, 'command_name', args.command)}: {message}", file=sys.stderr)
        return code
