"""Which brokers replicate which partition: Zeebe's round-robin distribution.

Partition ``p`` (1-based) of a cluster of ``cluster_size`` brokers with replication factor ``r`` has the
members ``(p - 1 + i) % cluster_size`` for ``i < r``; the first of them is the partition's *primary*
(the member Zeebe prefers as leader when priority election is on). Every broker computes the same
table from the same three settings, so nothing about it travels on the wire.
"""

from __future__ import annotations

__all__ = ["partition_members", "partitions_of_node", "validate_cluster_shape"]


def validate_cluster_shape(node_id: int, cluster_size: int, partitions: int, replication_factor: int) -> None:
    """ValueError naming the setting when the four settings cannot describe a cluster."""
    if cluster_size < 1:
        raise ValueError(f"cluster_size must be at least 1, got {cluster_size}")
    if not 0 <= node_id < cluster_size:
        raise ValueError(f"node_id must be between 0 and cluster_size - 1 ({cluster_size - 1}), got {node_id}")
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    if not 1 <= replication_factor <= cluster_size:
        raise ValueError(f"replication_factor must be between 1 and cluster_size ({cluster_size}),"
                         f" got {replication_factor}")


def partition_members(partition_id: int, cluster_size: int, replication_factor: int) -> tuple[int, ...]:
    """The node ids replicating ``partition_id``, primary first."""
    return tuple((partition_id - 1 + i) % cluster_size for i in range(replication_factor))


def partitions_of_node(node_id: int, cluster_size: int, partitions: int, replication_factor: int) -> tuple[int, ...]:
    """The partitions ``node_id`` replicates, in order."""
    return tuple(p for p in range(1, partitions + 1) if node_id in partition_members(p, cluster_size, replication_factor))
