"""The broker: partitions under one nursery, the embedded gateway, the broker port it uses, and the
command API that standalone gateways use (``_command_api``). With ``cluster_size`` above 1 its
partitions are Raft replicas (``_replicated``) and ``_cluster`` runs what a broker of a cluster needs
besides: the internal transport, the gossip, the sender between brokers and the gateway's cluster view.

No business logic lives here: commands go to a partition's log, responses come back from its
stream processor, and job streams are a registry the engine reads. The partitions share one
inter-partition sender (``_partition_sender``: commands between partitions go through the receiver's
log) and one partition count, fixed when the data directory is created (``check_partition_count``).
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trio

import zeebe_trio
from zeebe_trio.engine import JobStream, JobStreams
from zeebe_trio.exporters import ExporterQueryAnswer, ExporterQueryError
from zeebe_trio.gateway._auth import TokenVerifier, check_auth_settings
from zeebe_trio.gateway._port import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    BrokerPort,
    ClusterTopology,
    JobsAvailableListeners,
    JobStreamSink,
    JobStreamSpec,
    PartitionInfo,
)
from zeebe_trio.gateway._tls import GRPC_ALPN, TlsSettingsError, server_context, tls_pair
from zeebe_trio.protocol import PartitionHealth, PartitionRole, Record, command_value_problem, partition_of

from ._clock import EngineClock
from ._cluster import BrokerCluster, raft_config
from ._command_api import CommandApiServer
from ._config import BrokerConfig
from ._errors import StartupError, leader_hint
from ._lock import DataDirectoryLock
from ._partition import Partition
from ._partition_sender import BrokerPartitionSender

log = logging.getLogger(__name__)


class _JobStreamRegistry(JobStreams):
    """Open job streams by type; the engine asks for one when a job becomes activatable."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_type: dict[str, list[int]] = {}
        self._streams: dict[int, tuple[JobStreamSpec, JobStreamSink]] = {}
        self._turn = itertools.count()
        self._changed = trio.Event()

    def add(self, spec: JobStreamSpec, sink: JobStreamSink) -> int:
        stream_id = next(self._ids)
        self._streams[stream_id] = (spec, sink)
        self._by_type.setdefault(spec.job_type, []).append(stream_id)
        self._changed.set()
        self._changed = trio.Event()
        return stream_id

    async def wait_until_open(self, job_type: str) -> None:
        """Return once at least one stream for ``job_type`` is open."""
        while job_type not in self._by_type:
            await self._changed.wait()

    def statistics(self) -> dict[str, int]:
        return {"open_streams": len(self._streams), "job_types": len(self._by_type)}

    def remove(self, stream_id: int) -> None:
        entry = self._streams.pop(stream_id, None)
        if entry is not None:
            ids = self._by_type[entry[0].job_type]
            ids.remove(stream_id)
            if not ids:
                del self._by_type[entry[0].job_type]

    def stream_for(self, job_type: str) -> JobStream | None:
        ids = self._by_type.get(job_type)
        if not ids:
            return None
        stream_id = ids[next(self._turn) % len(ids)]
        spec = self._streams[stream_id][0]
        return JobStream(stream_id, spec.worker, spec.timeout_ms, tuple(spec.fetch_variables))

    def push(self, stream_id: int, job_key: int, job: dict[str, Any]) -> bool:
        entry = self._streams.get(stream_id)
        return entry is not None and entry[1].push(job_key, job)


class Broker:
    """A single-node broker; implements the gateway's ``BrokerPort``."""

    def __init__(self, config: BrokerConfig, *, clock: EngineClock | None = None) -> None:
        self.config = config
        self._clock = clock
        self.partitions: dict[int, Partition] = {}
        self.job_streams = _JobStreamRegistry()
        self._listeners = JobsAvailableListeners()
        self.gateway_port: int | None = None
        self.command_api: CommandApiServer | None = None
        self.command_api_port: int | None = None
        self.partition_sender: BrokerPartitionSender | None = None
        self.cluster: BrokerCluster | None = None
        """With cluster_size above 1: the transport, gossip and sender between brokers."""

    # -- BrokerPort --------------------------------------------------------------------------------

    @property
    def partition_ids(self) -> Sequence[int]:
        if self.cluster is not None:
            return range(1, self.config.partitions + 1)
        return sorted(self.partitions)

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        partition = self.partitions.get(partition_id)
        if partition is None and self.cluster is not None and 1 <= partition_id <= self.config.partitions:
            leader = self.cluster.leader_of(partition_id)
            where = leader_hint(leader)
            raise BrokerError(BrokerError.PARTITION_LEADER_MISMATCH,
                              f"Expected to execute the command on partition {partition_id}, but node"
                              f" {self.config.node_id} holds no replica of it ({where}); send it to the leader",
                              leader_id=leader)
        if partition is None:
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                              f"Expected to execute the command on partition {partition_id}, but this cluster has"
                              f" partitions {self.partition_ids}")
        # Where commands enter, from the embedded gateway and the command API alike: a value the log,
        # the state and the exporters cannot all hold (bytes keys, NaN, ...) never becomes a record.
        problem = command_value_problem(command.value_type, command.value)
        if problem is not None:
            raise BrokerError(BrokerError.MALFORMED_REQUEST,
                              f"Expected the value of command {command.value_type.name}.{command.intent.name} to"
                              f" be JSON data, but {problem}")
        return await partition.execute(command, timeout)

    def topology(self) -> ClusterTopology:
        """This broker and its partitions (in a cluster, its own replicas only: a gateway asks each broker)."""
        version = zeebe_trio.__version__
        config = self.config
        if self.cluster is not None:
            broker = BrokerInfo(config.node_id, config.advertised_host, self.gateway_port or config.gateway_port,
                                version, self.cluster.partition_infos())
            return ClusterTopology((broker,), config.cluster_size, config.partitions, config.replication_factor,
                                   version)
        partitions = tuple(
            PartitionInfo(pid, PartitionRole.LEADER,
                          PartitionHealth.HEALTHY if p.health else PartitionHealth.UNHEALTHY)
            for pid, p in sorted(self.partitions.items())
        )
        broker = BrokerInfo(self.config.node_id, self.config.advertised_host,
                            self.gateway_port or self.config.gateway_port, version, partitions)
        return ClusterTopology((broker,), 1, self.config.partitions, 1, version)

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        return self._listeners.add(listener)

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        # In-process listeners are function calls: every one of them hears every job type.
        return _no_op

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        stream_id = self.job_streams.add(spec, sink)

        def close(undelivered: Sequence[int] = ()) -> None:
            self.job_streams.remove(stream_id)
            for partition_id, partition in self.partitions.items():
                keys = [key for key in undelivered if partition_of(key) == partition_id]
                if keys:
                    partition.yield_jobs(keys)

        return close

    def yield_job(self, job_key: int) -> None:
        """A job pushed to a remote gateway's stream could not be delivered: make it activatable again
        (what the partition does itself when an in-process sink refuses a push)."""
        partition = self.partitions.get(partition_of(job_key))
        if partition is not None:
            partition.yield_jobs([job_key])

    async def query_exporter(self, sql: str, *, exporter_id: str | None = None,
                             max_rows: int = 1000) -> ExporterQueryAnswer:
        """Read-only SQL answered by a queryable exporter (the DuckDB export) on partition 1, which
        holds every partition's records when they share one export file."""
        partition = self.partitions.get(1)
        if partition is None:
            raise ExporterQueryError("the broker is not running partition 1")
        return await partition.exporters.query(sql, exporter_id=exporter_id, max_rows=max_rows)

    def _jobs_available(self, job_type: str) -> None:
        self._listeners.notify(job_type)

    # -- running -----------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Broker] = trio.TASK_STATUS_IGNORED) -> None:
        clock = self._clock or EngineClock()
        config = self.config
        command_api_tls, gateway_tls, gateway_auth = _security(config)
        with DataDirectoryLock(config.data_dir):
            async with trio.open_nursery() as nursery:
                check_partition_count(config)
                # One sender for every partition: commands between partitions go through the receiver's log.
                sender = BrokerPartitionSender(self.partitions, config.partitions,
                                               max_command_bytes=config.max_message_size)
                self.partition_sender = sender
                if config.cluster_size > 1:
                    await self._start_replicas(nursery, clock, sender)
                else:
                    for partition_id in range(1, config.partitions + 1):
                        partition = Partition(partition_id, config, clock, self.job_streams,
                                              self._jobs_available, self.job_streams.push, sender=sender)
                        await nursery.start(partition.run)
                        self.partitions[partition_id] = partition
                if config.command_api_enabled:
                    self.command_api = CommandApiServer(
                        self, host=config.command_api_host, port=config.command_api_port,
                        max_frame_size=config.max_message_size + 64 * 1024,
                        max_requests=config.max_inflight_requests * config.partitions + 64,
                        secret=config.command_api_secret, max_connections=config.command_api_max_connections,
                        max_buffered_bytes=config.command_api_max_buffered_bytes,
                        frame_timeout=config.command_api_frame_timeout, ssl_context=command_api_tls)
                    with _listening("the command API", config.command_api_host, config.command_api_port,
                                    "command_api_port"):
                        self.command_api_port = await nursery.start(self.command_api.run)
                if self.cluster is not None:
                    assert self.command_api_port is not None  # the configuration requires it in a cluster
                    await self.cluster.start_gossip(nursery, command_port=self.command_api_port,
                                                    gateway_port=config.gateway_port if config.embedded_gateway else None)
                if config.embedded_gateway:
                    from zeebe_trio.gateway import serve_gateway

                    port: BrokerPort = self if self.cluster is None else self.cluster.open_gateway_port(nursery, self)
                    with _listening("the gateway", config.host, config.gateway_port, "gateway_port"):
                        self.gateway_port = await nursery.start(
                            lambda task_status: serve_gateway(port, host=config.host, grpc_port=config.gateway_port,
                                                              max_message_size=config.max_message_size,
                                                              tls=gateway_tls, auth=gateway_auth,
                                                              task_status=task_status))
                task_status.started(self)


    async def _start_replicas(self, nursery: trio.Nursery, clock: EngineClock, local: BrokerPartitionSender) -> None:
        """The cluster's transport, then a Raft replica of every partition this node is a member of."""
        from ._replicated import ReplicatedPartition

        config = self.config
        cluster = self.cluster = BrokerCluster(config, self.partitions, local)  # type: ignore[arg-type]
        with _listening("the cluster's internal port", config.internal_host, config.internal_port, "internal_port"):
            await cluster.start_transport(nursery)
        for partition_id in cluster.partition_ids:
            replica = ReplicatedPartition(partition_id, config, clock, self.job_streams, self._jobs_available,
                                          self.job_streams.push, sender=cluster.sender, node_id=config.node_id,
                                          members=cluster.members_of(partition_id),
                                          transport=cluster.raft_transport(partition_id),
                                          raft_config=raft_config(config),
                                          distribute_exporter_positions=cluster.distribute_exporter_positions)
            await nursery.start(replica.run)
            self.partitions[partition_id] = replica


def _no_op() -> None:
    pass


PARTITIONS_FILE = "partitions.json"
"""In the data directory: the partition count the data was created with and, for a broker of a cluster,
its node id, the cluster size and the replication factor (``{"partitions": 3, "cluster": {...}}``)."""


def check_partition_count(config: BrokerConfig) -> None:
    """Refuse to start a data directory with another partition count than it was created with: the
    partitions added would lack the deployments, and messages would hash to other partitions than their
    subscriptions. A directory from before this file existed holds one partition. The same for the shape
    of the cluster: a replica's data belongs to one node of one cluster layout, and a single broker's
    partition logs are not Raft logs."""
    data_dir = Path(config.data_dir)
    path = data_dir / PARTITIONS_FILE
    shape = _cluster_shape(config)
    if path.exists():
        try:
            written = json.loads(path.read_text())
            created_with = int(written["partitions"])
            created_as = written.get("cluster")
            if created_as is not None:
                created_as = {name: int(created_as[name]) for name in _SHAPE_SETTINGS}
        except (ValueError, KeyError, TypeError) as error:
            raise StartupError(f"{path} is damaged ({error}); it should hold the partition count the data was"
                               " created with, as {\"partitions\": N}") from None
    elif (data_dir / "partition-1").exists():
        created_with, created_as = 1, None
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"partitions": config.partitions, **({"cluster": shape} if shape else {})}) + "\n")
        return
    if created_with != config.partitions:
        raise StartupError(f"the data in {data_dir} was created with {created_with} partition(s), but partitions is"
                           f" {config.partitions}; the partition count of a broker's data cannot change: set"
                           f" partitions (ZEEBE_TRIO_PARTITIONS) to {created_with}, or start with an empty data_dir")
    if created_as != shape:
        was = "a single broker" if created_as is None else _describe_shape(created_as)
        now = "a single broker" if shape is None else _describe_shape(shape)
        raise StartupError(f"the data in {data_dir} was created by {was}, but the settings make this {now}; a"
                           f" broker's data belongs to the node and cluster layout it was created for: restore"
                           f" those settings, or start with an empty data_dir (in a cluster, the replicas then"
                           f" catch up from the leaders)")
    if not path.exists():
        path.write_text(json.dumps({"partitions": created_with}) + "\n")


_SHAPE_SETTINGS = {"nodeId": "node_id", "clusterSize": "cluster_size", "replicationFactor": "replication_factor"}


def _cluster_shape(config: BrokerConfig) -> dict[str, int] | None:
    if config.cluster_size == 1:
        return None
    return {name: int(getattr(config, setting)) for name, setting in _SHAPE_SETTINGS.items()}


def _describe_shape(shape: dict[str, int]) -> str:
    return ", ".join(f"{setting} {shape[name]}" for name, setting in _SHAPE_SETTINGS.items())


def _security(config: BrokerConfig) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None, TokenVerifier | None]:
    """The command API's and the gateway's TLS contexts and the gateway's token verifier, from the
    settings (each None when off); ``StartupError`` naming the setting when a file is wrong."""
    contexts: list[ssl.SSLContext | None] = []
    for prefix, alpn in (("command_api_tls", ()), ("gateway_tls", GRPC_ALPN)):
        names = {"certificate_setting": f"{prefix}_certificate", "key_setting": f"{prefix}_private_key"}
        try:
            pair = tls_pair(getattr(config, f"{prefix}_certificate"), getattr(config, f"{prefix}_private_key"),
                            **names)
            contexts.append(None if pair is None else server_context(*pair, alpn=alpn, **names))
        except TlsSettingsError as error:
            raise StartupError(str(error)) from None
    auth = None
    if config.gateway_auth_enabled and config.embedded_gateway:
        try:
            check_auth_settings(issuer=config.gateway_auth_issuer, audience=config.gateway_auth_audience,
                                jwks=config.gateway_auth_jwks,
                                names={what: f"gateway_auth_{what}" for what in ("issuer", "audience", "jwks")})
        except ValueError as error:
            raise StartupError(f"{error} (gateway_auth_enabled is true)") from None
        auth = TokenVerifier(issuer=config.gateway_auth_issuer, audience=config.gateway_auth_audience,
                             jwks=config.gateway_auth_jwks)
    return contexts[0], contexts[1], auth


@contextmanager
def _listening(what: str, host: str, port: int, setting: str) -> Iterator[None]:
    """Turn a failure to bind into a ``StartupError`` that names the address and the setting."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            problem = "the address is already in use (is another broker or gateway running?)"
        else:
            problem = error.strerror or str(error)
        raise StartupError(f"cannot listen on {host}:{port} for {what}: {problem};"
                           f" set {setting} (ZEEBE_TRIO_{setting.upper()}) to a free port") from None


async def run_broker(config: BrokerConfig, *, task_status: trio.TaskStatus[Broker] = trio.TASK_STATUS_IGNORED) -> None:
    """Run a broker until cancelled (SIGINT/SIGTERM in the CLI); shuts down cleanly."""
    broker = Broker(config)
    await broker.run(task_status=task_status)
