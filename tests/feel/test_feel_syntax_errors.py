"""Malformed expressions fail with FeelSyntaxError naming what was expected and where."""

from __future__ import annotations

import pytest

from zeebe_trio.engine.feel import FeelError, FeelSyntaxError, compile_expression, compile_unary_tests

ERRORS = [
    ("a + (b * 2", "expected ')' at 1:11 in \"a + (b * 2\"", (1, 11)),
    ("f(1, 2", "expected ')' at 1:7 in \"f(1, 2\"", (1, 7)),
    ("[1, 2", "expected ']' at 1:6 in \"[1, 2\"", (1, 6)),
    ("{a: 1", "expected '}' at 1:6 in \"{a: 1\"", (1, 6)),
    ("{a 1}", "expected ':' but found '1' at 1:4 in \"{a 1}\"", (1, 4)),
    ("if x then 1", "expected 'else' at 1:12 in \"if x then 1\"", (1, 12)),
    ("if x 1 else 2", "expected 'then' but found '1' at 1:6 in \"if x 1 else 2\"", (1, 6)),
    ("for x in [1] x", "expected 'return' but found 'x' at 1:14 in \"for x in [1] x\"", (1, 14)),
    ("some x in [1] x > 1", "expected 'satisfies' but found 'x' at 1:15", (1, 15)),
    ("1 +", "unexpected end of input at 1:4", (1, 4)),
    ("", "expected an expression but found end of input at 1:1", (1, 1)),
    ("   ", "expected an expression but found end of input at 1:4", (1, 4)),
    ('"unterminated', "expected '\"' to close the string at 1:14", (1, 14)),
    ("a ! b", "unexpected character '!' at 1:3", (1, 3)),
    ("1 2", "unexpected '2' at 1:3", (1, 3)),
    ("a +\n  * b", "unexpected '*' at 2:3", (2, 3)),
    ("x between 1", "expected 'and' at 1:12", (1, 12)),
    ("x instance of", "expected a type name but found end of input at 1:14", (1, 14)),
    ("[1..5", "expected ']' or ')' to close the range but found end of input at 1:6", (1, 6)),
    ("a.", "expected a name after '.' but found end of input at 1:3", (1, 3)),
    ("a.1", "expected a name after '.' but found '1' at 1:3", (1, 3)),
    ("function(a, a) a", "parameter 'a' is defined twice at 1:14", (1, 14)),
    ("{a: 1, a: 2}", "context key 'a' is defined twice at 1:8", (1, 8)),
    ("f(a: 1, a: 2)", "argument 'a' is given twice at 1:9", (1, 9)),
    ("`unclosed", "expected '`' to close the name at 1:10", (1, 10)),
    ("/* open", "unterminated comment at 1:1", (1, 1)),
    ('"\\u12"', "expected four hex digits after \\u at 1:2", (1, 2)),
    ("then", "unexpected keyword 'then' at 1:1", (1, 1)),
    ("1abc", "unexpected 'a' after number 1 at 1:2", (1, 2)),
    (")", "unexpected ')' at 1:1", (1, 1)),
]


@pytest.mark.parametrize(("source", "message", "position"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_error_names_what_was_expected_and_where(source: str, message: str, position: tuple[int, int]) -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        compile_expression(source)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert isinstance(caught.value, FeelError)


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(FeelSyntaxError, match="nested more than"):
        compile_expression("(" * 10_000 + "1" + ")" * 10_000)
    with pytest.raises(FeelSyntaxError, match="nested more than"):
        compile_expression("[" * 500 + "]" * 500)
    with pytest.raises(FeelSyntaxError, match="nested more than"):
        compile_expression("-" * 500 + "1")
    with pytest.raises(FeelSyntaxError, match="nested more than"):
        compile_expression("if " * 200 + "x")


def test_moderate_nesting_is_fine() -> None:
    assert compile_expression("(" * 30 + "1" + ")" * 30).evaluate({}) == 1
    assert compile_expression("1" + " + 1" * 5000).evaluate({}) == 5001


def test_long_source_is_quoted_truncated_in_the_message() -> None:
    source = "1 + " * 200 + ")"
    with pytest.raises(FeelSyntaxError) as caught:
        compile_expression(source)
    assert "..." in str(caught.value)
    assert caught.value.position == (1, len(source))


@pytest.mark.parametrize("source", ["< ", "[1..", "not(1", "1,", ", 1"])
def test_unary_tests_syntax_errors(source: str) -> None:
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests(source)


@pytest.mark.parametrize(
    "source",
    ["a" + "[1]" * 5000, "a" + " = a" * 5000, "f" + "()" * 5000, "a" + " instance of number = true" * 300],
)
def test_long_left_leaning_chains_are_bounded(source: str) -> None:
    with pytest.raises(FeelSyntaxError, match="nested more than"):
        compile_expression(source)


def test_long_flat_chains_compile_into_loops() -> None:
    assert compile_expression(" and ".join(["true"] * 5000)).evaluate({}) is True
    assert compile_expression(" or ".join(["false"] * 4999 + ["null"])).evaluate({}) is None
    assert compile_expression("x" + ".a" * 3000).evaluate({"x": {}}) is None
