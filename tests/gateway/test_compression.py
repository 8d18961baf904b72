"""``_compression``: negotiation, bounded decompression, and a tripwire on the grpclib internals it
copies or relies on. (Compression over real gRPC: tests/e2e/test_grpc_compression.py.)"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
import tracemalloc
import zlib
from typing import Any

import grpclib
import grpclib.server
import pytest
from grpclib import GRPCError, Status

from zeebe_trio.gateway import _compression
from zeebe_trio.gateway._compression import CallEncoding, compress, decompress, negotiate, shown_encoding

LIMIT = 1024 * 1024

#: The grpclib sources ``_compression`` copies (its overrides are these with its changes marked) or
#: whose behaviour it relies on: SHA-256 (16 hex digits) of their code lines, comments left out. The
#: same in grpclib 0.4.7, 0.4.8 and 0.4.9 (``pyproject.toml`` allows >=0.4.7,<0.5).
RELIED_ON = {
    "grpclib.server:request_handler": "2ddea24b65850204",
    "grpclib.server:Stream.__init__": "3a37c130668b62fb",
    "grpclib.server:Stream.recv_message": "5699fe7d1045008f",
    "grpclib.server:Stream.send_message": "7b7ef0f69ce667b0",
    "grpclib.server:Stream.send_initial_metadata": "6efb455fe2eebab8",
    "grpclib.server:Stream.send_trailing_metadata": "6b468b71794216a1",
    "grpclib.server:Handler.__init__": "7609aa0e60071e03",
    "grpclib.server:Handler.accept": "089978905f261394",
    "grpclib.server:Server._protocol_factory": "cab0f0769a836041",
    "grpclib.stream:recv_message": "ce15f5a978c91377",
    "grpclib.stream:send_message": "d8a33ceb0e46bbfc",
}


def _code_digest(name: str) -> str:
    module_name, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attribute in qualname.split("."):
        obj = getattr(obj, attribute)
    lines = (re.sub(r"\s*#.*$", "", line).rstrip() for line in inspect.getsource(obj).splitlines())
    return hashlib.sha256("\n".join(line for line in lines if line).encode()).hexdigest()[:16]


def test_the_grpclib_internals_compression_copies_or_relies_on_are_unchanged() -> None:
    changed = [name for name, digest in RELIED_ON.items() if _code_digest(name) != digest]
    assert not changed, (
        f"grpclib {grpclib.__version__} changed {', '.join(changed)}: zeebe_trio/gateway/_compression.py copies"
        " or relies on these (see its docstring). Compare them with grpclib 0.4.9's, carry any change over into"
        " the overrides (or drop an override grpclib no longer needs), then record the new digests in RELIED_ON.")


def test_the_request_handler_is_grpclibs_own_code_building_our_stream() -> None:
    handler = _compression._request_handler
    assert handler.__code__ is grpclib.server.request_handler.__code__
    assert "Stream" in handler.__code__.co_names  # grpclib builds the per-call Stream by this global name
    assert handler.__globals__["Stream"] is _compression.CompressionStream
    assert grpclib.server.Stream is not _compression.CompressionStream  # grpclib's own module is untouched


@pytest.mark.parametrize(("headers", "expected"), [
    ([], CallEncoding("identity", "identity", LIMIT)),
    ([("grpc-encoding", "gzip")], CallEncoding("gzip", "identity", LIMIT)),  # the client did not say it accepts it
    ([("grpc-encoding", "gzip"), ("grpc-accept-encoding", "identity, deflate, gzip")], CallEncoding("gzip", "gzip", LIMIT)),
    ([("grpc-encoding", "deflate"), ("grpc-accept-encoding", "gzip"), ("grpc-accept-encoding", "deflate")],
     CallEncoding("deflate", "deflate", LIMIT)),
    ([("grpc-encoding", "deflate"), ("grpc-accept-encoding", "gzip")], CallEncoding("deflate", "identity", LIMIT)),
    ([("grpc-encoding", "identity"), ("grpc-accept-encoding", "gzip")], CallEncoding("identity", "identity", LIMIT)),
    ([("grpc-encoding", "snappy"), ("grpc-accept-encoding", "snappy")], CallEncoding("snappy", "identity", LIMIT)),
    ([("grpc-encoding", "GZIP")], CallEncoding("GZIP", "identity", LIMIT)),  # case-sensitive, as in gRPC
])
def test_negotiation_answers_in_the_request_encoding_only_when_the_client_accepts_it(headers, expected) -> None:  # type: ignore[no-untyped-def]
    negotiated = negotiate(headers, LIMIT)
    assert negotiated == expected
    assert negotiated.decodable is (expected.request in ("gzip", "deflate", "identity"))


def test_an_encoding_name_is_shown_as_is_when_it_is_a_plain_token_and_escaped_otherwise() -> None:
    assert shown_encoding("x-snappy.v2") == "x-snappy.v2"
    assert shown_encoding("a b\n") == "'a b\\n'"
    assert len(shown_encoding("z" * 1000)) < 50


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_messages_round_trip_up_to_exactly_the_limit(encoding: str) -> None:
    message = bytes(range(256)) * (LIMIT // 256)
    assert len(message) == LIMIT
    assert decompress(compress(message, encoding), encoding, LIMIT) == message
    assert decompress(compress(b"", encoding), encoding, LIMIT) == b""
    # gRPC's "deflate" is the zlib format, "gzip" has a gzip header: each is what zlib itself reads.
    assert zlib.decompress(compress(b"abc", encoding), 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_one_byte_over_the_limit_is_resource_exhausted(encoding: str) -> None:
    with pytest.raises(GRPCError) as error:
        decompress(compress(bytes(LIMIT + 1), encoding), encoding, LIMIT)
    assert error.value.status is Status.RESOURCE_EXHAUSTED
    assert error.value.message == (f"Decompressed gRPC message exceeds maximum size {LIMIT}"
                                   " (the gateway's max_message_size, in bytes)")


def test_a_zip_bomb_never_allocates_much_more_than_the_limit() -> None:
    limit = 256 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(32)) + compressor.flush()  # 32 MiB of zeros
    tracemalloc.start()
    try:
        with pytest.raises(GRPCError) as error:
            decompress(bomb, "gzip", limit)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.status is Status.RESOURCE_EXHAUSTED
    # CPython grows zlib's output in blocks and joins them (twice the limit at most), plus zlib's state.
    assert peak < 3 * limit + 128 * 1024, f"decompressing a 32 MiB bomb peaked at {peak} bytes"


@pytest.mark.parametrize(("data", "words"), [
    (b"\x1f\x8bnot really gzip", "Could not decompress the gzip request message: Error -3"),
    (compress(b"x" * 1000, "gzip")[:-4], "the compressed data ends before the stream does"),
    (compress(b"x", "gzip") + b"junk", "4 bytes follow the end of the compressed stream"),
    (compress(b"x", "deflate"), "Could not decompress the gzip request message"),  # the other format
])
def test_malformed_compressed_data_is_internal_saying_what_is_wrong(data: bytes, words: str) -> None:
    with pytest.raises(GRPCError) as error:
        decompress(data, "gzip", LIMIT)
    assert error.value.status is Status.INTERNAL
    assert words in (error.value.message or "")
