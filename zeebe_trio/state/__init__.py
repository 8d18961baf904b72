"""Transactional key-value state (LMDB), column families, snapshots. Depends on nothing in zeebe_trio."""

from ._keys import decode_key, encode_key
from ._store import ColumnFamily, StateStore, Transaction

__all__ = ["ColumnFamily", "StateStore", "Transaction", "decode_key", "encode_key"]
