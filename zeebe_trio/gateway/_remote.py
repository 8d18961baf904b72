"""A broker port over TCP: how a standalone gateway reaches a broker's command API.

``RemoteBrokerPort`` implements ``BrokerPort`` over one connection to a broker's command API (frames:
``zeebe_trio.protocol._wire``; the server: ``zeebe_trio.broker._command_api``). It runs on the Trio
side of the gateway, exactly where the in-process ``Broker`` would, so ``serve_gateway`` cannot tell the
difference; ``run_standalone_gateway`` puts the two together (``zeebe-trio gateway``).

- Requests are multiplexed on the connection by request id; a caller that is cancelled sends CANCEL.
- While the broker is unreachable, ``execute`` raises ``BrokerError(PARTITION_UNAVAILABLE)`` at once
  (gRPC UNAVAILABLE: clients retry), ``topology()`` lists no brokers, and the port reconnects with
  exponential back-off. A broker that sends nothing for ``silence_timeout`` (it is stopped or hung, or
  its host vanished without a TCP reset) counts as unreachable too: the connection is dropped and
  made again. Requests in flight when the connection drops fail the same way; whether
  the broker processed them is unknown, as with any lost connection.
- Job streams are kept here and re-opened on every new connection. A pushed job that the local sink
  refuses (its buffer is full, or it was closed meanwhile) goes back to the broker as YIELD_JOB, so the
  broker makes it activatable again; credit for more pushes is granted as jobs are handed on.
- Jobs-available notifications are pushed by the broker and passed to the listeners. After a
  reconnect every job type seen so far is announced once, since notifications may have been missed.

Frames the port sends from synchronous code (stream open/close, yields, credit, cancels) go through a
small deque the writer drains first; their number is bounded by the streams and requests in flight.
Everything else waits for room in a bounded channel.

With ``ssl_context`` (``zeebe-trio gateway --broker-ca``) the connection is TLS, verifying the broker's
certificate and host name; the shared-secret handshake runs inside it as before.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import ssl
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from hmac import compare_digest
from typing import Any

import trio

import zeebe_trio
from zeebe_trio.protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    NONCE_SIZE,
    WIRE_VERSION,
    FrameDecoder,
    MessageType,
    PartitionHealth,
    PartitionRole,
    Record,
    RecordDecodeError,
    WireError,
    auth_proof,
    decode_batch,
    encode_frame,
    foreign_server_protocol,
)
from zeebe_trio.protocol import parse_address as parse_host_port

from ._auth import TokenVerifier
from ._compression import DEFAULT_MAX_MESSAGE_SIZE
from ._port import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    ClusterTopology,
    JobsAvailableListeners,
    JobStreamSink,
    JobStreamSpec,
    PartitionInfo,
)
from ._tls import describe_tls_failure

log = logging.getLogger("zeebe_trio.gateway.remote")

RECEIVE_SIZE = 64 * 1024
_MAX_BATCH = 256  # frames per send_all
_REMEMBERED_JOB_TYPES = 1024  # job types announced again after a reconnect


# -- topology on the wire (shared with the broker's command API) -----------------------------------

def topology_to_wire(topology: ClusterTopology) -> list[Any]:
    """``[cluster_size, partitions_count, replication_factor, gateway_version,
    [[node_id, host, port, version, [[partition_id, role, health, term]...]]...]]`` (a reader also takes
    partitions without the term, as brokers before it wrote them)."""
    return [
        topology.cluster_size, topology.partitions_count, topology.replication_factor, topology.gateway_version,
        [[b.node_id, b.host, b.port, b.version,
          [[p.partition_id, int(p.role), int(p.health), p.term] for p in b.partitions]]
         for b in topology.brokers],
    ]


def topology_from_wire(data: list[Any]) -> ClusterTopology:
    """The inverse of ``topology_to_wire``; ``WireError`` if ``data`` does not have its shape."""
    try:
        cluster_size, partitions_count, replication_factor, version, brokers = data
        return ClusterTopology(
            brokers=tuple(
                BrokerInfo(int(node_id), str(host), int(port), str(broker_version), tuple(
                    PartitionInfo(int(p[0]), PartitionRole(p[1]), PartitionHealth(p[2]), int(p[3]) if len(p) > 3 else 0)
                    for p in partitions))
                for node_id, host, port, broker_version, partitions in brokers),
            cluster_size=int(cluster_size), partitions_count=int(partitions_count),
            replication_factor=int(replication_factor), gateway_version=str(version))
    except (TypeError, ValueError, IndexError) as error:
        raise WireError(f"malformed topology: {error}") from None


def parse_address(address: str, default_port: int = 26501) -> tuple[str, int]:
    """A broker's command API address: ``"host:port"`` (``"[::1]:26501"`` for IPv6; the port may be left
    out, and an empty host is localhost) as ``(host, port)``."""
    return parse_host_port(address, default_port, what="broker address", empty_host="localhost")


# -- one connection --------------------------------------------------------------------------------

class _Pending:
    __slots__ = ("done", "batch", "error")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.batch: bytes | None = None
        self.error: BrokerError | None = None


class _ConnectionLost(Exception):
    pass


@dataclass
class _LocalStream:
    spec: JobStreamSpec
    sink: JobStreamSink


class _Connection:
    def __init__(self, port: RemoteBrokerPort, stream: trio.abc.Stream) -> None:
        self._port = port
        self._stream = stream
        self._decoder = FrameDecoder(port.max_frame_size)
        self._received: deque[list[Any]] = deque()
        self._send, self._receive = trio.open_memory_channel[bytes | None](port.outbox_capacity)
        self._control: list[bytes] = []
        self._wake_queued = False
        self._request_ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._credit_due: dict[int, int] = {}
        self.lost_reason = ""
        self._last_heard = trio.current_time()

    # -- sending -------------------------------------------------------------------------------------

    def control(self, message: list[Any]) -> None:
        """Queue a frame from synchronous code; it goes out with the writer's next batch."""
        self._control.append(encode_frame(message))
        if not self._wake_queued:
            try:
                self._send.send_nowait(None)
                self._wake_queued = True
            except trio.WouldBlock:
                pass  # the writer has frames to take; it sends the control frames with them
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                pass

    def open_stream(self, stream_id: int, spec: JobStreamSpec) -> None:
        window = self._port.job_stream_window
        self._credit_due[stream_id] = 0
        self.control([MessageType.OPEN_STREAM, stream_id, window, spec.job_type, spec.worker, spec.timeout_ms,
                      list(spec.fetch_variables), list(spec.tenant_ids)])

    def watch_job_type(self, job_type: str, watching: bool) -> None:
        self.control([MessageType.WATCH_JOB_TYPE, job_type, watching])

    def close_stream(self, stream_id: int, undelivered: Sequence[int]) -> None:
        self._credit_due.pop(stream_id, None)
        self.control([MessageType.CLOSE_STREAM, stream_id, [int(key) for key in undelivered]])

    # -- requests ------------------------------------------------------------------------------------

    async def execute(self, partition_id: int, command: BrokerCommand, timeout: float | None) -> Record:
        request_id = next(self._request_ids)
        frame = encode_frame([MessageType.EXECUTE, request_id, partition_id, int(command.value_type),
                              int(command.intent), command.key, command.value, timeout])
        pending = self._pending[request_id] = _Pending()
        sent = False
        try:
            try:
                await self._send.send(frame)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                raise self._port.unavailable(partition_id) from None
            sent = True
            await pending.done.wait()
        finally:
            del self._pending[request_id]
            if sent and not pending.done.is_set():
                self.control([MessageType.CANCEL, request_id])
        if pending.error is not None:
            raise pending.error
        assert pending.batch is not None
        try:
            return decode_batch(pending.batch, partition_id)[0]
        except (RecordDecodeError, IndexError) as error:
            raise BrokerError(BrokerError.INTERNAL, f"The broker's response could not be read: {error}") from None

    # -- running -------------------------------------------------------------------------------------

    async def handshake(self) -> ClusterTopology:
        self._hello_nonce = os.urandom(NONCE_SIZE)
        await self._stream.send_all(hello_frame(self._port.name, self._hello_nonce))
        first = await self._read_some()
        if not first:
            hint = "" if self._port.ssl_context else " (if its command API serves TLS, give the gateway --broker-ca)"
            raise _ConnectionLost(f"the broker closed the connection{hint}")
        check_speaks_command_api(first, self._port.address_text)
        self._received.extend(self._decoder.feed(first))

        async def next_message() -> list[Any]:
            return await self._next_message()

        async def send(frame: bytes) -> None:
            await self._stream.send_all(frame)

        message = await complete_handshake(next_message, send, name=self._port.name, nonce=self._hello_nonce,
                                           secret=self._port.secret, address=self._port.address_text)
        return topology_from_wire(message[2])

    async def _next_message(self) -> list[Any]:
        while not self._received:
            data = await self._read_some()
            if not data:
                raise _ConnectionLost("the broker closed the connection")
            self._last_heard = trio.current_time()
            self._received.extend(self._decoder.feed(data))
        return self._received.popleft()

    async def _read_some(self) -> bytes:
        data = await self._stream.receive_some(RECEIVE_SIZE)
        return data if isinstance(data, bytes) else bytes(data)  # an SSLStream may say bytearray

    async def run(self) -> None:
        """Serve the connection until it is lost (``lost_reason`` says why); never raises for that."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write_loop, nursery.cancel_scope)
                nursery.start_soon(self._refresh_topology, nursery.cancel_scope)
                try:
                    while True:
                        self._dispatch(await self._next_message())
                except (_ConnectionLost, WireError, trio.BrokenResourceError, trio.ClosedResourceError) as error:
                    self.lost_reason = self.lost_reason or str(error) or type(error).__name__
                except (TypeError, ValueError) as error:
                    self.lost_reason = f"malformed message from the broker: {error}"
                nursery.cancel_scope.cancel()
        finally:
            self._receive.close()  # senders waiting for room fail (the port reports them unavailable)
            lost = BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                               f"The connection to the broker at {self._port.address_text} was lost before the"
                               f" command was answered ({self.lost_reason or 'gateway stopping'}); retry")
            for pending in self._pending.values():
                pending.error = lost
                pending.done.set()

    def _dispatch(self, message: list[Any]) -> None:
        kind = message[0]
        if kind is MessageType.RESPONSE:
            _, request_id, batch = message
            pending = self._pending.get(request_id)
            if pending is not None:
                pending.batch = batch
                pending.done.set()
        elif kind is MessageType.ERROR:
            _, request_id, code, text = message
            pending = self._pending.get(request_id)
            if pending is not None:
                pending.error = BrokerError(str(code), str(text))
                pending.done.set()
        elif kind is MessageType.JOB:
            _, stream_id, job_key, job = message
            self._job_pushed(stream_id, job_key, job)
        elif kind is MessageType.JOBS_AVAILABLE:
            (_, job_types) = message
            for job_type in job_types:
                self._port.jobs_available(str(job_type))
        elif kind is MessageType.TOPOLOGY:
            (_, topology) = message
            self._port.set_topology(topology_from_wire(topology))
        elif kind is MessageType.GOODBYE:
            raise _ConnectionLost(f"the broker said goodbye: {message[1] if len(message) > 1 else ''}")
        else:
            raise WireError(f"{kind.name} is not a message a broker sends")

    def _job_pushed(self, stream_id: int, job_key: int, job: dict[str, Any]) -> None:
        local = self._port.local_stream(stream_id)
        if local is None or not local.sink.push(job_key, job):
            self.control([MessageType.YIELD_JOB, job_key])
        if stream_id in self._credit_due:
            due = self._credit_due[stream_id] + 1
            if due >= max(1, self._port.job_stream_window // 2):
                self.control([MessageType.CREDIT, stream_id, due])
                due = 0
            self._credit_due[stream_id] = due

    async def _refresh_topology(self, scope: trio.CancelScope) -> None:
        """Ask for the topology every ``topology_refresh_interval``; a broker that sends nothing for
        ``silence_timeout`` (stopped, hung, or its host gone without a TCP reset) loses the connection."""
        while True:
            await trio.sleep(self._port.topology_refresh_interval)
            silent = trio.current_time() - self._last_heard
            if silent > self._port.silence_timeout:
                self.lost_reason = f"the broker sent nothing for {silent:.1f} s"
                scope.cancel()
                return
            self.control([MessageType.TOPOLOGY_REQUEST])

    async def _write_loop(self, scope: trio.CancelScope) -> None:
        try:
            while True:
                batch: list[bytes] = []
                if not self._control:
                    item = await self._receive.receive()
                    if item is None:
                        self._wake_queued = False
                    else:
                        batch.append(item)
                while len(batch) < _MAX_BATCH:
                    try:
                        item = self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                    if item is None:
                        self._wake_queued = False
                    else:
                        batch.append(item)
                if self._control:
                    batch.extend(self._control)
                    self._control.clear()
                if batch:
                    await self._stream.send_all(b"".join(batch))
        except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
            self.lost_reason = self.lost_reason or f"sending failed: {error}"
            scope.cancel()


# -- the port ----------------------------------------------------------------------------------------

class RemoteBrokerPort:
    """``BrokerPort`` over TCP to a broker's command API. ``run`` keeps the connection (until cancelled)."""

    def __init__(
        self,
        address: str | tuple[str, int],
        *,
        name: str | None = None,
        job_stream_window: int = 32,
        outbox_capacity: int = 256,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        topology_refresh_interval: float = 1.0,
        silence_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
        secret: str = "",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = parse_address(address) if isinstance(address, str) else address
        self.secret = secret  # the broker's command_api_secret, when it has one
        self.ssl_context = ssl_context  # TLS to the broker's command API when set
        self.address_text = f"{self.host}:{self.port}"
        self.name = name or f"zeebe-trio gateway {socket.gethostname()} pid {os.getpid()}"
        self.job_stream_window = job_stream_window
        self.outbox_capacity = outbox_capacity
        self.max_frame_size = max_frame_size
        self.topology_refresh_interval = topology_refresh_interval
        self.silence_timeout = max(silence_timeout, 2 * topology_refresh_interval)
        """A connection on which nothing arrives for this long is dropped (topology answers come every
        ``topology_refresh_interval``)."""
        self.connect_timeout = connect_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._connection: _Connection | None = None
        self._topology: ClusterTopology | None = None
        self._listeners = JobsAvailableListeners()
        self._job_types: OrderedDict[str, None] = OrderedDict()
        self._watches: dict[str, int] = {}  # job type -> watches of it open in this gateway
        self._stream_ids = itertools.count(1)
        self._streams: dict[int, _LocalStream] = {}
        self._connected = trio.Event()
        self._disconnected = trio.Event()
        self._disconnected.set()
        self.connections_made = 0

    # -- BrokerPort ----------------------------------------------------------------------------------

    @property
    def partition_ids(self) -> Sequence[int]:
        # The last known partitions, even while disconnected: requests then fail as unavailable
        # (clients retry) rather than as "no partitions known".
        if self._topology is None:
            return []
        return list(range(1, self._topology.partitions_count + 1))

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        connection = self._connection
        if connection is None:
            await trio.lowlevel.checkpoint()
            raise self.unavailable(partition_id)
        return await connection.execute(partition_id, command, timeout)

    def topology(self) -> ClusterTopology:
        known = self._topology
        version = zeebe_trio.__version__
        if known is None:
            return ClusterTopology((), 0, 0, 0, version)
        brokers = known.brokers if self._connection is not None else ()
        return ClusterTopology(brokers, known.cluster_size, known.partitions_count, known.replication_factor,
                               version)

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        return self._listeners.add(listener)

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        count = self._watches.get(job_type, 0)
        self._watches[job_type] = count + 1
        if count == 0 and self._connection is not None:
            self._connection.watch_job_type(job_type, True)
        done = False

        def unwatch() -> None:
            nonlocal done
            if done:
                return
            done = True
            remaining = self._watches[job_type] - 1
            if remaining:
                self._watches[job_type] = remaining
                return
            del self._watches[job_type]
            if self._connection is not None:
                self._connection.watch_job_type(job_type, False)

        return unwatch

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        stream_id = next(self._stream_ids)
        self._streams[stream_id] = _LocalStream(spec, sink)
        if self._connection is not None:
            self._connection.open_stream(stream_id, spec)

        def close(undelivered: Sequence[int] = ()) -> None:
            # While disconnected, undelivered jobs come back when their timeout passes instead.
            if self._streams.pop(stream_id, None) is not None and self._connection is not None:
                self._connection.close_stream(stream_id, undelivered)

        return close

    # -- state ---------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def wait_connected(self) -> None:
        """Return once a connection to the broker is up."""
        await self._connected.wait()

    async def wait_disconnected(self) -> None:
        """Return once no connection to the broker is up."""
        await self._disconnected.wait()

    def statistics(self) -> dict[str, Any]:
        connection = self._connection
        return {"connected": connection is not None, "connections_made": self.connections_made,
                "requests_in_flight": len(connection._pending) if connection else 0,
                "job_streams": len(self._streams)}

    # -- called by the connection --------------------------------------------------------------------

    def unavailable(self, partition_id: int) -> BrokerError:
        return BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                           f"Expected to execute the command on partition {partition_id}, but the gateway is not"
                           f" connected to the broker at {self.address_text} (reconnecting); retry shortly")

    def set_topology(self, topology: ClusterTopology) -> None:
        self._topology = topology

    def local_stream(self, stream_id: int) -> _LocalStream | None:
        return self._streams.get(stream_id)

    def jobs_available(self, job_type: str) -> None:
        self._job_types[job_type] = None
        self._job_types.move_to_end(job_type)
        if len(self._job_types) > _REMEMBERED_JOB_TYPES:
            self._job_types.popitem(last=False)
        self._listeners.notify(job_type)

    # -- running -------------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, and reconnect with back-off whenever the connection is lost, until cancelled.

        ``task_status.started()`` after the first attempt, whether it connected or not."""
        backoff = self.min_backoff
        started = False
        outage_logged = False
        while True:
            stream: trio.abc.Stream | None = None
            try:
                with trio.fail_after(self.connect_timeout):
                    stream = await open_command_api_stream(self.host, self.port, self.ssl_context, keepalive=True)
                    connection = _Connection(self, stream)
                    topology = await connection.handshake()
            except (OSError, trio.TooSlowError, WireError, _ConnectionLost, trio.BrokenResourceError) as error:
                if stream is not None:
                    await trio.aclose_forcefully(stream)
                if not outage_logged:
                    log.warning("cannot reach the broker at %s: %s; retrying with back-off up to %s s",
                                self.address_text, error or type(error).__name__, self.max_backoff)
                    outage_logged = True
                if not started:
                    task_status.started()
                    started = True
                await trio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = self.min_backoff
            outage_logged = False
            try:
                self._connected_to(connection, topology)
                if not started:
                    task_status.started()
                    started = True
                await connection.run()
            finally:
                self._connection = None
                self._connected = trio.Event()
                self._disconnected.set()
                with trio.CancelScope(shield=True):
                    await trio.aclose_forcefully(stream)
            log.warning("connection to the broker at %s lost: %s; reconnecting", self.address_text,
                        connection.lost_reason)
            await trio.sleep(backoff)

    def _connected_to(self, connection: _Connection, topology: ClusterTopology) -> None:
        self._topology = topology
        self._connection = connection
        self.connections_made += 1
        self._disconnected = trio.Event()
        self._connected.set()
        log.info("connected to broker at %s (partitions %s)", self.address_text, list(self.partition_ids))
        for stream_id, local in self._streams.items():
            connection.open_stream(stream_id, local.spec)
        for job_type in self._watches:
            connection.watch_job_type(job_type, True)
        for job_type in list(self._job_types):  # notifications may have been missed while disconnected
            self.jobs_available(job_type)


async def run_standalone_gateway(
    broker_address: str | tuple[str, int] | Sequence[str | tuple[str, int]],
    *,
    host: str = "0.0.0.0",
    grpc_port: int = 26500,
    tls: ssl.SSLContext | None = None,
    auth: TokenVerifier | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    **port_options: Any,
) -> None:
    """A gateway in front of a remote broker: ``RemoteBrokerPort`` + ``serve_gateway``, until cancelled.
    Given a list of addresses (the brokers of a cluster), a ``ClusterBrokerPort`` over a ``RemoteBrokerPort``
    per broker, each joining it under the node id its broker reports once it has connected.

    ``task_status.started(bound_grpc_port)`` once gRPC is served (after the first attempt to reach the
    broker; requests answer UNAVAILABLE until it is reachable). ``tls`` and ``auth`` are the gRPC side's
    (``serve_gateway``); ``port_options`` go to ``RemoteBrokerPort`` (``ssl_context`` for TLS to the broker).
    """
    from ._cluster_port import ClusterBrokerPort
    from ._host import serve_gateway

    # Frames to the broker carry a command of up to max_message_size plus its envelope.
    port_options.setdefault("max_frame_size", max(DEFAULT_MAX_FRAME_SIZE, max_message_size + 64 * 1024))
    addresses = [broker_address] if isinstance(broker_address, str | tuple) else list(broker_address)
    async with trio.open_nursery() as nursery:
        port: Any
        if len(addresses) == 1:
            port = RemoteBrokerPort(addresses[0], **port_options)
            await nursery.start(port.run)
        else:
            port = ClusterBrokerPort({}, gateway_version=zeebe_trio.__version__)
            for address in addresses:
                remote = RemoteBrokerPort(address, **port_options)
                nursery.start_soon(_join_cluster_port, remote, port)
        bound = await nursery.start(partial(serve_gateway, port, host=host, grpc_port=grpc_port, tls=tls, auth=auth,
                                            max_message_size=max_message_size))
        task_status.started(bound)


async def _join_cluster_port(remote: RemoteBrokerPort, cluster: Any) -> None:
    """Run ``remote``; once it first connects, add it to ``cluster`` under its broker's node id."""
    async with trio.open_nursery() as nursery:
        await nursery.start(remote.run)
        await remote.wait_connected()
        brokers = remote.topology().brokers
        if len(brokers) != 1:
            log.error("the broker at %s reports %d brokers in its topology; a gateway in front of a cluster needs"
                      " each broker's own (is it a zeebe-trio broker of a cluster?)", remote.address_text, len(brokers))
            nursery.cancel_scope.cancel()
            return
        cluster.add_broker(brokers[0].node_id, remote)


async def open_command_api_stream(host: str, port: int, ssl_context: ssl.SSLContext | None, *,
                                  keepalive: bool = False) -> trio.abc.Stream:
    """A connection to a broker's command API: TCP, or TLS over it (verifying the broker's
    certificate for ``host``). A failed TLS handshake is a ``_ConnectionLost`` saying why."""
    tcp = await trio.open_tcp_stream(host, port)
    if keepalive:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if ssl_context is None:
        return tcp
    stream = trio.SSLStream(tcp, ssl_context, server_hostname=host)
    try:
        await stream.do_handshake()
    except trio.BrokenResourceError as error:
        await trio.aclose_forcefully(stream)
        raise _ConnectionLost(f"the TLS handshake failed: {describe_tls_failure(error)} (does its command API"
                              " serve TLS, with a certificate issued by the --broker-ca CA for this host name?)"
                              ) from None
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


def hello_frame(name: str, nonce: bytes) -> bytes:
    return encode_frame([MessageType.HELLO, WIRE_VERSION, name, nonce])


async def complete_handshake(next_message: Callable[[], Awaitable[list[Any]]], send: Callable[[bytes], Awaitable[None]],
                             *, name: str, nonce: bytes, secret: str, address: str) -> list[Any]:
    """The rest of the handshake after HELLO: answer a CHALLENGE with the shared secret's proof, then
    take WELCOME (checking the broker's proof when there is a secret). Returns the WELCOME message."""
    message = await next_message()
    challenged = False
    broker_nonce = b""
    if message[0] is MessageType.CHALLENGE:
        if not secret:
            raise _ConnectionLost(f"the broker at {address} requires a shared secret: set"
                                  " ZEEBE_TRIO_COMMAND_API_SECRET to its command_api_secret")
        (broker_nonce,) = message[1:]
        if not isinstance(broker_nonce, bytes):
            raise WireError("malformed CHALLENGE from the broker")
        challenged = True
        await send(encode_frame([MessageType.AUTH, auth_proof(secret, "gateway", broker_nonce, nonce, name)]))
        message = await next_message()
    if message[0] is MessageType.GOODBYE:
        raise _ConnectionLost(f"the broker refused the connection: {message[1] if len(message) > 1 else ''}")
    if message[0] is not MessageType.WELCOME or len(message) != 4:
        raise WireError(f"expected WELCOME from the broker, got {message[0].name}")
    if secret:
        if not challenged:
            raise _ConnectionLost(f"the broker at {address} did not ask for the shared secret: it has no"
                                  " command_api_secret, or it is not the broker this gateway was given")
        if not isinstance(message[3], bytes) or not compare_digest(
                message[3], auth_proof(secret, "broker", nonce, broker_nonce)):
            raise _ConnectionLost(f"the broker at {address} could not prove it holds the shared secret")
    return message


def check_speaks_command_api(first_bytes: bytes, address: str) -> None:
    """``WireError`` naming the mistake when the server at ``address`` answered in another protocol
    (most likely a gateway's gRPC port given where the broker's command API was meant)."""
    protocol = foreign_server_protocol(first_bytes)
    if protocol is not None:
        hint = {"HTTP/2": "is it a gateway's gRPC port? ",
                "TLS": "does it serve TLS (command_api_tls_certificate)? then give the gateway --broker-ca; "
                }.get(protocol, "")
        raise WireError(f"{address} answered in {protocol}, not as a broker's command API: {hint}the command API"
                        " listens on the broker's command_api_port (26501 by default)")


QUERY_CLIENT_NAME = "zeebe-trio sql"
"""The name ``query_broker`` says HELLO with: one connection per query, so the broker logs it quietly."""


async def query_broker(address: str, sql: str, *, exporter_id: str | None = None, max_rows: int = 1000,
                       timeout: float = 30.0, secret: str = "", ssl_context: ssl.SSLContext | None = None,
                       ) -> tuple[list[str], list[list[Any]], bool, str | None]:
    """Ask a running broker (its command API, ``host:port``) to answer read-only SQL with a queryable
    exporter: ``(columns, rows, truncated, exporter_id)``, the id of the exporter that answered (``None``
    from a broker that does not say). Raises ``BrokerError`` when it refuses, ``OSError`` when nothing
    listens there. ``secret`` is the broker's ``command_api_secret``, if it has one; ``ssl_context``
    makes the connection TLS (for a broker with ``command_api_tls_certificate``: ``_tls.pinned_context``)."""
    host, _, port = address.rpartition(":")
    with trio.fail_after(timeout):
        try:
            stream = await open_command_api_stream(host or "localhost", int(port), ssl_context)
        except _ConnectionLost as error:
            raise BrokerError(BrokerError.PARTITION_UNAVAILABLE, f"{address}: {error}") from None
        async with stream:
            decoder = FrameDecoder()
            received: deque[list[Any]] = deque()
            first = True

            async def next_message() -> list[Any]:
                nonlocal first
                while not received:
                    data = bytes(await stream.receive_some(65536))
                    if not data:
                        hint = "" if ssl_context else " (if its command API serves TLS, connect with TLS)"
                        raise BrokerError(BrokerError.PARTITION_UNAVAILABLE, f"the broker closed the connection{hint}")
                    if first:
                        first = False
                        check_speaks_command_api(data, address)
                    received.extend(decoder.feed(data))
                return received.popleft()

            nonce = os.urandom(NONCE_SIZE)
            try:
                await stream.send_all(hello_frame(QUERY_CLIENT_NAME, nonce))
                await complete_handshake(next_message, stream.send_all, name=QUERY_CLIENT_NAME, nonce=nonce,
                                         secret=secret, address=address)
            except (WireError, _ConnectionLost) as error:
                raise BrokerError(BrokerError.PARTITION_UNAVAILABLE, str(error)) from None
            await stream.send_all(encode_frame([MessageType.QUERY, 1, exporter_id, sql, max_rows]))
            while True:
                message = await next_message()
                if message[0] is MessageType.QUERY_RESULT and message[1] == 1:
                    answered_by = message[5] if len(message) > 5 and isinstance(message[5], str) else None
                    return message[2], message[3], bool(message[4]), answered_by
                if message[0] is MessageType.ERROR and message[1] == 1:
                    raise BrokerError(message[2], message[3])
                if message[0] is MessageType.GOODBYE:
                    raise BrokerError(BrokerError.PARTITION_UNAVAILABLE, f"the broker said goodbye: {message[1]}")
