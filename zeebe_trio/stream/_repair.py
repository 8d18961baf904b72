"""Repairing a partition's storage when an operator asks for it (``zeebe-trio repair-log``).

The broker never repairs damage by itself: it refuses to start and names what is wrong. A repair is
an operator's decision to accept a loss, so ``plan_repair`` first says exactly what would be lost, and
only ``RepairPlan.apply`` changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zeebe_trio.log import LogDamage, LogInspection, SegmentedLog


@dataclass
class RepairPlan:
    partition_id: int
    directory: Path
    inspection: LogInspection
    damage: LogDamage | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.damage is not None

    def describe(self) -> list[str]:
        """What is wrong and what a repair would do, one finding per line."""
        inspection = self.inspection
        if self.damage is None:
            lines = [f"the log is intact: entries {inspection.first_index} to {inspection.last_index}, records up to"
                     f" position {inspection.end_position}; nothing to repair"]
            if inspection.torn_tail:
                lines.append(f"the broker will cut a write torn by a crash at its next start: {inspection.torn_tail}")
            return lines + self.notes
        damage = self.damage
        lines = [f"damaged: {damage.path}: offset {damage.offset}: {damage.problem}"]
        if damage.entries_lost or damage.bytes_lost:
            lost = (f"a repair cuts {damage.path.name} at offset {damage.offset}: entry {damage.index} and every"
                    f" entry after it ({damage.entries_lost} entries, {damage.intact_lost} of them intact,"
                    f" {damage.bytes_lost} bytes")
            if damage.later_segments:
                lost += f"; the later segment files {', '.join(p.name for p in damage.later_segments)} are deleted"
            lines.append(lost + ")")
        if damage.intact_lost or damage.lost_high_position > inspection.end_position:
            lines.append(f"lost with them: the records at positions {inspection.end_position + 1} to"
                         f" {max(damage.lost_high_position, inspection.end_position + 1)} (acknowledged work, if they"
                         " were durable); the log keeps entries up to"
                         f" {inspection.last_index} (position {inspection.end_position})")
        return lines + self.notes

    def apply(self) -> None:
        if self.damage is not None:
            SegmentedLog.cut(self.directory / "log", self.damage)


def plan_repair(partition_id: int, directory: Path) -> RepairPlan:
    """What repairing the partition in `directory` (``<data_dir>/partition-N``) would do; changes nothing."""
    inspection = SegmentedLog.inspect(directory / "log")
    return RepairPlan(partition_id, directory, inspection, inspection.damage)
