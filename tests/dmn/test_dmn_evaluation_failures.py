"""Failed evaluations are results, not exceptions: the failed decision, the decisions evaluated up
to it, and a message worded as Zeebe words it ("Expected to evaluate decision 'x', but" + dmn-scala's
reason)."""

from __future__ import annotations

from ._dmn_xml import Literal, Table, drg


def test_more_than_one_match_of_a_unique_table_fails() -> None:
    table = Table("d", [("X", "x")], [("out", None, None)], [([">0"], ['"a"']), ([">5"], ['"b"'])])
    result = drg(table).evaluate("d", {"x": 9})
    assert result.failed and result.decision_output is None
    assert result.failed_decision_id == "d"
    assert result.failure_message == (
        "Expected to evaluate decision 'd', but multiple values aren't allowed for UNIQUE hit policy. "
        "found: 'List(Map(out -> ValString(a)), Map(out -> ValString(b)))'")
    (evaluated,) = result.evaluated_decisions
    assert evaluated.decision_output is None
    assert [r.rule_index for r in evaluated.matched_rules] == [1, 2]
    assert evaluated.evaluated_inputs[0].input_value == 9


def test_disagreeing_matches_of_an_any_table_fail() -> None:
    table = Table("d", [("X", "x")], [("out", None, None)], [([">0"], ["1"]), ([">5"], ["2"])], hit_policy="ANY")
    result = drg(table).evaluate("d", {"x": 9})
    assert result.failure_message == (
        "Expected to evaluate decision 'd', but different values aren't allowed for ANY hit policy. "
        "found: 'List(Map(out -> ValNumber(1)), Map(out -> ValNumber(2)))'")


def test_summing_something_else_than_numbers_fails() -> None:
    table = Table("d", [("X", "x")], [("out", None, None)], [(["-"], ['"a"'])], hit_policy="COLLECT",
                  aggregation="SUM")
    result = drg(table).evaluate("d", {"x": 1})
    assert result.failure_message == "Expected to evaluate decision 'd', but expected number but found 'ValString(a)'"


def test_an_unknown_decision_fails_naming_it() -> None:
    result = drg(Literal("d", "1")).evaluate("other", {})
    assert (result.failed_decision_id, result.evaluated_decisions) == ("other", ())
    assert result.failure_message == "Expected to evaluate decision 'other', but no decision found with id 'other'"


def test_a_failing_required_decision_is_the_failed_decision_and_stops_the_evaluation() -> None:
    failing = Table("inner", [("X", "x")], [("out", None, None)], [([">0"], ["1"]), ([">0"], ["2"])])
    before = Literal("before", "1", variable="before")
    top = Literal("top", "inner", variable="top", requires=["before", "inner"])
    result = drg(before, failing, top).evaluate("top", {"x": 1})
    assert result.failed_decision_id == "inner"
    assert result.failure_message.startswith("Expected to evaluate decision 'top', but multiple values aren't allowed")
    assert [d.decision_id for d in result.evaluated_decisions] == ["before", "inner"]


def test_an_exceeded_feel_budget_fails_the_decision() -> None:
    result = drg(Literal("d", "count(for i in 1..100000000 return i)")).evaluate("d", {})
    assert result.failed_decision_id == "d"
    assert result.failure_message.startswith(
        "Expected to evaluate decision 'd', but failed to evaluate expression 'count(for i in 1..100000000 return i)': ")
    assert "more than the limit of 1000000" in result.failure_message


def test_an_exceeded_budget_in_an_input_entry_fails_the_table() -> None:
    table = Table("d", [("X", "x")], [("out", None, None)],
                  [(["count(for i in 1..100000000 return i) > 0"], ["1"])])
    result = drg(table).evaluate("d", {"x": 1})
    assert result.failed_decision_id == "d"
    assert "failed to evaluate expression" in result.failure_message


def test_a_whole_evaluation_gives_up_after_its_time_limit() -> None:
    from zeebe_trio.engine.dmn import MAX_DECISION_SECONDS

    rules = [([f"> {i}"], [str(i)]) for i in range(5)]
    table = Table("d", [("X", "x")], [("out", None, None)], rules, hit_policy="COLLECT")
    ticks = iter(range(0, 1000))

    def clock() -> float:  # every reading is a second later
        return float(next(ticks))

    result = drg(table).evaluate("d", {"x": 10}, monotonic=clock)
    assert result.failed_decision_id == "d"
    assert result.failure_message == (f"Expected to evaluate decision 'd', but the evaluation took longer than "
                                      f"{MAX_DECISION_SECONDS:g} s in all; evaluate fewer rules or simpler expressions")
    assert drg(table).evaluate("d", {"x": 10}).decision_output == [0, 1, 2, 3, 4]
