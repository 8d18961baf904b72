"""Unary tests (`in`-style tests on the input value `?`), as DMN decision tables and `in` use them."""

from __future__ import annotations

from typing import Any

import pytest

from zeebe_trio.engine.feel import compile_unary_tests

CASES = [
    ("< 10", 5, {}, True),
    ("< 10", 10, {}, False),
    ("<= 10", 10, {}, True),
    ("> 10", 11, {}, True),
    (">= 10", 9, {}, False),
    ("!= 10", 9, {}, True),
    ("= 10", 10, {}, True),
    ("10", 10, {}, True),
    ("10", 11, {}, False),
    ('"gold"', "gold", {}, True),
    ('"gold", "silver"', "silver", {}, True),
    ('"gold", "silver"', "bronze", {}, False),
    ("[1..10]", 10, {}, True),
    ("(1..10)", 10, {}, False),
    ("]1..10]", 1, {}, False),
    ("[1..10[", 10, {}, False),
    ("< 3, > 8", 9, {}, True),
    ("< 3, > 8", 5, {}, False),
    ("-", "anything", {}, True),
    ("-", None, {}, True),
    ('not("gold")', "silver", {}, True),
    ('not("gold")', "gold", {}, False),
    ("not(< 3, > 8)", 5, {}, True),
    ("not([1..5])", 3, {}, False),
    ("< limit", 5, {"limit": 10}, True),
    ("[low..high]", 5, {"low": 1, "high": 4}, False),
    ("? > 5", 6, {}, True),
    ("? > 5 and ? < 10", 12, {}, False),
    ("odd(?)", 3, {}, True),
    ("starts with(?, \"a\")", "abc", {}, True),
    ("[1, 2, 3]", 2, {}, True),
    ("allowed", "b", {"allowed": ["a", "b"]}, True),
    ("< 10", None, {}, None),
    ('< "b"', 1, {}, None),
    ("null", None, {}, True),
    ('date("2020-01-01")', "2020-01-01", {}, None),
    ('[date("2020-01-01")..date("2020-12-31")]', None, {}, None),
    ("true", True, {}, True),
    ("false", True, {}, False),
    ('> @"2020-01-01"', None, {}, None),
]


@pytest.mark.parametrize(("source", "value", "variables", "expected"), CASES, ids=[f"{c[0]} ? {c[1]!r}" for c in CASES])
def test_unary_tests(source: str, value: Any, variables: dict[str, Any], expected: Any) -> None:
    tests = compile_unary_tests(source)
    assert tests.test(value, variables) is expected
    assert tests.evaluate({**variables, "?": value}) is expected


def test_unary_tests_report_the_variables_they_read() -> None:
    assert compile_unary_tests("[low..high], > limit").variable_names == {"low", "high", "limit"}
