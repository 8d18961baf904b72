"""Conversion between the engine's JSON variables and FEEL values, without loss."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from zeebe_trio.engine.feel import (
    FeelRange,
    YearMonthDuration,
    compile_expression,
    from_json_value,
    to_json_value,
)


def test_floats_become_the_decimal_they_were_written_as() -> None:
    assert from_json_value(0.1) == Decimal("0.1")
    assert type(from_json_value(0.1)) is Decimal
    assert from_json_value({"a": [1.5, 2, True, None, "x"]}) == {"a": [Decimal("1.5"), 2, True, None, "x"]}
    assert from_json_value(True) is True
    assert type(from_json_value(3)) is int


def test_json_floats_used_directly_are_exact() -> None:
    variables = json.loads('{"a": 0.1, "b": 0.2, "items": [{"p": 0.1}, {"p": 0.2}]}')
    assert compile_expression("a + b = 0.3").evaluate(variables) is True
    assert compile_expression("sum(items.p)").evaluate(variables) == Decimal("0.3")
    assert compile_expression("items[p > 0.1].p").evaluate(variables) == [Decimal("0.2")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (3, 3),
        (Decimal("3.0"), 3),
        (Decimal("3.25"), Decimal("3.25")),
        (Decimal("1E+40"), Decimal("1E+40")),
        ("s", "s"),
        ([Decimal("2.0"), [None]], [2, [None]]),
        ({"a": {"b": Decimal("1.10")}}, {"a": {"b": Decimal("1.10")}}),
        (date(2026, 11, 21), "2026-11-21"),
        (time(10, 0), "10:00"),
        (time(10, 0, 5, 120000), "10:00:05.120"),
        (time(10, 0, tzinfo=timezone(timedelta(hours=2))), "10:00:00+02:00"),
        (datetime(2026, 11, 21, 10, 0), "2026-11-21T10:00"),
        (datetime(2026, 11, 21, 10, 0, 5), "2026-11-21T10:00:05"),
        (datetime(2026, 11, 21, 10, 0, tzinfo=UTC), "2026-11-21T10:00Z"),
        (datetime(2026, 6, 21, 10, 0, 1, tzinfo=ZoneInfo("Europe/Berlin")), "2026-06-21T10:00:01+02:00[Europe/Berlin]"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(0), "PT0S"),
        (-timedelta(minutes=5), "-PT5M"),
        (YearMonthDuration(14), "P1Y2M"),
        (YearMonthDuration(0), "P0Y"),
        (FeelRange(1, 2, True, True), None),
    ],
)
def test_to_json_value(value: object, expected: object) -> None:
    result = to_json_value(value)
    assert result == expected
    assert type(result) is type(expected)


def test_results_survive_a_json_round_trip() -> None:
    expression = compile_expression("{total: sum(items.price), n: count(items), due: date(d) + duration(\"P3D\")}")
    result = to_json_value(expression.evaluate({"items": [{"price": 1.25}, {"price": 2}], "d": "2026-02-27"}))
    text = json.dumps(result, default=float)
    assert json.loads(text, parse_float=Decimal) == {"total": Decimal("3.25"), "n": 2, "due": "2026-03-02"}


def test_serialized_temporals_parse_back_to_the_same_value() -> None:
    for source in (
        '@"2026-11-21T10:00:00@Europe/Berlin"', '@"2026-11-21T10:00:00Z"', '@"2026-11-21T10:00:30"',
        '@"2026-11-21"',
    ):
        value = compile_expression(source).evaluate({})
        text = to_json_value(value)
        back = compile_expression("if x instance of string then date and time(x) else null").evaluate({"x": text})
        if type(value) is date:
            back = back.date()
        assert back == value, (source, text)
