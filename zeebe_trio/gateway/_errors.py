"""How failures become gRPC statuses, worded as Zeebe's gateway words them.

Zeebe's ``GrpcErrorMapper`` is the model: a broker rejection keeps its rejection type in the status code
and its reason in the message (``Command 'COMPLETE' rejected with code 'INVALID_STATE': ...``); a broker
error (back-pressure, no leader, timeout) maps to the code that tells a client whether to retry; anything
unexpected becomes INTERNAL *with* a message, and is logged here, never swallowed.

Every status leaves through ``status``, which caps the message at ``MAX_STATUS_MESSAGE_BYTES``: the
messages quote user input only as excerpts (``zeebe_trio.protocol.excerpt``), and the cap is the last
line of defence for a message that still grew (a deployment with hundreds of errors, an exception's
text). A long ``grpc-message`` is not harmless: HPACK encodes it in time quadratic in its length, and a
megabyte of it froze every client of the gateway for over a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from grpclib import GRPCError
from grpclib.const import Status

from zeebe_trio.protocol import Record, RejectionType

from ._port import BrokerError

log = logging.getLogger("zeebe_trio.gateway")

MAX_STATUS_MESSAGE_BYTES = 4096
"""The longest ``grpc-message`` this gateway sends, in UTF-8 bytes (before percent-encoding)."""


def status_error(code: Status, message: str) -> GRPCError:
    """A ``GRPCError`` whose message is at most ``MAX_STATUS_MESSAGE_BYTES``, cut with a note if longer."""
    data = message.encode("utf-8", "backslashreplace")
    if len(data) > MAX_STATUS_MESSAGE_BYTES:
        note = f"… (message cut: {len(data)} bytes)"
        keep = MAX_STATUS_MESSAGE_BYTES - len(note.encode())
        message = data[:keep].decode("utf-8", "ignore") + note
    elif not message.isascii():
        message = data.decode("utf-8")  # lone surrogates as escapes: a header must be valid UTF-8
    return GRPCError(code, message)

_STATUS_BY_REJECTION: dict[RejectionType, Status] = {
    RejectionType.INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
    RejectionType.NOT_FOUND: Status.NOT_FOUND,
    RejectionType.ALREADY_EXISTS: Status.ALREADY_EXISTS,
    RejectionType.INVALID_STATE: Status.FAILED_PRECONDITION,
    RejectionType.PROCESSING_ERROR: Status.INTERNAL,
    RejectionType.UNAUTHORIZED: Status.PERMISSION_DENIED,
    RejectionType.FORBIDDEN: Status.PERMISSION_DENIED,
    # EXCEEDED_BATCH_RECORD_SIZE falls to UNKNOWN, as in Zeebe's mapper.
}

_STATUS_BY_BROKER_ERROR: dict[str, Status] = {
    BrokerError.RESOURCE_EXHAUSTED: Status.RESOURCE_EXHAUSTED,
    BrokerError.PARTITION_UNAVAILABLE: Status.UNAVAILABLE,
    BrokerError.TIMEOUT: Status.DEADLINE_EXCEEDED,
    BrokerError.MALFORMED_REQUEST: Status.INVALID_ARGUMENT,
    BrokerError.PARTITION_LEADER_MISMATCH: Status.UNAVAILABLE,  # the gateway retries on the leader first
}


def rejection_error(record: Record) -> GRPCError:
    """The status for a rejection record (its intent is the rejected command's)."""
    rejection_type = record.rejection_type
    type_name = rejection_type.name if rejection_type is not None else "NULL_VAL"
    message = f"Command '{record.intent.name}' rejected with code '{type_name}': {record.rejection_reason}"
    status = (
        _STATUS_BY_REJECTION.get(rejection_type, Status.UNKNOWN)
        if rejection_type is not None
        else Status.UNKNOWN
    )
    log.debug("broker rejected a command: %s", message)
    return status_error(status, message)


def broker_error(error: BrokerError) -> GRPCError:
    status = _STATUS_BY_BROKER_ERROR.get(error.code)
    if status is Status.DEADLINE_EXCEEDED:
        return status_error(status, f"Time out between gateway and broker: {error.message}")
    if status is None:
        log.error("broker answered with an internal error: %s: %s", error.code, error.message)
        return status_error(
            Status.INTERNAL,
            f"Unexpected error occurred between gateway and broker (code: {error.code}) (message: {error.message})",
        )
    return status_error(status, error.message)


def timeout_error(what: str, seconds: float) -> GRPCError:
    return status_error(
        Status.DEADLINE_EXCEEDED,
        f"Time out between gateway and broker: {what} did not complete within {seconds:g} s",
    )


def invalid_argument(message: str) -> GRPCError:
    return status_error(Status.INVALID_ARGUMENT, message)


def not_found(message: str) -> GRPCError:
    return status_error(Status.NOT_FOUND, message)


def unimplemented(rpc: str, what: str = "") -> GRPCError:
    """For RPCs (or options of an RPC) this gateway does not support yet."""
    subject = f"The RPC '{rpc}'" + (f" with {what}" if what else "")
    return status_error(Status.UNIMPLEMENTED, f"{subject} is not supported by zeebe-trio yet")


def shutting_down() -> GRPCError:
    return status_error(Status.UNAVAILABLE, "The gateway is shutting down; retry against a running gateway")


def unexpected(rpc: str, error: BaseException) -> GRPCError:
    """An exception nobody anticipated: log it with its traceback, answer INTERNAL with its text."""
    log.error("%s: unexpected error while handling the request", rpc, exc_info=error)
    return status_error(
        Status.INTERNAL,
        f"Unexpected error occurred during the request processing: {type(error).__name__}: {error}",
    )


# -- message encoding and size (see _compression) ---------------------------------------------------
# Worded as grpc-java's server words them, so clients and searches recognise them, plus what to do.

def unsupported_encoding(encoding: str, supported: Collection[str]) -> GRPCError:
    """A request ``grpc-encoding`` we cannot decode (``encoding`` already made safe to show)."""
    return status_error(
        Status.UNIMPLEMENTED,
        f"Can't find decompressor for {encoding}; this gateway accepts grpc-encoding {', '.join(supported)}",
    )


def message_too_large(limit: int, size: int) -> GRPCError:
    return status_error(
        Status.RESOURCE_EXHAUSTED,
        f"gRPC message exceeds maximum size {limit}: {size} (the gateway's max_message_size, in bytes)",
    )


def decompressed_message_too_large(limit: int) -> GRPCError:
    return status_error(
        Status.RESOURCE_EXHAUSTED,
        f"Decompressed gRPC message exceeds maximum size {limit} (the gateway's max_message_size, in bytes)",
    )


def undecodable_message(encoding: str, reason: str) -> GRPCError:
    return status_error(Status.INTERNAL, f"Could not decompress the {encoding} request message: {reason}")


def compressed_without_encoding() -> GRPCError:
    return status_error(
        Status.INTERNAL,
        "Can't decode compressed gRPC message as compression not configured: the request has no"
        " grpc-encoding header (or 'identity') but sent a compressed message",
    )


def malformed_message_prefix(flag: int) -> GRPCError:
    return status_error(
        Status.INTERNAL, f"gRPC frame header malformed: the compressed flag is {flag}, expected 0 or 1"
    )
