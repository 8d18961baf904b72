"""What a record value may hold, and how an error message may quote one.

Record values are the JSON data model, as Zeebe's MessagePack documents are: objects with string keys,
arrays, strings of Unicode text, 64-bit integers, finite doubles, booleans and null, nested at most
``MAX_VALUE_DEPTH`` levels. Binary data appears only in the fields the protocol defines as binary
(a deployment's resources). MessagePack can carry more (bytes keys, integers up to 2**64, NaN,
unbounded nesting), and Python's JSON parser accepts lone surrogates; none of that can be stored,
exported or answered reliably, so ``value_problem`` finds it where commands enter and says where.

``excerpt`` is how every error message quotes user input: escaped like ``repr`` (quotes, control
characters and lone surrogates as escapes) and cut short, so a megabyte of input never becomes a
megabyte of error text.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from typing import Any

from ._enums import ValueType

MAX_VALUE_DEPTH = 100
"""Arrays and objects nest at most this deep in a record value (counted from the value itself)."""

EXCERPT_LIMIT = 100
"""Characters of user input an error message quotes by default."""

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# Fields that hold binary data, by value type: paths into the value, "*" for any array index.
BINARY_FIELDS: Mapping[ValueType, tuple[tuple[str, ...], ...]] = {
    ValueType.DEPLOYMENT: (("resources", "*", "resource"),),
    # a distributed deployment carries its command's value
    ValueType.COMMAND_DISTRIBUTION: (("commandValue", "resources", "*", "resource"),),
}

_repr = reprlib.Repr()
_repr.maxlevel = 2
_repr.maxdict = 4
_repr.maxlist = 4
_repr.maxtuple = 4
_repr.maxset = 4
_repr.maxstring = 40
_repr.maxlong = 40
_repr.maxother = 40


def excerpt(value: object, limit: int = EXCERPT_LIMIT) -> str:
    """``value`` quoted for an error message: repr-escaped, at most ``limit`` characters of it.

    A longer string is cut and says how long it was: ``'xxxx…' (1048576 characters)``. Other values
    are shown as ``reprlib`` shows them (a few items, short strings), cut to ``limit`` too.
    """
    if isinstance(value, str | bytes):
        if len(value) <= limit:
            return repr(value)
        unit = "characters" if isinstance(value, str) else "bytes"
        head = repr(value[:limit])
        return f"{head[:-1]}…{head[-1]} ({len(value)} {unit})"
    text = _repr.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PATH_LIMIT = 160


def _path_text(path: tuple[str | int, ...]) -> str:
    """``variables.order.items[3]``; keys that are not plain names as ``['a b']``, long paths cut in
    front (the end says most)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier() and len(part) <= 40:
            text += f".{part}" if text else part
        else:
            text += f"[{excerpt(part, 40)}]"
    if len(text) > _PATH_LIMIT:
        text = "…" + text[-_PATH_LIMIT:]
    return text or "the root"


def _binary_allowed(path: tuple[str | int, ...], patterns: tuple[tuple[str, ...], ...]) -> bool:
    return any(len(pattern) == len(path) and all(p == "*" and isinstance(part, int) or p == part
                                                 for p, part in zip(pattern, path, strict=True))
               for pattern in patterns)


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return (f"holds the lone surrogate {excerpt(text[error.start])} at index {error.start}, which is not"
                " Unicode text (UTF-8 cannot encode it; pair it or remove it)")
    return None


def value_problem(value: Any, *, root: str = "",
                  binary_fields: tuple[tuple[str, ...], ...] = ()) -> str | None:
    """Why ``value`` is not plain JSON data, naming where (``root`` names the value itself), or
    ``None`` when it is. Bytes are accepted at ``binary_fields`` (see ``BINARY_FIELDS``)."""
    found = _problem(value, 0, binary_fields, () if binary_fields else None)
    if found is None:
        return None
    message, reversed_path = found
    path = tuple(reversed(reversed_path))
    return message.format(at=_path_text(((root,) if root else ()) + path))


# The walk builds no paths while values are fine: a problem comes back as a message with an ``{at}``
# placeholder and the path in reverse, each level appending its own part on the way out.
_Found = tuple[str, list[str | int]]
_NO_CHECK_NEEDED = frozenset({bool, type(None)})


def _problem(value: Any, depth: int, binary_fields: tuple[tuple[str, ...], ...],
             binary_path: tuple[str | int, ...] | None) -> _Found | None:
    kind = type(value)
    if kind is str:
        if value.isascii():
            return None
        problem = _text_problem(value)
        return None if problem is None else ("the string at {at} " + _braces(problem), [])
    if kind in _NO_CHECK_NEEDED:
        return None
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return None
        return "the integer at {at} does not fit in 64 bits: " + _braces(excerpt(value)), []
    if kind is float:
        if math.isfinite(value):
            return None
        return f"the number at {{at}} is {value}, which JSON cannot hold", []
    if kind is dict or kind is list:
        if depth >= MAX_VALUE_DEPTH:
            return f"the value at {{at}} nests deeper than {MAX_VALUE_DEPTH} levels", []
        # Binary fields are few and shallow: follow the path only while it can still lead to one.
        tracking = binary_path is not None and len(binary_path) < max(map(len, binary_fields))
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    return ("the object at {at} has the key " + _braces(excerpt(key))
                            + f", which is {type(key).__name__}, not a string"), []
                if not key.isascii():
                    problem = _text_problem(key)
                    if problem is not None:
                        return "the key " + _braces(excerpt(key)) + " at {at} " + _braces(problem), []
                item_kind = type(item)
                if item_kind in _NO_CHECK_NEEDED or item_kind is str and item.isascii() \
                        or item_kind is int and _INT64_MIN <= item <= _INT64_MAX:
                    continue
                found = _problem(item, depth + 1, binary_fields, (*binary_path, key) if tracking else None)  # type: ignore[misc]
                if found is not None:
                    found[1].append(key)
                    return found
            return None
        for index, item in enumerate(value):
            item_kind = type(item)
            if item_kind in _NO_CHECK_NEEDED or item_kind is str and item.isascii() \
                    or item_kind is int and _INT64_MIN <= item <= _INT64_MAX:
                continue
            found = _problem(item, depth + 1, binary_fields, (*binary_path, index) if tracking else None)  # type: ignore[misc]
            if found is not None:
                found[1].append(index)
                return found
        return None
    if kind is bytes and binary_path is not None and _binary_allowed(binary_path, binary_fields):
        return None
    if kind is bytes:
        return f"the value at {{at}} is binary data ({len(value)} bytes), which JSON cannot hold", []
    return (f"the value at {{at}} is {kind.__name__} " + _braces(excerpt(value)) + ", which JSON cannot hold"), []


def _braces(text: str) -> str:
    """User text inside a message that is ``str.format``-ed later."""
    return text.replace("{", "{{").replace("}", "}}")


def command_value_problem(value_type: ValueType, value: Any) -> str | None:
    """Why a command's value is not one a record may hold (``value_problem``), or ``None``."""
    if not isinstance(value, dict):
        return f"the value is {type(value).__name__} {excerpt(value)}, not an object"
    return value_problem(value, binary_fields=BINARY_FIELDS.get(value_type, ()))
