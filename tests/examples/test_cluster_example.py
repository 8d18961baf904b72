"""The three broker configs of the README's one-machine cluster (examples/cluster/) load, describe one
cluster, and give every broker its own ports and data directory."""

from __future__ import annotations

from pathlib import Path

from zeebe_trio.broker import BrokerConfig
from zeebe_trio.cluster import partitions_of_node

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cluster"


def test_the_three_example_brokers_form_one_cluster_with_their_own_ports_and_data() -> None:
    configs = [BrokerConfig.load(EXAMPLE / f"broker-{node}.toml", environ={}) for node in range(3)]
    assert [c.node_id for c in configs] == [0, 1, 2]
    assert {(c.cluster_size, c.partitions, c.replication_factor) for c in configs} == {(3, 3, 3)}
    ports = [port for c in configs for port in (c.gateway_port, c.command_api_port, c.internal_port)]
    assert len(set(ports)) == 9
    assert len({c.data_dir for c in configs}) == 3
    internal = sorted(("localhost", c.internal_port) for c in configs)
    assert all(sorted(c.contact_points()) == internal for c in configs)
    assert all(partitions_of_node(c.node_id, 3, 3, 3) == (1, 2, 3) for c in configs)
