"""The RaftLog contract, run against MemoryRaftLog and SegmentedRaftLog, and what only the durable one does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zeebe_trio.raft import (
    HardState,
    MemoryRaftLog,
    RaftEntry,
    RaftLog,
    RaftMetaCorruptedError,
    SegmentedRaftLog,
)


@pytest.fixture(params=["memory", "segmented"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RaftLog]:
    opened: RaftLog = MemoryRaftLog() if request.param == "memory" else SegmentedRaftLog.open(tmp_path / "raft")
    yield opened
    opened.close()


def entries(first: int, last: int, term: int) -> list[RaftEntry]:
    return [RaftEntry(i, term, b"e%d" % i) for i in range(first, last + 1)]


def test_appended_entries_are_read_back_with_their_terms_and_become_durable_on_sync(log: RaftLog) -> None:
    log.append(entries(1, 3, 1) + entries(4, 5, 2))
    assert (log.first_index, log.last_index) == (1, 5)
    assert [log.term_at(i) for i in range(0, 6)] == [0, 1, 1, 1, 2, 2]
    assert log.entries(2, 4) == [RaftEntry(2, 1, b"e2"), RaftEntry(3, 1, b"e3"), RaftEntry(4, 2, b"e4")]
    assert log.sync() == 5 and log.durable_index == 5


def test_an_append_that_does_not_continue_the_log_is_refused(log: RaftLog) -> None:
    log.append(entries(1, 2, 1))
    with pytest.raises(ValueError, match="does not continue the log at 3"):
        log.append(entries(4, 4, 1))


def test_truncating_drops_the_suffix(log: RaftLog) -> None:
    log.append(entries(1, 5, 1))
    log.sync()
    log.truncate_after(2)
    assert log.last_index == 2 and log.durable_index <= 2
    log.append(entries(3, 3, 2))
    assert log.term_at(3) == 2


def test_compacting_behind_a_snapshot_keeps_the_entries_after_it(log: RaftLog) -> None:
    log.append(entries(1, 10, 1))
    log.sync()
    log.compact(6, 1)
    assert (log.snapshot_index, log.snapshot_term) == (6, 1)
    assert log.term_at(6) == 1 and log.entries(7, 10) == entries(7, 10, 1)
    assert log.first_index <= 7


def test_installing_a_snapshot_of_another_history_drops_every_entry(log: RaftLog) -> None:
    log.append(entries(1, 10, 1))
    log.sync()
    log.install_snapshot(20, 3)
    assert (log.first_index, log.last_index, log.snapshot_index, log.term_at(20)) == (21, 20, 20, 3)
    log.append(entries(21, 21, 3))
    assert log.last_index == 21


def test_installing_a_snapshot_whose_last_entry_the_log_holds_keeps_what_follows(log: RaftLog) -> None:
    log.append(entries(1, 10, 1))
    log.sync()
    log.install_snapshot(5, 1)
    assert log.snapshot_index == 5 and log.entries(6, 10) == entries(6, 10, 1)


def test_the_memory_log_forgets_on_a_crash_what_was_not_synced() -> None:
    log = MemoryRaftLog()
    log.append(entries(1, 2, 1))
    log.save_hard_state(HardState(1, 0))
    log.sync()
    log.append(entries(3, 4, 1))
    log.save_hard_state(HardState(2, 1))
    log.crash(lose_unsynced=True)
    assert log.last_index == 2 and log.hard_state == HardState(1, 0)
    log.append(entries(3, 3, 1))
    log.crash(lose_unsynced=False)
    assert log.last_index == 3


def test_the_segmented_log_keeps_term_vote_snapshot_and_entries_across_a_reopen(tmp_path: Path) -> None:
    log = SegmentedRaftLog.open(tmp_path)
    log.append(entries(1, 8, 2))
    log.save_hard_state(HardState(3, 1))
    log.sync()
    log.compact(4, 2)
    log.close()
    again = SegmentedRaftLog.open(tmp_path)
    assert again.hard_state == HardState(3, 1)
    assert (again.snapshot_index, again.snapshot_term, again.last_index) == (4, 2, 8)
    assert again.entries(5, 8) == entries(5, 8, 2)
    again.close()


def test_a_hard_state_saved_but_not_synced_is_not_in_the_meta_file(tmp_path: Path) -> None:
    log = SegmentedRaftLog.open(tmp_path)
    log.save_hard_state(HardState(7, 2))
    assert not (tmp_path / "raft.meta").exists()
    log.sync()
    assert (tmp_path / "raft.meta").stat().st_size == 48
    log.close()


def test_open_finishes_a_snapshot_install_that_a_crash_interrupted(tmp_path: Path) -> None:
    log = SegmentedRaftLog.open(tmp_path)
    log.append(entries(1, 10, 1))
    log.sync()
    log._save_snapshot_position(6, 4)  # the meta file names the snapshot; the crash came before the reset
    log.close()
    again = SegmentedRaftLog.open(tmp_path)
    assert (again.snapshot_index, again.first_index, again.last_index) == (6, 7, 6)
    again.close()


def test_a_damaged_meta_file_refuses_to_open_and_says_what_to_do(tmp_path: Path) -> None:
    log = SegmentedRaftLog.open(tmp_path)
    log.save_hard_state(HardState(1, 0))
    log.sync()
    log.close()
    meta = tmp_path / "raft.meta"
    data = bytearray(meta.read_bytes())
    data[12] ^= 0xFF
    meta.write_bytes(bytes(data))
    with pytest.raises(RaftMetaCorruptedError, match="fails its checksum; restore it from a backup"):
        SegmentedRaftLog.open(tmp_path)
