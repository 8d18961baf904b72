"""The command line's gRPC client host: one blocking call to a Zeebe gateway, on grpclib's asyncio.

The second (and last) place asyncio lives, beside the server host in ``_host``: grpclib's client runs
on asyncio too, and a command-line call is one short ``asyncio.run`` with no Trio in the process.

A call that gets no answer fails with a ``GatewayCallError`` whose message names the address and says
which of these it was, because the fix differs:

- nothing listens there, or the name does not resolve (``cannot reach a gateway at ...``);
- something listens but is not a gRPC server: it does not open with HTTP/2's SETTINGS frame, closes
  at once, stays silent, or refuses with a GOAWAY (the broker's command API does that, saying why);
- a gateway answered the connection but not the call within the deadline;
- TLS failed: the gateway's certificate does not verify against the CA given (``--certPath``), the
  gateway does not speak TLS, or a TLS gateway was called in plaintext.

The server's bytes are checked before h2 sees them: h2 raises on bytes that are not HTTP/2 inside an
asyncio callback, where the exception would only be logged, traceback and all.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import ssl
from typing import Any

from grpclib import GRPCError
from grpclib.client import Channel, Handler
from grpclib.const import Status
from grpclib.exceptions import StreamTerminatedError
from grpclib.protocol import H2Protocol
from h2.errors import ErrorCodes
from h2.events import ConnectionTerminated
from h2.exceptions import ProtocolError

from ._tls import describe_tls_failure

_FRAME_HEADER = 9  # bytes: length (3), type (1), flags (1), stream id (4)
_SETTINGS = 0x4
_GOAWAY = 0x7
_EXCERPT = 200  # characters of what a server said that an error message quotes at most
_GATEWAY_PORT_HINT = "is that the broker's command API port? the gateway's default port is 26500"
_TLS_HINT = "does the gateway serve TLS? then pass --certPath with the CA that issued its certificate"
_TLS_ALERT = 0x15  # the first byte of a TLS alert record: what a TLS server answers plaintext with


class GatewayCallError(Exception):
    """A gateway call failed, in one line naming the address. ``status`` is the gRPC status name when
    a gateway answered with one (``"NOT_FOUND"``), None when the call got no gRPC answer at all."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


def _excerpt(data: bytes) -> str:
    text = data.decode("utf-8", "backslashreplace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def _error_code_name(code: int) -> str:
    try:
        return ErrorCodes(code).name
    except ValueError:
        return f"error code {code}"


class _WatchfulProtocol(H2Protocol):
    """grpclib's client protocol, remembering what the server sent: whether it opened as an HTTP/2
    server must (a SETTINGS frame on stream 0, RFC 9113 section 3.4), and a GOAWAY's error code and
    text. A server that opens with anything else is cut off before h2 parses a byte."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.head = b""  # the server's first bytes, kept until the first frame header is complete
        self.speaks_http2: bool | None = None  # None: too little received to tell
        self.goaway: tuple[int, bytes] | None = None
        self.protocol_error: str | None = None
        self.first_frame = asyncio.Event()  # set once the first frame header is in, or the connection is gone
        self.lost = False
        self.tls = False

    @property
    def usable(self) -> bool:
        return bool(self.speaks_http2) and self.goaway is None and self.protocol_error is None and not self.lost

    def data_received(self, data: bytes) -> None:
        if self.speaks_http2 is None:
            self.head += data
            if len(self.head) < _FRAME_HEADER:
                return
            self.speaks_http2 = self.head[3] == _SETTINGS and self.head[5:9] == b"\0\0\0\0"
            self.first_frame.set()
            data, self.head = self.head, self.head[:64]
            if not self.speaks_http2:
                self.processor.close("the server does not speak HTTP/2")  # closes the transport too
                return
        elif not self.speaks_http2:
            return  # cut off already
        self._feed(data)

    def _feed(self, data: bytes) -> None:  # grpclib's data_received, plus what we remember
        try:
            events = self.connection.feed(data)
        except ProtocolError as error:
            self.protocol_error = str(error) or type(error).__name__
            self.processor.close("Protocol error")
            return
        self.connection.flush()
        for event in events:
            if isinstance(event, ConnectionTerminated):
                self.goaway = (int(event.error_code or 0), event.additional_data or b"")
            try:
                self.processor.process(event)
            except NotImplementedError:
                pass  # a frame grpclib has no handler for (an unknown type): HTTP/2 says ignore it
        self.connection.flush()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.speaks_http2 is None and self.head:
            self.speaks_http2 = False  # fewer bytes than one frame header, then the end
        self.lost = True
        self.first_frame.set()
        super().connection_lost(exc)


class _WatchfulChannel(Channel):
    """A channel whose connections are ``_WatchfulProtocol``s; ``watched`` is the latest one."""

    watched: _WatchfulProtocol | None = None

    def _protocol_factory(self) -> H2Protocol:
        self.watched = _WatchfulProtocol(Handler(), self._config, self._h2_config)
        return self.watched


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:26500"`` for IPv6) as ``(host, port)``; ValueError when it is not."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"'{address}' is not HOST:PORT")
    return host.strip("[]") or "localhost", int(port)


def _unreachable(address: str, error: OSError) -> GatewayCallError:
    if isinstance(error, ssl.SSLError):
        if isinstance(error, ssl.SSLCertVerificationError):
            fix = "pass --certPath (or ZEEBE_CA_CERTIFICATE_PATH) with the CA that issued the gateway's certificate"
        else:
            fix = "is it a plaintext gateway? then drop --certPath / ZEEBE_CA_CERTIFICATE_PATH, or pass --insecure"
        return GatewayCallError(f"TLS with the gateway at {address} failed: {describe_tls_failure(error)} ({fix})")
    if isinstance(error, ConnectionRefusedError):
        problem = "connection refused (is the broker running? set --address or ZEEBE_ADDRESS)"
    elif isinstance(error, socket.gaierror):
        problem = f"cannot resolve the host name: {error.strerror} (set --address or ZEEBE_ADDRESS)"
    else:
        problem = f"{error.strerror or error} (is the address right? set --address or ZEEBE_ADDRESS)"
    return GatewayCallError(f"cannot reach a gateway at {address}: {problem}")


def _no_answer(address: str, rpc: str, timeout: float, protocol: _WatchfulProtocol | None,
               timed_out: bool) -> GatewayCallError:
    """Why a call got no gRPC answer, from what the server sent on the connection."""
    if protocol is None:
        return GatewayCallError(f"cannot reach a gateway at {address}: no connection within {timeout:g} s"
                                " (is the address right? set --address or ZEEBE_ADDRESS)")
    if protocol.goaway is not None and protocol.goaway[0] != ErrorCodes.NO_ERROR:
        code, text = protocol.goaway
        # A server that says why (the broker's command API names the gateway port) is quoted instead.
        why = f": '{_excerpt(text)}' (set --address or ZEEBE_ADDRESS)" if text else f" — {_GATEWAY_PORT_HINT}"
        return GatewayCallError(f"{address} is not a Zeebe gateway: it refused the gRPC call with an HTTP/2"
                                f" GOAWAY ({_error_code_name(code)}){why}")
    plaintext = not protocol.tls
    if protocol.speaks_http2 is False:
        if plaintext and protocol.head[:1] == bytes([_TLS_ALERT]) and protocol.head[1:2] == b"\x03":
            return GatewayCallError(f"the gateway at {address} speaks TLS: pass --certPath with the CA that issued"
                                    " its certificate (or set ZEEBE_CA_CERTIFICATE_PATH)")
        return GatewayCallError(f"{address} does not speak gRPC (HTTP/2): it answered"
                                f" '{_excerpt(protocol.head)}' — {_GATEWAY_PORT_HINT}")
    if protocol.speaks_http2 is None:
        what = f"sent nothing within {timeout:g} s" if timed_out else "closed it without a word"
        # A TLS server closes on a plaintext client without a word (the command API says why it refuses).
        closed = plaintext and not timed_out
        hint = f"{_TLS_HINT}; or {_GATEWAY_PORT_HINT}" if closed else _GATEWAY_PORT_HINT
        return GatewayCallError(f"{address} does not speak gRPC (HTTP/2): it accepted the connection, then {what}"
                                f" — {hint}")
    if protocol.protocol_error is not None:
        return GatewayCallError(f"the gateway at {address} broke the HTTP/2 protocol: {protocol.protocol_error}")
    if timed_out:
        return GatewayCallError(f"the gateway at {address} did not answer {rpc} within {timeout:g} s (the request"
                                " timeout; raise it with --request-timeout)")
    return GatewayCallError(f"the gateway at {address} closed the connection before answering {rpc}"
                            " (is it shutting down? retry when it is back)")


def call_gateway(address: str, rpc: str, request: Any, *, timeout: float = 10.0,
                 tls: ssl.SSLContext | None = None) -> Any:
    """Call one RPC (e.g. ``"DeployResource"``) on a Zeebe gateway and return the response; for a
    server-streaming RPC (``"ActivateJobs"``), the list of its messages.

    Blocking; for the ``zeebe-trio`` client commands. ``timeout`` is the call's gRPC deadline in seconds,
    connecting included. ``tls`` (``_tls.client_context`` with ALPN ``h2``) makes the call over TLS.
    Every failure is a ``GatewayCallError``.
    """
    from ._generated import gateway_protocol as gw

    try:
        host, port = split_address(address)
    except ValueError as error:
        raise GatewayCallError(f"gateway address {error}") from None
    method_name = re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()

    async def call() -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        channel = _WatchfulChannel(host, port, ssl=tls)
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await channel.__connect__()
            except TimeoutError:
                raise _no_answer(address, rpc, timeout, None, timed_out=True) from None
            except OSError as error:
                raise _unreachable(address, error) from None
            # The request goes out only once the server has opened as HTTP/2: a server that refuses
            # (and closes) gets no request bytes that could turn its close into a reset, which would
            # discard its GOAWAY and the reason in it.
            protocol = channel.watched
            assert protocol is not None
            protocol.tls = tls is not None
            try:
                async with asyncio.timeout_at(deadline):
                    await protocol.first_frame.wait()
            except TimeoutError:
                raise _no_answer(address, rpc, timeout, protocol, timed_out=True) from None
            await asyncio.sleep(0)  # the rest of that first read (a GOAWAY behind the SETTINGS) is processed
            if not protocol.usable:
                raise _no_answer(address, rpc, timeout, protocol, timed_out=False)
            try:
                method = getattr(gw.GatewayStub(channel), method_name)
                answer = method(request, timeout=max(0.001, deadline - loop.time()))
                if inspect.isasyncgen(answer):  # a server-streaming RPC (ActivateJobs)
                    return [message async for message in answer]
                return await answer
            except GRPCError as error:
                if error.status is Status.DEADLINE_EXCEEDED and not error.message:
                    # grpclib's own deadline (or the server's, from our grpc-timeout header)
                    raise _no_answer(address, rpc, timeout, channel.watched, timed_out=True) from None
                raise GatewayCallError(f"{error.status.name}: {error.message}", status=error.status.name) from None
            except TimeoutError:
                raise _no_answer(address, rpc, timeout, channel.watched, timed_out=True) from None
            except OSError as error:  # reconnecting after the server closed the first connection
                raise _unreachable(address, error) from None
            except (StreamTerminatedError, ProtocolError):
                raise _no_answer(address, rpc, timeout, channel.watched, timed_out=False) from None
        finally:
            channel.close()

    return asyncio.run(call())
