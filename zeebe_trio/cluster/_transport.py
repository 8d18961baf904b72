"""The broker-to-broker transport: framed, back-pressured, reconnecting TCP on the internal port.

``ClusterTransport`` listens on ``internal_host:internal_port`` and dials the other brokers (frames and
handshake: ``zeebe_trio.cluster._wire``). It starts from a list of addresses (the broker's
``initial_contact_points``) and learns node ids from the handshakes; a broker that dials in tells its
own address, and is dialed back. Everything above it sends and receives opaque payloads on named
channels: ``open_channel(name)`` gives a receive channel of ``Delivery(sender, payload)``;
``send_nowait(node_id, channel, payload)`` queues a payload for a node.

Delivery is at most once and in order per (sender, receiver) connection: what is queued while a peer
is unreachable waits in its bounded outbox and goes out once the connection is back; what was being
written when a connection broke is lost. Raft, and the command redistribution above it, are built for
exactly that (they resend).

Bounded everywhere (STYLE.md section 7):

- a peer's outbox holds ``outbox_capacity`` frames; ``send_nowait`` answers False when it is full (the
  payload is dropped and counted), ``send`` waits for room;
- a frame is at most ``max_frame_size`` bytes (a larger payload is refused at ``send_nowait``, and a
  peer announcing one is disconnected before it is buffered); before the handshake, 64 KiB;
- a channel's receive side holds what its ``open_channel`` capacity says; when it is full, the
  connection's reader waits, so TCP pushes back on the sending broker;
- at most ``max_connections`` incoming connections; the handshake must finish in ``hello_timeout``;
- reconnecting waits ``min_backoff``, doubling to ``max_backoff``.

Who may connect: with a ``secret`` both ends prove they hold it (``dialer_proof``/``listener_proof``);
without one, a listener takes loopback peers only, which is a cluster on one machine. A peer that
speaks gRPC or HTTP to this port is told, in its own protocol, that this is the internal port.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from hmac import compare_digest
from typing import Any, NamedTuple

import trio

from zeebe_trio.protocol import FrameDecoder, WireError, foreign_protocol, refusal_for
from zeebe_trio.protocol import parse_address as parse_host_port

from ._wire import (
    CLUSTER_WIRE_VERSION,
    ClusterMessage,
    decode_cluster_message,
    dialer_proof,
    encode_cluster_frame,
    listener_proof,
)

__all__ = ["ClusterTransport", "Delivery", "TransportLimits", "parse_address"]

log = logging.getLogger(__name__)

HANDSHAKE_MAX_FRAME = 64 * 1024
NONCE_SIZE = 16
RECEIVE_SIZE = 64 * 1024
REFUSAL_LOG_INTERVAL = 60.0
FOREIGN_PROTOCOL_REASON = ("this is a zeebe-trio broker's internal cluster port, which only other brokers speak;"
                           " Zeebe clients connect to a gateway's gRPC port (26500 by default)")


class Delivery(NamedTuple):
    sender: int  # node id
    payload: bytes


@dataclass(frozen=True, slots=True)
class TransportLimits:
    max_frame_size: int = 8 * 1024 * 1024
    outbox_capacity: int = 1024  # frames queued for one peer
    max_connections: int = 64  # incoming
    hello_timeout: float = 10.0
    connect_timeout: float = 5.0
    min_backoff: float = 0.05
    max_backoff: float = 2.0
    write_batch_bytes: int = 256 * 1024  # frames joined into one write


def parse_address(text: str, default_port: int = 26502) -> tuple[str, int]:
    """An internal address (``host:port``; the internal port when it gives none)."""
    return parse_host_port(text, default_port)


class _Refused(Exception):
    """The peer cannot be talked to (wrong cluster, bad proof, ...): the message says why."""


class _Foreign(_Refused):
    """A client of another protocol, already told so in its own words."""


class _Closed(Exception):
    """The other end closed, or said GOODBYE."""


@dataclass(eq=False)
class _Peer:
    node_id: int
    address: tuple[str, int] | None = None
    send: trio.MemorySendChannel[bytes] = field(init=False)
    receive: trio.MemoryReceiveChannel[bytes] = field(init=False)
    connected: bool = False
    dialing: bool = False
    dropped: int = 0


class ClusterTransport:
    def __init__(self, node_id: int, *, cluster_name: str = "zeebe-cluster", host: str = "0.0.0.0",
                 port: int = 26502, advertised_address: str | None = None,
                 contact_points: Iterable[tuple[str, int]] = (), secret: str | None = None,
                 limits: TransportLimits | None = None) -> None:
        self.node_id = node_id
        self.cluster_name = cluster_name
        self.host = host
        self.port = port
        self._advertised = advertised_address
        self.contact_points = list(contact_points)
        self.secret = secret or None
        self.limits = limits or TransportLimits()
        self._peers: dict[int, _Peer] = {}
        self._channels: dict[str, trio.MemorySendChannel[Delivery]] = {}
        self._incoming: dict[int, trio.CancelScope] = {}
        self._connections = 0
        self._nursery: trio.Nursery | None = None
        self._logged_at: dict[str, float] = {}
        self.unknown_channel_messages = 0
        self.refused_connections = 0
        self._changed = trio.Event()

    # -- the API for the layers above ----------------------------------------------------------------

    @property
    def advertised_address(self) -> str:
        if self._advertised:
            return self._advertised
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"{host}:{self.port}"

    def open_channel(self, name: str, capacity: int = 256) -> trio.MemoryReceiveChannel[Delivery]:
        """The payloads other brokers send on ``name``, as they arrive (at most ``capacity`` waiting)."""
        if name in self._channels:
            raise ValueError(f"channel {name!r} is open already")
        send, receive = trio.open_memory_channel[Delivery](capacity)
        self._channels[name] = send
        return receive

    def send_nowait(self, node_id: int, channel: str, payload: bytes) -> bool:
        """Queue ``payload`` for ``node_id``'s ``channel``; False if its outbox is full (then it is dropped)."""
        frame = self._frame(node_id, channel, payload)
        peer = self._peer(node_id)
        try:
            peer.send.send_nowait(frame)
        except trio.WouldBlock:
            peer.dropped += 1
            return False
        return True

    async def send(self, node_id: int, channel: str, payload: bytes) -> None:
        """Queue ``payload`` for ``node_id``'s ``channel``, waiting for room in its outbox."""
        frame = self._frame(node_id, channel, payload)
        await self._peer(node_id).send.send(frame)

    def is_connected(self, node_id: int) -> bool:
        """Whether this broker has a working connection to ``node_id`` (to send on)."""
        peer = self._peers.get(node_id)
        return peer is not None and peer.connected

    async def wait_connected(self, node_id: int) -> None:
        """Return once this broker has a working connection to ``node_id``."""
        while not self.is_connected(node_id):
            await self.wait_changed()

    async def wait_changed(self) -> None:
        """Return at the next change of the connections: one made, lost or refused."""
        await self._changed.wait()

    def _note_change(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def known_nodes(self) -> list[int]:
        return sorted(self._peers)

    def statistics(self) -> dict[str, Any]:
        return {
            "incoming_connections": self._connections,
            "refused_connections": self.refused_connections,
            "unknown_channel_messages": self.unknown_channel_messages,
            "peers": {
                node_id: {"connected": peer.connected, "queued": peer.send.statistics().current_buffer_used,
                          "dropped": peer.dropped,
                          "address": f"{peer.address[0]}:{peer.address[1]}" if peer.address else None}
                for node_id, peer in sorted(self._peers.items())
            },
        }

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, dial the contact points, and keep connections up until cancelled; started with the
        bound port."""
        listeners = await trio.open_tcp_listeners(self.port, host=self.host or None)
        self.port = listeners[0].socket.getsockname()[1]
        log.info("cluster transport of node %d listening on %s:%d", self.node_id, self.host, self.port)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(trio.serve_listeners, self._serve_connection, listeners)
            for address in self.contact_points:
                nursery.start_soon(self._dial, None, address)
            for peer in self._peers.values():  # sent to before running, with an address learned
                self._ensure_dialer(peer)
            task_status.started(self.port)

    # -- internals: peers and frames -----------------------------------------------------------------

    def _frame(self, node_id: int, channel: str, payload: bytes) -> bytes:
        if node_id == self.node_id:
            raise ValueError(f"node {node_id} is this broker; deliver locally instead")
        frame = encode_cluster_frame([ClusterMessage.MESSAGE, channel, payload])
        if len(frame) - 4 > self.limits.max_frame_size:
            raise ValueError(f"a {len(payload)}-byte payload for channel {channel!r} is over the cluster"
                             f" transport's frame limit of {self.limits.max_frame_size} bytes")
        return frame

    def _peer(self, node_id: int) -> _Peer:
        peer = self._peers.get(node_id)
        if peer is None:
            peer = self._peers[node_id] = _Peer(node_id)
            peer.send, peer.receive = trio.open_memory_channel[bytes](self.limits.outbox_capacity)
        return peer

    def learn(self, node_id: int, address: tuple[str, int]) -> None:
        """``node_id`` listens at ``address`` (a handshake said so, or the membership gossip): dial it if
        nothing does yet."""
        peer = self._peer(node_id)
        if peer.address is None:
            peer.address = address
        self._ensure_dialer(peer)

    def _ensure_dialer(self, peer: _Peer) -> None:
        if self._nursery is not None and peer.address is not None and not peer.dialing:
            peer.dialing = True
            self._nursery.start_soon(self._dial, peer, peer.address)

    def _log_limited(self, kind: str, message: str, *args: Any) -> None:
        now = trio.current_time()
        if now - self._logged_at.get(kind, -math.inf) >= REFUSAL_LOG_INTERVAL:
            self._logged_at[kind] = now
            log.warning(message, *args)

    # -- dialing: the sending side -------------------------------------------------------------------

    async def _dial(self, peer: _Peer | None, address: tuple[str, int]) -> None:
        """Keep a connection to ``address`` up and send ``peer``'s outbox on it. Started for a contact
        point, ``peer`` is None until the first handshake names the node behind the address."""
        backoff = self.limits.min_backoff
        host, port = address
        while True:
            try:
                with trio.fail_after(self.limits.connect_timeout):
                    stream = await trio.open_tcp_stream(host, port)
                async with stream:
                    decoder = FrameDecoder(HANDSHAKE_MAX_FRAME, decode=decode_cluster_message)
                    with trio.fail_after(self.limits.hello_timeout):
                        node_id = await self._dialer_handshake(stream, decoder)
                    if node_id == self.node_id:
                        log.info("cluster contact point %s:%d is this broker (node %d) itself", host, port, node_id)
                        return
                    if peer is None:
                        known = self._peer(node_id)
                        if known.dialing:  # another address of a node already dialed
                            return
                        peer = known
                        peer.dialing = True
                    elif peer.node_id != node_id:
                        raise _Refused(f"{host}:{port} answered as node {node_id}, expected node {peer.node_id}")
                    peer.address = address
                    backoff = self.limits.min_backoff
                    peer.connected = True
                    self._note_change()
                    log.info("node %d connected to node %d at %s:%d", self.node_id, node_id, host, port)
                    try:
                        await self._pump(stream, decoder, peer)
                    finally:
                        peer.connected = False
                        self._note_change()
            except (OSError, trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, WireError,
                    _Closed, _Refused) as error:
                who = f"node {peer.node_id}" if peer is not None else "contact point"
                self._log_limited(f"dial:{host}:{port}", "node %d cannot reach %s at %s:%d: %s",
                                  self.node_id, who, host, port, error or type(error).__name__)
            await trio.sleep(backoff)
            backoff = min(backoff * 2, self.limits.max_backoff)

    async def _dialer_handshake(self, stream: trio.SocketStream, decoder: FrameDecoder) -> int:
        nonce = os.urandom(NONCE_SIZE)
        await stream.send_all(encode_cluster_frame([ClusterMessage.HELLO, CLUSTER_WIRE_VERSION, self.cluster_name,
                                                    self.node_id, self.advertised_address, nonce]))
        reader = _Reader(stream, decoder)
        challenge = await reader.next(ClusterMessage.CHALLENGE)
        node_id, listener_nonce = challenge[1], challenge[2]
        if type(node_id) is not int or not isinstance(listener_nonce, bytes):
            raise WireError("CHALLENGE needs a node id and a nonce")
        if node_id == self.node_id:
            return node_id
        proof = dialer_proof(self.secret, listener_nonce, nonce, self.cluster_name, self.node_id) if self.secret else None
        await stream.send_all(encode_cluster_frame([ClusterMessage.AUTH, proof]))
        welcome = await reader.next(ClusterMessage.WELCOME)
        if self.secret and not (isinstance(welcome[1], bytes)
                                and compare_digest(welcome[1], listener_proof(self.secret, nonce, listener_nonce))):
            raise _Refused(f"node {node_id} could not prove it holds the cluster secret")
        decoder.max_frame_size = self.limits.max_frame_size
        return node_id

    async def _pump(self, stream: trio.SocketStream, decoder: FrameDecoder, peer: _Peer) -> None:
        """Write the outbox to the connection until it breaks or the other end closes it (it only ever
        says GOODBYE on it)."""
        async with trio.open_nursery() as nursery:
            async def watch_for_close() -> None:
                with contextlib.suppress(_Closed, WireError, trio.BrokenResourceError, trio.ClosedResourceError,
                                         OSError):
                    await _Reader(stream, decoder).next(ClusterMessage.GOODBYE)
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch_for_close)
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                await self._write_outbox(stream, peer)
            nursery.cancel_scope.cancel()
        log.info("node %d lost its connection to node %d", self.node_id, peer.node_id)

    async def _write_outbox(self, stream: trio.SocketStream, peer: _Peer) -> None:
        limit = self.limits.write_batch_bytes
        while True:
            frames = [await peer.receive.receive()]
            size = len(frames[0])
            while size < limit:
                try:
                    frame = peer.receive.receive_nowait()
                except trio.WouldBlock:
                    break
                frames.append(frame)
                size += len(frame)
            await stream.send_all(b"".join(frames))

    # -- listening: the receiving side ---------------------------------------------------------------

    async def _serve_connection(self, stream: trio.SocketStream) -> None:
        try:
            host, port = stream.socket.getpeername()[:2]
            peer_text, loopback = f"{host}:{port}", ipaddress.ip_address(host).is_loopback
        except (OSError, ValueError):
            peer_text, loopback = "?", False
        async with stream:
            if self._connections >= self.limits.max_connections:
                self.refused_connections += 1
                self._log_limited("full", "cluster port: refusing %s, already %d connections (the limit)",
                                  peer_text, self._connections)
                return
            self._connections += 1
            try:
                await self._receive_from(stream, peer_text, loopback)
            except (_Refused, WireError, trio.TooSlowError) as error:
                self.refused_connections += 1
                self._note_change()
                reason = str(error) or f"no handshake within {self.limits.hello_timeout} s"
                self._log_limited(f"refused:{peer_text}", "cluster port: closing the connection from %s: %s",
                                  peer_text, reason)
                if not isinstance(error, _Foreign):
                    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await stream.send_all(encode_cluster_frame([ClusterMessage.GOODBYE, reason[:1024]]))
            except (trio.BrokenResourceError, trio.ClosedResourceError, _Closed):
                pass
            finally:
                self._connections -= 1

    async def _receive_from(self, stream: trio.SocketStream, peer_text: str, loopback: bool) -> None:
        decoder = FrameDecoder(HANDSHAKE_MAX_FRAME, decode=decode_cluster_message)
        with trio.fail_after(self.limits.hello_timeout):
            first = await stream.receive_some(RECEIVE_SIZE)
            if not first:
                raise _Closed()
            protocol = foreign_protocol(first)
            if protocol is not None:
                refusal = refusal_for(protocol, FOREIGN_PROTOCOL_REASON)
                if refusal:
                    await stream.send_all(refusal)
                raise _Foreign(f"a {protocol} client on the cluster port")
            reader = _Reader(stream, decoder, first)
            hello = await reader.next(ClusterMessage.HELLO)
            _, version, cluster_name, node_id, address_text, dialer_nonce = hello
            if version != CLUSTER_WIRE_VERSION:
                raise _Refused(f"cluster wire version {version!r:.20}, this broker speaks {CLUSTER_WIRE_VERSION}")
            if cluster_name != self.cluster_name:
                raise _Refused(f"cluster {cluster_name!r:.80}, this broker is in {self.cluster_name!r:.80}")
            if type(node_id) is not int or node_id < 0 or not isinstance(dialer_nonce, bytes):
                raise _Refused("HELLO needs a node id (a non-negative integer) and a nonce")
            if not self.secret and not loopback:
                raise _Refused("this broker has no cluster secret, so it takes connections from loopback"
                               " addresses only; set the same cluster_secret on every broker")
            address = parse_address(str(address_text))
            nonce = os.urandom(NONCE_SIZE)
            await stream.send_all(encode_cluster_frame([ClusterMessage.CHALLENGE, self.node_id, nonce]))
            if node_id == self.node_id:
                return  # this broker dialed itself; it hangs up after the CHALLENGE
            auth = await reader.next(ClusterMessage.AUTH)
            if self.secret and not (isinstance(auth[1], bytes) and compare_digest(
                    auth[1], dialer_proof(self.secret, nonce, dialer_nonce, self.cluster_name, node_id))):
                raise _Refused(f"node {node_id} could not prove it holds the cluster secret")
            proof = listener_proof(self.secret, dialer_nonce, nonce) if self.secret else None
            await stream.send_all(encode_cluster_frame([ClusterMessage.WELCOME, proof]))
        decoder.max_frame_size = self.limits.max_frame_size
        previous = self._incoming.pop(node_id, None)
        if previous is not None:
            previous.cancel()  # the node reconnected: its old connection is dead or dying
        self.learn(node_id, address)
        with trio.CancelScope() as scope:
            self._incoming[node_id] = scope
            try:
                await self._deliver(reader, node_id)
            finally:
                if self._incoming.get(node_id) is scope:
                    del self._incoming[node_id]

    async def _deliver(self, reader: _Reader, node_id: int) -> None:
        while True:
            message = await reader.next(ClusterMessage.MESSAGE, ClusterMessage.GOODBYE)
            if message[0] is ClusterMessage.GOODBYE:
                return
            channel = self._channels.get(message[1])
            if channel is None:
                self.unknown_channel_messages += 1
                self._log_limited(f"channel:{message[1]:.80}", "cluster port: node %d sent to channel %r,"
                                  " which nothing on this broker listens to", node_id, message[1][:80])
                continue
            await channel.send(Delivery(node_id, message[2]))


class _Reader:
    """The messages of one connection, one at a time."""

    def __init__(self, stream: trio.SocketStream, decoder: FrameDecoder, first: bytes = b"") -> None:
        self._stream = stream
        self._decoder = decoder
        self._pending: list[list[Any]] = decoder.feed(first) if first else []

    async def next(self, *expected: ClusterMessage) -> list[Any]:
        while not self._pending:
            data = await self._stream.receive_some(RECEIVE_SIZE)
            if not data:
                raise _Closed("the other end closed the connection")
            self._pending = self._decoder.feed(data)
        message = self._pending.pop(0)
        if message[0] is ClusterMessage.GOODBYE and ClusterMessage.GOODBYE not in expected:
            raise _Closed(f"the other end said goodbye: {str(message[1])[:200]}")
        if message[0] not in expected:
            raise WireError(f"expected {' or '.join(kind.name for kind in expected)}, got {message[0].name}")
        return message
