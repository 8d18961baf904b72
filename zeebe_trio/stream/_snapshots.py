"""Snapshots of the partition state: ``snapshots/<position>-<log position>/`` holding an LMDB copy and
``snapshot.json``.

Publishing: the state is copied into ``tmp-<pid>/`` and fsync'd; then ``snapshot.json`` is written with
the positions and a manifest (size and crc32 of every file), fsync'd with the directory, and only then
is the directory renamed into place. A snapshot directory without a readable ``snapshot.json`` is
therefore incomplete, and one whose files do not match their manifest is damaged (truncated, or changed
on disk): ``verify`` says which, and the partition falls back to an older snapshot.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_METADATA = "snapshot.json"
_READ_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    processed_position: int  # last processed command position reflected in the state
    log_position: int  # the log was durable up to here when the snapshot was taken
    files: dict[str, tuple[int, int]] | None = field(default=None, compare=False)
    """File name -> (size, crc32) as published; None for a snapshot written before manifests existed."""


def list_snapshots(directory: Path) -> list[Snapshot]:
    """The published snapshots in `directory`, oldest first (changes nothing; incomplete ones are skipped
    with a warning)."""
    found: list[Snapshot] = []
    if not directory.is_dir():
        return found
    for path in directory.iterdir():
        if path.name.startswith("tmp-") or not path.is_dir():
            continue
        try:
            metadata = json.loads((path / _METADATA).read_text())
            files = metadata.get("files")
            found.append(Snapshot(path, int(metadata["processedPosition"]), int(metadata["logPosition"]),
                                  None if files is None else {name: (int(f["size"]), int(f["crc32"]))
                                                              for name, f in files.items()}))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring incomplete snapshot %s (no readable %s)", path, _METADATA)
    return sorted(found, key=lambda s: (s.processed_position, s.log_position))


def verify(snapshot: Snapshot) -> str | None:
    """Why `snapshot` cannot be used (a file missing, of the wrong size, or failing its checksum), or None.
    Reads every file once. Snapshots without a manifest cannot be checked here (opening them may fail)."""
    if snapshot.files is None:
        return None
    for name, (size, crc) in sorted(snapshot.files.items()):
        path = snapshot.path / name
        try:
            actual_size = path.stat().st_size
            if actual_size != size:
                return f"{path} is {actual_size} bytes but was published with {size} (truncated or overwritten)"
            if _crc32(path) != crc:
                return f"{path} fails its checksum (changed on disk after it was published)"
        except OSError as error:
            return f"{path}: {error.strerror or error}"
    return None


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(_READ_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


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
        return list_snapshots(self.directory)

    def temporary(self) -> Path:
        path = self.directory / f"tmp-{os.getpid()}"
        shutil.rmtree(path, ignore_errors=True)
        return path

    def discard(self, tmp: Path) -> None:
        """Remove a temporary snapshot that will not be published (it failed half-way)."""
        shutil.rmtree(tmp, ignore_errors=True)

    def publish(self, tmp: Path, processed_position: int, log_position: int) -> Snapshot:
        """Blocking (run in a thread): write the manifest, fsync, rename into place, prune old ones."""
        files = {name: (os.path.getsize(tmp / name), _crc32(tmp / name))
                 for name in sorted(os.listdir(tmp)) if name != _METADATA}
        metadata = tmp / _METADATA
        metadata.write_text(json.dumps({
            "processedPosition": processed_position, "logPosition": log_position,
            "files": {name: {"size": size, "crc32": crc} for name, (size, crc) in files.items()}}))
        _fsync(metadata)
        _fsync(tmp)
        target = self.directory / f"{processed_position:020d}-{log_position:020d}"
        existing = next((s for s in self.list() if s.path == target), None) if target.exists() else None
        if existing is not None and verify(existing) is None:
            shutil.rmtree(tmp)  # the same state is published already
        else:
            if target.exists():  # a damaged (or incomplete) snapshot of the same positions: replace it
                replaced = self.directory / f"tmp-replaced-{os.getpid()}"
                shutil.rmtree(replaced, ignore_errors=True)
                os.rename(target, replaced)
                os.rename(tmp, target)
                shutil.rmtree(replaced, ignore_errors=True)
            else:
                os.rename(tmp, target)
        _fsync(self.directory)
        for old in self.list()[: -self.keep]:
            shutil.rmtree(old.path, ignore_errors=True)
        return Snapshot(target, processed_position, log_position, files)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
