"""Repairing a partition's storage when an operator asks for it (``zeebe-trio repair-log``).

The broker never repairs damage by itself: it refuses to start and names what is wrong. A repair is an
operator's decision to accept a loss, so ``plan_repair`` first says exactly what would be lost, and only
``RepairPlan.apply`` changes anything. A repair

1. cuts the log at the damage (``SegmentedLog.cut``): the damaged entry and everything after it go;
2. makes the log continue above every position that was handed out: the highest of the durability mark,
   the dropped entries that still verify, and every snapshot (whose state reflects records up to its
   position). A reservation entry (``LogStream.reserve``) takes those positions and has the engine skip
   keys (two per lost position, and 1,000 more), so that no position and no key of a lost record is
   issued again. Without a durability mark the highest lost position is unknown: 100,000 more are taken.

The state is then rebuilt as at every start: from the newest usable snapshot and the log that is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zeebe_trio.log import LogDamage, LogInspection, SegmentedLog

from ._logstream import LogStream
from ._snapshots import Snapshot, list_snapshots

UNKNOWN_TAIL_POSITIONS = 100_000
"""Positions reserved beyond the highest known one when the log has no durability mark."""
KEY_MARGIN = 1_000


@dataclass
class RepairPlan:
    partition_id: int
    directory: Path
    inspection: LogInspection
    damage: LogDamage | None
    snapshot: Snapshot | None
    """The newest snapshot (the state a restart restores, unless it turns out damaged)."""
    reserve_up_to: int
    """Positions up to here are taken by a reservation (0: none is needed)."""
    key_gap: int
    notes: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.damage is not None or self.reserve_up_to > 0

    def describe(self) -> list[str]:
        """What is wrong and what a repair would do and lose, one finding per line."""
        inspection, damage, snapshot = self.inspection, self.damage, self.snapshot
        end = inspection.end_position
        lines = []
        if damage is not None:
            lines.append(f"damaged: {damage.path}: offset {damage.offset}: {damage.problem}")
            if damage.entries_lost or damage.bytes_lost:
                cut = (f"a repair cuts {damage.path.name} at offset {damage.offset}: entry {damage.index} and every"
                       f" entry after it ({damage.entries_lost} entries, {damage.intact_lost} of them intact,"
                       f" {damage.bytes_lost} bytes")
                if damage.later_segments:
                    cut += f"; the later segment files {', '.join(p.name for p in damage.later_segments)} are deleted"
                lines.append(cut + ")")
        if self.needed:
            lines.append(f"the log then ends at entry {inspection.last_index}, position {end}")
        else:
            lines.append(f"the log is intact: entries {inspection.first_index} to {inspection.last_index}, records up"
                         f" to position {end}; nothing to repair")
        if inspection.torn_tail:
            lines.append(f"a write torn by a crash is cut at the next start (never acknowledged): {inspection.torn_tail}")
        if snapshot is not None:
            lines.append(f"the newest snapshot, {snapshot.path.name}, holds the state up to position"
                         f" {snapshot.processed_position} (the log was durable to position {snapshot.log_position}"
                         " when it was taken)")
        elif self.needed:
            lines.append("there is no snapshot: the state is rebuilt from the log that is left")
        if not self.needed:
            return lines + self.notes
        covered = snapshot.log_position if snapshot is not None else 0
        if end < covered:
            lines.append(f"lost from the log: the records at positions {end + 1} to {covered}; the snapshot's state"
                         " reflects them, but an exporter that had not exported them never will")
        lost_from = max(end, covered)
        if self.reserve_up_to > lost_from:
            known = self.reserve_up_to - (UNKNOWN_TAIL_POSITIONS if inspection.durable_mark is None else 0)
            what = (f"lost with their effect on the state: the records at positions {lost_from + 1} to {known}"
                    " (written after the snapshot; acknowledged work if they were durable)")
            if inspection.durable_mark is None:
                what += "; the log has no durability mark, so records beyond may be lost too"
            lines.append(what)
        if self.reserve_up_to:
            lines.append(f"the log continues above position {self.reserve_up_to} (positions {end + 1} to"
                         f" {self.reserve_up_to} are never issued again) and the engine skips the next"
                         f" {self.key_gap} keys, so that no position or key of a lost record is issued twice")
        return lines + self.notes

    def apply(self) -> None:
        """Cut the log at the damage and reserve the lost positions (durable on return)."""
        log_dir = self.directory / "log"
        if self.damage is not None:
            SegmentedLog.cut(log_dir, self.damage)
        if not self.reserve_up_to:
            return
        log = SegmentedLog.open(log_dir)
        try:
            stream = LogStream(log, self.partition_id)
            if stream.last_position < self.reserve_up_to:
                stream.reserve(self.reserve_up_to, self.key_gap,
                               f"zeebe-trio repair-log: the log ended at position {stream.last_position}; records up to"
                               f" position {self.reserve_up_to} may have existed")
            log.sync()
        finally:
            log.close()


def plan_repair(partition_id: int, directory: Path) -> RepairPlan:
    """What repairing the partition in `directory` (``<data_dir>/partition-N``) would do; changes nothing."""
    inspection = SegmentedLog.inspect(directory / "log")
    damage = inspection.damage
    snapshots = list_snapshots(directory / "snapshots")
    snapshot = snapshots[-1] if snapshots else None
    end = inspection.end_position
    mark = inspection.durable_mark
    floor = max([end, damage.lost_high_position if damage else 0, mark.position if mark else 0]
                + [s.log_position for s in snapshots] + [s.processed_position for s in snapshots])
    if damage is not None and mark is None:
        floor += UNKNOWN_TAIL_POSITIONS
    reserve_up_to = floor if floor > end else 0
    key_gap = 2 * (floor - end) + KEY_MARGIN if reserve_up_to else 0
    return RepairPlan(partition_id, directory, inspection, damage, snapshot, reserve_up_to, key_gap)
