"""Membership: which brokers are in the cluster, where they are, what they do, and whether they are up.

Every broker announces itself on the ``membership`` channel to every broker it knows, every
``announce_interval`` seconds and at once when what it says changes: its node id, its addresses (the
internal port, the command API, its embedded gateway), its version, and per partition its role, term
and health. An announcement also lists the (node id, internal address) of every broker the sender
knows, so a broker that starts with one contact point soon knows, and dials, all of them.

A broker heard from within ``failure_timeout`` seconds is up; otherwise it is down (its last
announcement is kept, so the topology can still name it). A restarted broker starts a new
*incarnation* (its start time), so what it says now beats what it said before the restart, whatever
the sequence numbers.

What is bounded: at most ``max_members`` brokers are tracked (announcements of more are dropped and
counted), an announcement is at most ``MAX_ANNOUNCEMENT_BYTES``, and one that does not parse is dropped
and counted. Gossip never blocks: it uses ``send_nowait`` and a full outbox just skips a round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import msgpack
import trio

from ._transport import Delivery, parse_address

__all__ = ["MEMBERSHIP_CHANNEL", "Member", "MemberInfo", "Membership", "PartitionStatus"]

log = logging.getLogger(__name__)

MEMBERSHIP_CHANNEL = "membership"
MAX_ANNOUNCEMENT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    partition_id: int
    role: str  # LEADER, FOLLOWER, CANDIDATE, INACTIVE
    term: int
    health: str  # HEALTHY, UNHEALTHY, DEAD


@dataclass(frozen=True, slots=True)
class MemberInfo:
    node_id: int
    internal_address: str
    version: str
    command_address: str | None = None
    gateway_address: str | None = None
    partitions: tuple[PartitionStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    info: MemberInfo
    up: bool
    last_heard: float  # trio time; for this broker itself, now


class MembershipTransport(Protocol):
    node_id: int

    def open_channel(self, name: str, capacity: int = 256) -> trio.MemoryReceiveChannel[Delivery]: ...

    def send_nowait(self, node_id: int, channel: str, payload: bytes) -> bool: ...

    def learn(self, node_id: int, address: tuple[str, int]) -> None: ...

    def known_nodes(self) -> list[int]: ...


class Membership:
    def __init__(self, transport: MembershipTransport, info: MemberInfo, *, announce_interval: float = 0.5,
                 failure_timeout: float = 5.0, max_members: int = 1024,
                 incarnation: int | None = None) -> None:
        if info.node_id != transport.node_id:
            raise ValueError(f"member info of node {info.node_id} for the transport of node {transport.node_id}")
        self._transport = transport
        self._info = info
        self.announce_interval = announce_interval
        self.failure_timeout = failure_timeout
        self.max_members = max_members
        # wall-clock nanoseconds at start: only ever compared with the same broker's earlier ones
        self._incarnation = incarnation if incarnation is not None else time.time_ns()
        self._sequence = 0
        self._others: dict[int, tuple[MemberInfo, int, int, float]] = {}  # node -> (info, incarnation, seq, heard)
        self._inbox = transport.open_channel(MEMBERSHIP_CHANNEL, capacity=256)
        self._changed = trio.Event()
        self._wake = trio.Event()
        self.malformed_announcements = 0
        self.dropped_members = 0
        self._was_up: dict[int, bool] = {}

    # -- what the broker asks ------------------------------------------------------------------------

    @property
    def info(self) -> MemberInfo:
        return self._info

    def update(self, **changes: Any) -> None:
        """Change what this broker announces (e.g. ``partitions=...``); announced at once."""
        info = replace(self._info, **changes)
        if info != self._info:
            self._info = info
            self._wake.set()
            self._note_change()

    def members(self) -> list[Member]:
        """Every broker known, this one included, by node id."""
        now = trio.current_time()
        found = [Member(self._info, True, now)]
        for info, _, _, heard in self._others.values():
            found.append(Member(info, now - heard <= self.failure_timeout, heard))
        return sorted(found, key=lambda member: member.info.node_id)

    def member(self, node_id: int) -> Member | None:
        return next((m for m in self.members() if m.info.node_id == node_id), None)

    async def wait_changed(self) -> None:
        """Return at the next change: a broker joins, changes what it says, or goes up or down."""
        await self._changed.wait()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self.wait_changed()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._receive_loop)
            nursery.start_soon(self._announce_loop)
            nursery.start_soon(self._liveness_loop)
            task_status.started()

    # -- internals -----------------------------------------------------------------------------------

    def _note_change(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _announcement(self) -> bytes:
        self._sequence += 1
        info = self._info
        known = [[node, other.internal_address] for node, (other, _, _, _) in sorted(self._others.items())]
        return msgpack.packb({
            "node": info.node_id, "incarnation": self._incarnation, "sequence": self._sequence,
            "internal": info.internal_address, "command": info.command_address, "gateway": info.gateway_address,
            "version": info.version,
            "partitions": [[p.partition_id, p.role, p.term, p.health] for p in info.partitions],
            "known": known,
        }, use_bin_type=True)

    async def _announce_loop(self) -> None:
        while True:
            payload = self._announcement()
            for node in self._transport.known_nodes():
                if node != self._info.node_id:
                    self._transport.send_nowait(node, MEMBERSHIP_CHANNEL, payload)
            self._wake = trio.Event()
            with trio.move_on_after(self.announce_interval):
                await self._wake.wait()

    async def _liveness_loop(self) -> None:
        """Note brokers going down when nothing is heard from them (coming up is noted on receipt)."""
        while True:
            await trio.sleep(min(self.announce_interval, self.failure_timeout) / 2)
            self._check_liveness()

    def _check_liveness(self) -> None:
        now = trio.current_time()
        for node, (_, _, _, heard) in self._others.items():
            up = now - heard <= self.failure_timeout
            if self._was_up.get(node) != up:
                self._was_up[node] = up
                log.info("cluster member %d is %s", node, "up" if up else "down")
                self._note_change()

    async def _receive_loop(self) -> None:
        async for delivery in self._inbox:
            try:
                self._receive(delivery)
            except (ValueError, TypeError, KeyError, IndexError, msgpack.UnpackException) as error:
                self.malformed_announcements += 1
                log.warning("membership: dropping an announcement from node %d: %s", delivery.sender, error)

    def _receive(self, delivery: Delivery) -> None:
        if len(delivery.payload) > MAX_ANNOUNCEMENT_BYTES:
            raise ValueError(f"{len(delivery.payload)} bytes, over the limit of {MAX_ANNOUNCEMENT_BYTES}")
        body = msgpack.unpackb(delivery.payload, raw=False, strict_map_key=False)
        if not isinstance(body, dict):
            raise ValueError("not a map")
        node = _int(body["node"])
        if node != delivery.sender:
            raise ValueError(f"node {delivery.sender} announced itself as node {node}")
        incarnation, sequence = _int(body["incarnation"]), _int(body["sequence"])
        info = MemberInfo(
            node_id=node, internal_address=_text(body["internal"]), version=_text(body["version"]),
            command_address=_optional_text(body.get("command")), gateway_address=_optional_text(body.get("gateway")),
            partitions=tuple(PartitionStatus(_int(p[0]), _text(p[1]), _int(p[2]), _text(p[3]))
                             for p in _list(body.get("partitions", []))),
        )
        known = [(_int(entry[0]), _text(entry[1])) for entry in _list(body.get("known", []))]
        now = trio.current_time()
        previous = self._others.get(node)
        if previous is None and len(self._others) >= self.max_members:
            self.dropped_members += 1
            return
        if previous is not None and (incarnation, sequence) <= (previous[1], previous[2]):
            # old news (reordered or from before a restart): it still says the broker is up
            self._others[node] = (previous[0], previous[1], previous[2], now)
            return
        self._others[node] = (info, incarnation, sequence, now)
        self._transport.learn(node, parse_address(info.internal_address))
        for other, address in known:
            if other != self._info.node_id and other not in self._others:
                self._transport.learn(other, parse_address(address))
        if previous is None or previous[0] != info or not self._was_up.get(node, False):
            self._was_up[node] = True
            self._note_change()


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1024:
        raise ValueError(f"expected a short string, got {value!r:.40}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) > 10_000:
        raise ValueError(f"expected a list, got {value!r:.40}")
    return value
