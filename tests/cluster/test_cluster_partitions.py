"""Partitions are spread over brokers round-robin, as Zeebe spreads them."""

from __future__ import annotations

import pytest

from zeebe_trio.cluster import partition_members, partitions_of_node, validate_cluster_shape


def test_three_brokers_three_partitions_replication_three_put_every_partition_on_every_broker() -> None:
    assert [partition_members(p, 3, 3) for p in (1, 2, 3)] == [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    assert all(partitions_of_node(n, 3, 3, 3) == (1, 2, 3) for n in range(3))


def test_with_fewer_replicas_than_brokers_each_partition_has_consecutive_members() -> None:
    assert [partition_members(p, 4, 2) for p in range(1, 6)] == [(0, 1), (1, 2), (2, 3), (3, 0), (0, 1)]
    assert partitions_of_node(0, 4, 5, 2) == (1, 4, 5)
    assert partitions_of_node(2, 4, 5, 2) == (2, 3)


def test_the_single_broker_default_has_the_one_partition() -> None:
    assert partition_members(1, 1, 1) == (0,)
    assert partitions_of_node(0, 1, 1, 1) == (1,)


@pytest.mark.parametrize(("shape", "problem"), [
    ((0, 0, 1, 1), "cluster_size must be at least 1"),
    ((3, 3, 1, 1), r"node_id must be between 0 and cluster_size - 1 \(2\), got 3"),
    ((0, 3, 0, 1), "partitions must be at least 1"),
    ((0, 3, 1, 4), r"replication_factor must be between 1 and cluster_size \(3\), got 4"),
])
def test_an_impossible_cluster_shape_names_the_setting(shape: tuple[int, int, int, int], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        validate_cluster_shape(*shape)
