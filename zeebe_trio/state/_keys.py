"""Order-preserving encoding of tuple keys, so LMDB's byte order is the tuple order.

ints become 9 bytes (a type tag and the value offset by 2**63, big-endian), strings are UTF-8 with a
0x00 terminator (strings must not contain NUL; ours never do: they are BPMN ids and job types).
"""

from __future__ import annotations

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
    return b"\x02" + part.encode() + b"\x00"  # type: ignore[union-attr]


def pack_key(parts: tuple[KeyPart, ...]) -> bytes:
    # Hot path (hundreds of calls per command): one- and two-part keys avoid the generic join.
    if len(parts) == 1:
        return _pack_part(parts[0])
    if len(parts) == 2:
        return _pack_part(parts[0]) + _pack_part(parts[1])
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
            parts.append(data[i + 1 : end].decode())
            i = end + 1
        else:
            raise ValueError(f"bad key tag {tag:#x} at offset {i}")
    return tuple(parts)
