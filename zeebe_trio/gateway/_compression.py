"""gRPC message compression (gzip, deflate, identity) for grpclib's server, and the message size limit.

grpclib 0.4 has no compression: its ``recv_message`` raises ``NotImplementedError`` on a message whose
compressed flag is set (the client sees ``UNKNOWN: Internal Server Error``), it never advertises
``grpc-accept-encoding``, and it reads a message of any announced length. Clients that compress every
request, like the Camunda 8 JS SDK (``grpc.default_compression_algorithm: 2``, gzip), cannot use it.

What this module does, as gRPC's compression spec and grpc-java's server do it:

- A request's ``grpc-encoding`` must be ``gzip``, ``deflate`` (zlib format) or ``identity``; any other
  is answered UNIMPLEMENTED ("Can't find decompressor for snappy") with ``grpc-accept-encoding``
  listing what is supported, before the method runs.
- Compressed request messages are decompressed incrementally (zlib's ``max_length``): neither the
  message on the wire nor its decompressed form may exceed the gateway's ``max_message_size``, and a
  zip bomb never makes us allocate more than that; over the limit is RESOURCE_EXHAUSTED.
- Responses are compressed with the request's encoding when the client's ``grpc-accept-encoding``
  lists it (grpc-java answers in the request's encoding too); every response carries
  ``grpc-accept-encoding``, and ``grpc-encoding`` when it is compressed. Streamed responses
  (ActivateJobs, StreamActivatedJobs) are compressed message by message.

grpclib has no hooks for any of this, so three of its pieces are replaced, each as small as it can be:

- ``CompressionServer._protocol_factory`` builds a ``CompressionHandler`` (grpclib's is fixed).
- ``CompressionHandler.accept`` negotiates the call's encodings, then runs grpclib's own
  ``request_handler``, re-bound so that the per-call ``Stream`` it constructs is a ``CompressionStream``
  (grpclib builds it by its global name and takes no parameter for the class).
- ``CompressionStream`` overrides ``recv_message``, ``send_message`` and ``send_initial_metadata``:
  copies of grpclib's, with the framing (``_recv_message``/``_send_message``) and headers ours.

They rely on grpclib's private attributes and function bodies, so ``pyproject.toml`` pins
``grpclib<0.5``, and ``tests/gateway/test_compression.py`` fails (naming what changed) when any
grpclib source copied or relied on here differs from the version this was written against.
"""

from __future__ import annotations

import contextvars
import logging
import re
import struct
import time
import types
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpclib.server
from grpclib.encoding.base import GRPC_CONTENT_TYPE, CodecBase
from grpclib.exceptions import ProtocolError
from grpclib.metadata import _Metadata, _MetadataLike, encode_grpc_message, encode_metadata
from grpclib.protocol import H2Protocol
from grpclib.protocol import Stream as H2Stream
from multidict import MultiDict

from . import _errors

log = logging.getLogger("zeebe_trio.gateway.compression")

IDENTITY = "identity"
GZIP = "gzip"
DEFLATE = "deflate"
#: zlib's window bits per encoding: gzip has a gzip header, gRPC's "deflate" is the zlib format.
_WBITS = {GZIP: 16 + zlib.MAX_WBITS, DEFLATE: zlib.MAX_WBITS}
SUPPORTED_ENCODINGS = (GZIP, DEFLATE, IDENTITY)
ACCEPT_ENCODING = ",".join(SUPPORTED_ENCODINGS)
#: zlib's default (6), as grpc-java and grpc-core compress.
COMPRESSION_LEVEL = zlib.Z_DEFAULT_COMPRESSION
#: Zeebe's default gateway limit (``maxMessageSize``), for the wire and for the decompressed message.
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

_PREFIX = struct.Struct(">BI")  # a gRPC message: compressed flag, length, then the message
_TOKEN = re.compile(r"[A-Za-z0-9._+-]{1,40}")

_RecvType = TypeVar("_RecvType")
_SendType = TypeVar("_SendType")


@dataclass(frozen=True, slots=True)
class CallEncoding:
    """How one call's messages are encoded: the request's encoding, the one we answer in, the limit."""

    request: str
    response: str
    max_message_size: int

    @property
    def decodable(self) -> bool:
        return self.request in SUPPORTED_ENCODINGS


def negotiate(headers: Collection[tuple[str, str]], max_message_size: int) -> CallEncoding:
    """The call's encodings from its request headers (``request`` may be one we cannot decode)."""
    request = IDENTITY
    accepted: list[str] = []
    for name, value in headers:
        if name == "grpc-encoding":
            request = value.strip()
        elif name == "grpc-accept-encoding":
            accepted.extend(part.strip() for part in value.split(","))
    response = request if request in _WBITS and request in accepted else IDENTITY
    return CallEncoding(request, response, max_message_size)


def shown_encoding(encoding: str) -> str:
    """An encoding name from a client's header as it may appear in an error message."""
    return encoding if _TOKEN.fullmatch(encoding) else ascii(encoding[:40])


def compress(data: bytes, encoding: str) -> bytes:
    compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, _WBITS[encoding])
    return compressor.compress(data) + compressor.flush()


def decompress(data: bytes, encoding: str, max_size: int) -> bytes:
    """``data`` decompressed, asking zlib for at most ``max_size + 1`` bytes of output: a zip bomb costs
    about twice the limit in memory (CPython joins its output blocks), never its decompressed size.

    Raises RESOURCE_EXHAUSTED when the message decompresses to more than ``max_size`` bytes, and
    INTERNAL (as gRPC does for a malformed message) when it is not one complete ``encoding`` stream.
    """
    decompressor = zlib.decompressobj(_WBITS[encoding])
    try:
        message = decompressor.decompress(data, max_size + 1)
    except zlib.error as error:
        raise _errors.undecodable_message(encoding, str(error)) from None
    if len(message) > max_size:
        raise _errors.decompressed_message_too_large(max_size)
    # Below max_length, zlib has consumed all input: not at the end means the stream was cut short.
    if not decompressor.eof:
        raise _errors.undecodable_message(encoding, "the compressed data ends before the stream does")
    if decompressor.unused_data:
        raise _errors.undecodable_message(
            encoding, f"{len(decompressor.unused_data)} bytes follow the end of the compressed stream"
        )
    return message


async def _recv_message(
    stream: H2Stream, codec: CodecBase, message_type: type[_RecvType], call: CallEncoding
) -> _RecvType | None:
    """grpclib's ``stream.recv_message``, decompressing, and refusing messages over the limit."""
    prefix = await stream.recv_data(_PREFIX.size)
    if not prefix:
        return None
    flag, length = _PREFIX.unpack(prefix)
    if flag > 1:
        raise _errors.malformed_message_prefix(flag)
    if length > call.max_message_size:  # refused before any of it is read
        raise _errors.message_too_large(call.max_message_size, length)
    data = await stream.recv_data(length)
    if flag:
        if call.request == IDENTITY:
            raise _errors.compressed_without_encoding()
        data = decompress(data, call.request, call.max_message_size)
    return cast(_RecvType, codec.decode(data, message_type))


async def _send_message(
    stream: H2Stream, codec: CodecBase, message: _SendType, message_type: type[_SendType], encoding: str
) -> None:
    """grpclib's ``stream.send_message``, compressing when the call answers in an encoding."""
    data = codec.encode(message, message_type)
    if encoding == IDENTITY:
        await stream.send_data(_PREFIX.pack(0, len(data)) + data)
    else:
        data = compress(data, encoding)
        await stream.send_data(_PREFIX.pack(1, len(data)) + data)


#: The encodings of the call the current asyncio task handles (each task has its own context).
_current_call: contextvars.ContextVar[CallEncoding] = contextvars.ContextVar("zeebe_trio_grpc_call_encoding")


class CompressionStream(grpclib.server.Stream[_RecvType, _SendType]):
    """grpclib's per-call ``Stream``, with compressed messages and encoding headers.

    The three methods are grpclib's (0.4.7 to 0.4.9), changed only where marked "ours".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoding = _current_call.get()  # set by CompressionHandler for this call's task

    async def recv_message(self) -> _RecvType | None:
        message = await _recv_message(self._stream, self._codec, self._recv_type, self.encoding)  # ours
        if message is not None:
            (message,) = await self._dispatch.recv_message(message)
            self._messages_received += 1
            self._stream.connection.messages_received += 1
            self._stream.connection.last_message_received = time.monotonic()
            return message
        return None

    async def send_initial_metadata(self, *, metadata: _MetadataLike | None = None) -> None:
        if self._send_initial_metadata_done:
            raise ProtocolError("Initial metadata was already sent")
        headers = [(":status", "200"), ("content-type", self._content_type)]
        # ours: what we decode, and what we answer in
        headers.append(("grpc-accept-encoding", ACCEPT_ENCODING))
        if self.encoding.response != IDENTITY:
            headers.append(("grpc-encoding", self.encoding.response))
        metadata = MultiDict(metadata or ())
        (metadata,) = await self._dispatch.send_initial_metadata(metadata)
        headers.extend(encode_metadata(cast(_Metadata, metadata)))
        await self._stream.send_headers(headers)
        self._send_initial_metadata_done = True

    async def send_message(self, message: _SendType) -> None:
        if not self._send_initial_metadata_done:
            await self.send_initial_metadata()
        if not self._cardinality.server_streaming:
            if self._send_message_done:
                raise ProtocolError("Message was already sent")
        (message,) = await self._dispatch.send_message(message)
        await _send_message(self._stream, self._codec, message, self._send_type, self.encoding.response)  # ours
        self._send_message_done = True
        self._messages_sent += 1
        self._stream.connection.messages_sent += 1
        self._stream.connection.last_message_sent = time.monotonic()


#: grpclib's ``request_handler`` (the same code object), with its global ``Stream`` resolved to ours.
_request_handler = types.FunctionType(
    grpclib.server.request_handler.__code__,
    {**vars(grpclib.server), "Stream": CompressionStream},
    grpclib.server.request_handler.__name__,
    grpclib.server.request_handler.__defaults__,
    grpclib.server.request_handler.__closure__,
)


class CompressionHandler(grpclib.server.Handler):
    """grpclib's per-connection handler: negotiates each call's encodings before grpclib handles it."""

    def __init__(self, *args: Any, max_message_size: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_message_size = max_message_size

    def accept(self, stream: H2Stream, headers: list[tuple[str, str]], release_stream: Callable[[], Any]) -> None:
        self.__gc_step__()
        encoding = negotiate(headers, self.max_message_size)
        if not encoding.decodable:
            handling = _refuse_encoding(stream, encoding.request, release_stream)
        else:
            handling = self._handle(encoding, stream, headers, release_stream)
        self._tasks[stream] = self.loop.create_task(handling)

    async def _handle(
        self,
        encoding: CallEncoding,
        stream: H2Stream,
        headers: list[tuple[str, str]],
        release_stream: Callable[[], Any],
    ) -> None:
        _current_call.set(encoding)
        await _request_handler(
            self.mapping, stream, headers, self.codec, self.status_details_codec, self.dispatch, release_stream
        )


async def _refuse_encoding(stream: H2Stream, encoding: str, release_stream: Callable[[], Any]) -> None:
    """A trailers-only UNIMPLEMENTED answer that lists the encodings we accept (gRPC's spec)."""
    error = _errors.unsupported_encoding(shown_encoding(encoding), SUPPORTED_ENCODINGS)
    try:
        await stream.send_headers(
            [
                (":status", "200"),
                ("content-type", GRPC_CONTENT_TYPE),
                ("grpc-status", str(error.status.value)),
                ("grpc-message", encode_grpc_message(error.message or "")),
                ("grpc-accept-encoding", ACCEPT_ENCODING),
            ],
            end_stream=True,
        )
        if stream.closable:
            stream.reset_nowait()
    except Exception as failure:  # the client went away meanwhile: nobody to tell
        log.debug("could not refuse a request's grpc-encoding: %r", failure)
    finally:
        release_stream()


class CompressionServer(grpclib.server.Server):
    """grpclib's ``Server`` whose connections decode and encode compressed messages (see above)."""

    def __init__(self, *args: Any, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_message_size = max_message_size

    def _protocol_factory(self) -> H2Protocol:  # grpclib 0.4.9's, with our handler
        self.__gc_step__()
        handler = CompressionHandler(
            self._mapping,
            self._codec,
            self._status_details_codec,
            self.__dispatch__,
            max_message_size=self.max_message_size,
        )
        self._handlers.add(handler)
        return H2Protocol(handler, self._config, self._h2_config)
