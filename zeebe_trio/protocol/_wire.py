"""The command API wire format: how a standalone gateway and a broker talk over TCP.

A connection carries frames in both directions. A frame is a big-endian ``u32`` payload length
followed by that many bytes of MessagePack: an array whose first element is a ``MessageType`` and the
rest its fields, in the order listed below. Record batches travel as ``encode_batch`` bytes.

Gateway -> broker::

    HELLO            [1, wire_version, gateway_name, nonce]   first frame on a connection
    AUTH             [20, proof]                              answer to CHALLENGE
    EXECUTE          [3, request_id, partition_id, value_type, intent, key, value, timeout_s | nil]
    CANCEL           [6, request_id]                          the caller gave up: stop waiting
    TOPOLOGY_REQUEST [7]
    OPEN_STREAM      [10, stream_id, window, job_type, worker, timeout_ms, [fetch_variable...], [tenant_id...]]
    CLOSE_STREAM     [11, stream_id, [job_key...]]             with the pushed jobs never delivered
    YIELD_JOB        [13, job_key]                            a pushed job could not be delivered
    CREDIT           [14, stream_id, count]                   the stream may be pushed ``count`` more jobs
    QUERY            [16, request_id, exporter_id | nil, sql, max_rows]   read-only SQL for an exporter
    WATCH_JOB_TYPE   [18, job_type, watching]                 send JOBS_AVAILABLE for this type (or stop)

Broker -> gateway::

    CHALLENGE        [19, nonce]                              the broker has a shared secret: prove it
    WELCOME          [2, wire_version, topology, proof | nil] answer to HELLO (or AUTH)
    RESPONSE         [4, request_id, record_batch]            the response record (a batch of one)
    ERROR            [5, request_id, code, message]           a ``BrokerError`` code and message
    TOPOLOGY         [8, topology]                            answer to TOPOLOGY_REQUEST
    JOBS_AVAILABLE   [9, [job_type...]]                       pushed for watched types; coalesced
    JOB              [12, stream_id, job_key, job]            an activated job pushed to a stream
    QUERY_RESULT     [17, request_id, [column...], [[value...]...], truncated, exporter_id]   answer to QUERY

Either way::

    GOODBYE          [15, reason]                             the sender is about to close the connection

Authentication: a broker with a shared secret (``command_api_secret``) answers HELLO with CHALLENGE;
the gateway answers with ``auth_proof(secret, "gateway", broker_nonce, gateway_nonce, name)``, and the
broker's WELCOME carries ``auth_proof(secret, "broker", gateway_nonce, broker_nonce)``, so each side
knows the other holds the secret and the secret never crosses the wire. A broker without a secret
welcomes loopback peers only. Gateways may send only ``GATEWAY_COMMANDS``: the commands Zeebe's
gateway sends on behalf of clients, never the engine's internal ones.

Requests are multiplexed: the gateway picks request ids, the broker answers each EXECUTE exactly once
(unless it was cancelled), in any order. Job streams use credit-based flow control: OPEN_STREAM grants
``window`` pushes, each JOB uses one, CREDIT grants more; with no credit left the broker does not push
(it yields the job back at once). Everything else about a connection (topology shape, behaviour on
errors) belongs to the two ends: ``zeebe_trio.broker._command_api`` and ``zeebe_trio.gateway._remote``.

A peer that speaks something else entirely (a gRPC client pointed at this port, a browser, TLS) is
recognised by its first bytes (``foreign_protocol``) and told in its own protocol where to go
(``refusal_for``): an HTTP/2 GOAWAY or an HTTP/1.1 400 whose text names the right port.

This module only frames and unframes; it never touches a socket.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgpack

from ._enums import ValueType
from ._intents import (
    AdHocSubProcessInstructionIntent,
    DecisionEvaluationIntent,
    DeploymentIntent,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    ProcessInstanceModificationIntent,
    ResourceDeletionIntent,
    SignalIntent,
    UserTaskIntent,
    VariableDocumentIntent,
)

# 2: JOBS_AVAILABLE only for job types the gateway watches (WATCH_JOB_TYPE); HELLO carries a nonce,
# CHALLENGE/AUTH for brokers with a shared secret
WIRE_VERSION = 2
NONCE_SIZE = 16
DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024  # bytes of payload; above the broker's 4 MiB message limit

_HEADER = struct.Struct(">I")

GATEWAY_COMMANDS: frozenset[tuple[ValueType, Intent]] = frozenset({
    (ValueType.DEPLOYMENT, DeploymentIntent.CREATE),
    (ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE),
    (ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT),
    (ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.CANCEL),
    (ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE),
    (ValueType.INCIDENT, IncidentIntent.RESOLVE),
    (ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE),
    (ValueType.JOB, JobIntent.COMPLETE),
    (ValueType.JOB, JobIntent.FAIL),
    (ValueType.JOB, JobIntent.THROW_ERROR),
    (ValueType.JOB, JobIntent.UPDATE_RETRIES),
    (ValueType.JOB, JobIntent.UPDATE_TIMEOUT),
    (ValueType.MESSAGE, MessageIntent.PUBLISH),
    (ValueType.SIGNAL, SignalIntent.BROADCAST),
    (ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE),
    # Camunda's REST API sends these (zeebe-trio's CLI until it serves one); claim and update are not sent yet.
    (ValueType.USER_TASK, UserTaskIntent.COMPLETE),
    (ValueType.USER_TASK, UserTaskIntent.ASSIGN),
    (ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION, AdHocSubProcessInstructionIntent.ACTIVATE),
    (ValueType.PROCESS_INSTANCE_MODIFICATION, ProcessInstanceModificationIntent.MODIFY),
    (ValueType.PROCESS_INSTANCE_MIGRATION, ProcessInstanceMigrationIntent.MIGRATE),
    (ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE),
})
"""The commands a gateway sends on behalf of clients; everything else is the engine's own."""


class MessageType(enum.IntEnum):
    HELLO = 1
    WELCOME = 2
    EXECUTE = 3
    RESPONSE = 4
    ERROR = 5
    CANCEL = 6
    TOPOLOGY_REQUEST = 7
    TOPOLOGY = 8
    JOBS_AVAILABLE = 9
    OPEN_STREAM = 10
    CLOSE_STREAM = 11
    JOB = 12
    YIELD_JOB = 13
    CREDIT = 14
    GOODBYE = 15
    QUERY = 16
    QUERY_RESULT = 17
    WATCH_JOB_TYPE = 18
    CHALLENGE = 19
    AUTH = 20


_MESSAGE_TYPES = {int(t): t for t in MessageType}


class WireError(ValueError):
    """The peer sent bytes that are not a valid frame: the connection cannot continue."""


def encode_frame(message: Sequence[Any]) -> bytes:
    """One frame: the length prefix and the MessagePack of ``message`` (``[MessageType, fields...]``)."""
    payload = msgpack.packb(message, use_bin_type=True)
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Turns a byte stream into messages. ``feed`` returns every message completed by the new bytes.

    Each message is a list whose first element is a ``MessageType`` (or what ``decode``, another
    protocol's payload decoder on the same framing, makes of the payload). Raises ``WireError`` for a frame
    over ``max_frame_size``, a payload that is not MessagePack, or one that is not such a list; after
    that the decoder is unusable (the stream has lost its framing).
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE, *,
                 decode: Callable[[bytes], list[Any]] | None = None) -> None:
        self.max_frame_size = max_frame_size
        self._decode = decode or decode_message
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[list[Any]]:
        buffer = self._buffer
        buffer += data
        messages: list[list[Any]] = []
        offset = 0
        end = len(buffer)
        while end - offset >= 4:
            (length,) = _HEADER.unpack_from(buffer, offset)
            if length > self.max_frame_size:  # refuse before buffering megabytes of it
                raise WireError(f"frame of {length} bytes is over the limit of {self.max_frame_size} bytes")
            if end - offset - 4 < length:
                break
            start = offset + 4
            messages.append(self._decode(bytes(buffer[start:start + length])))
            offset = start + length
        if offset:
            del buffer[:offset]
        return messages


def decode_message(payload: bytes) -> list[Any]:
    """One frame's payload as ``[MessageType, fields...]``; ``WireError`` if it is not one."""
    return decode_tagged_array(payload, _MESSAGE_TYPES, "message type")


def decode_tagged_array(payload: bytes, kinds: Mapping[int, Any], noun: str) -> list[Any]:
    """A MessagePack ``[kind, fields...]`` array whose kind is one of ``kinds`` (replaced by its value
    there); ``WireError`` naming the problem, with ``noun`` for what the first element is, if not."""
    try:
        message = msgpack.unpackb(payload, raw=False, use_list=True, strict_map_key=False)
    except Exception as error:
        raise WireError(f"frame payload is not MessagePack: {error}") from None
    if not isinstance(message, list) or not message or type(message[0]) is not int:
        raise WireError(f"frame payload is not a [{noun}, fields...] array: {message!r:.80}")
    kind = kinds.get(message[0])
    if kind is None:
        raise WireError(f"unknown {noun} {message[0]}")
    message[0] = kind
    return message


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HTTP1_REQUEST_LINE = re.compile(rb"[A-Z]{3,10} \S{1,2048} HTTP/1\.[01]\r?\n")
_HTTP2_GOAWAY, _HTTP2_SETTINGS, _HTTP2_PROTOCOL_ERROR = 0x7, 0x4, 0x1


def foreign_protocol(prefix: bytes) -> str | None:
    """The protocol a connection's first bytes belong to when they are not command-API frames:
    ``"HTTP/2"`` (gRPC), ``"HTTP/1"``, ``"TLS"``, or None. A HELLO frame starts with a small length,
    so its first byte is 0; none of these do."""
    if prefix.startswith(HTTP2_PREFACE[:min(len(prefix), len(HTTP2_PREFACE))]) and len(prefix) >= 4:
        return "HTTP/2"
    if len(prefix) >= 3 and prefix[0] == 0x16 and prefix[1] == 0x03:  # TLS handshake record
        return "TLS"
    if _HTTP1_REQUEST_LINE.match(prefix):
        return "HTTP/1"
    return None


def foreign_server_protocol(prefix: bytes) -> str | None:
    """The protocol a server's first bytes belong to when they are not command-API frames (the
    gateway was pointed at a gRPC port, say): ``"HTTP/2"``, ``"HTTP/1"``, ``"TLS"``, or None. An
    HTTP/2 server opens with a SETTINGS frame on stream 0; a WELCOME frame's fifth byte is a
    MessagePack array header, never 0."""
    if len(prefix) >= 9 and prefix[3] == _HTTP2_SETTINGS and prefix[4] == 0 and prefix[5:9] == b"\0\0\0\0":
        return "HTTP/2"
    if prefix.startswith(b"HTTP/1."):
        return "HTTP/1"
    if len(prefix) >= 3 and prefix[0] in (0x15, 0x16) and prefix[1] == 0x03:  # TLS alert or handshake
        return "TLS"
    return None


def refusal_for(protocol: str, reason: str) -> bytes:
    """Bytes that tell a peer speaking ``protocol`` why it is refused, in words it will show; empty
    for TLS (closing is the only answer a TLS client understands before a handshake)."""
    text = reason.encode("utf-8", "replace")[:1024]
    if protocol == "HTTP/2":
        settings = _http2_frame(_HTTP2_SETTINGS, b"")
        goaway = _http2_frame(_HTTP2_GOAWAY, struct.pack(">II", 0, _HTTP2_PROTOCOL_ERROR) + text)
        return settings + goaway
    if protocol == "HTTP/1":
        return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(text) + 1).encode() + b"\r\n\r\n" + text + b"\n")
    return b""


def _http2_frame(frame_type: int, payload: bytes) -> bytes:
    # 24-bit length, type, flags, 31-bit stream id (0: the connection)
    return struct.pack(">I", len(payload))[1:] + bytes((frame_type, 0)) + struct.pack(">I", 0) + payload


def auth_proof(secret: str, role: str, *nonces_and_name: bytes | str) -> bytes:
    """HMAC-SHA256 over the role and the handshake's nonces (and the gateway's name): what each end
    sends to show it holds the shared secret without sending the secret."""
    mac = hmac.new(secret.encode("utf-8"), role.encode("ascii"), hashlib.sha256)
    for part in nonces_and_name:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        mac.update(len(data).to_bytes(4, "big"))
        mac.update(data)
    return mac.digest()
