"""Snapshots of the partition state: ``snapshots/<position>/`` holding an LMDB copy and metadata.

A snapshot is published (renamed into place) only when it is complete and the log is durable up to
every record its state reflects; the newest valid snapshot is what a restart restores.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_METADATA = "snapshot.json"


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    processed_position: int  # last processed command position reflected in the state
    log_position: int  # the log was durable up to here when the snapshot was taken


class SnapshotStore:
    def __init__(self, directory: Path, keep: int = 2) -> None:
        self.directory = directory
        self.keep = keep
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob("tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def latest(self) -> Snapshot | None:
        snapshots = self.list()
        return snapshots[-1] if snapshots else None

    def list(self) -> list[Snapshot]:
        found = []
        for path in self.directory.iterdir():
            if path.name.startswith("tmp-") or not path.is_dir():
                continue
            try:
                metadata = json.loads((path / _METADATA).read_text())
                found.append(Snapshot(path, metadata["processedPosition"], metadata["logPosition"]))
            except (OSError, ValueError, KeyError):
                log.warning("ignoring incomplete snapshot %s", path)
        return sorted(found, key=lambda s: (s.processed_position, s.log_position))

    def temporary(self) -> Path:
        path = self.directory / f"tmp-{os.getpid()}"
        shutil.rmtree(path, ignore_errors=True)
        return path

    def publish(self, tmp: Path, processed_position: int, log_position: int) -> Snapshot:
        """Blocking (run in a thread): write metadata, fsync, rename into place, prune old ones."""
        metadata = tmp / _METADATA
        metadata.write_text(json.dumps({"processedPosition": processed_position, "logPosition": log_position}))
        fd = os.open(metadata, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        target = self.directory / f"{processed_position:020d}-{log_position:020d}"
        if target.exists():
            shutil.rmtree(tmp)
        else:
            os.rename(tmp, target)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        for old in self.list()[: -self.keep]:
            shutil.rmtree(old.path, ignore_errors=True)
        return Snapshot(target, processed_position, log_position)
