"""Decision requirements graphs and literal expressions: required decisions are evaluated first, in
the order of their requirements, and their results are in scope under the decision id (or the
variable name); the evaluated decisions list them in evaluation order, the decision asked for last."""

from __future__ import annotations

from ._dmn_xml import Literal, Table, drg


def test_a_literal_expression_decision_evaluates_its_expression() -> None:
    result = drg(Literal("total", "sum(items) * 2", variable="total")).evaluate("total", {"items": [1, 2]})
    assert result.decision_output == 6
    (evaluated,) = result.evaluated_decisions
    assert (evaluated.decision_id, evaluated.decision_type, evaluated.decision_output) == (
        "total", "LITERAL_EXPRESSION", 6)
    assert evaluated.evaluated_inputs == () and evaluated.matched_rules == ()


def test_required_decisions_are_evaluated_first_and_their_results_are_in_scope_by_id() -> None:
    season = Table("season", [("Month", "month")], [("season", None, None)],
                   [(["[3..5]"], ['"Spring"']), (["-"], ['"Other"'])], hit_policy="FIRST")
    guests = Literal("guestCount", "adults + children", variable="guestCount")
    dish = Table("dish", [("Season", "season"), ("Guests", "guestCount")], [("dish", None, None)],
                 [(['"Spring"', "> 4"], ['"Buffet"']), (["-", "-"], ['"Menu"'])], hit_policy="FIRST",
                 requires=["season", "guestCount"])
    result = drg(season, guests, dish).evaluate("dish", {"month": 4, "adults": 3, "children": 2})
    assert result.decision_output == "Buffet"
    assert [(d.decision_id, d.decision_output) for d in result.evaluated_decisions] == [
        ("season", "Spring"), ("guestCount", 5), ("dish", "Buffet")]


def test_a_required_literal_expression_is_in_scope_under_its_variable_name() -> None:
    base = Literal("baseDecision", "10", variable="basePrice")
    price = Literal("price", "basePrice * 2", variable="price", requires=["baseDecision"])
    assert drg(base, price).evaluate("price", {}).decision_output == 20


def test_a_required_decision_result_shadows_a_variable_of_the_same_name() -> None:
    base = Literal("base", "1", variable="base")
    top = Literal("top", "base + 1", variable="top", requires=["base"])
    assert drg(base, top).evaluate("top", {"base": 100}).decision_output == 2


def test_a_decision_sees_only_the_results_of_its_own_required_decisions() -> None:
    leaf = Literal("leaf", "1", variable="leaf")
    middle = Literal("middle", "leaf + 1", variable="middle", requires=["leaf"])
    top = Literal("top", "[middle, leaf]", variable="top", requires=["middle"])
    result = drg(leaf, middle, top).evaluate("top", {})
    assert result.decision_output == [2, None]
    assert [d.decision_id for d in result.evaluated_decisions] == ["leaf", "middle", "top"]


def test_a_decision_required_twice_is_evaluated_and_listed_twice() -> None:
    shared = Literal("shared", "1", variable="shared")
    left = Literal("left", "shared", variable="left", requires=["shared"])
    right = Literal("right", "shared", variable="right", requires=["shared"])
    top = Literal("top", "left + right", variable="top", requires=["left", "right"])
    result = drg(shared, left, right, top).evaluate("top", {})
    assert result.decision_output == 2
    assert [d.decision_id for d in result.evaluated_decisions] == ["shared", "left", "shared", "right", "top"]


def test_any_decision_of_the_graph_can_be_evaluated_on_its_own() -> None:
    base = Literal("base", "x", variable="base")
    top = Literal("top", "base", variable="top", requires=["base"])
    result = drg(base, top).evaluate("base", {"x": 7})
    assert result.decision_output == 7
    assert [d.decision_id for d in result.evaluated_decisions] == ["base"]


def test_the_graph_carries_ids_names_and_version_tags() -> None:
    tagged = ('<decision id="tagged" name="Tagged"><extensionElements>'
              '<zeebe:versionTag xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" value="v1.2"/>'
              '</extensionElements><literalExpression><text>1</text></literalExpression></decision>')
    graph = drg(tagged, Literal("plain", "2", name="Plain"))
    assert (graph.id, graph.name, graph.resource_name) == ("drg", "Decisions", "test.dmn")
    assert [(d.id, d.name, d.version_tag) for d in graph.decisions.values()] == [
        ("tagged", "Tagged", "v1.2"), ("plain", "Plain", None)]
    assert graph.decisions["tagged"].result_name == "tagged"


def test_a_literal_expression_result_is_checked_against_its_type_ref() -> None:
    good = drg(Literal("d", '"text"', variable="d", type_ref="string")).evaluate("d", {})
    assert good.decision_output == "text"
    bad = drg(Literal("d", "1", variable="d", type_ref="string")).evaluate("d", {})
    assert bad.failure_message == "Expected to evaluate decision 'd', but expected 'string' but found 'ValNumber(1)'"
    null = drg(Literal("d", "null", variable="d", type_ref="number")).evaluate("d", {})
    assert not null.failed and null.decision_output is None
