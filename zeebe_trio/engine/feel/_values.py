"""FEEL values in Python, and the operations every other module shares.

A FEEL number is an ``int`` or a ``Decimal`` (and a ``float`` straight from a JSON variable, converted
exactly via its repr whenever it is used); ``bool`` is never a number even though Python says so,
which is why dispatch here is on ``type(v) is ...``, not isinstance. Strings are ``str``, lists are
``list``, contexts are ``dict`` with string keys, null is ``None``; temporals are described in
``_temporal``. Ranges and functions have their own small classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from ._budget import (
    CHECKPOINT_STEPS,
    CONTEXT_ENTRY_SIZE,
    CONTEXT_SIZE,
    LIST_ITEM_SIZE,
    LIST_SIZE,
    MAX_ALLOCATION,
    MAX_ITERATIONS,
    MAX_STRING_LENGTH,
    STRING_SIZE,
    StepBudget,
)
from ._errors import FeelEvaluationError
from ._temporal import YearMonthDuration, format_temporal, format_temporal_json

# java.math.MathContext.DECIMAL128, which feel-scala uses for its BigDecimal arithmetic.
DECIMAL_CONTEXT = Context(
    prec=34, rounding=ROUND_HALF_EVEN, Emax=6144, Emin=-6143,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
# ints beyond this are rounded to 34 significant digits like every other number.
INT_LIMIT = 10**34

MAX_CALL_DEPTH = 64

NUMBER_TYPES = frozenset((int, Decimal, float))


def decimal_from_float(value: float) -> Decimal | None:
    """A JSON float as the decimal it was written as (repr is the shortest round-tripping text)."""
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return Decimal(repr(value))


def to_number(value: Any) -> int | Decimal | None:
    """value as an int or Decimal, or None if it is not a FEEL number."""
    t = type(value)
    if t is int or t is Decimal:
        return value
    if t is float:
        return decimal_from_float(value)
    return None


def normalize_int(value: int) -> int | Decimal:
    if -INT_LIMIT < value < INT_LIMIT:
        return value
    return DECIMAL_CONTEXT.plus(Decimal(value))


class FeelRange:
    """A range value such as ``[1..10)``; an absent endpoint (None) is unbounded."""

    __slots__ = ("start", "end", "start_included", "end_included")

    def __init__(self, start: Any, end: Any, start_included: bool, end_included: bool) -> None:
        self.start = start
        self.end = end
        self.start_included = start_included
        self.end_included = end_included

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is FeelRange
            and feel_equal(self.start, other.start) is True
            and feel_equal(self.end, other.end) is True
            and self.start_included == other.start_included
            and self.end_included == other.end_included
        )

    __hash__ = None  # type: ignore[assignment]

    def contains(self, value: Any) -> bool | None:
        if self.start is not None:
            c = feel_compare(value, self.start)
            if c is None:
                return None
            if c < 0 or (c == 0 and not self.start_included):
                return False
        if self.end is not None:
            c = feel_compare(value, self.end)
            if c is None:
                return None
            if c > 0 or (c == 0 and not self.end_included):
                return False
        return True

    def __repr__(self) -> str:
        return f"FeelRange({feel_string(self)})"


class FeelFunction:
    """A function value: user-defined (``function(a, b) a + b``) or built-in.

    ``invoke`` takes the positional argument list (already matched to ``params``).
    """

    __slots__ = ("params", "invoke", "name", "variadic")

    def __init__(
        self,
        params: Sequence[str],
        invoke: Callable[[list[Any]], Any],
        name: str = "anonymous",
        variadic: bool = False,
    ) -> None:
        self.params = tuple(params)
        self.invoke = invoke
        self.name = name
        self.variadic = variadic

    def call_named(self, named: dict[str, Any]) -> Any:
        if any(key not in self.params for key in named):
            return None
        return self.invoke([named.get(p) for p in self.params])

    def call(self, args: list[Any]) -> Any:
        if not self.variadic:
            if len(args) > len(self.params):
                return None
            if len(args) < len(self.params):
                args = args + [None] * (len(self.params) - len(args))
        return self.invoke(args)

    def __repr__(self) -> str:
        return f"function({', '.join(self.params)})"


# --- equality and ordering ---------------------------------------------------------------------


def _comparable_kind(value: Any) -> Any:
    """A key such that two values of equal keys can be compared (None for null)."""
    t = type(value)
    if t in NUMBER_TYPES:
        return int
    if t is datetime or t is time:
        return (t, value.tzinfo is None)
    return t


class _CallSteps:
    """Steps for one comparison made outside an evaluation's budget (the caller passed none)."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0

    def spend(self, count: int) -> None:
        self.steps += count
        if self.steps > MAX_ITERATIONS:
            raise FeelEvaluationError(
                f"comparing two values took more than {MAX_ITERATIONS} steps; they are too large"
            )

    def check_time(self) -> None:
        pass


def feel_equal(a: Any, b: Any, budget: StepBudget | None = None) -> bool | None:
    """FEEL ``=``: null equals only null; values of different types are not comparable (None).

    Comparing lists and contexts spends a step per item on ``budget`` (the evaluation's): a value
    can share its parts, so that comparing it item by item takes far longer than its size says."""
    if a is None:
        return b is None
    if b is None:
        return False
    ta, tb = type(a), type(b)
    if ta is tb and (ta is str or ta is int or ta is bool):
        return a == b
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return to_number(a) == to_number(b)
    if _comparable_kind(a) != _comparable_kind(b):
        return None
    if ta is list:
        if len(a) != len(b):
            return False
        if budget is None:
            budget = _CallSteps()
        budget.spend(len(a))
        result: bool | None = True
        for x, y in zip(a, b, strict=True):
            e = feel_equal(x, y, budget)
            if e is False:
                return False
            if e is None:
                result = None
        return result
    if ta is dict:
        if a.keys() != b.keys():
            return False
        if budget is None:
            budget = _CallSteps()
        budget.spend(len(a))
        result = True
        for key, x in a.items():
            e = feel_equal(x, b[key], budget)
            if e is False:
                return False
            if e is None:
                result = None
        return result
    if ta is FeelFunction:
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return None


def feel_compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 for ordered values of the same type; None when they cannot be ordered."""
    ta, tb = type(a), type(b)
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        if ta is float:
            a = decimal_from_float(a)
        if tb is float:
            b = decimal_from_float(b)
        if a is None or b is None:
            return None
    elif a is None or b is None or ta is bool or ta is list or ta is dict:
        return None
    elif _comparable_kind(a) != _comparable_kind(b):
        return None
    elif ta is YearMonthDuration:
        a, b = a.months, b.months
    elif ta not in (str, date, datetime, time, timedelta):
        return None
    try:
        return -1 if a < b else (1 if a > b else 0)
    except TypeError:
        return None


# --- conversion to text ------------------------------------------------------------------------


def format_number(value: int | Decimal | float) -> str:
    t = type(value)
    if t is int:
        return str(value)
    if t is float:
        value = decimal_from_float(value)  # type: ignore[arg-type, assignment]
        if value is None:
            return "null"
    assert isinstance(value, Decimal)
    if -1000 < value.adjusted() < 1000:
        return format(value, "f")
    return str(value)


def feel_string(value: Any, *, nested: bool = False, budget: StepBudget | None = None) -> str:
    """FEEL's text for a value, as ``string(value)`` returns it (strings are quoted when nested).

    Raises FeelEvaluationError when the text would be longer than ``MAX_STRING_LENGTH``: a list or
    context can hold the same part many times, and its text repeats it each time. Writing a long text
    is a time checkpoint for ``budget``."""
    t = type(value)
    if t is list or t is dict:
        writer = _TextWriter(MAX_STRING_LENGTH, budget)
        if not writer.write(value):
            raise FeelEvaluationError(
                f"the text of this {type_name(value)} would be longer than the limit of {MAX_STRING_LENGTH}"
                " characters per string"
            )
        return writer.text()
    return _scalar_text(value, nested)


def excerpt(value: Any, length: int = 200) -> str:
    """FEEL's text for a value, cut to about ``length`` characters: for messages."""
    if type(value) is list or type(value) is dict:
        writer = _TextWriter(length, None)
        cut = not writer.write(value)
        text = writer.text()
    else:
        text = _scalar_text(value, False)
        cut = len(text) > length
    return text[:length] + "..." if cut else text


class _TextWriter:
    """The nested text of lists and contexts, up to ``left`` characters (``text()`` when done)."""

    __slots__ = ("chunks", "parts", "left", "budget")

    def __init__(self, limit: int, budget: StepBudget | None) -> None:
        self.chunks: list[str] = []
        self.parts: list[str] = []
        self.left = limit
        self.budget = budget

    def put(self, text: str) -> bool:
        parts = self.parts
        parts.append(text)
        self.left -= len(text)
        if len(parts) == CHECKPOINT_STEPS:  # joined as it goes: a part is often a single character
            self.chunks.append("".join(parts))
            parts.clear()
            if self.budget is not None:
                self.budget.check_time()
        return self.left >= 0

    def text(self) -> str:
        return "".join(self.chunks) + "".join(self.parts)

    def write(self, value: Any) -> bool:
        """Whether all of value's text fit."""
        t = type(value)
        if t is list:
            if not self.put("["):
                return False
            for i, item in enumerate(value):
                if i and not self.put(", "):
                    return False
                if not self.write(item):
                    return False
            return self.put("]")
        if t is dict:
            if not self.put("{"):
                return False
            for i, (key, item) in enumerate(value.items()):
                if i and not self.put(", "):
                    return False
                if not self.put(key + ":") or not self.write(item):
                    return False
            return self.put("}")
        return self.put(_scalar_text(value, True))


def _scalar_text(value: Any, nested: bool) -> str:
    t = type(value)
    if t is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if nested else value
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t in NUMBER_TYPES:
        return format_number(value)
    if t is FeelRange:
        start = "(" if value.start is None or not value.start_included else "["
        end = ")" if value.end is None or not value.end_included else "]"
        lo = "" if value.start is None else _scalar_text(value.start, True)
        hi = "" if value.end is None else _scalar_text(value.end, True)
        return f"{start}{lo}..{hi}{end}"
    if t is FeelFunction:
        return repr(value)
    text = format_temporal(value)
    return text if text is not None else repr(value)


# --- JSON ----------------------------------------------------------------------------------------


def to_json_value(value: Any, budget: StepBudget | None = None) -> Any:
    """A FEEL value as a JSON-compatible Python value, the way Zeebe stores a result.

    Whole numbers become ints, other numbers stay Decimals; temporals become strings; ranges and
    functions have no JSON form and become None (Zeebe writes nil for them). Raises
    FeelEvaluationError when the JSON value would be larger than ``MAX_ALLOCATION`` (by the size table
    of ``_budget``): a value can hold the same part many times, and JSON writes it out each time.
    Converting a large value is a time checkpoint for ``budget``.
    """
    t = type(value)
    if value is None or t is str or t is bool or t is int or t is float:
        return value
    if t is Decimal:
        return _json_number(value)
    if t is list or t is dict:
        state: list[Any] = [MAX_ALLOCATION, budget]
        result = _json_node(value, state)
        if state[0] < 0:  # strings after the last list or context
            _json_checkpoint(state)
        return result
    return format_temporal_json(value)


def _json_number(value: Decimal) -> int | Decimal:
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() < 34:
        return int(value)
    return value


def _json_node(value: Any, state: list[Any]) -> Any:
    """to_json_value below the top; ``state`` is [size left, budget or None]."""
    t = type(value)
    if t is str:
        state[0] -= STRING_SIZE + len(value)  # checked when the next list or context begins, or at the end
        return value
    if t is int or t is bool or value is None or t is float:
        return value
    if t is dict:
        before = state[0]
        left = state[0] = before - CONTEXT_SIZE - CONTEXT_ENTRY_SIZE * len(value)
        if left < 0 or before ^ left >= _MIB:
            _json_checkpoint(state)
        return {k: _json_node(v, state) for k, v in value.items()}
    if t is list:
        before = state[0]
        left = state[0] = before - LIST_SIZE - LIST_ITEM_SIZE * len(value)
        if left < 0 or before ^ left >= _MIB:
            _json_checkpoint(state)
        return [_json_node(v, state) for v in value]
    if t is Decimal:
        return _json_number(value)
    return format_temporal_json(value)


_MIB = 1 << 20


def _json_checkpoint(state: list[Any]) -> None:
    """Over the limit, or another MiB written (a time checkpoint)."""
    if state[0] < 0:
        raise FeelEvaluationError(
            f"the value would take more than {MAX_ALLOCATION // _MIB} MiB as JSON (a part it holds several"
            " times is written out each time); return a smaller value"
        )
    if state[1] is not None:
        state[1].check_time()


def from_json_value(value: Any) -> Any:
    """A JSON-decoded Python value as a FEEL value (floats become the Decimal they were written as)."""
    t = type(value)
    if t is float:
        return decimal_from_float(value)
    if t is list:
        return [from_json_value(v) for v in value]
    if t is dict:
        return {str(k): from_json_value(v) for k, v in value.items()}
    return value


# --- types ---------------------------------------------------------------------------------------


def type_name(value: Any) -> str:
    t = type(value)
    if value is None:
        return "Null"
    if t in NUMBER_TYPES:
        return "number"
    if t is datetime:
        return "date and time"
    if t is time:
        return "time"
    return _TYPE_NAMES.get(t, "Any")


_TYPE_NAMES = {
    str: "string",
    bool: "boolean",
    date: "date",
    timedelta: "days and time duration",
    YearMonthDuration: "years and months duration",
    list: "list",
    dict: "context",
    FeelRange: "range",
    FeelFunction: "function",
}


def is_instance(value: Any, type_text: str) -> bool:
    """``value instance of type_text``; generic types (``list<number>``) check the outer type."""
    base = type_text.split("<", 1)[0].strip()
    if base == "Any":
        return value is not None
    if base == "Null":
        return value is None
    if base in ("dayTimeDuration", "days and time duration"):
        base = "days and time duration"
    elif base in ("yearMonthDuration", "years and months duration"):
        base = "years and months duration"
    elif base in ("dateTime", "date time"):
        base = "date and time"
    return value is not None and type_name(value) == base
