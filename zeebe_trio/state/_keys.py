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

KeyPart = int | str


def pack_key(parts: tuple[KeyPart, ...]) -> bytes:
    out = bytearray()
    for part in parts:
        if isinstance(part, int):
            out += _INT.pack(_INT_TAG, part + _OFFSET)
        else:
            out.append(_STR_TAG)
            out += part.encode()
            out.append(0)
    return bytes(out)


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
