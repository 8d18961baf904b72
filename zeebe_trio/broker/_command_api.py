"""The broker's command API: a TCP server through which standalone gateways reach this broker.

Zeebe's standalone gateway talks to brokers over their command API (port 26501); so does ours
(``zeebe-trio gateway``, ``zeebe_trio.gateway.RemoteBrokerPort``). The frames are described in
``zeebe_trio.protocol._wire``; this module serves them on top of anything that offers the gateway's
``BrokerPort`` plus ``yield_job`` (the ``Broker``).

Per connection: the connection's own task reads and dispatches frames, one writer task sends
everything queued for the gateway, and each EXECUTE runs in a task of its own, so responses go out in
the order commands finish. Memory stays bounded:

- frames to the gateway go through a bounded channel (``OUTBOX_CAPACITY``); responses wait for room,
  job pushes never wait (no room -> ``push`` says no -> the partition yields the job at once);
- jobs-available notifications go only to gateways that watch the job type (WATCH_JOB_TYPE: they
  have ActivateJobs requests for it), as a set of job types sent coalesced whenever the writer runs;
- at most ``max_requests`` EXECUTEs per connection are in flight; beyond that the reader stops
  reading, and TCP pushes back on the gateway;
- each job stream gets ``window`` pushes; the gateway grants more with CREDIT as it hands jobs on.

The reader never waits for the writer (only for request slots, which finishing requests free), so a
gateway that reads slowly cannot deadlock the pair. A connection that sends garbage, an oversized or
unknown frame, or a message with the wrong fields is told why (GOODBYE, best effort) and closed, with
a log line; the broker carries on.

With ``command_api_tls_certificate`` / ``command_api_tls_private_key`` the connections are TLS
(``trio.SSLStream``); the handshake must finish within ``HELLO_TIMEOUT``, and one that fails is
counted and logged once a minute. TLS keeps the traffic private and proves the broker to the gateway
(``zeebe-trio gateway --broker-ca``); who may talk to the broker is still the shared secret's (and the
peer address's) decision, on top.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import math
import os
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from hmac import compare_digest
from typing import Any, Protocol

import trio

from zeebe_trio.exporters import ExporterQueryAnswer, ExporterQueryError
from zeebe_trio.gateway._port import BrokerCommand, BrokerError, ClusterTopology, JobStreamSink, JobStreamSpec
from zeebe_trio.gateway._remote import QUERY_CLIENT_NAME, topology_to_wire
from zeebe_trio.gateway._tls import describe_tls_failure
from zeebe_trio.protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_TENANT,
    GATEWAY_COMMANDS,
    NONCE_SIZE,
    WIRE_VERSION,
    FrameDecoder,
    MessageType,
    Record,
    ValueType,
    WireError,
    auth_proof,
    encode_batch,
    encode_frame,
    foreign_protocol,
    intent_for,
    refusal_for,
)

log = logging.getLogger(__name__)

OUTBOX_CAPACITY = 256  # frames queued for one gateway
MAX_WATCHED_JOB_TYPES = 10_000  # per gateway connection
HANDSHAKE_MAX_FRAME = 64 * 1024  # bytes a frame may have before the peer has authenticated
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # partial frames held for all connections together
DEFAULT_FRAME_TIMEOUT = 30.0  # seconds a frame may take from its first byte to its last
FOREIGN_LOG_INTERVAL = 60.0  # seconds between log lines about refused gRPC/HTTP clients
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say HELLO
GOODBYE_GRACE = 1.0  # seconds the writer gets to send GOODBYE before the connection is dropped
RECEIVE_SIZE = 64 * 1024
_MAX_BATCH = 256  # frames per send_all


class CommandApiBackend(Protocol):
    """What the command API serves: the gateway's ``BrokerPort`` and a way to yield a pushed job."""

    @property
    def partition_ids(self) -> Sequence[int]: ...

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        ...

    def topology(self) -> ClusterTopology: ...

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]: ...

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]: ...

    async def query_exporter(self, sql: str, *, exporter_id: str | None = None,
                             max_rows: int = 1000) -> ExporterQueryAnswer: ...

    def yield_job(self, job_key: int) -> None:
        """Make a job that was pushed but not delivered activatable again (JOB.YIELD)."""
        ...


class _Goodbye:
    """Queued last: the writer sends it and stops."""

    __slots__ = ("frame",)

    def __init__(self, reason: str, *, frame: bytes | None = None) -> None:
        self.frame = encode_frame([MessageType.GOODBYE, reason]) if frame is None else frame


class _ForeignProtocol(Exception):
    """The peer speaks another protocol (a gRPC client on this port): refuse it in that protocol."""

    def __init__(self, protocol: str) -> None:
        super().__init__(protocol)
        self.protocol = protocol


# What a gRPC (or HTTP, or TLS) client that reached this port by mistake is told.
FOREIGN_PROTOCOL_REASON = ("this is the zeebe-trio broker's command API, which only standalone gateways speak;"
                           " Zeebe clients connect to a gateway's gRPC port (26500 by default)")


_WAKE = None  # queued so the writer looks at pending jobs-available notifications


class _ProtocolError(Exception):
    """The gateway broke the protocol; the message says how."""


class _PushedStream:
    """The broker-side sink of a gateway's job stream: pushes go to the gateway while it has credit."""

    __slots__ = ("_connection", "stream_id", "credit", "open", "close")

    def __init__(self, connection: _GatewayConnection, stream_id: int, window: int) -> None:
        self._connection = connection
        self.stream_id = stream_id
        self.credit = window
        self.open = True
        self.close: Callable[..., None] = lambda undelivered=(): None

    def push(self, job_key: int, job: dict[str, Any]) -> bool:
        if not self.open or self.credit <= 0:
            return False
        if not self._connection.send_nowait(encode_frame([MessageType.JOB, self.stream_id, job_key, job])):
            return False
        self.credit -= 1
        return True


class _GatewayConnection:
    def __init__(self, server: CommandApiServer, stream: trio.abc.Stream, peer: str, *,
                 loopback: bool = False) -> None:
        self._server = server
        self._backend = server.backend
        self._stream = stream
        self.peer = peer
        self.loopback = loopback
        self.gateway_name = "?"
        self._decoder = FrameDecoder(HANDSHAKE_MAX_FRAME)
        self._buffered = 0  # bytes of a partial frame, as counted in the server's budget
        self._frame_started: float | None = None
        self._received: deque[list[Any]] = deque()
        self._send, self._receive = trio.open_memory_channel[bytes | _Goodbye | None](OUTBOX_CAPACITY)
        self._request_slots = trio.Semaphore(server.max_requests)
        self._requests: dict[int, trio.CancelScope] = {}
        self._streams: dict[int, _PushedStream] = {}
        self._job_types: set[str] = set()
        self._wake_queued = False
        self._writer_done = trio.Event()
        self._nursery: trio.Nursery

    # -- sending (any task; never blocks) ------------------------------------------------------------

    def send_nowait(self, frame: bytes | _Goodbye | None) -> bool:
        try:
            self._send.send_nowait(frame)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    def on_jobs_available(self, job_type: str) -> None:
        self._job_types.add(job_type)
        if not self._wake_queued:
            # No room means the writer has frames to send; it looks at the job types after them.
            self._wake_queued = self.send_nowait(_WAKE)

    # -- running -------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._write_loop)
                try:
                    with trio.fail_after(HELLO_TIMEOUT):
                        await self._handshake()
                    await self._read_loop()
                except _ForeignProtocol as error:
                    self._server.note_foreign_client(error.protocol, self.peer)
                    refusal = refusal_for(error.protocol, FOREIGN_PROTOCOL_REASON)
                    if refusal and self.send_nowait(_Goodbye("", frame=refusal)):
                        with trio.move_on_after(GOODBYE_GRACE):
                            await self._writer_done.wait()
                            await self._drain_before_close()
                except (_ProtocolError, WireError, trio.TooSlowError) as error:
                    reason = str(error) or f"no HELLO within {HELLO_TIMEOUT} s"
                    self._server._log_limited(
                        "protocol" if self.gateway_name == "?" else f"protocol:{self.peer}",
                        "command API: closing the connection from %s (%s): %s", self.peer, self.gateway_name, reason)
                    if self.send_nowait(_Goodbye(f"protocol error: {reason}")):
                        with trio.move_on_after(GOODBYE_GRACE):
                            await self._writer_done.wait()
                except (trio.BrokenResourceError, trio.ClosedResourceError) as error:
                    log.info("command API: connection from %s (%s) lost: %s", self.peer, self.gateway_name, error)
                nursery.cancel_scope.cancel()
        finally:
            self._server.buffered_bytes -= self._buffered
            self._buffered = 0
            self._server.unwatch_all(self)
            for pushed in self._streams.values():
                pushed.open = False
                pushed.close()
            self._streams.clear()

    async def _drain_before_close(self) -> None:
        """Read (and drop) what the peer still sends, so that closing is a FIN and not a reset: a
        reset can destroy the refusal before the client reads it. Bounded by the caller's grace
        period and by ``HANDSHAKE_MAX_FRAME`` bytes."""
        drained = 0
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            while drained < HANDSHAKE_MAX_FRAME and (data := await self._stream.receive_some(RECEIVE_SIZE)):
                drained += len(data)

    async def _handshake(self) -> None:
        """HELLO, then CHALLENGE/AUTH when the broker has a shared secret, then WELCOME. Until then
        frames are small (``HANDSHAKE_MAX_FRAME``): an unauthenticated peer holds almost nothing."""
        first = await self._read_some()
        if not first:
            raise _ProtocolError("closed before HELLO")
        protocol = foreign_protocol(first)
        if protocol is not None:
            raise _ForeignProtocol(protocol)
        self._received.extend(self._decoder.feed(first))
        self._account()
        message = await self._next_message()
        if message is None:
            raise _ProtocolError("closed before HELLO")
        if message[0] is not MessageType.HELLO or len(message) not in (3, 4):
            raise _ProtocolError(f"expected HELLO as the first frame, got {message[0].name}")
        version, name = message[1], message[2]
        if version != WIRE_VERSION or len(message) != 4:
            raise _ProtocolError(f"wire version {version if len(message) == 4 else 1} is not supported (this broker"
                                 f" speaks {WIRE_VERSION}); run a gateway of the broker's version")
        gateway_nonce = message[3]
        if not isinstance(name, str) or not isinstance(gateway_nonce, bytes) or len(gateway_nonce) != NONCE_SIZE:
            raise _ProtocolError("malformed HELLO: expected a name and a 16-byte nonce")
        self.gateway_name = name[:100]
        secret = self._server.secret
        proof = None
        if secret:
            broker_nonce = os.urandom(NONCE_SIZE)
            await self._send.send(encode_frame([MessageType.CHALLENGE, broker_nonce]))
            answer = await self._next_message()
            if answer is None:
                raise _ProtocolError("closed before AUTH")
            expected = auth_proof(secret, "gateway", broker_nonce, gateway_nonce, name)
            if (answer[0] is not MessageType.AUTH or len(answer) != 2 or not isinstance(answer[1], bytes)
                    or not compare_digest(answer[1], expected)):
                self._server.refused_unauthenticated += 1
                raise _ProtocolError("authentication failed: the gateway's shared secret does not match this"
                                     " broker's command_api_secret")
            proof = auth_proof(secret, "broker", gateway_nonce, broker_nonce)
        elif not self.loopback:
            self._server.refused_unauthenticated += 1
            raise _ProtocolError("this broker takes command-API connections from other hosts only with a shared"
                                 " secret: set command_api_secret on the broker and ZEEBE_TRIO_COMMAND_API_SECRET"
                                 " for the gateway")
        await self._send.send(encode_frame([MessageType.WELCOME, WIRE_VERSION,
                                            topology_to_wire(self._backend.topology()), proof]))
        self._decoder.max_frame_size = self._server.max_frame_size
        log.log(self._lifecycle_level, "command API: gateway %r connected from %s", self.gateway_name, self.peer)

    @property
    def _lifecycle_level(self) -> int:
        # `zeebe-trio sql` connects once per query: its comings and goings are routine, not news.
        return logging.DEBUG if self.gateway_name == QUERY_CLIENT_NAME else logging.INFO

    async def _read_some(self) -> bytes:
        data = await self._stream.receive_some(RECEIVE_SIZE)
        return data if isinstance(data, bytes) else bytes(data)  # an SSLStream may say bytearray

    def _account(self) -> None:
        """Keep the server's count of bytes held in partial frames, and refuse to go over budget."""
        buffered = self._decoder.buffered
        delta = buffered - self._buffered
        self._buffered = buffered
        self._server.buffered_bytes += delta
        if buffered and self._frame_started is None:
            self._frame_started = trio.current_time()
        elif not buffered:
            self._frame_started = None
        if delta > 0 and self._server.buffered_bytes > self._server.max_buffered_bytes:
            raise _ProtocolError(f"the command API holds {self._server.buffered_bytes} bytes of partial frames,"
                                 f" over its budget of {self._server.max_buffered_bytes}"
                                 " (command_api_max_buffered_bytes)")

    async def _next_message(self) -> list[Any] | None:
        """One message, reading as needed; None at end of stream. A frame that has begun must end
        within the frame timeout: a peer cannot hold a half-written frame open forever."""
        while not self._received:
            if self._frame_started is None:
                data = await self._read_some()
            else:
                with trio.move_on_at(self._frame_started + self._server.frame_timeout) as scope:
                    data = await self._read_some()
                if scope.cancelled_caught:
                    raise _ProtocolError(f"a frame was not completed within {self._server.frame_timeout} s"
                                         f" ({self._buffered} bytes of it arrived)")
            if not data:
                return None
            self._received.extend(self._decoder.feed(data))
            self._account()
        return self._received.popleft()

    async def _read_loop(self) -> None:
        while True:
            message = await self._next_message()
            if message is None:
                log.log(self._lifecycle_level, "command API: gateway %r (%s) disconnected", self.gateway_name,
                        self.peer)
                return
            try:
                await self._dispatch(message)
            except (ValueError, TypeError) as error:  # wrong arity or field types
                raise _ProtocolError(f"malformed {message[0].name} message: {error}") from None

    async def _dispatch(self, message: list[Any]) -> None:
        kind = message[0]
        if kind is MessageType.EXECUTE:
            _, request_id, partition_id, value_type, intent, key, value, timeout = message
            if not isinstance(request_id, int) or not isinstance(value, dict):
                raise TypeError("request id must be an integer and value a map")
            await self._request_slots.acquire()
            self._nursery.start_soon(self._execute, request_id, partition_id, value_type, intent, key, value, timeout)
        elif kind is MessageType.CANCEL:
            (_, request_id) = message
            scope = self._requests.get(request_id)
            if scope is not None:
                scope.cancel()
        elif kind is MessageType.TOPOLOGY_REQUEST:
            (_,) = message
            self._send_topology()
        elif kind is MessageType.OPEN_STREAM:
            _, stream_id, window, job_type, worker, timeout_ms, fetch_variables, tenant_ids = message
            self._open_stream(stream_id, window, JobStreamSpec(
                job_type=str(job_type), worker=str(worker), timeout_ms=int(timeout_ms),
                fetch_variables=tuple(str(v) for v in fetch_variables), tenant_ids=tuple(str(t) for t in tenant_ids)))
        elif kind is MessageType.CLOSE_STREAM:
            _, stream_id, undelivered = message
            pushed = self._streams.pop(stream_id, None)
            if pushed is not None:
                pushed.open = False
                pushed.close([int(key) for key in undelivered])
        elif kind is MessageType.CREDIT:
            _, stream_id, count = message
            pushed = self._streams.get(stream_id)
            if pushed is not None:
                pushed.credit += int(count)
        elif kind is MessageType.YIELD_JOB:
            (_, job_key) = message
            self._backend.yield_job(int(job_key))
        elif kind is MessageType.QUERY:
            _, request_id, exporter_id, sql, max_rows = message
            if not isinstance(request_id, int) or not isinstance(sql, str) or not isinstance(max_rows, int):
                raise TypeError("request id and max rows must be integers, sql a string")
            await self._request_slots.acquire()
            self._nursery.start_soon(self._query, request_id, exporter_id, sql, max_rows)
        elif kind is MessageType.WATCH_JOB_TYPE:
            _, job_type, watching = message
            if not isinstance(job_type, str) or not isinstance(watching, bool):
                raise TypeError("job type must be a string and watching a boolean")
            self._server.watch(self, job_type, watching)
        elif kind is MessageType.GOODBYE:
            log.info("command API: gateway %r (%s) said goodbye: %s", self.gateway_name, self.peer, message[1:])
        else:
            raise _ProtocolError(f"{kind.name} is not a message a gateway sends")

    def _send_topology(self) -> None:
        # The reader must not wait for the writer: topology answers are small and rare, so when the
        # outbox is full the writer is busy anyway and the gateway asks again at its next refresh.
        self.send_nowait(encode_frame([MessageType.TOPOLOGY, topology_to_wire(self._backend.topology())]))

    def _open_stream(self, stream_id: int, window: int, spec: JobStreamSpec) -> None:
        if not isinstance(stream_id, int) or not isinstance(window, int) or window < 1:
            raise TypeError("stream id and window must be integers, the window at least 1")
        if stream_id in self._streams:
            raise ValueError(f"job stream {stream_id} is already open")
        pushed = _PushedStream(self, stream_id, window)
        pushed.close = self._backend.open_job_stream(spec, pushed)
        self._streams[stream_id] = pushed

    async def _execute(self, request_id: int, partition_id: int, value_type: int, intent: int, key: int,
                       value: dict[str, Any], timeout: float | None) -> None:
        try:
            with trio.CancelScope() as scope:
                self._requests[request_id] = scope
                frame = await self._answer(request_id, partition_id, value_type, intent, key, value, timeout)
            if scope.cancelled_caught:
                return  # the gateway cancelled: nobody waits for an answer
            await self._send.send(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the connection is closing
        finally:
            if self._requests.get(request_id) is scope:
                del self._requests[request_id]
            self._request_slots.release()

    async def _query(self, request_id: int, exporter_id: str | None, sql: str, max_rows: int) -> None:
        try:
            if not self.loopback:
                # Read-only SQL over the export is for people on the broker's own machine.
                await self._send.send(encode_frame([MessageType.ERROR, request_id, BrokerError.MALFORMED_REQUEST,
                                                    "queries are only answered for clients on the broker's host"]))
                return
            try:
                answer = await self._backend.query_exporter(
                    sql, exporter_id=None if exporter_id is None else str(exporter_id), max_rows=max(1, max_rows))
                frame = encode_frame([MessageType.QUERY_RESULT, request_id, answer.columns,
                                      [list(r) for r in answer.rows], answer.truncated, answer.exporter_id])
            except ExporterQueryError as error:
                frame = encode_frame([MessageType.ERROR, request_id, BrokerError.MALFORMED_REQUEST, str(error)])
            except Exception as error:
                log.exception("command API: query %d from %r failed", request_id, self.gateway_name)
                frame = encode_frame([MessageType.ERROR, request_id, BrokerError.INTERNAL,
                                      f"Unexpected error in the broker: {type(error).__name__}: {error}"])
            await self._send.send(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the connection is closing
        finally:
            self._request_slots.release()

    async def _answer(self, request_id: int, partition_id: int, value_type: int, intent: int, key: int,
                      value: dict[str, Any], timeout: float | None) -> bytes:
        try:
            try:
                value_type_ = ValueType(value_type)
                intent_ = intent_for(value_type_, intent)
                command = BrokerCommand(value_type_, intent_, value, key=int(key))
                timeout = None if timeout is None else float(timeout)
                if timeout is not None and not timeout >= 0:  # NaN too
                    raise ValueError(f"the request timeout is {timeout} s, not zero or more")
            except (TypeError, ValueError) as error:
                raise BrokerError(BrokerError.MALFORMED_REQUEST, f"Expected a valid command, but {error}") from None
            if (value_type_, intent_) not in GATEWAY_COMMANDS:
                raise BrokerError(BrokerError.MALFORMED_REQUEST,
                                  f"Expected a command a client may send, but {value_type_.name} {intent_.name} is"
                                  " written only by the engine itself")
            _check_tenant(value)
            record = await self._backend.execute(int(partition_id), command, timeout=timeout)
            return encode_frame([MessageType.RESPONSE, request_id, encode_batch([record])])
        except BrokerError as error:
            return encode_frame([MessageType.ERROR, request_id, error.code, error.message])
        except Exception as error:
            log.exception("command API: executing request %d from %r failed", request_id, self.gateway_name)
            return encode_frame([MessageType.ERROR, request_id, BrokerError.INTERNAL,
                                 f"Unexpected error in the broker: {type(error).__name__}: {error}"])

    async def _write_loop(self) -> None:
        try:
            while True:
                batch: list[bytes] = []
                item = await self._receive.receive()
                while True:
                    if isinstance(item, _Goodbye):
                        batch.append(item.frame)
                        await self._stream.send_all(b"".join(batch))
                        return
                    if item is _WAKE:
                        self._wake_queued = False
                    else:
                        batch.append(item)
                    if len(batch) >= _MAX_BATCH:
                        break
                    try:
                        item = self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                if self._job_types:
                    batch.append(encode_frame([MessageType.JOBS_AVAILABLE, sorted(self._job_types)]))
                    self._job_types.clear()
                if batch:
                    await self._stream.send_all(b"".join(batch))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.info("command API: gateway %r (%s) went away", self.gateway_name, self.peer)
            self._nursery.cancel_scope.cancel()
        finally:
            self._writer_done.set()

    def statistics(self) -> dict[str, int]:
        return {"requests_in_flight": len(self._requests), "job_streams": len(self._streams),
                "outbox_used": self._send.statistics().current_buffer_used}


def _check_tenant(value: dict[str, Any]) -> None:
    """Multi-tenancy is off: a command names the default tenant or none (as the gateway checks)."""
    tenant_ids = value.get("tenantIds") or []
    if not isinstance(tenant_ids, list):
        raise BrokerError(BrokerError.MALFORMED_REQUEST, "Expected 'tenantIds' to be a list of tenant identifiers")
    for tenant in [value.get("tenantId"), *tenant_ids]:
        if tenant not in (None, "", DEFAULT_TENANT):
            raise BrokerError(BrokerError.MALFORMED_REQUEST,
                              f"Expected to handle a command with tenant identifier {str(tenant)[:100]!r}, but"
                              " multi-tenancy is disabled")


class CommandApiServer:
    """Serves the command API for ``backend`` on ``host:port`` (``port=0`` picks a free one)."""

    def __init__(self, backend: CommandApiBackend, *, host: str = "127.0.0.1", port: int = 26501,
                 max_frame_size: int = DEFAULT_MAX_FRAME_SIZE, max_requests: int = 4096, secret: str = "",
                 max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
                 frame_timeout: float = DEFAULT_FRAME_TIMEOUT, ssl_context: ssl.SSLContext | None = None) -> None:
        self.backend = backend
        self.ssl_context = ssl_context  # TLS on every connection when set
        self.host = host
        self.port = port
        self.max_frame_size = max_frame_size
        self.max_requests = max_requests
        self.secret = secret
        self.max_connections = max_connections
        self.max_buffered_bytes = max_buffered_bytes
        self.frame_timeout = frame_timeout
        self.buffered_bytes = 0
        self.refused_unauthenticated = 0
        self.refused_over_limit = 0
        self.tls_handshakes_failed = 0
        self._connections: dict[int, _GatewayConnection] = {}
        self._ids = itertools.count(1)
        self._watchers: dict[str, set[_GatewayConnection]] = {}  # job type -> connections watching it
        self._watched: dict[_GatewayConnection, set[str]] = {}
        self.foreign_clients_refused = 0
        self._logged_at: dict[str, float] = {}

    def watch(self, connection: _GatewayConnection, job_type: str, watching: bool) -> None:
        watched = self._watched.setdefault(connection, set())
        if watching:
            if job_type not in watched and len(watched) >= MAX_WATCHED_JOB_TYPES:
                raise _ProtocolError(f"a gateway may watch at most {MAX_WATCHED_JOB_TYPES} job types")
            watched.add(job_type)
            self._watchers.setdefault(job_type, set()).add(connection)
        else:
            watched.discard(job_type)
            self._drop_watcher(job_type, connection)

    def unwatch_all(self, connection: _GatewayConnection) -> None:
        for job_type in self._watched.pop(connection, ()):
            self._drop_watcher(job_type, connection)

    def _drop_watcher(self, job_type: str, connection: _GatewayConnection) -> None:
        watchers = self._watchers.get(job_type)
        if watchers is not None:
            watchers.discard(connection)
            if not watchers:
                del self._watchers[job_type]

    def _jobs_available(self, job_type: str) -> None:
        """The broker's one jobs-available listener: only gateways watching ``job_type`` hear of it,
        so idle connections cost nothing per job."""
        watchers = self._watchers.get(job_type)
        if watchers:
            for connection in watchers:
                connection.on_jobs_available(job_type)

    def note_foreign_client(self, protocol: str, peer: str) -> None:
        """Count a refused gRPC/HTTP/TLS client; gRPC clients reconnect within milliseconds, so one
        misconfigured client is logged once a minute, not once per attempt."""
        self.foreign_clients_refused += 1
        if protocol == "TLS":  # most likely a gateway given --broker-ca while this API serves plaintext
            self._log_limited("foreign", "command API: refused a TLS client from %s (%d refused so far): this"
                              " command API has no TLS (command_api_tls_certificate); a gateway started with"
                              " --broker-ca expects it, or a Zeebe client is on the wrong port", peer,
                              self.foreign_clients_refused)
            return
        self._log_limited("foreign", "command API: refused a %s client from %s (%d refused so far): Zeebe clients"
                          " belong on a gateway's gRPC port, not the command API", protocol, peer,
                          self.foreign_clients_refused)

    def _log_limited(self, kind: str, message: str, *args: Any) -> None:
        """A warning at most once per ``FOREIGN_LOG_INTERVAL`` for each kind of refusal."""
        now = trio.current_time()
        if now - self._logged_at.get(kind, -math.inf) >= FOREIGN_LOG_INTERVAL:
            self._logged_at[kind] = now
            log.warning(message, *args)

    def statistics(self) -> dict[str, Any]:
        return {"connections": len(self._connections), "foreign_clients_refused": self.foreign_clients_refused,
                "refused_unauthenticated": self.refused_unauthenticated, "refused_over_limit": self.refused_over_limit,
                "tls_handshakes_failed": self.tls_handshakes_failed,
                "buffered_bytes": self.buffered_bytes,
                "gateways": [c.gateway_name for c in self._connections.values()]}

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``task_status.started(bound_port)`` once listening."""
        listeners: list[trio.SocketListener] | list[trio.SSLListener[trio.SocketStream]]
        if self.ssl_context is None:
            listeners = await trio.open_tcp_listeners(self.port, host=self.host or None)
            bound = listeners[0].socket.getsockname()[1]
        else:
            listeners = await trio.open_ssl_over_tcp_listeners(self.port, self.ssl_context, host=self.host or None)
            transport = listeners[0].transport_listener
            assert isinstance(transport, trio.SocketListener)
            bound = transport.socket.getsockname()[1]
        log.info("command API listening on %s:%d%s", self.host, bound, " (TLS)" if self.ssl_context else "")
        remove_listener = self.backend.add_jobs_available_listener(self._jobs_available)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(trio.serve_listeners, self._serve_connection, listeners)
                task_status.started(bound)
        finally:
            remove_listener()

    async def _serve_connection(self, stream: trio.SocketStream | trio.SSLStream[trio.SocketStream]) -> None:
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        try:
            host, port = transport.socket.getpeername()[:2]
            peer, loopback = f"{host}:{port}", ipaddress.ip_address(host).is_loopback
        except (OSError, ValueError):
            peer, loopback = "?", False
        if len(self._connections) >= self.max_connections:
            # Refused before anything is read or allocated for it; the counter and one log line a
            # minute tell the operator.
            self.refused_over_limit += 1
            self._log_limited("over_limit", "command API: refused a connection from %s: %d connections open, the"
                              " limit is %d (command_api_max_connections)", peer, len(self._connections),
                              self.max_connections)
            with trio.move_on_after(GOODBYE_GRACE):
                await stream.send_all(_Goodbye(f"too many connections (the broker allows {self.max_connections};"
                                               " command_api_max_connections)").frame)
            await trio.aclose_forcefully(stream)
            return
        if isinstance(stream, trio.SSLStream) and not await self._tls_handshake(stream, peer):
            return
        connection = _GatewayConnection(self, stream, peer, loopback=loopback)
        connection_id = next(self._ids)
        self._connections[connection_id] = connection
        try:
            await connection.run()
        except Exception:  # never let one connection take the broker down
            log.exception("command API: connection from %s (%s) failed", peer, connection.gateway_name)
        finally:
            del self._connections[connection_id]
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)

    async def _tls_handshake(self, stream: trio.SSLStream[trio.SocketStream], peer: str) -> bool:
        """Finish the TLS handshake within ``HELLO_TIMEOUT``; a peer that does not (a plaintext
        gateway, one that does not trust our certificate) is counted, logged once a minute, dropped."""
        try:
            with trio.fail_after(HELLO_TIMEOUT):
                await stream.do_handshake()
            return True
        except (trio.BrokenResourceError, trio.TooSlowError) as error:
            self.tls_handshakes_failed += 1
            why = f"no handshake within {HELLO_TIMEOUT} s" if isinstance(error, trio.TooSlowError) else \
                describe_tls_failure(error)
            self._log_limited("tls", "command API: TLS handshake with %s failed (%d so far): %s; a gateway must"
                              " connect with TLS (zeebe-trio gateway --broker-ca) and trust this certificate",
                              peer, self.tls_handshakes_failed, why)
            await trio.aclose_forcefully(stream)
            return False
