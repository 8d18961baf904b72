"""The log contract (run against `InMemoryLog` and `SegmentedLog`) plus file-only behaviour: segments,
reopening, torn-tail recovery, corruption detection and syncing from a worker thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trio
import trio.lowlevel

import zeebe_trio.log as log_package
from zeebe_trio.log import (
    InMemoryLog,
    Log,
    LogClosedError,
    LogCompactedError,
    LogCorruptedError,
    LogEntry,
    SegmentedLog,
)
from zeebe_trio.log._segment import ENTRY_HEADER, SEGMENT_HEADER

SMALL_SEGMENT = 1024
"""Small enough that a few 100-byte entries roll a segment, so the contract suite crosses segments."""


@pytest.fixture(params=["memory", "file"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    if request.param == "memory":
        the_log: Log = InMemoryLog()
    else:
        the_log = SegmentedLog.open(tmp_path / "log", max_segment_bytes=SMALL_SEGMENT)
    yield the_log
    the_log.close()


def payload(index: int, size: int = 100) -> bytes:
    return (f"entry-{index}-".encode() * size)[:size]


def fill(log: Log, count: int, *, term: int = 1, size: int = 100) -> list[LogEntry]:
    """Append `count` entries carrying one record each, at the next positions."""
    entries = []
    for _ in range(count):
        position = log.last_position + 1
        entries.append(log.append(term, payload(log.last_index + 1, size), position, position))
    return entries


# ------------------------------------------------------------------------------------------ contract


def test_every_public_name_is_exported_once() -> None:
    assert sorted(log_package.__all__) == sorted(set(log_package.__all__))
    for name in log_package.__all__:
        assert getattr(log_package, name).__module__.startswith("zeebe_trio.log")


def test_a_new_log_is_empty(log: Log) -> None:
    assert (log.first_index, log.last_index, log.last_term, log.last_position, log.durable_index) == (
        1,
        0,
        0,
        0,
        0,
    )
    assert list(log.read(1)) == []
    assert log.index_of_position(1) is None


def test_appended_entries_read_back_with_consecutive_indexes(log: Log) -> None:
    appended = fill(log, 30)
    assert [e.index for e in appended] == list(range(1, 31))
    assert list(log.read(1)) == appended
    assert list(log.read(17)) == appended[16:]
    assert [log.entry(i) for i in range(1, 31)] == appended
    assert (log.last_index, log.last_term, log.last_position) == (30, 1, 30)


def test_an_entry_can_carry_many_records_or_none(log: Log) -> None:
    log.append(1, b"a", 1, 10)
    empty = log.append(1, b"", 11, 10)
    assert not empty.carries_records
    assert log.last_position == 10
    log.append(2, b"b", 11, 12)
    assert (log.last_position, log.last_term) == (12, 2)


@pytest.mark.parametrize(
    ("term", "low", "high", "problem"),
    [
        (1, 11, 11, "later term 2"),
        (2, 10, 10, "positions must increase"),
        (2, 20, 18, "high_position must be"),
    ],
)
def test_appends_that_break_term_or_position_order_are_refused(
    log: Log, term: int, low: int, high: int, problem: str
) -> None:
    log.append(2, b"x", 1, 10)
    with pytest.raises(ValueError, match=problem):
        log.append(term, b"y", low, high)
    assert log.last_index == 1


def test_sync_makes_everything_appended_durable(log: Log) -> None:
    fill(log, 5)
    assert log.durable_index == 0
    assert log.sync() == 5
    fill(log, 2)
    assert log.durable_index == 5
    assert log.sync() == 7 == log.durable_index


def test_a_reader_sees_entries_appended_while_it_iterates(log: Log) -> None:
    fill(log, 3)
    reader = log.read(1)
    seen = [next(reader).index]
    fill(log, 20)
    seen.extend(e.index for e in reader)
    assert seen == list(range(1, 24))
    fill(log, 1)
    assert [e.index for e in log.read(24)] == [24]  # a fresh read after the end sees the new entry


def test_reading_beyond_the_end_is_empty_and_entry_beyond_the_end_raises(log: Log) -> None:
    fill(log, 3)
    assert list(log.read(4)) == []
    assert list(log.read(99)) == []
    with pytest.raises(IndexError, match="last index is 3"):
        log.entry(4)


def test_truncate_after_then_append_continues_after_the_cut(log: Log) -> None:
    fill(log, 30)
    log.truncate_after(12)
    assert (log.last_index, log.last_position, log.durable_index) == (12, 12, 12)
    assert [e.index for e in log.read(1)] == list(range(1, 13))
    new = log.append(2, b"new", 13, 13)
    assert new.index == 13
    assert log.entry(13) == new
    assert list(log.read(13)) == [new]


def test_truncate_after_the_last_index_changes_nothing(log: Log) -> None:
    fill(log, 3)
    log.truncate_after(3)
    log.truncate_after(10)
    assert log.last_index == 3
    assert log.durable_index == 0


def test_truncating_everything_leaves_an_empty_log_that_continues_at_the_same_index(log: Log) -> None:
    fill(log, 10)
    log.truncate_after(0)
    assert (log.first_index, log.last_index, log.last_term, log.last_position) == (1, 0, 0, 0)
    assert log.append(3, b"z", 1, 1).index == 1


def test_compact_keeps_the_entry_at_up_to_index_and_everything_after_it(log: Log) -> None:
    appended = fill(log, 40)
    log.compact(25)
    assert 1 < log.first_index <= 25  # the file log deletes whole segments only
    assert list(log.read(log.first_index)) == appended[log.first_index - 1 :]
    with pytest.raises(LogCompactedError, match=f"now starts at index {log.first_index}"):
        log.entry(1)
    with pytest.raises(LogCompactedError):
        log.read(1)
    assert log.index_of_position(1) is None
    with pytest.raises(LogCompactedError, match="position 1 is not in the log"):
        log.read_from_position(1)
    with pytest.raises(LogCompactedError):
        log.truncate_after(0)


def test_compact_beyond_the_end_keeps_the_last_entry(log: Log) -> None:
    fill(log, 40)
    log.compact(1000)
    assert log.first_index <= 40 == log.last_index
    assert log.entry(40).index == 40
    assert log.append(1, b"more", 41, 41).index == 41


def test_reset_drops_everything_and_continues_at_the_next_index(log: Log) -> None:
    fill(log, 20)
    log.reset(101)
    assert (log.first_index, log.last_index, log.durable_index, log.last_term, log.last_position) == (
        101,
        100,
        100,
        0,
        0,
    )
    with pytest.raises(LogCompactedError):
        log.entry(100)
    entry = log.append(5, b"after snapshot", 500, 509)
    assert entry.index == 101
    assert list(log.read(101)) == [entry]
    assert log.index_of_position(505) == 101


def test_positions_map_to_the_entries_that_carry_them(log: Log) -> None:
    log.append(1, b"a", 1, 5)  # 1
    log.append(1, b"b", 6, 6)  # 2
    log.append(1, b"", 7, 6)  # 3: no records
    log.append(1, b"c", 7, 9)  # 4
    log.append(1, b"d", 20, 25)  # 5: positions may skip
    for position, index in [(1, 1), (5, 1), (6, 2), (7, 4), (9, 4), (20, 5), (25, 5)]:
        assert log.index_of_position(position) == index, position
    for missing in (0, 10, 19, 26):
        assert log.index_of_position(missing) is None
    assert [e.index for e in log.read_from_position(8)] == [4, 5]
    assert [e.index for e in log.read_from_position(12)] == [5]  # in a gap: from the next entry on
    assert list(log.read_from_position(26)) == []


def test_position_lookups_across_many_entries(log: Log) -> None:
    for _ in range(60):
        low = log.last_position + 1
        log.append(1, payload(low), low, low + 2)
    assert log.index_of_position(1) == 1
    assert log.index_of_position(100) == 34
    assert log.index_of_position(180) == 60
    assert log.index_of_position(181) is None
    assert [e.index for e in log.read_from_position(90)] == list(range(30, 61))


def test_a_closed_log_refuses_to_work(log: Log) -> None:
    fill(log, 1)
    log.close()
    with pytest.raises(LogClosedError):
        log.append(1, b"x", 2, 2)
    with pytest.raises(LogClosedError):
        log.entry(1)


# --------------------------------------------------------------------------------------- file only


def open_log(directory: Path, **options: int) -> SegmentedLog:
    options.setdefault("max_segment_bytes", SMALL_SEGMENT)
    return SegmentedLog.open(directory, **options)


def entry_size(data: bytes) -> int:
    return ENTRY_HEADER.size + len(data)


def test_reopening_sees_everything_across_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path / "log")
    appended = fill(log, 50)
    log.close()
    log = open_log(tmp_path / "log")
    assert len(log.segment_paths) > 5
    assert (log.first_index, log.last_index, log.last_term, log.last_position) == (1, 50, 1, 50)
    assert log.durable_index == 50
    assert list(log.read(1)) == appended
    assert log.recovery.entries_dropped == 0 and log.recovery.reason == ""
    assert log.append(1, b"next", 51, 51).index == 51
    log.close()


def test_segments_are_named_by_their_first_index(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 20)
    names = [p.name for p in log.segment_paths]
    assert names[0] == "00000000000000000001.log"
    firsts = [int(name.removesuffix(".log")) for name in names]
    assert firsts == sorted(firsts) and len(firsts) > 1
    for path, first in zip(log.segment_paths, firsts, strict=True):
        assert os.path.getsize(path) <= SMALL_SEGMENT
        assert log.entry(first).index == first
    log.close()


def test_an_entry_larger_than_a_segment_gets_a_segment_of_its_own(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 2)
    big = log.append(1, b"B" * 5000, 3, 3)
    fill(log, 1)
    log.close()
    log = open_log(tmp_path)
    assert log.entry(3) == big
    assert [e.index for e in log.read(1)] == [1, 2, 3, 4]
    log.close()


def test_reads_beyond_the_cache_come_from_disk(tmp_path: Path) -> None:
    log = open_log(tmp_path, cache_max_entries=4, max_segment_bytes=64 * 1024)
    appended = fill(log, 100)
    assert list(log.read(1)) == appended
    assert log.entry(7) == appended[6]
    log.close()


def crash(log: SegmentedLog) -> None:
    """Stop `log` as a killed process would leave it: every appended byte stays (it was in the page cache),
    but the durability mark stays where the last sync put it (a clean close would advance it)."""
    mark = (log.directory / "durable.meta").read_bytes()
    log.close()
    (log.directory / "durable.meta").write_bytes(mark)


def torn_tail_case(tmp_path: Path, cut: Callable[[int, int], int]) -> SegmentedLog:
    """Write 5 entries to one segment (the last one never synced), crash, cut the file at
    `cut(start_of_last_entry, size)` as a torn write would, reopen."""
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    fill(log, 4)
    log.sync()
    fill(log, 1)
    crash(log)
    (path,) = log.segment_paths
    start_of_last = SEGMENT_HEADER.size + 4 * entry_size(payload(1))
    os.truncate(path, cut(start_of_last, os.path.getsize(path)))
    return open_log(tmp_path, max_segment_bytes=1 << 20)


@pytest.mark.parametrize(
    ("where", "cut"),
    [("mid-header", lambda start, size: start + 17), ("mid-payload", lambda start, size: size - 30)],
)
def test_a_torn_tail_is_cut_at_open_and_appends_continue(
    tmp_path: Path, where: str, cut: Callable[[int, int], int]
) -> None:
    log = torn_tail_case(tmp_path, cut)
    assert log.last_index == 4
    assert log.recovery.entries_dropped == 1
    assert "incomplete" in log.recovery.reason and "00000000000000000001.log" in log.recovery.reason
    assert log.append(1, b"again", 5, 5).index == 5
    log.close()
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    assert log.recovery.bytes_dropped == 0
    assert [e.data for e in log.read(4)] == [payload(4), b"again"]
    log.close()


def flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


def test_a_flipped_byte_in_a_last_entry_that_was_never_synced_is_caught_by_its_checksum_and_cut(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path)
    fill(log, 19)
    log.sync()
    fill(log, 1)
    crash(log)
    last = log.segment_paths[-1]
    flip_byte(last, os.path.getsize(last) - 5)
    log = open_log(tmp_path)
    assert log.last_index == 19
    assert log.recovery.entries_dropped == 1
    assert log.recovery.bytes_dropped == entry_size(payload(20))
    assert "checksum mismatch" in log.recovery.reason
    assert log.append(1, b"x", 20, 20).index == 20
    log.close()


def test_a_flipped_byte_in_a_durable_last_entry_refuses_to_open_naming_file_and_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 20)
    log.close()
    last = log.segment_paths[-1]
    offset = os.path.getsize(last) - entry_size(payload(20))
    flip_byte(last, os.path.getsize(last) - 5)
    with pytest.raises(LogCorruptedError, match=rf"{last.name}: offset {offset}: checksum mismatch .*had been made"
                       " durable") as caught:
        open_log(tmp_path)
    assert (caught.value.path, caught.value.offset) == (last, offset)
    damage = caught.value.damage
    assert damage is not None and (damage.index, damage.entries_lost, damage.intact_lost) == (20, 1, 0)
    assert damage.lost_high_position == 20  # the mark vouches for position 20


def test_a_flipped_bit_mid_segment_refuses_to_open_and_keeps_the_intact_entries_after_it(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    fill(log, 504)
    log.close()
    (path,) = log.segment_paths
    damaged_offset = SEGMENT_HEADER.size + 99 * entry_size(payload(1))  # entry 100
    flip_byte(path, damaged_offset + ENTRY_HEADER.size + 50)
    (tmp_path / "durable.meta").unlink()  # even without the mark: intact entries after it make it damage
    size_before = os.path.getsize(path)
    with pytest.raises(LogCorruptedError, match=rf"offset {damaged_offset}: checksum mismatch.*an intact entry"
                       rf" follows at offset {damaged_offset + entry_size(payload(1))}") as caught:
        open_log(tmp_path, max_segment_bytes=1 << 20)
    assert os.path.getsize(path) == size_before  # nothing was cut
    damage = caught.value.damage
    assert damage is not None
    assert (damage.index, damage.entries_lost, damage.intact_lost, damage.lost_high_position) == (100, 405, 404, 504)


def test_damage_in_the_unsynced_tail_followed_by_intact_entries_is_refused_too(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    fill(log, 10)
    log.sync()
    fill(log, 10)
    crash(log)
    (path,) = log.segment_paths
    flip_byte(path, SEGMENT_HEADER.size + 12 * entry_size(payload(1)) + ENTRY_HEADER.size + 3)  # entry 13
    with pytest.raises(LogCorruptedError, match="an intact entry follows"):
        open_log(tmp_path, max_segment_bytes=1 << 20)


def test_a_damaged_entry_header_is_found_by_searching_every_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    fill(log, 30)
    crash(log)
    (tmp_path / "durable.meta").unlink()
    (path,) = log.segment_paths
    entry_20 = SEGMENT_HEADER.size + 19 * entry_size(payload(1))
    with open(path, "r+b") as f:  # a length field that leads nowhere: following lengths finds nothing
        f.seek(entry_20)
        f.write((7).to_bytes(4, "little"))
    with pytest.raises(LogCorruptedError, match=f"an intact entry follows at offset {entry_20 + entry_size(payload(1))}"):
        open_log(tmp_path, max_segment_bytes=1 << 20)


def test_a_long_run_of_zeros_after_a_torn_write_is_cut_quickly(tmp_path: Path) -> None:
    import time

    log = open_log(tmp_path, max_segment_bytes=64 << 20)
    fill(log, 10)
    log.sync()
    fill(log, 1)
    crash(log)
    (path,) = log.segment_paths
    with open(path, "r+b") as f:  # what a file system may show after a crash: the size grew, the data did not
        f.truncate(os.path.getsize(path) - 50)
        f.seek(0, os.SEEK_END)
        f.write(bytes(32 << 20))
    started = time.monotonic()
    log = open_log(tmp_path, max_segment_bytes=64 << 20)
    assert time.monotonic() - started < 5
    assert log.last_index == 10 and log.recovery.bytes_dropped == (32 << 20) + entry_size(payload(1)) - 50
    log.close()


def test_a_log_cut_at_an_entry_boundary_below_its_mark_refuses_to_open(tmp_path: Path) -> None:
    log = open_log(tmp_path, max_segment_bytes=1 << 20)
    fill(log, 30)
    log.close()
    (path,) = log.segment_paths
    os.truncate(path, SEGMENT_HEADER.size + 25 * entry_size(payload(1)))
    with pytest.raises(LogCorruptedError, match="the log ends at index 25 .position 25. but entries up to index 30"
                       " .position 30. had been made durable: 5 entries are missing"):
        open_log(tmp_path, max_segment_bytes=1 << 20)


def test_a_deleted_newest_segment_refuses_to_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    log.segment_paths[-1].unlink()
    with pytest.raises(LogCorruptedError, match="entries are missing from its end"):
        open_log(tmp_path)


def test_a_log_whose_segment_files_were_all_deleted_refuses_to_open_and_a_cut_accepts_the_loss(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    for path in log.segment_paths:
        path.unlink()
    with pytest.raises(LogCorruptedError, match="no segment file but entries up to index 30 .position 30."):
        open_log(tmp_path)
    damage = SegmentedLog.inspect(tmp_path).damage
    assert damage is not None and damage.lost_high_position == 30
    SegmentedLog.cut(tmp_path, damage)
    log = open_log(tmp_path)
    assert (log.first_index, log.last_index) == (1, 0)
    log.close()


def test_inspect_changes_nothing_and_cut_repairs_at_the_damage(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 60)
    log.close()
    damaged = log.segment_paths[2]
    first_damaged = int(damaged.name.removesuffix(".log"))
    flip_byte(damaged, SEGMENT_HEADER.size + entry_size(payload(1)) + ENTRY_HEADER.size + 7)  # its second entry
    files_before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    inspection = SegmentedLog.inspect(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files_before
    damage = inspection.damage
    assert damage is not None and damage.path == damaged and damage.index == first_damaged + 1
    assert damage.offset == SEGMENT_HEADER.size + entry_size(payload(1))
    assert damage.entries_lost == 60 - first_damaged and damage.intact_lost == damage.entries_lost - 1
    assert damage.lost_high_position == 60 and len(damage.later_segments) == len(log.segment_paths) - 3
    assert (inspection.last_index, inspection.end_position) == (first_damaged, first_damaged)
    assert "not the last segment" in damage.problem
    SegmentedLog.cut(tmp_path, damage)
    assert SegmentedLog.inspect(tmp_path).damage is None
    log = open_log(tmp_path)
    assert (log.last_index, log.last_position, log.recovery.bytes_dropped) == (first_damaged, first_damaged, 0)
    assert [e.index for e in log.read(1)] == list(range(1, first_damaged + 1))
    log.close()


def test_a_segment_header_that_is_wrong_is_damage_a_cut_can_repair(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    damaged = log.segment_paths[1]
    flip_byte(damaged, 2)  # the magic
    with pytest.raises(LogCorruptedError, match=rf"{damaged.name}: offset 0: bad magic"):
        open_log(tmp_path)
    damage = SegmentedLog.inspect(tmp_path).damage
    assert damage is not None and (damage.path, damage.offset) == (damaged, 0)
    SegmentedLog.cut(tmp_path, damage)
    log = open_log(tmp_path)
    assert log.last_index == int(damaged.name.removesuffix(".log")) - 1
    log.close()


def test_a_flipped_byte_in_an_earlier_segment_refuses_to_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    damaged = log.segment_paths[1]
    offset = SEGMENT_HEADER.size + ENTRY_HEADER.size + 10
    flip_byte(damaged, offset)
    with pytest.raises(LogCorruptedError, match=rf"{damaged.name}: offset {SEGMENT_HEADER.size}: checksum"):
        open_log(tmp_path)


def test_a_missing_middle_segment_refuses_to_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    log.segment_paths[2].unlink()
    with pytest.raises(LogCorruptedError, match="entries are missing"):
        open_log(tmp_path)


def test_damage_found_while_reading_raises(tmp_path: Path) -> None:
    log = open_log(tmp_path, cache_max_entries=1)
    fill(log, 20)
    log.sync()
    flip_byte(log.segment_paths[0], SEGMENT_HEADER.size + ENTRY_HEADER.size + 3)
    with pytest.raises(LogCorruptedError, match="00000000000000000001.log: entry 1 at offset 24"):
        log.entry(1)
    log.close()


def test_a_torn_header_of_the_last_segment_is_rewritten(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 20)
    log.sync()
    segments = len(log.segment_paths)
    while len(log.segment_paths) == segments:  # a new segment, created after the last sync
        fill(log, 1)
    crash(log)
    last = log.segment_paths[-1]
    first_of_last = int(last.name.removesuffix(".log"))
    os.truncate(last, 10)
    log = open_log(tmp_path)
    assert log.last_index == first_of_last - 1
    assert "torn segment header" in log.recovery.reason
    assert log.append(1, b"x", first_of_last, first_of_last).index == first_of_last
    log.close()


def test_truncate_after_deletes_later_segments_and_is_durable(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 40)
    segments_before = len(log.segment_paths)
    log.truncate_after(5)
    assert len(log.segment_paths) < segments_before
    assert sorted(p.name for p in tmp_path.glob("*.log")) == [p.name for p in log.segment_paths]
    log.append(2, b"other", 6, 6)
    log.close()
    log = open_log(tmp_path)
    assert log.last_index == 6 and log.entry(6).data == b"other" and log.last_term == 2
    log.close()


def test_compact_removes_old_segment_files_but_never_the_one_holding_up_to_index(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 40)
    holding = next(p for p in reversed(log.segment_paths) if int(p.name.removesuffix(".log")) <= 25)
    log.compact(25)
    assert log.segment_paths[0] == holding
    assert sorted(p.name for p in tmp_path.glob("*.log")) == [p.name for p in log.segment_paths]
    log.compact(int(holding.name.removesuffix(".log")))  # up_to_index is the segment's first entry
    assert log.segment_paths[0] == holding
    log.close()
    log = open_log(tmp_path)
    assert log.first_index == int(holding.name.removesuffix(".log"))
    assert log.last_index == 40
    log.close()


def test_reset_survives_reopening(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.reset(1000)
    log.close()
    log = open_log(tmp_path)
    assert (log.first_index, log.last_index) == (1000, 999)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000000000000001000.log", "durable.meta"]
    log.close()


def test_a_reset_interrupted_before_its_rename_is_finished_at_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 3)
    log.reset(50)
    log.close()
    (segment,) = log.segment_paths
    segment.rename(segment.with_name(segment.name + ".tmp"))
    log = open_log(tmp_path)
    assert (log.first_index, log.last_index) == (50, 49)
    log.close()


def test_a_reset_interrupted_before_deleting_the_old_log_is_discarded_at_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    fill(log, 30)
    log.close()
    (tmp_path / "00000000000000000500.log.tmp").write_bytes(b"half-written")
    log = open_log(tmp_path)
    assert (log.first_index, log.last_index) == (1, 30)
    assert not list(tmp_path.glob("*.tmp"))
    log.close()


async def test_sync_in_a_worker_thread_never_claims_entries_appended_after_it_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_log(tmp_path, max_segment_bytes=16 * 1024)
    real_fsync = os.fsync
    last_index_at_first_fsync: dict[int, int] = {}

    def slow_fsync(fd: int) -> None:
        # The index a sync may publish is captured before its first fsync; remember the log's end then.
        last_index_at_first_fsync.setdefault(threading.get_ident(), log.last_index)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    limiter = trio.CapacityLimiter(1)
    done = False
    checked = 0

    async def syncer() -> None:
        nonlocal done, checked
        for _ in range(30):
            appended_before = log.last_index

            def sync_and_report() -> tuple[int, int | None]:
                last_index_at_first_fsync.pop(threading.get_ident(), None)
                durable = log.sync()
                return durable, last_index_at_first_fsync.pop(threading.get_ident(), None)

            durable, bound = await trio.to_thread.run_sync(sync_and_report, limiter=limiter)
            assert durable >= appended_before
            assert durable <= log.last_index
            if bound is not None:
                assert durable <= bound
                checked += 1
        done = True

    async with trio.open_nursery() as nursery:
        nursery.start_soon(syncer)
        while not done:
            fill(log, 5)
            await trio.lowlevel.checkpoint()
    assert checked > 0
    assert log.sync() == log.last_index
    total = log.last_index
    log.close()
    log = open_log(tmp_path)
    assert log.last_index == total
    assert [e.index for e in log.read(1)] == list(range(1, total + 1))
    log.close()
