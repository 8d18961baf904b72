"""Helpers shared by the FEEL tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from zeebe_trio.engine.feel import to_json_value


def same(actual: Any, expected: Any) -> bool:
    """Strict structural equality: bools are not numbers, numbers compare by value (int vs Decimal)."""
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(expected, (int, Decimal)):
        if type(actual) is float:  # a JSON float passed through untouched
            actual = Decimal(repr(actual))
        return type(actual) in (int, Decimal) and not isinstance(actual, bool) and actual == expected
    if isinstance(expected, float):
        raise AssertionError("write expected numbers as int or Decimal, not float")
    if isinstance(expected, str):
        return type(actual) is str and actual == expected
    if isinstance(expected, list):
        return (
            type(actual) is list and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            type(actual) is dict and actual.keys() == expected.keys()
            and all(same(actual[k], v) for k, v in expected.items())
        )
    raise AssertionError(f"unsupported expected value {expected!r}")


def json_result(value: Any) -> Any:
    return to_json_value(value)
