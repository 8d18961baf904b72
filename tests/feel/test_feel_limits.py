"""Hostile expressions fail cleanly with FeelEvaluationError instead of hanging or eating memory."""

from __future__ import annotations

import pytest

from zeebe_trio.engine.feel import FeelEvaluationError, compile_expression

HOSTILE = [
    "for x in 1..1000000000 return x",
    "for x in 1..1000, y in 1..1000, z in 1..1000 return 1",
    "count(for x in 1..600000 return x) + count(for x in 1..600000 return x)",
    "some x in 1..1000000000 satisfies x < 0",
    "for i in 1..40 return if i = 1 then [1] else concatenate(partial[-1], partial[-1])",
    'for i in 1..40 return if i = 1 then "ab" else partial[-1] + partial[-1]',
    "{f: function(n) f(n + 1), r: f(0)}.r",
    "{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(100000)}.r",
    'assert(x, x > 0, "x must be positive")',
    "for i in 1..2000 return for j in 1..2000 return i",
    "count(for x in [1..2000000] return x)",
    'replace(s, "", s)',
    'string join(for i in 1..100 return s)',
    "distinct values(for i in 1..3000 return {a: i})",
    "sort(for i in 1..200000 return modulo(i * 7919, 10007), function(a, b) a < b)",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expression_fails_with_an_evaluation_error(source: str) -> None:
    with pytest.raises(FeelEvaluationError):
        compile_expression(source).evaluate({"x": -1, "s": "x" * 200_000})


def test_the_limit_message_names_the_problem() -> None:
    with pytest.raises(FeelEvaluationError, match="range 1..1000000000 has 1000000000 items"):
        compile_expression("for x in 1..1000000000 return x").evaluate({})


def test_failed_assertion_carries_its_cause() -> None:
    with pytest.raises(FeelEvaluationError, match="x must be positive"):
        compile_expression('assert(x, x > 0, "x must be positive")').evaluate({"x": -1})


def test_large_but_allowed_iteration_works() -> None:
    assert compile_expression("count(for x in 1..100000 return x)").evaluate({}) == 100000


def test_a_limit_in_one_evaluation_does_not_leak_into_the_next() -> None:
    expression = compile_expression("count(for x in 1..600000 return x)")
    for _ in range(3):
        assert expression.evaluate({}) == 600000


def test_huge_numbers_round_instead_of_growing() -> None:
    result = compile_expression("for i in 1..200 return 10 ** i * 10 ** i").evaluate({})
    assert result[-1] is None or len(str(result[-1])) < 100
    assert compile_expression("2 ** 999999999").evaluate({}) is None


@pytest.mark.parametrize("expression", [
    'matches("' + "a" * 40 + '!", "(a|aa)+$")',
    'replace("' + "a" * 40 + '!", "(a|aa)+$", "x")',
    'extract("' + "a" * 40 + '!", "(a|aa)+$")',
    'split("' + "a" * 40 + '!", "(a|aa)+$")',
])
def test_a_catastrophic_regular_expression_times_out_instead_of_hanging(expression: str) -> None:
    with pytest.raises(FeelEvaluationError, match="took longer than"):
        compile_expression(expression).evaluate({})


def test_patterns_that_backtrack_catastrophically_in_re_are_answered_at_once() -> None:
    assert compile_expression('matches("' + "a" * 40 + '!", "(a+)+$")').evaluate({}) is False
    assert compile_expression('matches("' + "x" * 40 + '", "(x+x+)+y")').evaluate({}) is False


def test_regular_expressions_understand_javas_unicode_classes() -> None:
    assert compile_expression('matches("Grüße", "^\\\\p{L}+$")').evaluate({}) is True
    assert compile_expression('replace("a1b2", "\\\\p{Nd}", "#")').evaluate({}) == "a#b#"
    assert compile_expression('matches("abc", "(")').evaluate({}) is None  # an invalid pattern is null
