"""Records per second into DuckDB for realistic records (process instances with jobs, variables,
failures and incidents).

    .venv/bin/python benchmarks/exporter_bench.py [--instances 3000] [--batch-size 1000] [--methods]

Prints three figures: the store alone (build column lists + one transaction per batch), the whole
exporter driven by the exporter director over an in-memory committed log, and (with --methods)
raw-table bulk-load paths compared on the same rows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import trio
from zeebe_trio_duckdb import DuckDbExporter, ExportStore

from zeebe_trio.exporters import ExporterDirector, ExporterFactory, ExporterSettings
from zeebe_trio.exporters.testing import InMemoryCommittedLog, InMemoryPositionStore, realistic_records


def bench_store(records: list, directory: Path, batch_size: int) -> float:
    store = ExportStore(directory / "store.duckdb", 1)
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        store.write_batch(records[start:start + batch_size])
    elapsed = time.perf_counter() - started
    store.close()
    return len(records) / elapsed


def bench_director(records: list, directory: Path, batch_size: int) -> float:
    async def main() -> float:
        log, positions = InMemoryCommittedLog(records), InMemoryPositionStore()
        director = ExporterDirector(
            partition_id=1, reader=log, position_store=positions, read_batch_size=batch_size,
            settings=[ExporterSettings("duckdb", "duckdb", {"path": str(directory / "director.duckdb"),
                                                            "batchSize": batch_size, "snapshotInterval": 0})],
            factories={"duckdb": ExporterFactory("duckdb", DuckDbExporter)},
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(director.run)
            started = time.perf_counter()
            await positions.wait_position("duckdb", records[-1].position - (len(records) % batch_size))
            elapsed = time.perf_counter() - started
            nursery.cancel_scope.cancel()
        return (len(records) - len(records) % batch_size) / elapsed

    return trio.run(main)


def bench_methods(records: list, directory: Path) -> dict[str, float]:
    rows = [(r.partition_id, r.position, r.source_position, r.key, r.timestamp, r.record_type.name,
             r.value_type.name, r.intent.name, None, None, json.dumps(r.value)) for r in records[:20_000]]
    ddl = ("CREATE TABLE records(partition_id INTEGER, position BIGINT, source_position BIGINT, key BIGINT,"
           " timestamp BIGINT, record_type VARCHAR, value_type VARCHAR, intent VARCHAR, rejection_type VARCHAR,"
           " rejection_reason VARCHAR, value JSON, PRIMARY KEY (partition_id, position))")
    placeholders = "(" + ",".join("?" * 11) + ")"

    def executemany(connection, chunk):
        connection.executemany(f"INSERT OR IGNORE INTO records VALUES {placeholders}", chunk)

    def values(connection, chunk):
        connection.execute("INSERT OR IGNORE INTO records VALUES " + ",".join([placeholders] * len(chunk)),
                           [item for row in chunk for item in row])

    def unnest_columns(connection, chunk):
        connection.execute("INSERT OR IGNORE INTO records SELECT " + ",".join(f"unnest(${i + 1})" for i in range(11)),
                           [list(column) for column in zip(*chunk, strict=True)])

    def ndjson(connection, chunk):
        keys = ["partition_id", "position", "source_position", "key", "timestamp", "record_type", "value_type",
                "intent", "rejection_type", "rejection_reason", "value"]
        path = directory / "chunk.ndjson"
        path.write_text("".join(json.dumps(dict(zip(keys, row, strict=True))) + "\n" for row in chunk))
        connection.execute(f"INSERT OR IGNORE INTO records SELECT * FROM read_json('{path}', columns={{"
                           "partition_id:'INTEGER',position:'BIGINT',source_position:'BIGINT',key:'BIGINT',"
                           "timestamp:'BIGINT',record_type:'VARCHAR',value_type:'VARCHAR',intent:'VARCHAR',"
                           "rejection_type:'VARCHAR',rejection_reason:'VARCHAR',value:'VARCHAR'})")

    results = {}
    for name, method, limit in (("executemany", executemany, 1000), ("multi-row VALUES", values, len(rows)),
                                ("unnest(column lists)", unnest_columns, len(rows)),
                                ("read_json(NDJSON file)", ndjson, len(rows))):
        path = directory / f"{name.split('(')[0].strip().replace(' ', '_')}.duckdb"
        connection = duckdb.connect(str(path))
        connection.execute(ddl)
        sample = rows[:limit]
        started = time.perf_counter()
        connection.execute("BEGIN")
        for start in range(0, len(sample), 1000):
            method(connection, sample[start:start + 1000])
        connection.execute("COMMIT")
        results[name] = len(sample) / (time.perf_counter() - started)
        connection.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--methods", action="store_true", help="also compare raw bulk-load paths")
    options = parser.parse_args()
    records = list(realistic_records(options.instances))
    print(f"{len(records):,} records ({options.instances:,} process instances), batches of {options.batch_size:,},"
          f" duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        print(f"store.write_batch (raw + typed tables): {bench_store(records, directory, options.batch_size):,.0f} records/s")
        print(f"exporter via director (Trio + thread):  {bench_director(records, directory, options.batch_size):,.0f} records/s")
        if options.methods:
            for method, rate in bench_methods(records, directory).items():
                print(f"raw table only, {method:<24} {rate:,.0f} records/s")


if __name__ == "__main__":
    main()
