"""Property tests: the parser fails only with FeelSyntaxError; evaluation only with FeelError."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeebe_trio.engine.feel import (
    FeelError,
    FeelSyntaxError,
    compile_expression,
    compile_unary_tests,
    from_json_value,
    to_json_value,
)

TOKENS = [
    "x", "y", "items", "item", "?", "a b", "`q r`", "1", "0", "-3", "2.5", ".5", '"s"', '"\\n"', "true",
    "false", "null", "@\"2020-01-01\"", "@\"P1D\"", "@\"10:00:00Z\"", "+", "-", "*", "/", "**", "=", "!=",
    "<", "<=", ">", ">=", "and", "or", "not", "(", ")", "[", "]", "{", "}", ",", ":", ".", "..", "if",
    "then", "else", "for", "in", "return", "some", "every", "satisfies", "between", "instance of",
    "function", "number", "count", "sum", "date", "date and time", "upper case", "string join", "@", "`",
    "\"", "//", "/*", "*/", "\\", "\n", " ", "$", "#", "é", "😀",
]

# FEEL_HYPOTHESIS_EXAMPLES=5000 for a longer hunt
SETTINGS = settings(
    max_examples=int(os.environ.get("FEEL_HYPOTHESIS_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(st.text(max_size=80))
def test_compiling_arbitrary_text_raises_only_syntax_errors(source: str) -> None:
    try:
        compile_expression(source)
    except FeelSyntaxError as error:
        line, column = error.position
        assert line >= 1 and column >= 1
    try:
        compile_unary_tests(source)
    except FeelSyntaxError:
        pass


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_compiling_token_soup_raises_only_syntax_errors(tokens: list[str]) -> None:
    source = " ".join(tokens)
    for compile_ in (compile_expression, compile_unary_tests):
        try:
            compiled = compile_(source)
        except FeelSyntaxError:
            continue
        try:
            compiled.evaluate({"x": 1, "items": [1, 2]})
        except FeelError:
            pass


# --- random valid expressions ---------------------------------------------------------------------

LEAVES = st.sampled_from([
    "x", "y", "s", "items", "ctx", "missing", "1", "0", "-2", "2.5", "0.1", '"abc"', '""', "true", "false",
    "null", "[1, 2, 3]", "[]", "{a: 1}", '@"2020-01-31"', '@"P1M"', '@"PT1H"', '@"10:00:00"',
    '@"2020-01-01T10:00:00Z"', "[1..3]", "now()", "today()",
])
BINARY = st.sampled_from(["+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "and", "or"])
UNARY_FUNCTIONS = st.sampled_from([
    "string", "number", "not", "count", "sum", "min", "max", "mean", "abs", "floor", "sqrt", "log", "exp",
    "upper case", "string length", "reverse", "distinct values", "flatten", "is empty", "date",
    "date and time", "duration", "day of week", "last day of month", "get entries", "odd", "trim",
])
BINARY_FUNCTIONS = st.sampled_from([
    "substring", "contains", "starts with", "append", "concatenate", "list contains", "index of",
    "modulo", "decimal", "round half up", "get value", "before", "includes", "overlaps", "split",
    "matches", "union", "partition", "sublist", "remove", "string join", "get or else",
])


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, BINARY, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"-({e})"),
            st.tuples(UNARY_FUNCTIONS, inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(BINARY_FUNCTIONS, inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"(for v in {t[0]} return {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"(some v in {t[0]} satisfies {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
            inner.map(lambda e: f"({e}).a"),
            st.tuples(inner, inner).map(lambda t: f"{{k: {t[0]}, j: {t[1]}}}"),
            st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} between {t[1]} and {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} in ({t[1]}, > 1))"),
            inner.map(lambda e: f"(({e}) instance of number)"),
            st.tuples(inner, inner).map(lambda t: f"(function(v) {t[0]})({t[1]})"),
        )

    return st.recursive(LEAVES, extend, max_leaves=12)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=8,
)

CLOCK = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _is_feel_value(value: Any) -> bool:
    to_json_value(value)  # must not raise
    return True


@SETTINGS
@given(_expressions(), JSON_VALUES, JSON_VALUES)
def test_evaluating_random_valid_expressions_raises_only_feel_errors(source: str, x: Any, y: Any) -> None:
    expression = compile_expression(source)
    variables = {"x": x, "y": y, "s": "text", "items": [1, 2.5, None], "ctx": {"a": 1.5, "b": [1]}}
    try:
        result = expression.evaluate(variables, now=lambda: CLOCK)
    except FeelError:
        return
    assert _is_feel_value(result)
    again = expression.evaluate(variables, now=lambda: CLOCK)
    assert to_json_value(again) == to_json_value(result)  # deterministic


@SETTINGS
@given(JSON_VALUES)
def test_json_values_round_trip(value: Any) -> None:
    feel_value = from_json_value(value)
    back = to_json_value(feel_value)
    assert _same_json(back, value)


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(b, float):
        return Decimal(repr(b)) == a
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(map(_same_json, a, b))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in b)
    return type(a) is type(b) and a == b
