"""Every hit policy, table-driven: which rules match, which are listed, and the output (dmn-scala's
semantics: FIRST lists only the first match, PRIORITY and OUTPUT ORDER rank by the outputValues,
COLLECT aggregates single outputs, no match gives the default outputs or null)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ._dmn_xml import Table, drg

# Rules on one input "x": r1 x > 0 -> "a"/1, r2 x > 5 -> "b"/2, r3 x > 8 -> "c"/3, r4 x > 5 -> "b"/2 (a
# duplicate of r2's output, which ANY accepts).
RULES_STR = [([">0"], ['"a"']), ([">5"], ['"b"']), ([">8"], ['"c"']), ([">5"], ['"b"'])]
RULES_NUM = [([">0"], ["1"]), ([">5"], ["2.5"]), ([">8"], ["3"])]

CASES: list[tuple[str, str | None, str | None, list[Any], str | None, int, Any, list[int]]] = [
    # (case, hit policy, aggregation, rules, outputValues, x, expected output, matched rule indexes)
    ("unique one match", "UNIQUE", None, RULES_STR[:1], None, 3, "a", [1]),
    ("unique is the default", None, None, RULES_STR[:1], None, 3, "a", [1]),
    ("unique no match", "UNIQUE", None, RULES_STR[:1], None, -1, None, []),
    ("first lists only the first match", "FIRST", None, RULES_STR, None, 9, "a", [1]),
    ("first no match", "FIRST", None, RULES_STR, None, 0, None, []),
    ("any agreeing matches", "ANY", None, [RULES_STR[1], RULES_STR[3]], None, 6, "b", [1, 2]),
    ("rule order", "RULE ORDER", None, RULES_STR, None, 9, ["a", "b", "c", "b"], [1, 2, 3, 4]),
    ("rule order one match is still a list", "RULE ORDER", None, RULES_STR, None, 1, ["a"], [1]),
    ("rule order no match is null", "RULE ORDER", None, RULES_STR, None, 0, None, []),
    ("collect", "COLLECT", None, RULES_STR, None, 6, ["a", "b", "b"], [1, 2, 4]),
    ("collect sum", "COLLECT", "SUM", RULES_NUM, None, 9, Decimal("6.5"), [1, 2, 3]),
    ("collect min", "COLLECT", "MIN", RULES_NUM, None, 9, 1, [1, 2, 3]),
    ("collect max", "COLLECT", "MAX", RULES_NUM, None, 6, Decimal("2.5"), [1, 2]),
    ("collect count", "COLLECT", "COUNT", RULES_NUM, None, 9, 3, [1, 2, 3]),
    ("collect count no match is null", "COLLECT", "COUNT", RULES_NUM, None, 0, None, []),
    ("priority by output values", "PRIORITY", None, RULES_STR, '"c","b","a"', 9, "c", [1, 2, 3, 4]),
    ("priority keeps rule order among equals", "PRIORITY", None, RULES_STR, '"b","a","c"', 6, "b", [1, 2, 4]),
    ("output order", "OUTPUT ORDER", None, RULES_STR, '"c","b","a"', 9, ["c", "b", "b", "a"], [1, 2, 3, 4]),
    ("output order numbers", "OUTPUT ORDER", None, RULES_NUM, "3,2.5,1", 9, [3, Decimal("2.5"), 1], [1, 2, 3]),
]


@pytest.mark.parametrize(("hit_policy", "aggregation", "rules", "values", "x", "expected", "matched"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hit_policy(hit_policy: str | None, aggregation: str | None, rules: list[Any], values: str | None,
                    x: int, expected: Any, matched: list[int]) -> None:
    table = Table("d", [("X", "x")], [("out", values, None)], rules, hit_policy=hit_policy, aggregation=aggregation)
    result = drg(table).evaluate("d", {"x": x})
    assert not result.failed, result.failure_message
    assert result.decision_output == expected
    (evaluated,) = result.evaluated_decisions
    assert [rule.rule_index for rule in evaluated.matched_rules] == matched
    assert evaluated.decision_output == expected


def test_several_outputs_give_a_context_and_a_list_of_contexts() -> None:
    outputs = [("dish", None, None), ("price", None, None)]
    rules = [([">0"], ['"soup"', "4"]), ([">5"], ['"steak"', "20"])]
    single = drg(Table("d", [("X", "x")], outputs, rules, hit_policy="FIRST")).evaluate("d", {"x": 9})
    assert single.decision_output == {"dish": "soup", "price": 4}
    listed = drg(Table("d", [("X", "x")], outputs, rules, hit_policy="COLLECT")).evaluate("d", {"x": 9})
    assert listed.decision_output == [{"dish": "soup", "price": 4}, {"dish": "steak", "price": 20}]
    rule = listed.evaluated_decisions[0].matched_rules[1]
    assert (rule.rule_id, rule.rule_index) == ("d_r2", 2)
    assert [(o.output_id, o.output_name, o.output_value) for o in rule.evaluated_outputs] == [
        ("d_out1", "dish", "steak"), ("d_out2", "price", 20)]


def test_no_match_gives_the_default_output_entries() -> None:
    one = Table("d", [("X", "x")], [("out", None, '"none"')], [([">0"], ['"a"'])])
    assert drg(one).evaluate("d", {"x": -1}).decision_output == "none"
    two = Table("d", [("X", "x")], [("a", None, "x * 2"), ("b", None, '"b"')], [([">0"], ["1", "2"])])
    result = drg(two).evaluate("d", {"x": -1})
    assert result.decision_output == {"a": -2, "b": "b"}
    assert result.evaluated_decisions[0].matched_rules == ()


def test_an_empty_output_entry_is_null() -> None:
    table = Table("d", [("X", "x")], [("a", None, None), ("b", None, None)], [(["-"], ["1", ""])])
    assert drg(table).evaluate("d", {"x": 1}).decision_output == {"a": 1, "b": None}


def test_the_evaluated_inputs_carry_id_label_and_value() -> None:
    table = Table("d", [("Season", "season"), ("Guests", "guests + 1")], [("out", None, None)],
                  [(["-", "-"], ["1"])])
    result = drg(table).evaluate("d", {"season": "Fall", "guests": 2})
    assert [(i.input_id, i.input_name, i.input_value) for i in result.evaluated_decisions[0].evaluated_inputs] == [
        ("d_in1", "Season", "Fall"), ("d_in2", "Guests", 3)]


def test_output_entries_are_feel_expressions_over_the_variables() -> None:
    table = Table("d", [("X", "x")], [("out", None, None)], [(["-"], ['{"double": x * 2, "who": name}'])])
    assert drg(table).evaluate("d", {"x": 2, "name": "n"}).decision_output == {"double": 4, "who": "n"}
