"""Input entries are FEEL unary tests on the input value ``?``, table-driven: ranges, lists,
negation, ``-`` and empty cells, comparisons, expressions with ``?`` and with other variables."""

from __future__ import annotations

from typing import Any

import pytest

from ._dmn_xml import Table, drg

CASES: list[tuple[str, Any, bool]] = [
    # (input entry, input value, matches)
    ("-", 1, True),
    ("-", None, True),
    ("", "anything", True),
    ('"Fall"', "Fall", True),
    ('"Fall"', "Winter", False),
    ('"Fall","Winter"', "Winter", True),
    ('"Fall","Winter"', "Spring", False),
    ('not("Fall")', "Winter", True),
    ('not("Fall")', "Fall", False),
    ('not("Fall","Winter")', "Winter", False),
    ("< 10", 9, True),
    ("< 10", 10, False),
    ("<= 10", 10, True),
    ("> 10", 10, False),
    (">= 10", 10, True),
    ("[1..5]", 1, True),
    ("[1..5]", 5, True),
    ("]1..5]", 1, False),
    ("[1..5[", 5, False),
    ("(1..5)", 3, True),
    ("[1..5]", 6, False),
    ("[1..5], > 10", 11, True),
    ("[1..5], > 10", 7, False),
    ("not([1..5])", 7, True),
    ("10", 10, True),
    ("10", 11, False),
    ("true", True, True),
    ("false", True, False),
    ("null", None, True),
    ("? > 3", 4, True),
    ("? > 3", 2, False),
    ('starts with(?, "ab")', "abc", True),
    ('starts with(?, "ab")', "xbc", False),
    ("> limit", 6, True),  # limit = 5 in the variables
    ("limit", 5, True),
    ("[limit..limit * 2]", 10, True),
    ('date("2024-01-01")', "2024-01-01", False),  # a string is not a date
    ('< date("2024-01-01")', "2023-12-31", False),
    ("< 10", "text", False),  # a type mismatch is null: no match
    ("< 10", None, False),
]


@pytest.mark.parametrize(("entry", "value", "matches"), CASES, ids=[f"{c[0]!r} on {c[1]!r}" for c in CASES])
def test_input_entry(entry: str, value: Any, matches: bool) -> None:
    table = Table("d", [("In", "input")], [("out", None, None)], [([entry], ['"hit"'])])
    result = drg(table).evaluate("d", {"input": value, "limit": 5})
    assert not result.failed, result.failure_message
    assert result.decision_output == ("hit" if matches else None)


def test_dates_in_input_expressions_and_entries() -> None:
    table = Table("d", [("Day", 'date(day)')], [("out", None, None)],
                  [(['[date("2024-01-01")..date("2024-12-31")]'], ['"2024"']), (["-"], ['"other"'])],
                  hit_policy="FIRST")
    assert drg(table).evaluate("d", {"day": "2024-06-01"}).decision_output == "2024"
    assert drg(table).evaluate("d", {"day": "2025-06-01"}).decision_output == "other"


def test_a_rule_matches_only_when_every_input_entry_matches() -> None:
    table = Table("d", [("A", "a"), ("B", "b")], [("out", None, None)],
                  [(["1", "2"], ['"both"']), (["1", "-"], ['"a only"'])], hit_policy="RULE ORDER")
    assert drg(table).evaluate("d", {"a": 1, "b": 2}).decision_output == ["both", "a only"]
    assert drg(table).evaluate("d", {"a": 1, "b": 3}).decision_output == ["a only"]
    assert drg(table).evaluate("d", {"a": 2, "b": 2}).decision_output is None


def test_a_missing_variable_is_null_in_input_expressions() -> None:
    table = Table("d", [("A", "order.total")], [("out", None, None)],
                  [(["null"], ['"no total"']), (["> 0"], ['"total"'])], hit_policy="FIRST")
    result = drg(table).evaluate("d", {})
    assert result.decision_output == "no total"
    assert result.evaluated_decisions[0].evaluated_inputs[0].input_value is None
