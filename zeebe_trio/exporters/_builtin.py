"""Built-in exporters, registered through the plugin hooks like any third-party plugin.

``log``: writes each record as one JSON line to the ``zeebe_trio.exporters.log`` logger (Zeebe's
debug log exporter). Args: ``level`` (logging level name, default ``DEBUG``).
"""

from __future__ import annotations

import json
import logging

from zeebe_trio.protocol import Record

from ._api import (
    Exporter,
    ExporterArgument,
    ExporterConfigurationError,
    ExporterContext,
    ExporterController,
    ExporterFactory,
)
from .hookspecs import hookimpl


class LogExporter(Exporter):
    def __init__(self) -> None:
        self._logger = logging.getLogger("zeebe_trio.exporters.log")
        self._level = logging.DEBUG
        self._controller: ExporterController | None = None

    def configure(self, context: ExporterContext) -> None:
        level = str(context.args.get("level", "DEBUG")).upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ExporterConfigurationError(
                f"exporter '{context.exporter_id}': args.level {level!r} is not a logging level;"
                " use DEBUG, INFO or WARNING"
            )
        self._level = logging.getLevelName(level)

    async def open(self, controller: ExporterController) -> None:
        self._controller = controller

    async def export(self, record: Record) -> None:
        if self._logger.isEnabledFor(self._level):
            self._logger.log(self._level, "%s", json.dumps(record.to_dict(), default=str))
        assert self._controller is not None
        self._controller.update_last_exported_position(record.position)


@hookimpl
def zeebe_trio_register_exporters() -> list[ExporterFactory]:
    return [
        ExporterFactory(
            name="log",
            create=LogExporter,
            description="logs every record as JSON (logger zeebe_trio.exporters.log)",
            arguments={"level": ExporterArgument(str, "DEBUG", "logging level of the record lines")},
        )
    ]
