"""Reading a log stream from its in-memory tail gives what reading the log on disk gives."""

from __future__ import annotations

from pathlib import Path

from zeebe_trio.protocol import JobIntent, Record, RecordType, ValueType
from zeebe_trio.stream import LogStream

from ._fakes import open_log


def _batch(size: int) -> list[Record]:
    return [Record(record_type=RecordType.COMMAND, value_type=ValueType.JOB, intent=JobIntent.COMPLETE, value={})
            for _ in range(size)]


def test_a_reader_at_any_position_gets_the_records_after_it_from_the_tail_as_from_disk(tmp_path: Path) -> None:
    log, stream = open_log(tmp_path)
    for size in [1, 3, 2, 5, 1, 1, 4] * 30:  # batches of several records: positions inside a batch too
        stream.append(_batch(size))
    from_disk = LogStream(log, partition_id=1)  # a fresh stream has no tail: it reads the segments
    from_disk.last_position = stream.last_position
    for position in range(-1, stream.last_position + 1):
        cached = [r.position for r in stream.read_after(position, 10_000)]
        assert cached == [p for p in range(1, stream.last_position + 1) if p > position]  # positions start at 1
        assert cached == [r.position for r in from_disk.read_after(position, 10_000)]
