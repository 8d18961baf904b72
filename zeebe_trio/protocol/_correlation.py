"""Which partition a message belongs to: Zeebe's correlation-key hash.

A message is published to (and its subscriptions opened on) the partition its correlation key
hashes to, so every broker and gateway must compute the same one. Zeebe hashes the key's UTF-8
bytes as ``java.lang.String#hashCode`` does over chars: ``h = 31 * h + b`` in 32-bit arithmetic,
with each byte taken as a *signed* Java byte; the partition is ``|h % count| + 1``, where ``%`` keeps
the dividend's sign, as Java's does.
"""

from __future__ import annotations

START_PARTITION_ID = 1


def correlation_key_hash(correlation_key: str) -> int:
    """The signed 32-bit hash Zeebe computes for ``correlation_key``."""
    value = 0
    for byte in correlation_key.encode("utf-8", "surrogatepass"):
        signed = byte - 256 if byte > 127 else byte
        value = (31 * value + signed) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def partition_for_correlation_key(correlation_key: str, partition_count: int) -> int:
    """The partition (1-based) that owns messages and subscriptions with this correlation key."""
    if partition_count < 1:
        raise ValueError(f"a cluster has at least one partition, not {partition_count}")
    hashed = correlation_key_hash(correlation_key)
    remainder = abs(hashed) % partition_count  # Java's % keeps the dividend's sign; abs() then drops it
    return remainder + START_PARTITION_ID
