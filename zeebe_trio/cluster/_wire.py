"""The broker-to-broker wire format: frames on the internal port (default 26502).

A frame is a big-endian ``u32`` payload length and that many bytes of MessagePack, as on the command
API (``zeebe_trio.protocol._wire``), but with messages of its own::

    HELLO     [1, wire_version, cluster_name, node_id, address, nonce]   dialer -> listener, first frame
    CHALLENGE [2, node_id, nonce]                                         listener -> dialer
    AUTH      [3, proof | nil]                                            dialer -> listener
    WELCOME   [4, proof | nil]                                            listener -> dialer: go ahead
    MESSAGE   [5, channel, payload]                                       dialer -> listener
    GOODBYE   [6, reason]                                                 either way, before closing

A connection carries messages one way only, from the broker that dialed to the broker that listened;
every broker dials every other one, so two brokers are joined by two connections, one per direction.
``channel`` names the receiver inside the broker (``raft/3``: partition 3's Raft replica;
``membership``); ``payload`` is bytes the two ends of the channel agree on. HELLO carries the address
(``host:port``) other brokers reach the dialer's internal port at, and CHALLENGE the listener's node
id, so each end learns who the other is: a broker needs only some other brokers' addresses (its
``initial_contact_points``) to end up connected to all of them.

The proofs are ``auth_proof`` of the shared secret (``cluster_secret``): the dialer's over both nonces,
the cluster name and its node id, the listener's over the nonces the other way round. Without a secret
both are ``nil``, and a listener takes connections from loopback addresses only.

This module frames and unframes only; ``zeebe_trio.cluster._transport`` owns the sockets.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from zeebe_trio.protocol import WireError, auth_proof, decode_tagged_array, encode_frame

__all__ = ["CLUSTER_WIRE_VERSION", "ClusterMessage", "decode_cluster_message", "dialer_proof", "encode_cluster_frame",
           "listener_proof"]

CLUSTER_WIRE_VERSION = 2  # 2: Raft's VoteRequest carries transfer, and TimeoutNow


class ClusterMessage(enum.IntEnum):
    HELLO = 1
    CHALLENGE = 2
    AUTH = 3
    WELCOME = 4
    MESSAGE = 5
    GOODBYE = 6


_KINDS = {int(kind): kind for kind in ClusterMessage}

# Fields after the kind, per message: the count a well-formed frame has.
_FIELD_COUNTS = {
    ClusterMessage.HELLO: 5,
    ClusterMessage.CHALLENGE: 2,
    ClusterMessage.AUTH: 1,
    ClusterMessage.WELCOME: 1,
    ClusterMessage.MESSAGE: 2,
    ClusterMessage.GOODBYE: 1,
}


def encode_cluster_frame(message: Sequence[Any]) -> bytes:
    return encode_frame(message)


def decode_cluster_message(payload: bytes) -> list[Any]:
    """One frame's payload as ``[ClusterMessage, fields...]``; ``WireError`` naming the problem if not."""
    message = decode_tagged_array(payload, _KINDS, "cluster message kind")
    kind = message[0]
    if len(message) - 1 != _FIELD_COUNTS[kind]:
        raise WireError(f"{kind.name} has {len(message) - 1} fields, expected {_FIELD_COUNTS[kind]}")
    if kind is ClusterMessage.MESSAGE and not (isinstance(message[1], str) and isinstance(message[2], bytes)):
        raise WireError("MESSAGE needs a channel name (string) and a payload (bytes)")
    return message


def dialer_proof(secret: str, listener_nonce: bytes, dialer_nonce: bytes, cluster_name: str, node_id: int) -> bytes:
    return auth_proof(secret, "cluster-dialer", listener_nonce, dialer_nonce, cluster_name, str(node_id))


def listener_proof(secret: str, dialer_nonce: bytes, listener_nonce: bytes) -> bytes:
    return auth_proof(secret, "cluster-listener", dialer_nonce, listener_nonce)
