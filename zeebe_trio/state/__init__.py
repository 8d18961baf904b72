"""Transactional key-value state (LMDB), column families, snapshots. Depends on nothing in zeebe_trio."""

from ._keys import pack_key, unpack_key
from ._store import ColumnFamily, StateStore, Transaction

__all__ = ["ColumnFamily", "StateStore", "Transaction", "unpack_key", "pack_key"]
