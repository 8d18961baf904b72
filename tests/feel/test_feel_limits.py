"""Hostile expressions fail cleanly with FeelEvaluationError instead of hanging or eating memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from zeebe_trio.engine.feel import FeelEvaluationError, compile_expression
from zeebe_trio.engine.feel._compiler import Root

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


# --- the evaluation budget: steps, size and time, one per evaluation (engine/feel/_budget.py) ---------

SIZE_ERROR = r"evaluation used more than 16 MiB|characters per string|items per list"


def _doubling_context(times: int, start: str = "a") -> str:
    entries = [f's0: "{start}"'] + [f"s{i}: s{i - 1} + s{i - 1}" for i in range(1, times + 1)]
    return ", ".join(entries)


def _peak_bytes(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _fails(source: str, match: str, variables: dict[str, Any] | None = None, **options: Any) -> None:
    with pytest.raises(FeelEvaluationError, match=match):
        compile_expression(source).evaluate(variables or {}, **options)


class FakeClock:
    """A monotonic clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 100.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def test_the_issue_expression_fails_fast_with_a_size_error_instead_of_allocating_gigabytes() -> None:
    # Issue 8, item 1: a context doubles a string 22 times (4 Mi characters), then concatenates it
    # 1,000 times; each concatenation stays under every step limit, together they made ~4 GB.
    source = ("count({" + _doubling_context(22)
              + ", copies: for i in 1..1000 return s22 + string(i)}.copies) > 0")
    started = time.monotonic()
    peak = _peak_bytes(lambda: _fails(source, SIZE_ERROR))
    assert peak < 64 * 1024 * 1024
    assert time.monotonic() - started < 5


def test_many_values_each_under_the_single_value_limits_exhaust_the_total() -> None:
    # 1 Mi characters each: fine one by one, 16 MiB in all after about fifteen of them.
    source = "count({" + _doubling_context(20) + ", copies: for i in 1..1000 return s20 + string(i)}.copies)"
    peak = _peak_bytes(lambda: _fails(source, "evaluation used more than 16 MiB"))
    assert peak < 64 * 1024 * 1024


def test_one_string_too_long_fails_before_it_is_built() -> None:
    peak = _peak_bytes(lambda: _fails("{" + _doubling_context(23) + "}.s23", "characters per string"))
    assert peak < 32 * 1024 * 1024


def _shared(leaf: str, width: int, depth: int) -> str:
    """A context whose entry x{depth} holds width**depth leaves, built from depth + 1 small lists."""
    entries = [f"x0: {leaf}"] + [f"x{i}: [{', '.join([f'x{i - 1}'] * width)}]" for i in range(1, depth + 1)]
    return "{" + ", ".join(entries) + "}"


_VARIABLES = {"big": [{"a": i} for i in range(100_000)], "text": "x" * 100_000, "short": "x" * 20_000,
              "context": {f"k{i}": i for i in range(100_000)}, "numbers": list(range(300_000))}
_CONTEXT_OF_20 = "{" + ", ".join(f"k{k}: i" for k in range(20)) + "}"
_LIST_OF_50 = "[" + ", ".join(["j"] * 50) + "]"


@pytest.mark.parametrize("source", [
    f"count(for i in 1..1000000 return {_CONTEXT_OF_20})",
    f"count(for i in 1..100 return for j in 1..10000 return {_LIST_OF_50})",
    "count(for i in 1..1000 return concatenate(big, big))",
    "count(for i in 1..1000 return append(big, i))",
    "string length(string join(for i in 1..1000 return text))",
    "count(for i in 1..1000 return string join(for j in 1..100 return text))",
    "count(for i in 1..1000 return upper case(text))",
    "count(partition(numbers, 1))",
    "count(for i in 1..1000 return get entries(context))",
    'count(from json("[" + string join(for j in 1..250000 return "[]", ",") + "]"))',
    "count(for i in 1..40 return if i = 1 then [1] else concatenate(partial[-1], partial[-1]))",
])
def test_lists_strings_and_contexts_that_grow_fail_with_a_size_error_in_bounded_memory(source: str) -> None:
    peak = _peak_bytes(lambda: _fails(source, SIZE_ERROR, _VARIABLES))
    assert peak < 64 * 1024 * 1024


@pytest.mark.parametrize("source", [
    "count(for i in 1..1000 return big.a)",
    'count(for i in 1..100 return split(short, ""))',
    'count(for i in 1..100 return extract(short, "x"))',
    f"count({_shared('[1]', 100, 5)}.x5.a)",
])
def test_many_small_values_fail_with_a_size_error(source: str) -> None:
    _fails(source, SIZE_ERROR, _VARIABLES)


# A value can hold one part many times: a few small lists that reach millions of leaves.
WIDE = _shared("[1]", 100, 5) + ".x5"
LONG = _shared("[text]", 10, 6) + ".x6"
EMPTY = _shared("[]", 100, 5) + ".x5"


@pytest.mark.parametrize(("source", "match"), [
    (f"string({LONG})", "characters per string"),
    (f"to json({LONG})", "MiB as JSON"),
])
def test_values_that_share_their_parts_cannot_blow_up_when_written_out(source: str, match: str) -> None:
    peak = _peak_bytes(lambda: _fails(source, match, {"text": "x" * 10_000}))
    assert peak < 64 * 1024 * 1024


@pytest.mark.parametrize("source", [
    f"[{WIDE}] != [{WIDE}]",
    f"list contains([1, {WIDE}], {WIDE})",
    f"count(flatten({EMPTY}))",
])
def test_comparing_or_walking_values_that_share_their_parts_spends_steps(source: str) -> None:
    _fails(source, "iteration steps")


def test_a_result_that_shares_its_parts_fails_when_converted_for_a_variable() -> None:
    expression = compile_expression(LONG)
    assert type(expression.evaluate({"text": "x" * 10_000})) is list  # as a FEEL value it is small
    with pytest.raises(FeelEvaluationError, match="MiB as JSON"):
        expression.evaluate({"text": "x" * 10_000}, as_json=True)


def test_steps_are_shared_by_every_call_in_one_evaluation() -> None:
    # Each call compares 4,950 pairs of 101-item lists, about 505,000 steps: one call fits the
    # million steps, two do not (each call used to get a million of its own).
    items = [[i] + [0] * 100 for i in range(100)]
    assert compile_expression("count(distinct values(items))").evaluate({"items": items}) == 100
    _fails("for i in 1..2 return count(distinct values(items))", "iteration steps", {"items": items})


def test_sizes_are_counted_per_evaluation() -> None:
    expression = compile_expression("count({" + _doubling_context(20) + ", copies: for i in 1..10 return s20 + string(i)}.copies)")
    for _ in range(3):
        assert expression.evaluate({}) == 10  # ~13 MiB each time, under the 16 MiB of one evaluation


def test_a_thousand_regular_expressions_share_one_time_budget() -> None:
    # Issue 8, item 9: each call is far under the per-call timeout, together they took a minute.
    clock = FakeClock(step=2**-9)  # each call reads the clock once (a step exact in binary); 1 s budget
    source = 'count(for i in 1..1000 return matches("item " + string(i), "[0-9]+"))'
    _fails(source, r"evaluation took longer than 1 s \(regular expressions included\)", monotonic=clock)
    assert clock.reads == 513  # the first read starts the clock; read 513 finds no time left
    assert compile_expression(source).evaluate({}, monotonic=FakeClock(step=2**-11)) == 1000


def test_the_time_budget_holds_for_real_regular_expressions() -> None:
    # About 6 ms each here (fifty times under the per-call timeout of 0.25 s); 1,000 of them would be
    # 6 s, but the evaluation stops once its second is up.
    started = time.monotonic()
    _fails('count(for i in 1..1000 return matches(text, "(a|aa)+b"))', "evaluation took longer than 1 s",
           {"text": "a" * 18 + "!"}, monotonic=time.monotonic)
    assert 0.9 < time.monotonic() - started < 3


def test_a_regular_expression_gets_only_the_time_left() -> None:
    clock = FakeClock(step=0.3)
    # The first call starts the clock with 1 s left, so each call may match for at most 0.25 s; a
    # catastrophic pattern past the deadline fails as the evaluation's time budget, not the call's.
    _fails('for i in 1..10 return matches("' + "a" * 40 + '!", "(a|aa)+$")',
           "took longer than", monotonic=clock)


@pytest.mark.parametrize("source", [
    "count(for i in 1..1000000 return i)",
    "count(items[item > 0])",
    "every i in 1..1000000 satisfies i > 0",
    "count(for i in 1..500, j in 1..500 return i)",
    "count(sort(for i in 1..5000 return i, function(a, b) a > b))",
    "count(sort(for i in 1..5000 return 5000 - i))",
    "count(distinct values(for i in 1..1000 return [i]))",
    f"string({LONG})",
    f"{WIDE} = {WIDE}",
])
def test_long_loops_and_calls_are_time_checkpoints(source: str) -> None:
    clock = FakeClock(step=0.3)
    _fails(source, "evaluation took longer than 1 s", {"items": list(range(100_000)), "text": "x" * 10},
           monotonic=clock)
    assert clock.reads <= 6  # it stopped at the first checkpoint past the deadline


@pytest.mark.parametrize(("source", "variables"), [
    ("total > 100", {"total": 120}),
    ("items[price > 10]", {"items": [{"price": p} for p in range(5, 25, 2)]}),
    ('upper case(name) + "!"', {"name": "zeebe"}),
    ("for i in 1..100 return i * 2", {}),
])
def test_an_evaluation_without_checkpoints_never_reads_the_clock(source: str, variables: dict[str, Any]) -> None:
    def clock() -> float:
        raise AssertionError("read the clock")

    compile_expression(source).evaluate(variables, monotonic=clock)


def test_without_a_clock_there_is_no_time_budget_only_the_per_call_regex_timeout() -> None:
    source = 'count(for i in 1..1000 return matches("item " + string(i), "[0-9]+"))'
    assert compile_expression(source).evaluate({}) == 1000


def test_an_assertion_quotes_a_huge_value_as_a_short_excerpt() -> None:
    with pytest.raises(FeelEvaluationError) as caught:
        compile_expression("assert(value, false)").evaluate({"value": ["x" * 1000] * 1000})
    assert len(str(caught.value)) < 400


def test_an_evaluation_starts_with_the_same_root_scope_as_root_init() -> None:
    # Expression.evaluate builds its root inline (for speed); it must match Root.__init__.
    expression = compile_expression("x")
    seen: list[Root] = []
    original = expression._fn  # type: ignore[attr-defined]

    def spy(scope: Root) -> object:
        seen.append(scope)
        return original(scope)

    expression._fn = spy  # type: ignore[attr-defined]
    now, clock = (lambda: None), FakeClock(1.0)
    expression.evaluate({"x": 1}, now=now, monotonic=clock)  # type: ignore[arg-type]
    reference = Root({"x": 1}, now, clock)  # type: ignore[arg-type]
    slots = [name for cls in type(reference).__mro__ for name in getattr(cls, "__slots__", ())]
    assert len(slots) == 10
    for name in slots:
        expected = getattr(reference, name)
        actual = getattr(seen[0], name)
        assert actual is seen[0] if expected is reference else actual == expected, name
