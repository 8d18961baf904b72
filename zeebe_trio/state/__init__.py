"""Transactional key-value state (LMDB), column families, snapshots. Depends on nothing in zeebe_trio."""

from ._keys import pack_key, unpack_key
from ._store import ColumnFamily, StateRestoreError, StateStore, Transaction

__all__ = ["ColumnFamily", "StateRestoreError", "StateStore", "Transaction", "unpack_key", "pack_key"]
