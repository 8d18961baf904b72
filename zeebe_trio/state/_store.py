"""The partition's state: an LMDB environment with one named database per column family.

Each processed command runs in exactly one write transaction (``StateStore.transaction``): the state
changes of all the events it writes commit together or not at all. Durability of the runtime
environment is not needed (the log is the source of truth), so LMDB runs with ``sync=False``; a
snapshot is a consistent, fsync'd copy of the environment at a known log position.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lmdb
import msgpack

from ._keys import _INT_PACK, _INT_TAG, _OFFSET, KeyPart, pack_key, unpack_key

_pack = msgpack.Packer(use_bin_type=True).pack


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class StateRestoreError(Exception):
    """A snapshot could not be restored: LMDB refuses the copy (the snapshot is damaged)."""


def _disk_full(error: lmdb.DiskError, path: Path) -> OSError:
    """LMDB's ``DiskError`` (ENOSPC) as the ``OSError`` every other full-disk write raises."""
    return OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({error})", str(path))


@contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except lmdb.DiskError as error:
        raise _disk_full(error, path) from error


_META = struct.Struct("<16xII16xI92xQQ")  # page header; magic, version; address, map size; page size ...
_LMDB_MAGIC = 0xBEEFC0DE


def _truncated(data_file: Path) -> str | None:
    """Why the LMDB file is shorter than its own meta pages say, or None. LMDB maps the file and would
    die of SIGBUS reading a page past its end, so this is checked before opening (from the two meta
    pages: the newer one's last page number times the page size is the length the file must have)."""
    try:
        with open(data_file, "rb") as f:
            head = f.read(2 * 65536)
        size = data_file.stat().st_size
    except OSError as error:
        return f"{data_file}: {error.strerror or error}"
    metas: list[tuple[int, int, int]] = []
    for base in (0, None):
        if base is None:
            if not metas:
                break
            base = metas[0][1]  # the second meta page starts one page in
        if len(head) < base + _META.size:
            break
        magic, _version, page_size, last_page, txnid = _META.unpack_from(head, base)
        if magic != _LMDB_MAGIC or page_size < 512:
            break
        metas.append((txnid, page_size, last_page))
    if not metas:
        return f"{data_file} is not an LMDB file (no meta page; {size} bytes)"
    _txnid, page_size, last_page = max(metas)
    needed = (last_page + 1) * page_size
    if size < needed:
        return f"{data_file} is {size} bytes but its pages reach to {needed} (truncated)"
    return None


class ColumnFamily:
    """A named, ordered key space. Keys are tuples of ints and strs; values any msgpack-able value."""

    __slots__ = ("name", "db")

    def __init__(self, name: str, db: Any) -> None:
        self.name = name
        self.db = db

    def __repr__(self) -> str:
        return f"ColumnFamily({self.name!r})"


_MISSING = object()
_ABSENT = object()  # cached knowledge that a key does not exist (or was deleted in this transaction)


class Transaction:
    """A transaction over all column families, with a write-back cache of decoded values.

    A command reads and rewrites the same few rows several times (an element instance moves
    through four lifecycle states in one batch, start and end events live and die inside one), so
    values are decoded once, kept as objects, and encoded once when the transaction commits.
    Prefix scans first write back the pending changes of their column family, so they see them.
    Callers must ``put`` a value after mutating it, as with any store.
    """

    __slots__ = ("_txn", "_cache", "_dirty", "_flushers", "_unstored")

    def __init__(self, txn: Any) -> None:
        self._txn = txn
        # Keyed by the key tuple, not its encoding: a key is packed only to read it from LMDB (a cache
        # miss) and to write it back, not on every get, put and delete.
        self._cache: dict[tuple[ColumnFamily, tuple[KeyPart, ...]], Any] = {}
        # per family, the changed keys in the order of their first change, with their value (or _ABSENT)
        self._dirty: dict[ColumnFamily, dict[tuple[KeyPart, ...], Any]] = {}
        # Callbacks that ``put`` what their owners hold back (typed objects written once per
        # transaction instead of on every change), with the family they put into (None: any).
        self._flushers: list[tuple[Callable[[], None], ColumnFamily | None]] = []
        # Keys known to be absent from the LMDB transaction (looked up and not found, or ``insert``ed as new,
        # and not written back since): deleting one that this transaction put is a change dropped, not a
        # delete written back (a row created and removed within one transaction never touches LMDB).
        self._unstored: set[tuple[ColumnFamily, tuple[KeyPart, ...]]] = set()

    def on_write_back(self, flush: Callable[[], None], cf: ColumnFamily | None = None) -> None:
        """Run ``flush`` before every write-back (a scan, the commit) of ``cf`` (of any family if None): it
        puts what it held back. A scan of another family does not need it, so what ``flush`` holds back
        is written once per transaction, and a row created and removed within it never at all."""
        self._flushers.append((flush, cf))

    def _read(self, slot: tuple[ColumnFamily, tuple[KeyPart, ...]]) -> Any:
        """A cache miss: the value from LMDB (decoded), or _ABSENT; cached either way."""
        cf, key = slot
        # an entity's key (one int), packed here without a call: the commonest key of all
        packed = _INT_PACK(_INT_TAG, key[0] + _OFFSET) if len(key) == 1 and type(key[0]) is int else pack_key(key)
        data = self._txn.get(packed, db=cf.db)
        if data is None:
            self._unstored.add(slot)
            self._cache[slot] = _ABSENT
            return _ABSENT
        value = self._cache[slot] = _unpack(data)
        return value

    def get(self, cf: ColumnFamily, *key: KeyPart) -> Any:
        slot = (cf, key)
        value = self._cache.get(slot, _MISSING)
        if value is _MISSING:
            value = self._read(slot)
        return None if value is _ABSENT else value

    def get_unstored(self, cf: ColumnFamily, *key: KeyPart) -> Any:
        """``get`` for a key the caller knows LMDB does not hold (a key issued within this transaction):
        what this transaction put under it, or None, without a lookup."""
        slot = (cf, key)
        value = self._cache.get(slot, _MISSING)
        if value is _MISSING:
            self._cache[slot] = _ABSENT
            self._unstored.add(slot)
            return None
        return None if value is _ABSENT else value

    def exists(self, cf: ColumnFamily, *key: KeyPart) -> bool:
        slot = (cf, key)
        value = self._cache.get(slot, _MISSING)
        if value is _MISSING:
            value = self._read(slot)
        return value is not _ABSENT

    def put(self, cf: ColumnFamily, key: tuple[KeyPart, ...], value: Any) -> None:
        """Set ``key`` (a tuple) to ``value``."""
        self._cache[(cf, key)] = value
        dirty = self._dirty.get(cf)
        if dirty is None:
            dirty = self._dirty[cf] = {}
        dirty[key] = value

    def insert(self, cf: ColumnFamily, key: tuple[KeyPart, ...], value: Any) -> None:
        """``put`` a key that the caller knows is new (a new entity's key that no row can hold yet): deleted
        again within this transaction, it is never written to LMDB."""
        slot = (cf, key)
        if slot not in self._cache:
            self._unstored.add(slot)
        self.put(cf, key, value)

    def delete(self, cf: ColumnFamily, *key: KeyPart) -> None:
        slot = (cf, key)
        cache = self._cache
        if cache.get(slot) is _ABSENT:
            return  # known not to exist (looked up, or deleted already): nothing to write back
        cache[slot] = _ABSENT
        dirty = self._dirty.get(cf)
        if slot in self._unstored:  # put in this transaction only: drop the pending put
            if dirty is not None:
                dirty.pop(key, None)
            return
        if dirty is None:
            dirty = self._dirty[cf] = {}
        dirty[key] = _ABSENT

    def write_back(self, cf: ColumnFamily | None = None) -> None:
        """Write pending changes (of one column family, or all) to the underlying transaction."""
        for flush, family in self._flushers:
            if cf is None or family is None or family is cf:
                flush()
        if cf is not None:  # a scan of one family (the common case: no change of it pending)
            pending = self._dirty.pop(cf, None)
            if pending:
                self._write(cf, pending)
            return
        for family, pending in self._dirty.items():
            self._write(family, pending)
        self._dirty.clear()

    def _write(self, family: ColumnFamily, pending: dict[tuple[KeyPart, ...], Any]) -> None:
        put, delete, db = self._txn.put, self._txn.delete, family.db
        unstored = self._unstored
        for key, value in pending.items():
            # an entity's key (one int), packed here without a call: the commonest key of all
            packed = _INT_PACK(_INT_TAG, key[0] + _OFFSET) if len(key) == 1 and type(key[0]) is int \
                else pack_key(key)
            if value is _ABSENT:
                delete(packed, db=db)
            else:
                put(packed, _pack(value), db=db)
                if unstored:
                    unstored.discard((family, key))  # stored now: a later delete must reach LMDB

    def items(self, cf: ColumnFamily, *prefix: KeyPart) -> Iterator[tuple[tuple[KeyPart, ...], Any]]:
        """Entries whose key starts with ``prefix``, in key order."""
        self.write_back(cf)
        raw_prefix = pack_key(prefix)
        with self._txn.cursor(db=cf.db) as cursor:
            if not cursor.set_range(raw_prefix):
                return
            for raw_key, raw_value in cursor:
                if not raw_key.startswith(raw_prefix):
                    return
                yield unpack_key(raw_key), _unpack(raw_value)

    def keys(self, cf: ColumnFamily, *prefix: KeyPart) -> Iterator[tuple[KeyPart, ...]]:
        self.write_back(cf)
        raw_prefix = pack_key(prefix)
        with self._txn.cursor(db=cf.db) as cursor:
            if not cursor.set_range(raw_prefix):
                return
            for raw_key in cursor.iternext(keys=True, values=False):
                if not raw_key.startswith(raw_prefix):
                    return
                yield unpack_key(raw_key)

    def count(self, cf: ColumnFamily) -> int:
        self.write_back(cf)
        return int(self._txn.stat(cf.db)["entries"])


class StateStore:
    """The LMDB environment of one partition's runtime state."""

    def __init__(self, path: Path, env: Any, families: dict[str, ColumnFamily]) -> None:
        self.path = path
        self._env = env
        self._families = families

    @classmethod
    def open(cls, path: Path, column_families: list[str], *, map_size: int = 8 << 30) -> StateStore:
        path.mkdir(parents=True, exist_ok=True)
        with _disk_errors(path):
            return cls._open(path, column_families, map_size)

    @classmethod
    def _open(cls, path: Path, column_families: list[str], map_size: int) -> StateStore:
        env = lmdb.open(
            str(path),
            map_size=map_size,
            max_dbs=max(16, len(column_families) + 4),
            sync=False,
            metasync=False,
            # Not writemap: with the data file mapped writable, a page LMDB dirties on a full disk cannot
            # be allocated and the process dies of SIGBUS. Written with pwrite, a full disk is an error
            # at commit (lmdb.DiskError) that the partition can survive; it costs ~4% CPU per command.
            writemap=False,
            map_async=True,
            readahead=False,
            lock=True,
        )
        families = {}
        with env.begin(write=True) as txn:
            for name in column_families:
                families[name] = ColumnFamily(name, env.open_db(name.encode(), txn=txn))
        return cls(path, env, families)

    def family(self, name: str) -> ColumnFamily:
        return self._families[name]

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: committed when the block ends normally, aborted if it raises.

        A full disk is ``OSError(ENOSPC)``, as for any other file (LMDB says ``DiskError``)."""
        try:  # ``_disk_errors`` written out: one context manager per command, not two
            txn = self._env.begin(write=True)
            try:
                transaction = Transaction(txn)
                yield transaction
                transaction.write_back()
            except BaseException:
                txn.abort()
                raise
            else:
                txn.commit()
        except lmdb.DiskError as error:
            raise _disk_full(error, self.path) from error

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        txn = self._env.begin(write=False, buffers=False)
        try:
            yield Transaction(txn)
        finally:
            txn.abort()

    def snapshot_transaction(self) -> Transaction:
        """A read transaction to snapshot from; pass it to ``write_snapshot`` and then ``release`` it."""
        return Transaction(self._env.begin(write=False))

    @staticmethod
    def release(txn: Transaction) -> None:
        txn._txn.abort()

    def write_snapshot(self, directory: Path, txn: Transaction | None = None) -> None:
        """A consistent, compacted copy of the state as ``txn`` sees it (or as it is now) into
        ``directory`` (created; must not exist). Blocking: run it in a worker thread."""
        directory.mkdir(parents=True)
        with _disk_errors(directory):
            if txn is None:
                self._env.copy(str(directory), compact=True)
            else:
                self._env.copy(str(directory), compact=True, txn=txn._txn)
        for name in os.listdir(directory):
            fd = os.open(directory / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    @classmethod
    def restore(cls, snapshot: Path | None, runtime: Path, column_families: list[str]) -> StateStore:
        """Recreate the runtime state from a snapshot (or empty when there is none).

        Raises ``StateRestoreError`` when LMDB cannot open the copy or read the root and edge pages of
        every column family (a damaged snapshot); the runtime directory is then removed again."""
        if runtime.exists():
            shutil.rmtree(runtime)
        if snapshot is None:
            return cls.open(runtime, column_families)
        problem = _truncated(snapshot / "data.mdb")
        if problem is not None:
            raise StateRestoreError(f"snapshot {snapshot} cannot be opened: {problem}")
        shutil.copytree(snapshot, runtime)
        try:
            store = cls.open(runtime, column_families)
        except lmdb.Error as error:
            shutil.rmtree(runtime, ignore_errors=True)
            raise StateRestoreError(f"snapshot {snapshot} cannot be opened: {error}") from error
        try:
            with store._env.begin(write=False) as txn:
                for family in store._families.values():
                    txn.stat(family.db)
                    with txn.cursor(db=family.db) as cursor:
                        if cursor.first():
                            cursor.last()
        except lmdb.Error as error:
            store.close()
            shutil.rmtree(runtime, ignore_errors=True)
            raise StateRestoreError(f"snapshot {snapshot} cannot be read: {error}") from error
        return store

    def close(self) -> None:
        self._env.close()
