"""`BrokerCluster`: what a broker of a cluster runs beside its partition replicas.

With ``cluster_size`` above 1 the broker (``_broker``) runs, under its nursery:

- the cluster transport on ``internal_host:internal_port`` (``cluster.ClusterTransport``), dialing the
  ``initial_contact_points`` and every broker the gossip names;
- the membership gossip (``cluster.Membership``), announcing this broker's addresses and, per partition
  replica, its role, term and health, refreshed every ``ANNOUNCE_REFRESH`` seconds (announced at once
  when something changed);
- one ``ReplicatedPartition`` per partition this node is a member of (``cluster.partitions_of_node``),
  its Raft messages on the channel ``raft/<partition>``;
- the inter-partition sender over the transport (``ClusterPartitionSender``), so that a deployment, a
  signal or a message subscription reaches a partition another broker leads;
- the exporter positions each leader sends its followers (channel ``exporter-positions``, MessagePack
  ``[partition id, {exporter id: position}]``), handed to the local follower replica;
- for the embedded gateway, a ``gateway.ClusterBrokerPort`` over this broker and, as the gossip
  announces them, a ``RemoteBrokerPort`` to every other broker's command API.

``leader_of`` is this broker's view of who leads a partition: its own replica when it leads, else the
leader its replica follows, else the broker the gossip names as leader in the highest term.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import msgpack
import trio

import zeebe_trio
from zeebe_trio.cluster import (
    ClusterRaftTransport,
    ClusterTransport,
    MemberInfo,
    Membership,
    PartitionStatus,
    TransportLimits,
    partition_members,
    partitions_of_node,
)
from zeebe_trio.gateway._cluster_port import ClusterBrokerPort
from zeebe_trio.gateway._port import BrokerPort, PartitionInfo
from zeebe_trio.gateway._remote import RemoteBrokerPort
from zeebe_trio.protocol import PartitionHealth, PartitionRole
from zeebe_trio.raft import RaftConfig, Role

from ._cluster_sender import ClusterPartitionSender
from ._config import BrokerConfig
from ._partition_sender import BrokerPartitionSender

if TYPE_CHECKING:
    from ._replicated import ReplicatedPartition

__all__ = ["BrokerCluster", "raft_config"]

log = logging.getLogger(__name__)

EXPORTER_POSITIONS_CHANNEL = "exporter-positions"
MAX_EXPORTERS = 256
ANNOUNCE_REFRESH = 0.1
"""How often the replicas' roles are read for the gossip (it sends only what changed, and every 0.5 s)."""
RAFT_TICK_SECONDS = 0.05
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def raft_config(config: BrokerConfig) -> RaftConfig:
    """Raft's timings from the broker's settings (ticks of ``RAFT_TICK_SECONDS``), with room in an entry for
    the largest command's batch (see ``ReplicatedPartition``), and priority election: partition p's members
    are in Zeebe's order, so its primary, node (p-1) % cluster_size, is elected first."""
    election = max(2, round(config.election_timeout / RAFT_TICK_SECONDS))
    heartbeat = min(max(1, round(config.heartbeat_interval / RAFT_TICK_SECONDS)), election - 1)
    return RaftConfig(election_timeout_ticks=election, heartbeat_ticks=heartbeat, tick_seconds=RAFT_TICK_SECONDS,
                      max_entry_bytes=config.max_raft_entry_bytes, priority_election=True)


class BrokerCluster:
    """The transport, the gossip, the sender and the gateway's view of the cluster, for one broker."""

    def __init__(self, config: BrokerConfig, partitions: Mapping[int, ReplicatedPartition],
                 local_sender: BrokerPartitionSender) -> None:
        self.config = config
        self.node_id = config.node_id
        self._partitions = partitions  # filled in by the broker as it starts its replicas
        self.partition_ids = partitions_of_node(config.node_id, config.cluster_size, config.partitions,
                                                config.replication_factor)
        self.transport = ClusterTransport(
            config.node_id, cluster_name=config.cluster_name, host=config.internal_host, port=config.internal_port,
            contact_points=config.contact_points(), secret=config.cluster_secret,
            limits=TransportLimits(max_frame_size=max(8 * 1024 * 1024, config.max_message_size + 2 * 1024 * 1024)))
        self.sender = ClusterPartitionSender(config.node_id, local_sender, self.transport, self.leader_of,
                                             self._leads_locally, partition_count=config.partitions,
                                             max_command_bytes=config.max_message_size)
        self.membership: Membership | None = None
        self.gateway_port: ClusterBrokerPort | None = None
        self._positions_inbox = self.transport.open_channel(EXPORTER_POSITIONS_CHANNEL, capacity=256)
        self.malformed_positions = 0

    # -- what the replicas need ------------------------------------------------------------------------

    def members_of(self, partition_id: int) -> tuple[int, ...]:
        return partition_members(partition_id, self.config.cluster_size, self.config.replication_factor)

    def raft_transport(self, partition_id: int) -> ClusterRaftTransport:
        return ClusterRaftTransport(self.transport, partition_id)

    def distribute_exporter_positions(self, partition_id: int, positions: dict[str, int]) -> None:
        """Send a leader's exporter positions to the partition's other replicas (dropped when an outbox
        is full: the next round sends newer ones)."""
        payload = msgpack.packb([partition_id, positions], use_bin_type=True)
        for node in self.members_of(partition_id):
            if node != self.node_id:
                self.transport.send_nowait(node, EXPORTER_POSITIONS_CHANNEL, payload)

    async def _receive_exporter_positions(self) -> None:
        async for delivery in self._positions_inbox:
            try:
                partition_id, positions = _decode_positions(delivery.payload)
            except ValueError as error:
                self.malformed_positions += 1
                log.warning("dropping exporter positions from node %d: %s", delivery.sender, error)
                continue
            replica = self._partitions.get(partition_id)
            if replica is not None and delivery.sender in self.members_of(partition_id):
                replica.receive_exporter_positions(positions)

    # -- who leads -------------------------------------------------------------------------------------

    def _leads_locally(self, partition_id: int) -> bool:
        replica = self._partitions.get(partition_id)
        return replica is not None and replica.is_leader

    def leader_of(self, partition_id: int) -> int | None:
        """The node id of the broker that leads ``partition_id``, as far as this broker knows (None: none)."""
        replica = self._partitions.get(partition_id)
        if replica is not None and replica.role is not None:
            if replica.is_leader:
                return self.node_id
            followed = replica.raft.role.leader_id
            if followed is not None and followed != self.node_id:
                return followed
        best: tuple[int, int] | None = None  # (term, node id)
        if self.membership is not None:
            for member in self.membership.members():
                if not member.up or member.info.node_id == self.node_id:
                    continue
                for status in member.info.partitions:
                    if status.partition_id == partition_id and status.role == "LEADER":
                        if best is None or status.term > best[0]:
                            best = (status.term, member.info.node_id)
        return None if best is None else best[1]

    def partition_infos(self) -> tuple[PartitionInfo, ...]:
        """This broker's replicas as the topology shows them: LEADER once a replica accepts commands,
        FOLLOWER otherwise (candidates too), INACTIVE while one is not running."""
        infos = []
        for partition_id in self.partition_ids:
            replica = self._partitions.get(partition_id)
            if replica is None or replica.role is None:
                infos.append(PartitionInfo(partition_id, PartitionRole.INACTIVE, PartitionHealth.UNHEALTHY))
                continue
            role = PartitionRole.LEADER if replica.is_leader else PartitionRole.FOLLOWER
            health = PartitionHealth.HEALTHY if replica.health else PartitionHealth.UNHEALTHY
            infos.append(PartitionInfo(partition_id, role, health, replica.raft.role.term))
        return tuple(infos)

    def _statuses(self) -> tuple[PartitionStatus, ...]:
        statuses = []
        for info in self.partition_infos():
            replica = self._partitions.get(info.partition_id)
            role = info.role.name
            if info.role is PartitionRole.FOLLOWER and replica is not None and replica.raft.role.role is not Role.FOLLOWER:
                role = "CANDIDATE"  # electing, or elected and not yet accepting commands
            statuses.append(PartitionStatus(info.partition_id, role, info.term, info.health.name))
        return tuple(statuses)

    # -- running ---------------------------------------------------------------------------------------

    async def start_transport(self, nursery: trio.Nursery) -> None:
        """Listen on the internal port (before the replicas start: they send on it at once)."""
        await nursery.start(self.transport.run)

    async def start_gossip(self, nursery: trio.Nursery, *, command_port: int, gateway_port: int | None) -> None:
        """Announce this broker, its replicas and its addresses, and deliver other brokers' partition
        commands; after the replicas and the command API started."""
        config = self.config
        command_host = config.advertised_host if config.command_api_host in WILDCARD_HOSTS else config.command_api_host
        internal = f"{config.advertised_host}:{self.transport.port}"
        info = MemberInfo(config.node_id, internal, zeebe_trio.__version__, command_address=f"{command_host}:{command_port}",
                          gateway_address=None if gateway_port is None else f"{config.advertised_host}:{gateway_port}",
                          partitions=self._statuses())
        self.membership = Membership(self.transport, info)
        await nursery.start(self.membership.run)
        await nursery.start(self.sender.serve)
        nursery.start_soon(self._announce_roles)
        nursery.start_soon(self._receive_exporter_positions)

    async def _announce_roles(self) -> None:
        assert self.membership is not None
        while True:
            self.membership.update(partitions=self._statuses())
            await trio.sleep(ANNOUNCE_REFRESH)

    def open_gateway_port(self, nursery: trio.Nursery, own: BrokerPort) -> ClusterBrokerPort:
        """The embedded gateway's view of the cluster: this broker, and the other brokers' command APIs as
        the gossip announces them (connected in ``nursery``)."""
        port = ClusterBrokerPort({self.node_id: own}, gateway_version=zeebe_trio.__version__)
        self.gateway_port = port
        nursery.start_soon(self._connect_brokers, nursery, port)
        return port

    async def _connect_brokers(self, nursery: trio.Nursery, port: ClusterBrokerPort) -> None:
        """A ``RemoteBrokerPort`` per other broker, at the command API address it announces; a broker that
        comes back at another address gets a new port there (the old one is stopped)."""
        assert self.membership is not None
        connected: dict[int, tuple[str, trio.CancelScope]] = {}
        while True:
            for member in self.membership.members():
                node, address = member.info.node_id, member.info.command_address
                if node == self.node_id or address is None:
                    continue
                if node in connected:
                    if connected[node][0] == address:
                        continue
                    connected[node][1].cancel()
                remote = RemoteBrokerPort(address, name=f"zeebe-trio broker {self.node_id}'s gateway",
                                          secret=self.config.command_api_secret,
                                          max_frame_size=self.config.max_message_size + 64 * 1024,
                                          topology_refresh_interval=0.25, silence_timeout=3.0,
                                          max_backoff=1.0)
                scope = trio.CancelScope()
                connected[node] = (address, scope)
                nursery.start_soon(_run_in, scope, remote.run)
                port.add_broker(node, remote)
                log.info("the gateway of node %d reaches node %d at %s", self.node_id, node, address)
            await self.membership.wait_changed()


def _decode_positions(payload: bytes) -> tuple[int, dict[str, int]]:
    try:
        body = msgpack.unpackb(payload, raw=False)
    except Exception as error:
        raise ValueError(f"not MessagePack: {error}") from None
    if not (isinstance(body, list) and len(body) == 2 and type(body[0]) is int and isinstance(body[1], dict)):
        raise ValueError("not a [partition id, positions] pair")
    partition_id, positions = body
    if len(positions) > MAX_EXPORTERS or not all(
            isinstance(name, str) and len(name) <= 256 and type(position) is int for name, position in positions.items()):
        raise ValueError("the positions are not a map of exporter ids to positions")
    return partition_id, positions


async def _run_in(scope: trio.CancelScope, run: Callable[[], Awaitable[None]]) -> None:
    with scope:
        await run()
