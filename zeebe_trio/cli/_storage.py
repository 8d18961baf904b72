"""Storage commands: ``repair-log`` shows what a damaged partition log would lose and, with ``--yes``,
repairs it (the broker refuses to open such a log by itself and names this command)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ._errors import CliError, UsageError

_PARTITION_DIR = re.compile(r"^partition-(\d+)$")


def _partitions(data_dir: Path, only: int | None) -> list[tuple[int, Path]]:
    if not data_dir.is_dir():
        raise UsageError(f"data directory '{data_dir}' does not exist or is not a directory; pass the broker's"
                         " data_dir with --data-dir")
    found = sorted((int(m.group(1)), data_dir / m.group(0))
                   for m in map(_PARTITION_DIR.match, (p.name for p in data_dir.iterdir())) if m is not None)
    if only is not None:
        found = [(pid, path) for pid, path in found if pid == only]
        if not found:
            raise UsageError(f"data directory '{data_dir}' has no partition {only} (no {data_dir / f'partition-{only}'})")
    if not found:
        raise UsageError(f"data directory '{data_dir}' holds no partition (no partition-N directory); is it the"
                         " broker's data_dir?")
    return found


def _repair_log(args: argparse.Namespace) -> int:
    from zeebe_trio.broker import DataDirectoryLock, StartupError
    from zeebe_trio.log import LogCorruptedError
    from zeebe_trio.stream import plan_repair

    data_dir = Path(args.data_dir)
    partitions = _partitions(data_dir, args.partition)
    try:
        lock = DataDirectoryLock(data_dir)
        lock.acquire()  # a running broker owns its log: never repair under it
    except StartupError as error:  # in use (or not usable): say so without the broker's data_dir advice
        raise CliError(f"{str(error).split(';')[0]}; stop that broker first, a log is never repaired under a"
                       " running broker") from None
    try:
        needed = 0
        for partition_id, directory in partitions:
            try:
                plan = plan_repair(partition_id, directory)
            except LogCorruptedError as error:
                raise CliError(f"partition {partition_id}: {error}") from None
            for line in plan.describe():
                print(f"partition {partition_id}: {line}")
            if not plan.needed:
                continue
            needed += 1
            if args.yes:
                plan.apply()
                print(f"partition {partition_id}: repaired; the broker can start on it again")
        if needed and not args.yes:
            print(f"nothing was changed; run again with --yes to repair {'this partition' if needed == 1 else 'them'}")
    finally:
        lock.release()
    return 0


def register(commands: Any) -> None:
    repair = commands.add_parser(
        "repair-log", help="show what repairing a damaged partition log would lose; --yes repairs it",
        description="Check the log of each partition in a (stopped) broker's data directory. For damage the"
                    " broker refuses to open, say what a repair would cut (from which file and offset, how many"
                    " entries, which positions) and, with --yes, cut it: the log is truncated at the damage and"
                    " continues above every position it had handed out.")
    repair.add_argument("--data-dir", required=True, type=Path, help="the broker's data_dir")
    repair.add_argument("--partition", type=int, help="only this partition (default: every partition)")
    repair.add_argument("--yes", action="store_true", help="do the repair (without it nothing is changed)")
    repair.set_defaults(handler=_repair_log)
