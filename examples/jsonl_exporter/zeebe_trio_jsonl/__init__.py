"""Example third-party exporter: every record as one JSON line (Zeebe's export shape), per partition."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.exporters import (
    Exporter,
    ExporterArgument,
    ExporterConfigurationError,
    ExporterContext,
    ExporterController,
    ExporterFactory,
    ScheduledTask,
    hookimpl,
)
from zeebe_trio.protocol import Record

ARGUMENTS = {
    "path": ExporterArgument(str, None, "the file to append to; may contain {partitionId}", required=True),
    "batchSize": ExporterArgument(int, 100, "lines per write and fsync"),
    "flushDelay": ExporterArgument(float, 1.0, "seconds after a batch's first record at the latest"),
}
DEFAULT_ARGS: dict[str, Any] = {name: argument.default for name, argument in ARGUMENTS.items()}


def last_position_in(path: Path) -> int:
    """Position of the last complete line; a torn last line (crash mid-write) is cut off."""
    if not path.exists():
        return -1
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        block = min(size, 1 << 20)
        file.seek(size - block)
        tail = file.read(block)
        end = tail.rfind(b"\n")
        if end + 1 != len(tail):  # torn line after the last newline
            file.truncate(size - block + end + 1)
        if end < 0:
            return -1
        start = tail.rfind(b"\n", 0, end) + 1
        return int(json.loads(tail[start:end])["position"])


class JsonLinesExporter(Exporter):
    def __init__(self) -> None:
        self._path: Path | None = None
        self._batch_size = 100
        self._flush_delay = 1.0
        self._limiter = trio.CapacityLimiter(1)
        self._controller: ExporterController | None = None
        self._lines: list[str] = []
        self._last_buffered = -1
        self._flush_task: ScheduledTask | None = None

    def configure(self, context: ExporterContext) -> None:
        path = context.args.get("path")
        if not isinstance(path, str) or not path:
            raise ExporterConfigurationError(
                f"exporter '{context.exporter_id}': args.path is required, e.g. /tmp/records-{{partitionId}}.jsonl"
            )
        self._path = Path(path.replace("{partitionId}", str(context.partition_id)))
        self._batch_size = int(context.args.get("batchSize", 100))
        self._flush_delay = float(context.args.get("flushDelay", 1.0))

    async def open(self, controller: ExporterController) -> None:
        assert self._path is not None
        self._controller = controller
        self._path.parent.mkdir(parents=True, exist_ok=True)
        written = await trio.to_thread.run_sync(last_position_in, self._path, limiter=self._limiter)
        self._last_buffered = written
        if written > controller.last_exported_position:
            controller.update_last_exported_position(written)

    async def export(self, record: Record) -> None:
        if record.position > self._last_buffered:
            self._lines.append(json.dumps(record.to_dict(), separators=(",", ":"), default=str) + "\n")
            self._last_buffered = record.position
        if len(self._lines) >= self._batch_size:
            await self._flush()
        elif self._lines and self._flush_task is None and self._controller is not None:
            self._flush_task = self._controller.schedule_delayed_task(self._flush_delay, self._scheduled_flush)

    async def _scheduled_flush(self) -> None:
        self._flush_task = None
        await self._flush()

    def _append(self, lines: list[str]) -> None:
        assert self._path is not None
        with self._path.open("a", encoding="utf-8") as file:
            file.writelines(lines)
            file.flush()
            os.fsync(file.fileno())

    async def _flush(self) -> None:
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None
        if not self._lines:
            return
        lines = self._lines
        await trio.to_thread.run_sync(self._append, lines, limiter=self._limiter)
        self._lines = []
        assert self._controller is not None
        self._controller.update_last_exported_position(self._last_buffered)

    async def close(self) -> None:
        await self._flush()


@hookimpl
def zeebe_trio_register_exporters() -> list[ExporterFactory]:
    return [ExporterFactory("jsonl", JsonLinesExporter, "records as JSON lines, one file per partition",
                            arguments=ARGUMENTS)]
