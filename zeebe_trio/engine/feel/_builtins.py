"""feel-scala's built-in functions (no ``random number``: evaluation is deterministic).

Every function takes FEEL values and returns a FEEL value; an argument of the wrong type makes it
return None (null), either explicitly or because the Python error it raises is caught by
:func:`call_builtin`. That is also where a result is charged to the evaluation's budget (``_budget``);
functions that can build much more than they are given check the size limits before they build, and
those that need the budget (for steps, time or an early charge) take the root scope first.
"""

from __future__ import annotations

import calendar
import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import regex

from ._budget import (
    CHECKPOINT_STEPS,
    CONTEXT_ENTRY_SIZE,
    CONTEXT_SIZE,
    LIST_ITEM_SIZE,
    LIST_SIZE,
    MAX_LIST_SIZE,
    REGEX_TIMEOUT,
    STRING_SIZE,
    check_list_size,
    check_string_length,
    time_exceeded,
)
from ._errors import FeelEvaluationError
from ._temporal import (
    YearMonthDuration,
    day_name,
    month_name,
    parse_date,
    parse_date_and_time,
    parse_duration,
    parse_time,
)
from ._values import (
    DECIMAL_CONTEXT,
    NUMBER_TYPES,
    FeelFunction,
    FeelRange,
    excerpt,
    feel_compare,
    feel_equal,
    feel_string,
    from_json_value,
    to_json_value,
    to_number,
)

__all__ = ["BUILTINS", "CAUGHT", "Builtin", "call_builtin"]

T = TypeVar("T")

CAUGHT = (TypeError, ValueError, ArithmeticError, KeyError, IndexError, AttributeError, re.error, regex.error, OverflowError)


class Builtin:
    __slots__ = ("name", "params", "fn", "variadic", "required", "needs_root", "charge_result")

    def __init__(
        self, name: str, params: tuple[str, ...], fn: Callable[..., Any], variadic: bool,
        required: int, needs_root: bool, charge_result: bool,
    ) -> None:
        self.name = name
        self.params = params
        self.fn = fn
        self.variadic = variadic
        self.required = required
        self.needs_root = needs_root
        self.charge_result = charge_result


BUILTINS: dict[str, list[Builtin]] = {}


def builtin(
    name: str, *params: str, variadic: bool = False, optional: int = 0, needs_root: bool = False,
    charge_result: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers fn under name; ``optional`` trailing params may be omitted (they arrive as None).

    ``needs_root``: fn takes the evaluation's root scope (its budget) first. ``charge_result=False``:
    the result is not charged to the budget, because fn returns a part of an argument (built and
    charged before) or charges what it builds itself."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        BUILTINS.setdefault(name, []).append(
            Builtin(name, tuple(params), fn, variadic, len(params) - optional, needs_root, charge_result)
        )
        return fn

    return register


def call_builtin(chosen: Builtin, scope: Any, args: list[Any]) -> Any:
    if not chosen.variadic and len(args) < len(chosen.params):
        args = args + [None] * (len(chosen.params) - len(args))
    try:
        if chosen.needs_root:
            result = chosen.fn(scope.root, *args)
        else:
            result = chosen.fn(*args)
    except CAUGHT:
        return None
    t = type(result)
    if (t is str or t is list or t is dict) and chosen.charge_result:
        for arg in args:
            if arg is result:  # handed back unchanged (string(s), substring(s, 1), trim(s) ...)
                return result
        scope.root.charge_value(result)
    return result


def _items(args: tuple[Any, ...]) -> list[Any] | None:
    """The list a list function works on: ``f([1, 2])`` or ``f(1, 2)``."""
    if len(args) == 1 and type(args[0]) is list:
        return args[0]
    if len(args) == 1 and args[0] is None:
        return None
    return list(args)


def _int(value: Any) -> int | None:
    n = to_number(value)
    if n is None or n != int(n):
        return None
    return int(n)


def _numbers(items: list[Any] | None) -> list[int | Decimal] | None:
    if items is None:
        return None
    out = []
    for item in items:
        n = to_number(item)
        if n is None:
            return None
        out.append(n)
    return out



# --- conversion -------------------------------------------------------------------------------------


@builtin("string", "from", needs_root=True)
def _string(root: Any, value: Any) -> str | None:
    return None if value is None else feel_string(value, budget=root)


_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def _parse_number(text: str) -> int | Decimal | None:
    if not _NUMBER_RE.match(text) or len(text) > 10_000:
        return None
    if "." in text or "e" in text or "E" in text:
        return DECIMAL_CONTEXT.plus(Decimal(text))
    return int(text) if len(text) < 35 else DECIMAL_CONTEXT.plus(Decimal(text))


@builtin("number", "from")
def _number(value: Any) -> Any:
    if type(value) is str:
        return _parse_number(value)
    return to_number(value)


@builtin("number", "from", "grouping separator")
def _number_grouped(value: Any, grouping: Any) -> Any:
    return _number_separated(value, grouping, None)


@builtin("number", "from", "grouping separator", "decimal separator")
def _number_separated(value: Any, grouping: Any, decimal_separator: Any) -> Any:
    if type(value) is not str:
        return None
    if grouping is not None and grouping not in (" ", ",", "."):
        return None
    if decimal_separator is not None and decimal_separator not in (",", "."):
        return None
    if grouping is not None and grouping == decimal_separator:
        return None
    text = value
    if grouping is not None:
        text = text.replace(grouping, "")
    if decimal_separator is not None:
        text = text.replace(decimal_separator, ".")
    return _parse_number(text)


@builtin("date", "from")
def _date(value: Any) -> Any:
    t = type(value)
    if t is str:
        return parse_date(value)
    if t is datetime:
        return value.date()
    if t is date:
        return value
    return None


@builtin("date", "year", "month", "day")
def _date3(year: Any, month: Any, day: Any) -> Any:
    y, m, d = _int(year), _int(month), _int(day)
    if y is None or m is None or d is None:
        return None
    return date(y, m, d)


@builtin("time", "from")
def _time(value: Any) -> Any:
    t = type(value)
    if t is str:
        return parse_time(value)
    if t is datetime:
        return value.timetz()
    if t is time:
        return value
    if t is date:
        return time(0, 0, tzinfo=UTC)
    return None


@builtin("time", "hour", "minute", "second", "offset", optional=1)
def _time4(hour: Any, minute: Any, second: Any, offset: Any = None) -> Any:
    h, m = _int(hour), _int(minute)
    s = to_number(second)
    if h is None or m is None or s is None:
        return None
    whole = int(s)
    micros = int((Decimal(s) - whole) * 1_000_000)
    tz = None
    if offset is not None:
        if type(offset) is not timedelta:
            return None
        tz = timezone(offset)
    return time(h, m, whole, micros, tzinfo=tz)


@builtin("date and time", "from")
def _date_and_time(value: Any) -> Any:
    t = type(value)
    if t is str:
        return parse_date_and_time(value)
    if t is datetime:
        return value
    if t is date:
        return datetime(value.year, value.month, value.day)
    return None


@builtin("date and time", "date", "time")
def _date_and_time2(day: Any, clock: Any) -> Any:
    td, tt = type(day), type(clock)
    if td is datetime and tt is str:
        zone = ZoneInfo(clock) if clock != "Z" else UTC
        if day.tzinfo is None:
            return day.replace(tzinfo=zone)
        return day.astimezone(zone)
    if td is datetime:
        day = day.date()
    elif td is not date:
        return None
    if tt is not time:
        return None
    return datetime.combine(day, clock)


@builtin("duration", "from")
def _duration(value: Any) -> Any:
    if type(value) is str:
        return parse_duration(value)
    return None


def _as_date(value: Any) -> date | None:
    t = type(value)
    if t is datetime:
        return value.date()  # type: ignore[no-any-return]
    if t is date:
        return value  # type: ignore[no-any-return]
    return None


@builtin("years and months duration", "from", "to")
def _years_and_months(start: Any, end: Any) -> Any:
    a, b = _as_date(start), _as_date(end)
    if a is None or b is None:
        return None
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return YearMonthDuration(months)


@builtin("context", "entries")
def _context(entries: Any) -> Any:
    if type(entries) is not list:
        return None
    result: dict[str, Any] = {}
    for entry in entries:
        if type(entry) is not dict or type(entry.get("key")) is not str or "value" not in entry:
            return None
        result[entry["key"]] = entry["value"]
    return result


@builtin("from json", "json", needs_root=True, charge_result=False)
def _from_json(root: Any, text: Any) -> Any:
    if type(text) is not str:
        return None
    root.charge(_json_size(text))  # before parsing: the text says at most how much it makes
    return from_json_value(json.loads(text, parse_float=Decimal))


def _json_size(text: str) -> int:
    """About what parsing ``text`` builds, by the size table, counted from its punctuation (brackets,
    quotes and separators inside strings make it an overestimate)."""
    containers = text.count("[") + text.count("{")
    return (len(text) + CONTEXT_SIZE * containers + STRING_SIZE * (text.count('"') // 2)
            + CONTEXT_ENTRY_SIZE * text.count(":") + LIST_ITEM_SIZE * (text.count(",") + containers))


@builtin("to json", "value", needs_root=True)
def _to_json(root: Any, value: Any) -> Any:
    return json.dumps(to_json_value(value, root), default=_json_default, ensure_ascii=False,
                      separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if type(value) is Decimal:
        return float(value)
    raise TypeError("not JSON")


# --- boolean ----------------------------------------------------------------------------------------


@builtin("not", "negand")
def _not(value: Any) -> Any:
    return (not value) if type(value) is bool else None


@builtin("is defined", "value")
def _is_defined(value: Any) -> bool:
    return value is not None


@builtin("get or else", "value", "default")
def _get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value


@builtin("assert", "value", "condition", "cause", optional=1)
def _assert(value: Any, condition: Any, cause: Any = None) -> Any:
    if condition is not True:
        message = cause if type(cause) is str else f"the condition is not fulfilled for value {excerpt(value)}"
        raise FeelEvaluationError(f"assertion failed: {message}")
    return value


# --- strings ----------------------------------------------------------------------------------------


@builtin("substring", "string", "start position", "length", optional=1)
def _substring(string: Any, start: Any, length: Any = None) -> Any:
    s = _int(start)
    if type(string) is not str or s is None:
        return None
    n = len(string)
    begin = s - 1 if s > 0 else max(n + s, 0)
    if length is None:
        return string[begin:]
    count = _int(length)
    if count is None or count < 0:
        return None
    return string[begin:begin + count]


@builtin("string length", "string")
def _string_length(string: Any) -> Any:
    return len(string) if type(string) is str else None


@builtin("upper case", "string")
def _upper_case(string: Any) -> Any:
    return string.upper() if type(string) is str else None


@builtin("lower case", "string")
def _lower_case(string: Any) -> Any:
    return string.lower() if type(string) is str else None


@builtin("substring before", "string", "match")
def _substring_before(string: Any, match: Any) -> Any:
    if type(string) is not str or type(match) is not str:
        return None
    i = string.find(match)
    return string[:i] if i >= 0 else ""


@builtin("substring after", "string", "match")
def _substring_after(string: Any, match: Any) -> Any:
    if type(string) is not str or type(match) is not str:
        return None
    i = string.find(match)
    return string[i + len(match):] if i >= 0 else ""


@builtin("contains", "string", "match")
def _contains(string: Any, match: Any) -> Any:
    if type(string) is not str or type(match) is not str:
        return None
    return match in string


@builtin("starts with", "string", "match")
def _starts_with(string: Any, match: Any) -> Any:
    if type(string) is not str or type(match) is not str:
        return None
    return string.startswith(match)


@builtin("ends with", "string", "match")
def _ends_with(string: Any, match: Any) -> Any:
    if type(string) is not str or type(match) is not str:
        return None
    return string.endswith(match)


@builtin("trim", "string")
def _trim(string: Any) -> Any:
    return string.strip() if type(string) is str else None


@builtin("is blank", "string")
def _is_blank(string: Any) -> Any:
    return string.strip() == "" if type(string) is str else None


# User patterns run on the `regex` package, not `re`: it stops a match after a timeout, so a
# catastrophic pattern such as `(a+)+$` cannot hang the partition, and it understands Java's
# `\p{..}` classes, possessive quantifiers and atomic groups, as feel-scala (Java regex) does.
_FLAGS = {"s": regex.DOTALL, "m": regex.MULTILINE, "i": regex.IGNORECASE, "x": regex.VERBOSE}
_MAX_PATTERN_LENGTH = 1000


def _guarded(root: Any, pattern: str, run: Callable[[float], T]) -> T:
    """``run(timeout)`` with the time this evaluation has left (at most ``REGEX_TIMEOUT``).

    The timeout covers everything ``run`` does with the matches it iterates, not just the matching."""
    timeout = root.regex_timeout()
    try:
        return run(timeout)
    except TimeoutError:
        if timeout < REGEX_TIMEOUT:
            raise time_exceeded() from None
        raise FeelEvaluationError(
            f"the regular expression '{excerpt(pattern, 100)}' took longer than {REGEX_TIMEOUT} s to match"
        ) from None


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, flags: str) -> regex.Pattern[str]:
    if len(pattern) > _MAX_PATTERN_LENGTH:
        raise ValueError("pattern too long")
    bits = 0
    literal = False
    for flag in flags:
        if flag == "q":
            literal = True
        elif flag in _FLAGS:
            bits |= _FLAGS[flag]
        else:
            raise ValueError(f"unknown regex flag {flag}")
    if literal:
        return regex.compile(regex.escape(pattern), bits)
    return regex.compile(pattern, bits)  # `regex` reads Java's (?<name>...) groups as they are


def _flags(flags: Any) -> str:
    if flags is None:
        return ""
    if type(flags) is not str:
        raise TypeError("flags")
    return flags


@builtin("matches", "input", "pattern", "flags", optional=1, needs_root=True)
def _matches(root: Any, string: Any, pattern: Any, flags: Any = None) -> Any:
    if type(string) is not str or type(pattern) is not str:
        return None
    compiled = _regex(pattern, _flags(flags))
    return _guarded(root, pattern, lambda timeout: compiled.search(string, timeout=timeout)) is not None


def _replacement(template: str) -> Callable[[regex.Match[str]], str]:
    """A replacement function for a Java-style template (``$1``, ``${name}``, ``\\$``)."""
    parts: list[tuple[bool, str | int]] = []  # (is_group, text or group)
    literal: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and i + 1 < len(template):
            literal.append(template[i + 1])
            i += 2
            continue
        if ch == "$":
            m = re.match(r"\$(\d+|\{([A-Za-z][A-Za-z0-9]*)\})", template[i:])
            if m is None:
                raise ValueError("illegal group reference")
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            parts.append((True, m[2] if m[2] else int(m[1])))
            i += len(m[0])
            continue
        literal.append(ch)
        i += 1
    if literal:
        parts.append((False, "".join(literal)))

    def expand(match: regex.Match[str]) -> str:
        return "".join(
            (match.group(part) or "") if is_group else part  # type: ignore[misc]
            for is_group, part in parts
        )

    return expand


@builtin("replace", "input", "pattern", "replacement", "flags", optional=1, needs_root=True)
def _replace(root: Any, string: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    if type(string) is not str or type(pattern) is not str or type(replacement) is not str:
        return None
    compiled = _regex(pattern, _flags(flags))
    expand = _replacement(replacement)

    def run(timeout: float) -> str:
        chunks: list[str] = []  # joined every few thousand pieces: an empty pattern matches everywhere
        pieces: list[str] = []
        size = 0
        last = 0
        for match in compiled.finditer(string, timeout=timeout):
            piece = expand(match)
            size += match.start() - last + len(piece)
            check_string_length(size)  # before joining: the result may be far longer than the input
            pieces.append(string[last:match.start()])
            pieces.append(piece)
            last = match.end()
            if len(pieces) >= 2 * CHECKPOINT_STEPS:
                chunks.append("".join(pieces))
                pieces.clear()
        pieces.append(string[last:])
        chunks.append("".join(pieces))
        return "".join(chunks)

    return _guarded(root, pattern, run)


def _charged_strings(root: Any, strings: Any) -> list[str]:
    """The strings a regular expression yields, each charged as it comes (there may be millions; the
    list that holds them is charged as any result)."""
    out: list[str] = []
    size = 0
    for text in strings:
        out.append(text)
        size += STRING_SIZE + len(text)
        if len(out) % CHECKPOINT_STEPS == 0:  # charged in bulk, and before the list grows far
            root.charge(size)
            size = 0
            check_list_size(len(out))
    root.charge(size)
    check_list_size(len(out))
    return out


@builtin("split", "string", "delimiter", needs_root=True)
def _split(root: Any, string: Any, delimiter: Any) -> Any:
    if type(string) is not str or type(delimiter) is not str:
        return None
    compiled = _regex(delimiter, "")
    parts = _guarded(root, delimiter, lambda timeout: _charged_strings(root, compiled.splititer(string, timeout=timeout)))
    while parts and parts[-1] == "":  # like java.lang.String.split
        parts.pop()
    return parts or [""]


@builtin("extract", "string", "pattern", needs_root=True)
def _extract(root: Any, string: Any, pattern: Any) -> Any:
    if type(string) is not str or type(pattern) is not str:
        return None
    compiled = _regex(pattern, "")
    return _guarded(root, pattern, lambda timeout: _charged_strings(
        root, (m.group(0) for m in compiled.finditer(string, timeout=timeout))))


@builtin("string join", "list", "delimiter", "prefix", "suffix", optional=3)
def _string_join(items: Any, delimiter: Any = None, prefix: Any = None, suffix: Any = None) -> Any:
    if type(items) is not list:
        return None
    for part in (delimiter, prefix, suffix):
        if part is not None and type(part) is not str:
            return None
    strings = []
    size = 0
    separator = len(delimiter or "")
    for item in items:
        if item is None:
            continue
        if type(item) is not str:
            return None
        strings.append(item)
        size += len(item) + separator
        check_string_length(size)
    return (prefix or "") + (delimiter or "").join(strings) + (suffix or "")


# --- lists ------------------------------------------------------------------------------------------


@builtin("list contains", "list", "element", needs_root=True)
def _list_contains(root: Any, items: Any, element: Any) -> Any:
    if type(items) is not list:
        return None
    return any(feel_equal(x, element, root) is True for x in items)


@builtin("count", "list")
def _count(items: Any) -> Any:
    return len(items) if type(items) is list else None


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    items = _items(args)
    if not items:
        return None
    best = items[0]
    for item in items[1:]:
        c = feel_compare(item, best)
        if c is None:
            return None
        if c == sign:
            best = item
    if len(items) == 1 and feel_compare(best, best) is None:
        return None
    return to_number(best) if type(best) is float else best


@builtin("min", "list", variadic=True, charge_result=False)
def _min(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max", "list", variadic=True, charge_result=False)
def _max(*args: Any) -> Any:
    return _extreme(args, 1)


def _sum_numbers(numbers: list[int | Decimal]) -> int | Decimal:
    if all(type(n) is int for n in numbers):
        total = 0
        for n in numbers:
            total += int(n)
        return total if abs(total) < 10**34 else DECIMAL_CONTEXT.plus(Decimal(total))
    total_d = Decimal(0)
    for n in numbers:
        total_d = DECIMAL_CONTEXT.add(total_d, n)
    return total_d


@builtin("sum", "list", variadic=True)
def _sum(*args: Any) -> Any:
    numbers = _numbers(_items(args))
    if not numbers:
        return None
    return _sum_numbers(numbers)


@builtin("product", "list", variadic=True)
def _product(*args: Any) -> Any:
    numbers = _numbers(_items(args))
    if not numbers:
        return None
    total = Decimal(1)
    for n in numbers:
        total = DECIMAL_CONTEXT.multiply(total, n)
    return total


@builtin("mean", "list", variadic=True)
def _mean(*args: Any) -> Any:
    numbers = _numbers(_items(args))
    if not numbers:
        return None
    return DECIMAL_CONTEXT.divide(Decimal(_sum_numbers(numbers)), len(numbers))


@builtin("median", "list", variadic=True)
def _median(*args: Any) -> Any:
    numbers = _numbers(_items(args))
    if not numbers:
        return None
    ordered = sorted(numbers)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return DECIMAL_CONTEXT.divide(DECIMAL_CONTEXT.add(ordered[mid - 1], ordered[mid]), 2)


@builtin("stddev", "list", variadic=True)
def _stddev(*args: Any) -> Any:
    numbers = _numbers(_items(args))
    if not numbers or len(numbers) < 2:
        return None
    ctx = DECIMAL_CONTEXT
    mean = ctx.divide(Decimal(_sum_numbers(numbers)), len(numbers))
    squares = Decimal(0)
    for n in numbers:
        d = ctx.subtract(n, mean)
        squares = ctx.add(squares, ctx.multiply(d, d))
    return ctx.sqrt(ctx.divide(squares, len(numbers) - 1))


@builtin("mode", "list", variadic=True)
def _mode(*args: Any) -> Any:
    items = _items(args)
    if items is None:
        return None
    numbers = _numbers(items)
    if numbers is None:
        return None
    counts: dict[Any, int] = {}
    for n in numbers:
        counts[n] = counts.get(n, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(n for n, c in counts.items() if c == top)


@builtin("and", "list", variadic=True)
@builtin("all", "list", variadic=True)
def _all(*args: Any) -> Any:
    items = _items(args)
    if items is None:
        return None
    result: bool | None = True
    for item in items:
        if item is False:
            return False
        if item is not True:
            result = None
    return result


@builtin("or", "list", variadic=True)
@builtin("any", "list", variadic=True)
def _any(*args: Any) -> Any:
    items = _items(args)
    if items is None:
        return None
    result: bool | None = False
    for item in items:
        if item is True:
            return True
        if item is not False:
            result = None
    return result


@builtin("sublist", "list", "start position", "length", optional=1)
def _sublist(items: Any, start: Any, length: Any = None) -> Any:
    s = _int(start)
    if type(items) is not list or s is None or s == 0:
        return None
    n = len(items)
    begin = s - 1 if s > 0 else n + s
    if begin < 0 or begin >= n:
        return None
    if length is None:
        return items[begin:]
    count = _int(length)
    if count is None or count < 0:
        return None
    return items[begin:begin + count]


@builtin("append", "list", "items", variadic=True)
def _append(items: Any, *more: Any) -> Any:
    if type(items) is not list:
        return None
    check_list_size(len(items) + len(more))
    return items + list(more)


@builtin("concatenate", "lists", variadic=True)
def _concatenate(*lists: Any) -> Any:
    out: list[Any] = []
    for part in lists:
        if type(part) is not list:
            return None
        check_list_size(len(out) + len(part))
        out.extend(part)
    return out


@builtin("insert before", "list", "position", "newItem")
def _insert_before(items: Any, position: Any, new_item: Any) -> Any:
    p = _int(position)
    if type(items) is not list or p is None or p == 0:
        return None
    n = len(items)
    index = p - 1 if p > 0 else n + p
    if index < 0 or index > n:
        return None
    return items[:index] + [new_item] + items[index:]


@builtin("remove", "list", "position")
def _remove(items: Any, position: Any) -> Any:
    p = _int(position)
    if type(items) is not list or p is None or p == 0:
        return None
    n = len(items)
    index = p - 1 if p > 0 else n + p
    if index < 0 or index >= n:
        return None
    return items[:index] + items[index + 1:]


@builtin("reverse", "list")
def _reverse(items: Any) -> Any:
    return items[::-1] if type(items) is list else None


@builtin("index of", "list", "match", needs_root=True)
def _index_of(root: Any, items: Any, match: Any) -> Any:
    if type(items) is not list:
        return None
    return [i for i, x in enumerate(items, 1) if feel_equal(x, match, root) is True]


def _hash_key(value: Any) -> Any:
    t = type(value)
    if t is str:
        return ("s", value)
    if t is bool:
        return ("b", value)
    if t in NUMBER_TYPES:
        return ("n", to_number(value))
    if value is None:
        return ("null",)
    return None


def _distinct(root: Any, items: list[Any]) -> list[Any]:
    """Items that cannot be hashed are compared with all kept so far: a step per comparison."""
    seen: set[Any] = set()
    others: list[Any] = []
    out = []
    for item in items:
        key = _hash_key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            root.spend(len(others))
            if any(feel_equal(item, o, root) is True for o in others):
                continue
            others.append(item)
        out.append(item)
    return out


@builtin("distinct values", "list", needs_root=True)
def _distinct_values(root: Any, items: Any) -> Any:
    return _distinct(root, items) if type(items) is list else None


@builtin("duplicate values", "list", needs_root=True)
def _duplicate_values(root: Any, items: Any) -> Any:
    if type(items) is not list:
        return None
    seen: list[Any] = []
    duplicates: list[Any] = []
    seen_keys: set[Any] = set()
    duplicate_keys: set[Any] = set()
    for item in items:
        key = _hash_key(item)
        if key is not None:
            if key in seen_keys:
                if key not in duplicate_keys:
                    duplicate_keys.add(key)
                    duplicates.append(item)
            else:
                seen_keys.add(key)
            continue
        root.spend(len(seen) + len(duplicates))
        if any(feel_equal(item, o, root) is True for o in seen):
            if not any(feel_equal(item, d, root) is True for d in duplicates):
                duplicates.append(item)
        else:
            seen.append(item)
    return duplicates


@builtin("union", "lists", variadic=True, needs_root=True)
def _union(root: Any, *lists: Any) -> Any:
    combined = _concatenate(*lists)
    return None if combined is None else _distinct(root, combined)


@builtin("flatten", "list", needs_root=True)
def _flatten(root: Any, items: Any) -> Any:
    if type(items) is not list:
        return None
    out: list[Any] = []
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if type(item) is list:
                if len(stack) > 1000:
                    raise FeelEvaluationError("flatten: lists nested more than 1000 deep")
                root.spend(len(item))  # a list can hold one nested list many times: count what it walks
                stack.append(iter(item))
                break
            out.append(item)
            if len(out) > MAX_LIST_SIZE:
                check_list_size(len(out))
        else:
            stack.pop()
    check_list_size(len(out))
    return out


@builtin("sort", "list", "precedes", optional=1, needs_root=True)
def _sort(root: Any, items: Any, precedes: Any = None) -> Any:
    if type(items) is not list:
        return None
    if precedes is None:
        for item in items[1:]:
            if feel_compare(item, items[0]) is None:
                return None
        compared = 0

        def natural(a: Any, b: Any) -> int:
            nonlocal compared
            compared += 1
            if compared % CHECKPOINT_STEPS == 0:  # a long sort is a time checkpoint now and then
                root.check_time()
            return feel_compare(a, b) or 0

        return sorted(items, key=functools.cmp_to_key(natural))
    if type(precedes) is not FeelFunction:
        return None

    def ordering(a: Any, b: Any) -> int:
        if precedes.call([a, b]) is True:
            return -1
        if precedes.call([b, a]) is True:
            return 1
        return 0

    return sorted(items, key=functools.cmp_to_key(ordering))


@builtin("is empty", "list")
def _is_empty(items: Any) -> Any:
    return len(items) == 0 if type(items) is list else None


@builtin("partition", "list", "size", needs_root=True)
def _partition(root: Any, items: Any, size: Any) -> Any:
    n = _int(size)
    if type(items) is not list or n is None or n <= 0:
        return None
    root.charge(-(-len(items) // n) * LIST_SIZE + len(items) * LIST_ITEM_SIZE)  # the parts, before building
    return [items[i:i + n] for i in range(0, len(items), n)]


# --- numbers ----------------------------------------------------------------------------------------


def _rounding(mode: str) -> Callable[[Any, Any], Any]:
    def round_to(n: Any, scale: Any = None) -> Any:
        number = to_number(n)
        s = 0 if scale is None else _int(scale)
        if number is None or s is None or not -6111 <= s <= 6176:
            return None
        return Decimal(number).quantize(Decimal(1).scaleb(-s), rounding=mode, context=DECIMAL_CONTEXT)

    return round_to


builtin("decimal", "n", "scale")(_rounding(ROUND_HALF_EVEN))
builtin("floor", "n", "scale", optional=1)(_rounding(ROUND_FLOOR))
builtin("ceiling", "n", "scale", optional=1)(_rounding(ROUND_CEILING))
builtin("round up", "n", "scale", optional=1)(_rounding(ROUND_UP))
builtin("round down", "n", "scale", optional=1)(_rounding(ROUND_DOWN))
builtin("round half up", "n", "scale", optional=1)(_rounding(ROUND_HALF_UP))
builtin("round half down", "n", "scale", optional=1)(_rounding(ROUND_HALF_DOWN))


@builtin("abs", "n")
def _abs(n: Any) -> Any:
    t = type(n)
    if t is int:
        return abs(n)
    if t is Decimal or t is float:
        number = to_number(n)
        return None if number is None else DECIMAL_CONTEXT.abs(number)
    if t is timedelta:
        return abs(n)
    if t is YearMonthDuration:
        return YearMonthDuration(abs(n.months))
    return None


@builtin("modulo", "dividend", "divisor")
def _modulo(dividend: Any, divisor: Any) -> Any:
    a, b = to_number(dividend), to_number(divisor)
    if a is None or b is None or not b:
        return None
    if type(a) is int and type(b) is int:
        return a % b
    r = DECIMAL_CONTEXT.remainder(Decimal(a), Decimal(b))
    if r and (r < 0) != (b < 0):
        r = DECIMAL_CONTEXT.add(r, b)
    return r


@builtin("sqrt", "number")
def _sqrt(n: Any) -> Any:
    number = to_number(n)
    if number is None or number < 0:
        return None
    return DECIMAL_CONTEXT.sqrt(Decimal(number))


@builtin("log", "number")
def _log(n: Any) -> Any:
    number = to_number(n)
    if number is None or number <= 0:
        return None
    return DECIMAL_CONTEXT.ln(Decimal(number))


@builtin("exp", "number")
def _exp(n: Any) -> Any:
    number = to_number(n)
    if number is None:
        return None
    return DECIMAL_CONTEXT.exp(Decimal(number))


@builtin("odd", "number")
def _odd(n: Any) -> Any:
    i = _int(n)
    return None if i is None else i % 2 == 1


@builtin("even", "number")
def _even(n: Any) -> Any:
    i = _int(n)
    return None if i is None else i % 2 == 0


# --- contexts ---------------------------------------------------------------------------------------


@builtin("get value", "context", "key", charge_result=False)
def _get_value(context: Any, key: Any) -> Any:
    if type(context) is not dict:
        return None
    if type(key) is str:
        return to_number(context.get(key)) if type(context.get(key)) is float else context.get(key)
    if type(key) is list:
        value: Any = context
        for part in key:
            if type(value) is not dict or type(part) is not str:
                return None
            value = value.get(part)
        return value
    return None


@builtin("get entries", "context", needs_root=True)
def _get_entries(root: Any, context: Any) -> Any:
    if type(context) is not dict:
        return None
    root.charge(len(context) * (CONTEXT_SIZE + 2 * CONTEXT_ENTRY_SIZE))  # the entries, before building
    return [{"key": k, "value": v} for k, v in context.items()]


def _put(context: Any, key: Any, value: Any) -> Any:
    if type(context) is not dict:
        return None
    if type(key) is str:
        return {**context, key: value}
    if type(key) is list and key and all(type(k) is str for k in key):
        head = key[0]
        if len(key) == 1:
            return {**context, head: value}
        inner = context.get(head)
        inner = inner if type(inner) is dict else {}
        nested = _put(inner, key[1:], value)
        return {**context, head: nested}
    return None


builtin("context put", "context", "key", "value")(_put)
builtin("context put", "context", "keys", "value")(_put)
builtin("put", "context", "key", "value")(_put)


def _merge(*contexts: Any) -> Any:
    items = _items(contexts)
    if items is None:
        return None
    merged: dict[str, Any] = {}
    for context in items:
        if type(context) is not dict:
            return None
        merged.update(context)
    return merged


builtin("context merge", "contexts", variadic=True)(_merge)
builtin("put all", "contexts", variadic=True)(_merge)


# --- temporal ---------------------------------------------------------------------------------------


def _clock(root: Any) -> datetime | None:
    now = root.now
    if now is None:
        return None
    value = now()
    if type(value) is not datetime:
        raise FeelEvaluationError("the engine clock (now) must return a datetime")
    if value.tzinfo is None:
        raise FeelEvaluationError("the engine clock (now) must return a timezone-aware datetime")
    return value


@builtin("now", needs_root=True)
def _now(root: Any) -> Any:
    return _clock(root)


@builtin("today", needs_root=True)
def _today(root: Any) -> Any:
    value = _clock(root)
    return None if value is None else value.date()


@builtin("day of year", "date")
def _day_of_year(value: Any) -> Any:
    d = _as_date(value)
    return None if d is None else d.timetuple().tm_yday


@builtin("day of week", "date")
def _day_of_week(value: Any) -> Any:
    d = _as_date(value)
    return None if d is None else day_name(d)


@builtin("month of year", "date")
def _month_of_year(value: Any) -> Any:
    d = _as_date(value)
    return None if d is None else month_name(d)


@builtin("week of year", "date")
def _week_of_year(value: Any) -> Any:
    d = _as_date(value)
    return None if d is None else d.isocalendar()[1]


@builtin("last day of month", "date")
def _last_day_of_month(value: Any) -> Any:
    d = _as_date(value)
    return None if d is None else calendar.monthrange(d.year, d.month)[1]


# --- ranges (DMN 1.3 semantics; a point is a non-range value) ---------------------------------------


class _Incomparable(Exception):
    pass


def _cmp(a: Any, b: Any) -> int:
    c = feel_compare(a, b)
    if c is None:
        raise _Incomparable
    return c


def _range_function(
    points: Callable[[Any, Any], bool] | None,
    point_range: Callable[[Any, FeelRange], bool] | None,
    range_point: Callable[[FeelRange, Any], bool] | None,
    ranges: Callable[[FeelRange, FeelRange], bool] | None,
) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        a_range, b_range = type(a) is FeelRange, type(b) is FeelRange
        fn: Any = (
            ranges if a_range and b_range
            else range_point if a_range
            else point_range if b_range
            else points
        )
        if fn is None:
            return None
        for r in (a, b):
            if type(r) is FeelRange and (r.start is None or r.end is None):
                return None
        try:
            return fn(a, b)
        except _Incomparable:
            return None

    return apply


def _register_range_function(name: str, fn: Callable[[Any, Any], Any], signatures: str) -> None:
    """signatures: which of pp (point, point), pr, rp, rr the function defines (for named calls)."""
    names = {"pp": ("point1", "point2"), "pr": ("point", "range"), "rp": ("range", "point"), "rr": ("range1", "range2")}
    for signature in signatures.split():
        builtin(name, *names[signature])(fn)


def _eq(a: Any, b: Any) -> bool:
    return _cmp(a, b) == 0


_register_range_function("before", _range_function(
    lambda p1, p2: _cmp(p1, p2) < 0,
    lambda p, r: _cmp(p, r.start) < 0 or (_eq(p, r.start) and not r.start_included),
    lambda r, p: _cmp(r.end, p) < 0 or (_eq(r.end, p) and not r.end_included),
    lambda r1, r2: _cmp(r1.end, r2.start) < 0
    or ((not r1.end_included or not r2.start_included) and _eq(r1.end, r2.start)),
), "pp pr rp rr")
_register_range_function("after", _range_function(
    lambda p1, p2: _cmp(p1, p2) > 0,
    lambda p, r: _cmp(p, r.end) > 0 or (_eq(p, r.end) and not r.end_included),
    lambda r, p: _cmp(r.start, p) > 0 or (_eq(r.start, p) and not r.start_included),
    lambda r1, r2: _cmp(r1.start, r2.end) > 0
    or ((not r1.start_included or not r2.end_included) and _eq(r1.start, r2.end)),
), "pp pr rp rr")
_register_range_function("meets", _range_function(
    None, None, None,
    lambda r1, r2: r1.end_included and r2.start_included and _eq(r1.end, r2.start),
), "rr")
_register_range_function("met by", _range_function(
    None, None, None,
    lambda r1, r2: r1.start_included and r2.end_included and _eq(r1.start, r2.end),
), "rr")
_register_range_function("overlaps", _range_function(
    None, None, None,
    lambda r1, r2: (
        _cmp(r1.end, r2.start) > 0 or (_eq(r1.end, r2.start) and r1.end_included and r2.start_included)
    ) and (
        _cmp(r1.start, r2.end) < 0 or (_eq(r1.start, r2.end) and r1.start_included and r2.end_included)
    ),
), "rr")
_register_range_function("overlaps before", _range_function(
    None, None, None,
    lambda r1, r2: (
        _cmp(r1.start, r2.start) < 0
        or (_eq(r1.start, r2.start) and r1.start_included and not r2.start_included)
    ) and (
        _cmp(r1.end, r2.start) > 0 or (_eq(r1.end, r2.start) and r1.end_included and r2.start_included)
    ) and (
        _cmp(r1.end, r2.end) < 0 or (_eq(r1.end, r2.end) and (not r1.end_included or r2.end_included))
    ),
), "rr")
_register_range_function("overlaps after", _range_function(
    None, None, None,
    lambda r1, r2: (
        _cmp(r2.start, r1.start) < 0
        or (_eq(r2.start, r1.start) and r2.start_included and not r1.start_included)
    ) and (
        _cmp(r2.end, r1.start) > 0 or (_eq(r2.end, r1.start) and r2.end_included and r1.start_included)
    ) and (
        _cmp(r2.end, r1.end) < 0 or (_eq(r2.end, r1.end) and (not r2.end_included or r1.end_included))
    ),
), "rr")
_register_range_function("finishes", _range_function(
    None,
    lambda p, r: r.end_included and _eq(r.end, p),
    None,
    lambda r1, r2: r1.end_included == r2.end_included and _eq(r1.end, r2.end) and (
        _cmp(r1.start, r2.start) > 0
        or (_eq(r1.start, r2.start) and (not r1.start_included or r2.start_included))
    ),
), "pr rr")
_register_range_function("finished by", _range_function(
    None,
    None,
    lambda r, p: r.end_included and _eq(r.end, p),
    lambda r1, r2: r1.end_included == r2.end_included and _eq(r1.end, r2.end) and (
        _cmp(r1.start, r2.start) < 0
        or (_eq(r1.start, r2.start) and (r1.start_included or not r2.start_included))
    ),
), "rp rr")


def _includes_point(r: FeelRange, p: Any) -> bool:
    return (
        (_cmp(r.start, p) < 0 and _cmp(r.end, p) > 0)
        or (_eq(r.start, p) and r.start_included)
        or (_eq(r.end, p) and r.end_included)
    )


def _includes_range(r1: FeelRange, r2: FeelRange) -> bool:
    return (
        _cmp(r1.start, r2.start) < 0
        or (_eq(r1.start, r2.start) and (r1.start_included or not r2.start_included))
    ) and (
        _cmp(r1.end, r2.end) > 0
        or (_eq(r1.end, r2.end) and (r1.end_included or not r2.end_included))
    )


_register_range_function("includes", _range_function(None, None, _includes_point, _includes_range), "rp rr")
_register_range_function("during", _range_function(
    None,
    lambda p, r: _includes_point(r, p),
    None,
    lambda r1, r2: _includes_range(r2, r1),
), "pr rr")
_register_range_function("starts", _range_function(
    None,
    lambda p, r: r.start_included and _eq(r.start, p),
    None,
    lambda r1, r2: _eq(r1.start, r2.start) and r1.start_included == r2.start_included and (
        _cmp(r1.end, r2.end) < 0 or (_eq(r1.end, r2.end) and (not r1.end_included or r2.end_included))
    ),
), "pr rr")
_register_range_function("started by", _range_function(
    None,
    None,
    lambda r, p: r.start_included and _eq(r.start, p),
    lambda r1, r2: _eq(r1.start, r2.start) and r1.start_included == r2.start_included and (
        _cmp(r2.end, r1.end) < 0 or (_eq(r2.end, r1.end) and (not r2.end_included or r1.end_included))
    ),
), "rp rr")
_register_range_function("coincides", _range_function(
    lambda p1, p2: _eq(p1, p2),
    None,
    None,
    lambda r1, r2: _eq(r1.start, r2.start) and r1.start_included == r2.start_included
    and _eq(r1.end, r2.end) and r1.end_included == r2.end_included,
), "pp rr")
