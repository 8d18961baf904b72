"""How failures become gRPC statuses, worded as Zeebe's gateway words them.

Zeebe's ``GrpcErrorMapper`` is the model: a broker rejection keeps its rejection type in the status code
and its reason in the message (``Command 'COMPLETE' rejected with code 'INVALID_STATE': ...``); a broker
error (back-pressure, no leader, timeout) maps to the code that tells a client whether to retry; anything
unexpected becomes INTERNAL *with* a message, and is logged here, never swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from grpclib import GRPCError
from grpclib.const import Status

from zeebe_trio.protocol import Record, RejectionType

from ._port import BrokerError

log = logging.getLogger("zeebe_trio.gateway")

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
    return GRPCError(status, message)


def broker_error(error: BrokerError) -> GRPCError:
    status = _STATUS_BY_BROKER_ERROR.get(error.code)
    if status is Status.DEADLINE_EXCEEDED:
        return GRPCError(status, f"Time out between gateway and broker: {error.message}")
    if status is None:
        log.error("broker answered with an internal error: %s: %s", error.code, error.message)
        return GRPCError(
            Status.INTERNAL,
            f"Unexpected error occurred between gateway and broker (code: {error.code}) (message: {error.message})",
        )
    return GRPCError(status, error.message)


def timeout_error(what: str, seconds: float) -> GRPCError:
    return GRPCError(
        Status.DEADLINE_EXCEEDED,
        f"Time out between gateway and broker: {what} did not complete within {seconds:g} s",
    )


def invalid_argument(message: str) -> GRPCError:
    return GRPCError(Status.INVALID_ARGUMENT, message)


def not_found(message: str) -> GRPCError:
    return GRPCError(Status.NOT_FOUND, message)


def unimplemented(rpc: str, what: str = "") -> GRPCError:
    """For RPCs (or options of an RPC) this gateway does not support yet."""
    subject = f"The RPC '{rpc}'" + (f" with {what}" if what else "")
    return GRPCError(Status.UNIMPLEMENTED, f"{subject} is not supported by zeebe-trio yet")


def shutting_down() -> GRPCError:
    return GRPCError(Status.UNAVAILABLE, "The gateway is shutting down; retry against a running gateway")


def unexpected(rpc: str, error: BaseException) -> GRPCError:
    """An exception nobody anticipated: log it with its traceback, answer INTERNAL with its text."""
    log.error("%s: unexpected error while handling the request", rpc, exc_info=error)
    return GRPCError(
        Status.INTERNAL,
        f"Unexpected error occurred during the request processing: {type(error).__name__}: {error}",
    )


# -- message encoding and size (see _compression) ---------------------------------------------------
# Worded as grpc-java's server words them, so clients and searches recognise them, plus what to do.

def unsupported_encoding(encoding: str, supported: Collection[str]) -> GRPCError:
    """A request ``grpc-encoding`` we cannot decode (``encoding`` already made safe to show)."""
    return GRPCError(
        Status.UNIMPLEMENTED,
        f"Can't find decompressor for {encoding}; this gateway accepts grpc-encoding {', '.join(supported)}",
    )


def message_too_large(limit: int, size: int) -> GRPCError:
    return GRPCError(
        Status.RESOURCE_EXHAUSTED,
        f"gRPC message exceeds maximum size {limit}: {size} (the gateway's max_message_size, in bytes)",
    )


def decompressed_message_too_large(limit: int) -> GRPCError:
    return GRPCError(
        Status.RESOURCE_EXHAUSTED,
        f"Decompressed gRPC message exceeds maximum size {limit} (the gateway's max_message_size, in bytes)",
    )


def undecodable_message(encoding: str, reason: str) -> GRPCError:
    return GRPCError(Status.INTERNAL, f"Could not decompress the {encoding} request message: {reason}")


def compressed_without_encoding() -> GRPCError:
    return GRPCError(
        Status.INTERNAL,
        "Can't decode compressed gRPC message as compression not configured: the request has no"
        " grpc-encoding header (or 'identity') but sent a compressed message",
    )


def malformed_message_prefix(flag: int) -> GRPCError:
    return GRPCError(
        Status.INTERNAL, f"gRPC frame header malformed: the compressed flag is {flag}, expected 0 or 1"
    )
