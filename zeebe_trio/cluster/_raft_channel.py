"""A partition's Raft messages over the cluster transport: the ``raft.Transport`` a broker gives its
replicas.

Each partition has its own channel (``raft/<partition id>``) on ``ClusterTransport``. A message is
MessagePack ``[kind, term, fields...]``; ``source`` and ``target`` are not on the wire, they are the
connection's authenticated peer and this broker, so a broker cannot speak for another. Decoding
checks every field's type and that entry indexes run on from ``prev_index``: a message that does not
decode is dropped, counted and logged (once a minute), never handed to the Raft node.

Lossy by contract, as Raft wants it: a full outbox drops (``ClusterTransport.send_nowait``), and so
does a message over the transport's frame limit (the Raft configuration keeps messages far below it).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import msgpack
import trio

from zeebe_trio.raft import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    PreVoteRequest,
    PreVoteResponse,
    RaftEntry,
    RaftMessage,
    SnapshotChunk,
    SnapshotResponse,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)

from ._transport import ClusterTransport

__all__ = ["ClusterRaftTransport", "RaftWireError", "decode_raft_message", "encode_raft_message", "raft_channel"]

log = logging.getLogger(__name__)

DROP_LOG_INTERVAL = 60.0
MAX_ENTRIES_PER_MESSAGE = 100_000  # far above any sender's batch; the frame limit bounds the bytes


class RaftWireError(ValueError):
    """A Raft message payload that is not one; the message names what is wrong."""


def raft_channel(partition_id: int) -> str:
    return f"raft/{partition_id}"


# kind -> (class, field names after source/target/term, encoder of each field's value)
_KINDS: dict[int, tuple[type[RaftMessage], tuple[str, ...]]] = {
    1: (PreVoteRequest, ("last_index", "last_term")),
    2: (PreVoteResponse, ("granted",)),
    3: (VoteRequest, ("last_index", "last_term", "transfer")),
    4: (VoteResponse, ("granted",)),
    5: (AppendRequest, ("prev_index", "prev_term", "entries", "commit")),
    6: (AppendResponse, ("success", "match_index", "rejected_index", "conflict_index", "conflict_term")),
    7: (Heartbeat, ("commit",)),
    8: (HeartbeatResponse, ()),
    9: (SnapshotChunk, ("snapshot_index", "snapshot_term", "offset", "data", "done")),
    10: (SnapshotResponse, ("snapshot_index", "next_offset", "done", "match_index")),
    11: (TimeoutNow, ()),
}
_KIND_OF = {cls: kind for kind, (cls, _) in _KINDS.items()}

_BOOLEAN_FIELDS = frozenset({"granted", "success", "done", "transfer"})
_BYTES_FIELDS = frozenset({"data"})
_OPTIONAL_INT_FIELDS = frozenset({"conflict_term"})


def encode_raft_message(message: RaftMessage) -> bytes:
    kind = _KIND_OF[type(message)]
    _, fields = _KINDS[kind]
    body: list[Any] = [kind, message.term]
    for name in fields:
        value = getattr(message, name)
        if name == "entries":
            value = [[entry.index, entry.term, entry.data] for entry in value]
        body.append(value)
    return msgpack.packb(body, use_bin_type=True)


def decode_raft_message(payload: bytes, *, source: int, target: int) -> RaftMessage:
    """The message ``source`` sent to ``target``; ``RaftWireError`` naming the problem if it is not one."""
    try:
        body = msgpack.unpackb(payload, raw=False, use_list=True, strict_map_key=False)
    except Exception as error:
        raise RaftWireError(f"not MessagePack: {error}") from None
    if not isinstance(body, list) or len(body) < 2 or type(body[0]) is not int:
        raise RaftWireError("not a [kind, term, fields...] array")
    known = _KINDS.get(body[0])
    if known is None:
        raise RaftWireError(f"unknown Raft message kind {body[0]}")
    cls, fields = known
    if len(body) != 2 + len(fields):
        raise RaftWireError(f"{cls.__name__} has {len(body) - 2} fields, expected {len(fields)}")
    values: dict[str, Any] = {"source": source, "target": target, "term": _index(body[1], "term")}
    for name, value in zip(fields, body[2:], strict=True):
        if name == "entries":
            values[name] = _entries(value, values["prev_index"])
        elif name in _BOOLEAN_FIELDS:
            if type(value) is not bool:
                raise RaftWireError(f"{cls.__name__}.{name} must be true or false, got {value!r:.40}")
            values[name] = value
        elif name in _BYTES_FIELDS:
            if type(value) is not bytes:
                raise RaftWireError(f"{cls.__name__}.{name} must be bytes")
            values[name] = value
        elif name in _OPTIONAL_INT_FIELDS and value is None:
            values[name] = None
        else:
            values[name] = _index(value, f"{cls.__name__}.{name}")
    return cls(**values)


def _index(value: Any, what: str) -> int:
    if type(value) is not int or value < 0 or value >= 1 << 63:
        raise RaftWireError(f"{what} must be a non-negative 64-bit integer, got {value!r:.40}")
    return value


def _entries(value: Any, prev_index: int) -> tuple[RaftEntry, ...]:
    if not isinstance(value, list) or len(value) > MAX_ENTRIES_PER_MESSAGE:
        raise RaftWireError(f"entries must be a list of at most {MAX_ENTRIES_PER_MESSAGE}")
    entries = []
    for position, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 3 or type(item[2]) is not bytes:
            raise RaftWireError(f"entry {position} must be [index, term, data]")
        index, term = _index(item[0], "entry index"), _index(item[1], "entry term")
        if index != prev_index + 1 + position:
            raise RaftWireError(f"entry {position} has index {index}, expected {prev_index + 1 + position}")
        entries.append(RaftEntry(index, term, item[2]))
    return tuple(entries)


class ClusterRaftTransport:
    """The ``raft.Transport`` of one partition's replica on this broker."""

    def __init__(self, cluster: ClusterTransport, partition_id: int, *, capacity: int = 1024) -> None:
        self._cluster = cluster
        self.node_id = cluster.node_id
        self.partition_id = partition_id
        self._channel = raft_channel(partition_id)
        self._inbox = cluster.open_channel(self._channel, capacity=capacity)
        self.dropped_outgoing = 0
        self.malformed = 0
        self._logged_at = -math.inf

    def send_nowait(self, message: RaftMessage) -> None:
        try:
            sent = self._cluster.send_nowait(message.target, self._channel, encode_raft_message(message))
        except ValueError as error:  # over the frame limit: a configuration mistake, say so
            sent = False
            self._log(f"partition {self.partition_id}: cannot send a {type(message).__name__} to node "
                      f"{message.target}: {error}")
        if not sent:
            self.dropped_outgoing += 1

    async def receive(self) -> RaftMessage:
        while True:
            delivery = await self._inbox.receive()
            try:
                return decode_raft_message(delivery.payload, source=delivery.sender, target=self.node_id)
            except RaftWireError as error:
                self.malformed += 1
                self._log(f"partition {self.partition_id}: dropping a Raft message from node {delivery.sender}:"
                          f" {error}")

    def _log(self, text: str) -> None:
        now = trio.current_time()
        if now - self._logged_at >= DROP_LOG_INTERVAL:
            self._logged_at = now
            log.warning("%s", text)
