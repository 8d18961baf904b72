from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zeebe_trio.exporters import Exporter


@dataclass
class ExporterUnderTest:
    """How the contract suite builds an exporter and reads back what it wrote."""

    name: str
    create: Callable[[], Exporter]
    args: Callable[[Path], dict[str, Any]]
    written_positions: Callable[[Path], list[int]]


def _duckdb() -> ExporterUnderTest:
    from zeebe_trio_duckdb import DuckDbExporter, query

    def positions(directory: Path) -> list[int]:
        return [row[0] for row in query(directory / "export.duckdb", "SELECT position FROM records ORDER BY position").rows]

    return ExporterUnderTest(
        "duckdb", DuckDbExporter,
        lambda directory: {"path": str(directory / "export.duckdb"), "batchSize": 10, "flushDelay": 2.0,
                           "snapshotInterval": 0},
        positions,
    )


def _jsonl() -> ExporterUnderTest:
    from zeebe_trio_jsonl import JsonLinesExporter

    def positions(directory: Path) -> list[int]:
        path = directory / "records-1.jsonl"
        if not path.exists():
            return []
        return [json.loads(line)["position"] for line in path.read_text().splitlines()]

    return ExporterUnderTest(
        "jsonl", JsonLinesExporter,
        lambda directory: {"path": str(directory / "records-{partitionId}.jsonl"), "batchSize": 10, "flushDelay": 2.0},
        positions,
    )


@pytest.fixture(params=["duckdb", "jsonl"])
def exporter_under_test(request: pytest.FixtureRequest) -> ExporterUnderTest:
    return {"duckdb": _duckdb, "jsonl": _jsonl}[request.param]()
