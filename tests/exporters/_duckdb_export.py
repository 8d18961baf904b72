"""Feeding records to the DuckDB exporter through the exporter harness, as a broker would."""

from __future__ import annotations

from pathlib import Path

from zeebe_trio_duckdb import DuckDbExporter

from zeebe_trio.exporters.testing import ExporterHarness
from zeebe_trio.protocol import Record


async def export(path: Path, records: list[Record]) -> None:
    """Export ``records`` into the DuckDB file at ``path`` in one batch, then close it."""
    harness = ExporterHarness(DuckDbExporter(), {"path": str(path), "batchSize": 1000, "snapshotInterval": 0})
    harness.configure()
    await harness.open()
    await harness.export(records)
    await harness.close()
