"""`SegmentedRaftLog`: the durable `RaftLog`, entries in a `zeebe_trio.log.SegmentedLog`, term, vote and
snapshot position in a meta file.

Layout of `directory`: ``log/`` (the segmented log; each Raft entry is one log entry with its term, and a
position range that carries no records: the stream layer numbers its records inside the payload) and
``raft.meta`` (48 bytes, little-endian)::

    [8s magic b"ZTRAFTHS"][u32 version = 1][u64 term][i64 voted for, -1: nobody][u64 snapshot index]
    [u64 snapshot term][u32 crc32 of the bytes before it]

The meta file is replaced atomically: written to ``raft.meta.tmp``, fsync'd, renamed over ``raft.meta``,
and the directory fsync'd, so a crash leaves the old or the new hard state, never a mix. A meta file that
fails its checksum refuses to open (a forgotten vote could elect two leaders in one term).

Snapshot order: the meta file names the new snapshot *before* the log drops entries (compact) or is
reset (install), so open can finish a half-done install: when the log ends before the snapshot, or holds
an entry of another term at its index, it is reset to continue after the snapshot.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from zeebe_trio.log import LogEntry, SegmentedLog

from ._messages import HardState, RaftEntry

META_FILE = "raft.meta"
_MAGIC = b"ZTRAFTHS"
_VERSION = 1
_LAYOUT = struct.Struct("<8sIQqQQ")
_CRC = struct.Struct("<I")


class RaftMetaCorruptedError(Exception):
    """The term/vote file cannot be trusted; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class _Meta:
    term: int = 0
    voted_for: int | None = None
    snapshot_index: int = 0
    snapshot_term: int = 0


def _read_meta(path: Path) -> _Meta:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _Meta()
    if len(data) != _LAYOUT.size + _CRC.size or data[:8] != _MAGIC:
        raise RaftMetaCorruptedError(
            f"{path}: not a raft meta file ({len(data)} bytes, expected {_LAYOUT.size + _CRC.size} starting with"
            f" {_MAGIC!r}); restore it from a backup or remove the replica's directory to rejoin empty")
    body, (crc,) = data[: _LAYOUT.size], _CRC.unpack(data[_LAYOUT.size:])
    if zlib.crc32(body) != crc:
        raise RaftMetaCorruptedError(
            f"{path}: the raft meta file fails its checksum; restore it from a backup or remove the replica's"
            " directory to rejoin empty")
    _magic, version, term, voted_for, snapshot_index, snapshot_term = _LAYOUT.unpack(body)
    if version != _VERSION:
        raise RaftMetaCorruptedError(f"{path}: raft meta file version {version}, this build reads {_VERSION}")
    return _Meta(term, None if voted_for < 0 else voted_for, snapshot_index, snapshot_term)


def _write_meta(directory: Path, meta: _Meta) -> None:
    body = _LAYOUT.pack(_MAGIC, _VERSION, meta.term, -1 if meta.voted_for is None else meta.voted_for,
                        meta.snapshot_index, meta.snapshot_term)
    tmp = directory / (META_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        data = body + _CRC.pack(zlib.crc32(body))
        if os.write(fd, data) != len(data):
            raise OSError(f"{tmp}: short write of the raft meta file")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / META_FILE)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class SegmentedRaftLog:
    """The file-backed `RaftLog`; create it with `SegmentedRaftLog.open(directory)`."""

    sync_blocks = True

    def __init__(self, directory: Path, log: SegmentedLog, meta: _Meta) -> None:
        self.directory = directory
        self._log = log
        self._meta = meta
        self._hard_state = HardState(meta.term, meta.voted_for)
        self._hard_state_dirty = False

    @classmethod
    def open(cls, directory: Path, *, max_segment_bytes: int = 64 * 1024 * 1024) -> SegmentedRaftLog:
        directory.mkdir(parents=True, exist_ok=True)
        meta = _read_meta(directory / META_FILE)
        log = SegmentedLog.open(directory / "log", max_segment_bytes=max_segment_bytes)
        snapshot = meta.snapshot_index
        if snapshot:
            if log.first_index > snapshot + 1:
                log.close()
                raise RaftMetaCorruptedError(
                    f"{directory}: the log starts at entry {log.first_index} but the snapshot in {META_FILE} ends at"
                    f" {snapshot}: entries in between are missing; remove the replica's directory to rejoin empty")
            # Finish an install a crash interrupted: the log ends before the snapshot, or holds another
            # history at its index. (A log starting right after the snapshot is a finished compaction.)
            if log.last_index < snapshot or (log.first_index <= snapshot
                                             and log.entry(snapshot).term != meta.snapshot_term):
                log.reset(snapshot + 1)
        return cls(directory, log, meta)

    @property
    def first_index(self) -> int:
        return self._log.first_index

    @property
    def last_index(self) -> int:
        return self._log.last_index

    @property
    def durable_index(self) -> int:
        return max(self._log.durable_index, min(self._meta.snapshot_index, self._log.last_index))

    @property
    def snapshot_index(self) -> int:
        return self._meta.snapshot_index

    @property
    def snapshot_term(self) -> int:
        return self._meta.snapshot_term

    @property
    def hard_state(self) -> HardState:
        return self._hard_state

    def term_at(self, index: int) -> int:
        if index == self._meta.snapshot_index:
            return self._meta.snapshot_term
        return self._log.entry(index).term

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        if high < low:
            return []
        if high > self._log.last_index:
            raise IndexError(f"raft log entries {low}..{high} are not all stored (the log ends at"
                             f" {self._log.last_index})")
        return [RaftEntry(e.index, e.term, self._payload(e)) for e in islice(self._log.read(low), high - low + 1)]

    def _payload(self, entry: LogEntry) -> bytes:
        """What Raft carries for a stored entry: its data (a subclass may add what the store keeps beside it)."""
        return entry.data

    def append(self, entries: list[RaftEntry]) -> None:
        for entry in entries:
            if entry.index != self._log.last_index + 1:
                raise ValueError(f"raft log entry {entry.index} does not continue the log at"
                                 f" {self._log.last_index + 1}")
            # A raft entry carries no record positions of its own (empty range at its index).
            self._log.append(entry.term, entry.data, entry.index, entry.index - 1)

    def truncate_after(self, index: int) -> None:
        self._log.truncate_after(index)

    def save_hard_state(self, state: HardState) -> None:
        self._hard_state = state
        self._hard_state_dirty = True

    def sync(self) -> int:
        durable = self._log.sync()
        if self._hard_state_dirty:
            self._hard_state_dirty = False
            self._meta = _Meta(self._hard_state.term, self._hard_state.voted_for, self._meta.snapshot_index,
                               self._meta.snapshot_term)
            _write_meta(self.directory, self._meta)
        return max(durable, min(self._meta.snapshot_index, self._log.last_index))

    def _save_snapshot_position(self, snapshot_index: int, snapshot_term: int) -> None:
        self._meta = _Meta(self._meta.term, self._meta.voted_for, snapshot_index, snapshot_term)
        _write_meta(self.directory, self._meta)

    def compact(self, snapshot_index: int, snapshot_term: int) -> None:
        if snapshot_index <= self._meta.snapshot_index:
            return
        self._save_snapshot_position(snapshot_index, snapshot_term)
        self._log.compact(snapshot_index + 1)

    def install_snapshot(self, snapshot_index: int, snapshot_term: int) -> None:
        log = self._log
        if log.first_index <= snapshot_index <= log.last_index and log.entry(snapshot_index).term == snapshot_term:
            self.compact(snapshot_index, snapshot_term)
            return
        self._save_snapshot_position(snapshot_index, snapshot_term)
        log.reset(snapshot_index + 1)

    def close(self) -> None:
        self._log.close()
