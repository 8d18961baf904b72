"""Zeebe's key layout: the partition id lives in the top 13 bits of a 64-bit key.

The first key generated on partition 1 is ``(1 << 51) + 1 == 2251799813685249``, as in Zeebe.
"""

from __future__ import annotations

PARTITION_BITS = 13
KEY_BITS = 64 - PARTITION_BITS  # 51 bits for the per-partition counter
_LOCAL_MASK = (1 << KEY_BITS) - 1
MAX_PARTITION_ID = (1 << PARTITION_BITS) - 1


def encode_key(partition_id: int, local_key: int) -> int:
    """The global key for a per-partition counter value."""
    if not 0 < partition_id <= MAX_PARTITION_ID:
        raise ValueError(f"partition id {partition_id} is outside 1..{MAX_PARTITION_ID}")
    return (partition_id << KEY_BITS) | local_key


def partition_of(key: int) -> int:
    """The partition a key was generated on (0 for keys that are not Zeebe keys, e.g. -1)."""
    if key <= 0:
        return 0
    return key >> KEY_BITS


def local_part(key: int) -> int:
    return key & _LOCAL_MASK


def first_key(partition_id: int) -> int:
    """The first key a partition hands out."""
    return encode_key(partition_id, 1)
