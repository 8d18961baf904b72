"""Order-preserving, injective encoding of tuple keys, so LMDB's byte order is the tuple order.

- ints become 9 bytes: a type tag and the value offset by 2**63, big-endian;
- strings become a type tag, their UTF-8 bytes with 0x00 and 0x01 escaped, and a 0x00 terminator.

Strings come from clients (message names, correlation keys, message ids, job types), so they may hold
any character, NUL included. The escape keeps 0x00 out of a string's body (0x00 -> 0x01 0x01,
0x01 -> 0x01 0x02) and keeps byte order equal to code-point order: the escapes sort below every other
byte, in the characters' own order, and the terminator sorts below all of them, so a string sorts
before its extensions. No encoded string is a prefix of another's, so the packed prefix of a tuple
prefix matches exactly the keys that start with that tuple prefix. Lone surrogates (which JSON can
carry) are encoded with ``surrogatepass``, which keeps their code-point order too.
"""

from __future__ import annotations

import functools
import struct

_INT = struct.Struct(">BQ")
_INT_TAG = 0x01
_STR_TAG = 0x02
_OFFSET = 1 << 63
_INT_PACK = _INT.pack

KeyPart = int | str


def _pack_part(part: KeyPart) -> bytes:
    if type(part) is int:
        return _INT_PACK(_INT_TAG, part + _OFFSET)
    return _pack_str(part)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1024)
def _pack_str(part: str) -> bytes:
    # The same few strings key most rows (the meta keys, job types, variable names, process ids): each is
    # encoded once, not on every read and write-back. Bounded: client strings come and go.
    data = part.encode("utf-8", "surrogatepass")
    if b"\x00" in data or b"\x01" in data:
        data = data.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")
    return b"\x02" + data + b"\x00"


def _unescape(data: bytes) -> str:
    if b"\x01" in data:
        data = data.replace(b"\x01\x01", b"\x00").replace(b"\x01\x02", b"\x01")
    return data.decode("utf-8", "surrogatepass")


def pack_key(parts: tuple[KeyPart, ...]) -> bytes:
    # Hot path (hundreds of calls per command): one- and two-part keys avoid the generic join.
    if len(parts) == 1:
        part = parts[0]
        if type(part) is int:  # the commonest key of all: an entity by its key, packed here without a call
            return _INT_PACK(_INT_TAG, part + _OFFSET)
        return _pack_str(part)  # type: ignore[arg-type]
    if len(parts) == 2:  # (scope, name), (parent, child), (type, key) ...: an int part packed without a call
        first, second = parts
        head = _INT_PACK(_INT_TAG, first + _OFFSET) if type(first) is int else _pack_str(first)  # type: ignore[arg-type]
        return head + (_INT_PACK(_INT_TAG, second + _OFFSET) if type(second) is int
                       else _pack_str(second))  # type: ignore[arg-type]
    return b"".join([_pack_part(part) for part in parts])


def unpack_key(data: bytes) -> tuple[KeyPart, ...]:
    parts: list[KeyPart] = []
    i = 0
    while i < len(data):
        tag = data[i]
        if tag == _INT_TAG:
            parts.append(_INT.unpack_from(data, i)[1] - _OFFSET)
            i += _INT.size
        elif tag == _STR_TAG:
            end = data.index(0, i + 1)
            parts.append(_unescape(data[i + 1 : end]))
            i = end + 1
        else:
            raise ValueError(f"bad key tag {tag:#x} at offset {i}")
    return tuple(parts)
