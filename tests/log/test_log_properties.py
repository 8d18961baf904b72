"""Hypothesis state machine: the file log against a plain list model, with syncs, truncations,
compactions, resets, clean reopens, crashes that tear off bytes written after the last sync (cut at
open), and damage followed by intact entries or to durable entries (refused at open, naming the file
and the entry's offset, and nothing cut)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from zeebe_trio.log import LogCorruptedError, LogEntry, SegmentedLog
from zeebe_trio.log._segment import ENTRY_HEADER, SEGMENT_HEADER

SEGMENT_BYTES = 1024


@dataclass(frozen=True)
class Model:
    term: int
    data: bytes
    low: int
    high: int


class FileLogMachine(RuleBasedStateMachine):
    directory: Path

    def __init__(self) -> None:
        super().__init__()
        self.log = SegmentedLog.open(self.directory, max_segment_bytes=SEGMENT_BYTES)
        self.model: list[Model] = []  # entries first_index, first_index + 1, ...
        self.first_index = 1
        self.term = 1
        self.next_position = 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.model) - 1

    def expect(self, index: int) -> Model:
        return self.model[index - self.first_index]

    def assert_entry(self, entry: LogEntry) -> None:
        want = self.expect(entry.index)
        assert (entry.term, entry.data, entry.low_position, entry.high_position) == (
            want.term,
            want.data,
            want.low,
            want.high,
        ), entry.index

    def reopen(self) -> None:
        self.log = SegmentedLog.open(self.directory, max_segment_bytes=SEGMENT_BYTES)

    @rule(data=st.binary(max_size=300), records=st.integers(0, 3), new_term=st.booleans())
    def append(self, data: bytes, records: int, new_term: bool) -> None:
        self.term += new_term
        low, high = self.next_position, self.next_position + records - 1
        entry = self.log.append(self.term, data, low, high)
        self.model.append(Model(self.term, data, low, high))
        self.next_position = high + 1
        assert entry.index == self.last_index
        self.assert_entry(entry)

    @rule()
    def sync(self) -> None:
        assert self.log.sync() == self.last_index

    @precondition(lambda self: self.model)
    @rule(choice=st.integers(0, 10**6))
    def truncate_after(self, choice: int) -> None:
        index = self.first_index - 1 + choice % (len(self.model) + 1)
        cuts = index < self.last_index
        self.log.truncate_after(index)
        del self.model[index - self.first_index + 1 :]
        if cuts:
            assert self.log.durable_index == self.last_index

    @precondition(lambda self: self.model)
    @rule(choice=st.integers(0, 10**6))
    def compact(self, choice: int) -> None:
        up_to = self.first_index + choice % (len(self.model) + 3)
        self.log.compact(up_to)
        new_first = self.log.first_index
        assert self.first_index <= new_first <= max(self.first_index, min(up_to, self.last_index))
        del self.model[: new_first - self.first_index]
        self.first_index = new_first

    @rule(gap=st.integers(1, 5))
    def reset(self, gap: int) -> None:
        next_index = self.last_index + gap
        self.log.reset(next_index)
        self.model = []
        self.first_index = next_index

    @rule()
    def close_and_reopen(self) -> None:
        self.log.close()
        self.reopen()
        assert self.log.recovery.bytes_dropped == 0
        assert self.log.last_index == self.last_index

    def crash(self) -> None:
        """Close the fds as a killed process would: the bytes stay, the durability mark stays where the
        last sync left it (a clean close would advance it)."""
        mark = (self.directory / "durable.meta").read_bytes()
        self.log.close()
        (self.directory / "durable.meta").write_bytes(mark)

    def entry_span(self, index: int) -> tuple[Path, int, int]:
        """(segment file, offset, length) of entry `index` (from the log's in-memory index)."""
        segment = self.log._segment_of(index)
        local = index - segment.first_index
        return segment.path, segment.offsets[local], ENTRY_HEADER.size + len(self.expect(index).data)

    def assert_refused_at(self, path: Path, offset: int) -> None:
        with pytest.raises(LogCorruptedError) as caught:
            self.reopen()
        assert (caught.value.path, caught.value.offset) == (path, offset), str(caught.value)
        assert f"{path}: offset {offset}: " in str(caught.value)

    @precondition(lambda self: self.model)
    @rule(which=st.integers(0, 10**6), byte=st.integers(0, 10**6), bit=st.integers(0, 7))
    def damage_a_durable_entry(self, which: int, byte: int, bit: int) -> None:
        self.log.close()  # everything is durable now
        index = self.first_index + which % len(self.model)
        path, offset, length = self.entry_span(index)
        flipped = offset + byte % length
        original = _flip(path, flipped, bit)
        size = os.path.getsize(path)
        self.assert_refused_at(path, offset)
        assert os.path.getsize(path) == size, "a refused open cut nothing"
        _write_byte(path, flipped, original)
        self.reopen()
        self.read_everything()

    @rule(which=st.integers(0, 10**6), byte=st.integers(0, 10**6), bit=st.integers(0, 7))
    def crash_damaging_an_unsynced_entry_followed_by_intact_ones(self, which: int, byte: int, bit: int) -> None:
        durable = self.log.durable_index
        last_segment = self.log._segments[-1]
        damageable = [i for i in range(max(durable + 1, last_segment.first_index), self.last_index)]
        if not damageable:
            return
        index = damageable[which % len(damageable)]
        path, offset, length = self.entry_span(index)
        self.crash()
        flipped = offset + byte % length
        original = _flip(path, flipped, bit)
        self.assert_refused_at(path, offset)
        _write_byte(path, flipped, original)
        self.reopen()  # intact again: nothing is lost, although it was never synced
        assert self.log.last_index == self.last_index
        self.read_everything()

    @rule(choice=st.integers(0, 10**9))
    def crash_tearing_unsynced_bytes(self, choice: int) -> None:
        durable = self.log.durable_index
        last_segment = self.log.segment_paths[-1]
        self.crash()  # the file contents are what a crash could have left below
        segment_first = int(last_segment.name.removesuffix(".log"))
        if durable < segment_first:
            keep_at_least = 0  # nothing in this segment was synced: even its header may be torn
        else:
            keep_at_least = SEGMENT_HEADER.size + sum(
                ENTRY_HEADER.size + len(self.expect(i).data) for i in range(segment_first, durable + 1)
            )
        size = os.path.getsize(last_segment)
        os.truncate(last_segment, size - choice % (size - keep_at_least + 1))
        self.reopen()
        assert durable <= self.log.last_index <= self.last_index
        del self.model[self.log.last_index - self.first_index + 1 :]
        self.read_everything()

    @rule(choice=st.integers(0, 10**6))
    def position_lookup(self, choice: int) -> None:
        position = choice % (self.next_position + 2)
        want = next(
            (self.first_index + i for i, m in enumerate(self.model) if m.low <= position <= m.high), None
        )
        assert self.log.index_of_position(position) == want

    @rule()
    def read_everything(self) -> None:
        entries = list(self.log.read(self.first_index))
        assert [e.index for e in entries] == list(range(self.first_index, self.last_index + 1))
        for entry in entries:
            self.assert_entry(entry)

    @invariant()
    def bounds_match_the_model(self) -> None:
        assert self.log.first_index == self.first_index
        assert self.log.last_index == self.last_index
        assert self.first_index - 1 <= self.log.durable_index <= self.last_index
        want_position = next((m.high for m in reversed(self.model) if m.high >= m.low), 0)
        assert self.log.last_position == want_position
        assert self.log.last_term == (self.model[-1].term if self.model else 0)
        if self.model:
            self.assert_entry(self.log.entry(self.last_index))
            self.assert_entry(self.log.entry(self.first_index))

    def teardown(self) -> None:
        self.log.close()


def _flip(path: Path, offset: int, bit: int) -> int:
    with open(path, "r+b") as f:
        f.seek(offset)
        original = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([original ^ (1 << bit)]))
    return original


def _write_byte(path: Path, offset: int, value: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes([value]))


def test_the_file_log_behaves_like_a_list_across_crashes(tmp_path: Path) -> None:
    runs = itertools.count()

    class Machine(FileLogMachine):
        def __init__(self) -> None:
            self.directory = tmp_path / f"run-{next(runs)}"
            super().__init__()

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=200,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
