"""The gateway host: grpclib's asyncio server, run from Trio. The one place asyncio lives.

``serve_gateway(port)`` is a Trio service. It runs grpclib (the ``GatewayServicer`` and the
``grpc.health.v1`` ``HealthServicer``) on an asyncio loop in a worker thread, and all request handling
(``Endpoints``: mapping, routing, long polling, job streams) in Trio tasks. The choice, with STYLE.md's
measurements in mind:

- **Bridge: an asyncio loop in one ``trio.to_thread.run_sync`` thread** (``abandon_on_cancel=False``,
  ``CapacityLimiter(1)``), not Trio guest mode: guest mode makes *Trio* the guest of a host loop, but
  here Trio is the host (the broker is a Trio program that starts the gateway), and trio-asyncio alone
  cost 12-15% of grpclib's throughput. The thread keeps h2/hpack/betterproto work (the measured first
  wall) off the Trio thread, where the broker runs.
- **Hand-offs are coalesced**: each direction has a ``_Mailbox`` (a deque and a "drain scheduled"
  flag), so a burst of requests costs one ``trio_token.run_sync_soon`` and a burst of answers one
  ``loop.call_soon_threadsafe``, instead of one wakeup (a socket write and an epoll round) each.
- **Requests cross through the Trio mailbox**: the drained callback starts the handler task
  directly in the calls nursery (``nursery.start_soon`` is synchronous), which is the memory-channel
  dispatcher's hand-off minus the dispatcher task hop. Results cross back with
  ``loop.call_soon_threadsafe``, which settles an asyncio future (unary) or feeds an asyncio queue
  (server streaming). A streamed message is acknowledged back to Trio once grpclib has written it, so
  a slow client back-pressures the Trio producer (and, for job streams, fills the bounded buffer the
  broker pushes into).
- **Cancellation crosses both ways**: a client that cancels or disconnects (or whose deadline passes)
  makes grpclib cancel the asyncio handler, which cancels the Trio task's cancel scope. Cancelling
  ``serve_gateway`` cancels every Trio-side call; each answers UNAVAILABLE ("shutting down"), the
  asyncio side waits (bounded) for those answers to be written, then closes the server and its client
  connections and ends the loop; ``serve_gateway`` returns only after the thread has finished.
- **Compression and the message size limit** are ``_compression``'s (grpclib has neither): gzip and
  deflate requests are decoded, answers compressed in kind, and requests over ``max_message_size``
  refused, on the wire or once decompressed.
- **TLS and tokens** (``_tls``, ``_auth``): asyncio's server does the TLS (an ``ssl.SSLContext`` with
  ALPN ``h2``). Tokens are checked by a grpclib ``RecvRequest`` listener on the asyncio side, before
  the request's message is read and before anything crosses to Trio; a check is a signature
  verification (CPU only), and reading the JWKS (a file or a URL) runs in a worker thread, one read
  at a time, which every call that needs it awaits. The health service stays open.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import trio
from grpclib import GRPCError
from grpclib.const import Status
from grpclib.events import RecvRequest, listen
from grpclib.protocol import H2Protocol

from . import _errors
from ._auth import (
    HEALTH_SERVICE_PREFIX,
    JwksError,
    KeyRefreshNeeded,
    SigningKeysUnavailable,
    TokenVerifier,
    Unauthenticated,
)
from ._compression import DEFAULT_MAX_MESSAGE_SIZE, CompressionServer
from ._endpoints import Endpoints
from ._jobs import DEFAULT_LONG_POLLING_TIMEOUT, DEFAULT_STREAM_BUFFER
from ._port import BrokerPort
from ._servicer import GatewayServicer, HealthServicer

log = logging.getLogger("zeebe_trio.gateway.host")

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")

# Item kinds crossing from Trio to asyncio.
_RESULT = "result"  # unary result
_MESSAGE = "message"  # one streamed message, with the Trio event to set once it is written
_END = "end"  # a stream finished normally
_ERROR = "error"  # a GRPCError for the client

SHUTDOWN_GRACE = 5.0  # seconds the asyncio side waits for pending calls to write their answers


class _Call:
    """The Trio side of one RPC. ``deliver`` hands an item to the asyncio side (any thread)."""

    __slots__ = ("rpc", "_deliver", "scope", "cancel_requested", "settled")

    def __init__(self, rpc: str, deliver: Callable[[tuple[str, Any]], None]) -> None:
        self.rpc = rpc
        self._deliver = deliver
        self.scope: trio.CancelScope | None = None
        self.cancel_requested = False
        self.settled = False

    def send(self, item: tuple[str, Any]) -> None:
        try:
            self._deliver(item)
        except RuntimeError:  # the asyncio loop is closed: nobody is waiting any more
            pass

    def settle(self, item: tuple[str, Any]) -> None:
        if not self.settled:
            self.settled = True
            self.send(item)

    def cancel(self) -> None:
        """Called in the Trio thread when the asyncio side gave up on this call."""
        self.cancel_requested = True
        if self.scope is not None:
            self.scope.cancel()


class _Mailbox:
    """Callables for another thread's event loop, run in order, with one wakeup per burst.

    ``post`` appends and schedules a drain only when none is pending; the drain clears the flag
    before it empties the deque, so an item is never stranded (a spare drain may run empty). Under
    the GIL this holds even when two threads post into the same mailbox.
    """

    def __init__(self, schedule: Callable[[Callable[[], None]], Any]) -> None:
        self._schedule = schedule
        self._items: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._scheduled = False

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Raises what ``schedule`` raises when the other loop is gone."""
        self._items.append((fn, args))
        if not self._scheduled:
            self._scheduled = True
            try:
                self._schedule(self._drain)
            except BaseException:
                self._scheduled = False
                raise

    def _drain(self) -> None:
        self._scheduled = False
        items = self._items
        while items:
            fn, args = items.popleft()
            try:
                fn(*args)
            except Exception:
                log.exception("a gateway hand-off between threads failed")


def _settle_future(future: asyncio.Future[Any], item: tuple[str, Any]) -> None:
    if future.done():
        return
    kind, payload = item
    if kind == _RESULT:
        future.set_result(payload)
    else:
        future.set_exception(payload)


class TrioBridge:
    """Runs Trio coroutines for asyncio handlers (``_servicer.TrioBridge``). Thread-safe by construction:
    its asyncio-side methods only touch the Trio side through the Trio token."""

    def __init__(self, trio_token: trio.lowlevel.TrioToken, nursery: trio.Nursery) -> None:
        self._trio_token = trio_token
        self._nursery = nursery
        self._in_flight = 0  # Trio-side count
        self._to_trio = _Mailbox(trio_token.run_sync_soon)
        self._to_asyncio: _Mailbox | None = None  # created on the asyncio side, for its loop

    def _asyncio_mailbox(self, loop: asyncio.AbstractEventLoop) -> _Mailbox:
        if self._to_asyncio is None:
            self._to_asyncio = _Mailbox(loop.call_soon_threadsafe)
        return self._to_asyncio

    def statistics(self) -> dict[str, int]:
        return {"calls_in_flight": self._in_flight}

    # -- asyncio side --------------------------------------------------------------------------

    async def call(
        self, rpc: str, handler: Callable[[_Request], Awaitable[_Response]], request: _Request
    ) -> _Response:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Response] = loop.create_future()
        mailbox = self._asyncio_mailbox(loop)

        def deliver(item: tuple[str, Any]) -> None:
            mailbox.post(_settle_future, future, item)

        call = _Call(rpc, deliver)
        self._submit(call, self._run_unary, handler, request)
        try:
            return await future
        except asyncio.CancelledError:
            self._cancel(call)
            raise

    async def stream(
        self, rpc: str, handler: Callable[[_Request, Any], Awaitable[None]], request: _Request
    ) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        # Unbounded, yet never long: the Trio side waits for each message's acknowledgement.
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        mailbox = self._asyncio_mailbox(loop)

        def deliver(item: tuple[str, Any]) -> None:
            mailbox.post(queue.put_nowait, item)

        call = _Call(rpc, deliver)
        self._submit(call, self._run_stream, handler, request)
        finished = False
        try:
            while True:
                kind, payload = await queue.get()
                if kind == _MESSAGE:
                    message, written = payload
                    yield message  # grpclib has written it when we resume
                    self._run_in_trio(written.set)
                elif kind == _END:
                    finished = True
                    return
                else:
                    finished = True
                    raise payload
        finally:
            if not finished:
                self._cancel(call)

    def _submit(self, call: _Call, runner: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            self._to_trio.post(self._start, call, runner, args)
        except trio.RunFinishedError:
            raise _errors.shutting_down() from None

    def _cancel(self, call: _Call) -> None:
        self._run_in_trio(call.cancel)

    def _run_in_trio(self, fn: Callable[[], Any]) -> None:
        try:
            self._to_trio.post(fn)
        except trio.RunFinishedError:
            pass

    # -- Trio side -----------------------------------------------------------------------------

    def _start(self, call: _Call, runner: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> None:
        try:
            self._nursery.start_soon(runner, call, *args, name=f"gateway {call.rpc}")
        except RuntimeError:  # the nursery is closed: we are shutting down
            call.settle((_ERROR, _errors.shutting_down()))

    async def _run_unary(self, call: _Call, handler: Callable[[Any], Awaitable[Any]], request: Any) -> None:
        async def run() -> None:
            call.settle((_RESULT, await handler(request)))

        await self._guard(call, run)

    async def _run_stream(
        self, call: _Call, handler: Callable[[Any, Any], Awaitable[None]], request: Any
    ) -> None:
        async def emit(message: Any) -> None:
            written = trio.Event()
            call.send((_MESSAGE, (message, written)))
            await written.wait()

        async def run() -> None:
            await handler(request, emit)
            call.settle((_END, None))

        await self._guard(call, run)

    async def _guard(self, call: _Call, run: Callable[[], Awaitable[None]]) -> None:
        self._in_flight += 1
        try:
            with trio.CancelScope() as scope:
                call.scope = scope
                if call.cancel_requested:
                    scope.cancel()
                try:
                    await run()
                except GRPCError as error:
                    # Every status leaves through the size cap, wherever it was raised.
                    capped = _errors.status_error(error.status, error.message or "")
                    capped.details = error.details
                    call.settle((_ERROR, capped))
                except Exception as error:
                    call.settle((_ERROR, _errors.unexpected(call.rpc, error)))
        finally:
            self._in_flight -= 1
            # Still unanswered here means we were cancelled from outside: the gateway is stopping.
            call.settle((_ERROR, _errors.shutting_down()))


class _Server(CompressionServer):
    """grpclib's server with gRPC compression (``_compression``), remembering its connections so
    shutdown can close them (grpclib leaves them open, and the client would only notice at its next
    keep-alive)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        self.connections.add(protocol)
        return protocol


class _Authenticator:
    """The token check, on the asyncio side: a grpclib ``RecvRequest`` listener, so it runs before
    the call's handler (and before its request message is read). Key reads run in a worker thread;
    concurrent calls that need keys share one read."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier
        self._reading: asyncio.Future[None] | None = None

    async def on_request(self, event: RecvRequest) -> None:
        if event.method_name.startswith(HEALTH_SERVICE_PREFIX):
            return
        verifier = self._verifier
        try:
            try:
                verifier.authenticate(event.metadata)
            except KeyRefreshNeeded:
                await asyncio.shield(self.read_keys())
                verifier.authenticate(event.metadata, may_refresh=False)
        except Unauthenticated as error:
            log.debug("refused %s from %s: %s", event.method_name, event.peer.addr(), error)
            raise GRPCError(Status.UNAUTHENTICATED, str(error)) from None
        except SigningKeysUnavailable as error:
            raise GRPCError(Status.UNAVAILABLE, str(error)) from None
        if verifier.refresh_due and self._reading is None:
            self.read_keys()  # in the background: this call goes on with the keys at hand

    def read_keys(self) -> asyncio.Future[None]:
        if self._reading is None:
            reading = asyncio.get_running_loop().run_in_executor(None, self._read_keys)
            self._reading = reading
            reading.add_done_callback(self._read_done)
        return self._reading

    def _read_keys(self) -> None:  # worker thread
        try:
            self._verifier.refresh()
        except JwksError:
            pass  # logged by refresh; calls get the error while there are no keys

    def _read_done(self, _future: asyncio.Future[None]) -> None:
        self._reading = None


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bound and listening, so the port is known before serving (``port=0`` picks one).

    Created with ``proto=IPPROTO_TCP`` on purpose: grpclib only sets TCP_NODELAY on accepted sockets
    whose ``proto`` says TCP, and without it every unary call waits ~40 ms for a delayed ACK.
    """
    family, type_, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, type_, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _accepting(task: asyncio.Task[Any]) -> bool:
    """asyncio's own task for a connection still in its TLS handshake: no request to wait for (it
    would hold shutdown for the whole grace period); ``asyncio.run`` cancels it as the loop ends."""
    return getattr(task.get_coro(), "__qualname__", "").endswith("._accept_connection2")


class _AsyncioHost:
    """Owns the asyncio thread: starts grpclib, reports the bound port, stops on request."""

    def __init__(
        self, bridge: TrioBridge, endpoints: Endpoints, host: str, grpc_port: int, max_message_size: int,
        tls: ssl.SSLContext | None = None, auth: TokenVerifier | None = None,
    ) -> None:
        self._bridge = bridge
        self._endpoints = endpoints
        self._host = host
        self._grpc_port = grpc_port
        self._max_message_size = max_message_size
        self._tls = tls
        self._auth = auth
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self.listening = trio.Event()  # set once listening, or once starting failed
        self.bound_port = 0
        self.startup_error: BaseException | None = None

    def request_stop(self) -> None:
        """Any thread, any time (even before the loop exists); idempotent."""
        with self._lock:
            self._stop_requested = True
            loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass  # the loop has already finished

    async def run(self) -> None:
        try:
            await trio.to_thread.run_sync(
                self._thread_main,
                trio.lowlevel.current_trio_token(),
                abandon_on_cancel=False,
                limiter=trio.CapacityLimiter(1),
            )
        except Exception as error:
            if self.listening.is_set():
                raise
            self.startup_error = error  # e.g. the port is taken: serve_gateway re-raises it unwrapped
            self.listening.set()

    def _thread_main(self, trio_token: trio.lowlevel.TrioToken) -> None:
        asyncio.run(self._serve(trio_token))

    def _on_listening(self, bound_port: int) -> None:  # Trio thread
        self.bound_port = bound_port
        self.listening.set()

    async def _serve(self, trio_token: trio.lowlevel.TrioToken) -> None:
        stop = asyncio.Event()
        with self._lock:
            self._loop, self._stop = asyncio.get_running_loop(), stop
            if self._stop_requested:
                return
        server = _Server(
            [GatewayServicer(self._bridge, self._endpoints), HealthServicer(self._bridge, self._endpoints)],
            max_message_size=self._max_message_size,
        )
        if self._auth is not None:
            authenticator = _Authenticator(self._auth)
            listen(server, RecvRequest, authenticator.on_request)
            authenticator.read_keys()  # so that the first calls need not wait for them
        sock = _listening_socket(self._host, self._grpc_port)
        try:
            await server.start(sock=sock, ssl=self._tls)
        except BaseException:
            sock.close()
            raise
        try:
            trio_token.run_sync_soon(self._on_listening, sock.getsockname()[1])
            await stop.wait()
        finally:
            await self._shutdown(server)

    async def _shutdown(self, server: _Server) -> None:
        # Calls still open get their UNAVAILABLE from the Trio side (which is being cancelled as we
        # stop); give their handlers a bounded moment to write it before tearing connections down.
        current = asyncio.current_task()
        pending = {task for task in asyncio.all_tasks() if task is not current and not _accepting(task)}
        if pending:
            _done, still_pending = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
            if still_pending:
                log.warning(
                    "gateway shutdown: %d requests did not finish within %ss",
                    len(still_pending),
                    SHUTDOWN_GRACE,
                )
        server.close()
        await server.wait_closed()
        for connection in list(server.connections):
            processor = getattr(connection, "processor", None)  # None: a TLS handshake never finished
            if processor is not None:
                processor.close("The gateway is shutting down")
        await asyncio.sleep(0)  # let the transports run their connection_lost callbacks


async def serve_gateway(
    port: BrokerPort,
    *,
    host: str = "0.0.0.0",
    grpc_port: int = 26500,
    long_polling_timeout: float = DEFAULT_LONG_POLLING_TIMEOUT,
    job_stream_buffer: int = DEFAULT_STREAM_BUFFER,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    tls: ssl.SSLContext | None = None,
    auth: TokenVerifier | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve Zeebe's gateway protocol (and gRPC health) for ``port`` until cancelled.

    ``task_status.started(bound_port)`` once listening; ``grpc_port=0`` picks a free port.
    ``long_polling_timeout`` is what ActivateJobs waits when a request leaves ``requestTimeout`` at 0;
    ``job_stream_buffer`` is how many jobs a StreamActivatedJobs call buffers before ``push`` says no;
    ``max_message_size`` bounds each request message in bytes, on the wire and once decompressed
    (larger ones are answered RESOURCE_EXHAUSTED). ``tls`` (``_tls.server_context`` with ALPN ``h2``)
    serves gRPC over TLS; ``auth`` answers calls without a valid bearer token UNAUTHENTICATED.
    """
    endpoints = Endpoints(
        port, long_polling_timeout=long_polling_timeout, job_stream_buffer=job_stream_buffer
    )
    remove_listener = port.add_jobs_available_listener(endpoints.jobs.notify_jobs_available)
    try:
        async with trio.open_nursery() as calls:
            bridge = TrioBridge(trio.lowlevel.current_trio_token(), calls)
            asyncio_host = _AsyncioHost(bridge, endpoints, host, grpc_port, max_message_size, tls, auth)
            calls.start_soon(asyncio_host.run, name="gateway asyncio host")
            try:
                await asyncio_host.listening.wait()
                if asyncio_host.startup_error is None:
                    security = ", ".join(what for what, on in (("TLS", tls), ("bearer tokens", auth)) if on)
                    log.info("gateway listening on %s:%d%s", host, asyncio_host.bound_port,
                             f" ({security})" if security else "")
                    task_status.started(asyncio_host.bound_port)
                    await trio.sleep_forever()
            finally:
                asyncio_host.request_stop()
    finally:
        remove_listener()
    if asyncio_host.startup_error is not None:
        raise asyncio_host.startup_error

