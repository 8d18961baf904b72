"""PartitionRaftLog: Raft entries stored as partition log entries with their record positions."""

from __future__ import annotations

from pathlib import Path

from zeebe_trio.raft import PartitionRaftLog, RaftEntry, encode_entry


def test_a_batch_entry_is_stored_with_its_positions_and_read_back_with_its_header(tmp_path: Path) -> None:
    log = PartitionRaftLog.open(tmp_path, sync_blocks=False)
    log.append([RaftEntry(1, 1, b""), RaftEntry(2, 1, encode_entry(b"batch-a", 1, 3)),
                RaftEntry(3, 1, encode_entry(b"batch-b", 4, 4)), RaftEntry(4, 2, b"")])
    stored = [log.log.entry(i) for i in range(1, 5)]
    assert [(e.data, e.low_position, e.high_position) for e in stored] == [
        (b"", 1, 0), (b"batch-a", 1, 3), (b"batch-b", 4, 4), (b"", 5, 4)]
    assert [e.data for e in log.entries(1, 4)] == [b"", encode_entry(b"batch-a", 1, 3), encode_entry(b"batch-b", 4, 4),
                                                   b""]
    assert log.log.index_of_position(4) == 3
    assert log.high_position_at(4) == 4 and log.end_position() == 4
    log.close()


def test_after_a_snapshot_install_a_no_op_continues_after_the_position_floor_across_a_restart(
        tmp_path: Path) -> None:
    log = PartitionRaftLog.open(tmp_path, sync_blocks=False)
    log.append([RaftEntry(1, 1, encode_entry(b"old", 1, 2))])
    log.sync()
    log.set_position_floor(40)
    log.install_snapshot(10, 2)  # the log is reset: it forgets where positions ended
    assert log.log.last_index == 10 and log.end_position() == 40
    log.close()
    reopened = PartitionRaftLog.open(tmp_path, sync_blocks=False)
    assert reopened.position_floor == 40
    reopened.append([RaftEntry(11, 3, b"")])
    entry = reopened.log.entry(11)
    assert (entry.low_position, entry.high_position) == (41, 40)
    reopened.append([RaftEntry(12, 3, encode_entry(b"next", 41, 42))])
    assert reopened.high_position_at(12) == 42
    reopened.close()
