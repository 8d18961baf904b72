"""Business knowledge models: functions that decisions invoke, from a literal expression or a boxed
invocation, as dmn-scala runs them (DMN 1.3 section 6.3.9 and 10.4)."""

from __future__ import annotations

from decimal import Decimal

from zeebe_trio.engine.dmn import DecisionType, parse_dmn

from ._dmn_xml import drg

ADD = ('<businessKnowledgeModel id="add" name="add"><encapsulatedLogic><formalParameter name="a"/>'
       '<formalParameter name="b"/><literalExpression><text>a + b</text></literalExpression>'
       '</encapsulatedLogic></businessKnowledgeModel>')


def _requires(model_id: str) -> str:
    return f'<knowledgeRequirement><requiredKnowledge href="#{model_id}"/></knowledgeRequirement>'


def test_a_literal_expression_calls_a_knowledge_model_by_its_name() -> None:
    graph = drg(ADD + f'<decision id="sum">{_requires("add")}<literalExpression><text>add(x, 2)</text>'
                '</literalExpression></decision>')
    result = graph.evaluate("sum", {"x": 40})
    assert result.failure_message == ""
    assert result.decision_output == 42
    assert [d.decision_type for d in result.evaluated_decisions] == [DecisionType.LITERAL_EXPRESSION]


def test_a_boxed_invocation_binds_the_parameters_by_name() -> None:
    graph = drg(ADD + f'<decision id="sum">{_requires("add")}<invocation><literalExpression><text>add</text>'
                '</literalExpression><binding><parameter name="b"/><literalExpression><text>y * 10</text>'
                '</literalExpression></binding><binding><parameter name="a"/><literalExpression><text>x</text>'
                '</literalExpression></binding></invocation></decision>')
    result = graph.evaluate("sum", {"x": 1, "y": 2})
    assert result.decision_output == 21
    assert result.evaluated_decisions[0].decision_type is DecisionType.INVOCATION
    assert result.evaluated_decisions[0].decision_output == 21


def test_a_binding_without_a_value_passes_null() -> None:
    graph = drg(ADD + f'<decision id="sum">{_requires("add")}<invocation><literalExpression><text>add</text>'
                '</literalExpression><binding><parameter name="a"/></binding><binding><parameter name="b"/>'
                '<literalExpression><text>1</text></literalExpression></binding></invocation></decision>')
    assert graph.evaluate("sum", {}).decision_output is None  # null + 1


def test_a_knowledge_model_calls_the_models_it_requires_and_sees_nothing_of_the_caller() -> None:
    twice = ('<businessKnowledgeModel id="twice" name="twice">' + _requires("add")
             + '<encapsulatedLogic><formalParameter name="n"/><literalExpression><text>add(n, n) + secret'
             '</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>')
    graph = drg(ADD + twice + f'<decision id="d">{_requires("twice")}<literalExpression><text>twice(x)</text>'
                '</literalExpression></decision>')
    # ``secret`` is a variable of the evaluation, not a parameter: null inside the model, so null + 2x
    assert graph.evaluate("d", {"x": Decimal("1.5"), "secret": 100}).decision_output is None
    plain = ('<businessKnowledgeModel id="twice" name="twice">' + _requires("add")
             + '<encapsulatedLogic><formalParameter name="n"/><literalExpression><text>add(n, n)</text>'
             '</literalExpression></encapsulatedLogic></businessKnowledgeModel>')
    graph = drg(ADD + plain + f'<decision id="d">{_requires("twice")}<literalExpression><text>twice(x)</text>'
                '</literalExpression></decision>')
    assert graph.evaluate("d", {"x": Decimal("1.5")}).decision_output == Decimal("3.0")


def test_the_variable_name_of_a_knowledge_model_is_the_name_decisions_call_it_by() -> None:
    graph = drg('<businessKnowledgeModel id="m1" name="Model"><variable name="grade"/><encapsulatedLogic>'
                '<formalParameter name="score"/><literalExpression><text>if score &gt;= 50 then "pass" else "fail"'
                '</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>'
                f'<decision id="d">{_requires("m1")}<literalExpression><text>grade(score)</text>'
                '</literalExpression></decision>')
    assert graph.evaluate("d", {"score": 71}).decision_output == "pass"


def test_a_knowledge_model_without_logic_gives_null() -> None:
    graph = drg('<businessKnowledgeModel id="empty"/>'
                f'<decision id="d">{_requires("empty")}<literalExpression><text>empty()</text>'
                '</literalExpression></decision>')
    result = graph.evaluate("d", {})
    assert result.failure_message == "" and result.decision_output is None


def test_invoking_something_that_is_not_a_function_fails_naming_it() -> None:
    graph = drg('<decision id="d"><invocation><literalExpression><text>price</text></literalExpression>'
                '</invocation></decision>')
    result = graph.evaluate("d", {"price": 3})
    assert result.failure_message == ("Expected to evaluate decision 'd', but expected a function to invoke, "
                                      "but 'price' is 'ValNumber(3)'")
    assert result.failed_decision_id == "d"


def test_binding_a_parameter_the_model_does_not_have_fails_naming_it() -> None:
    graph = drg(ADD + f'<decision id="sum">{_requires("add")}<invocation><literalExpression><text>add</text>'
                '</literalExpression><binding><parameter name="c"/><literalExpression><text>1</text>'
                '</literalExpression></binding></invocation></decision>')
    result = graph.evaluate("sum", {})
    assert result.failure_message == ("Expected to evaluate decision 'sum', but the invoked function has no "
                                      "parameter 'c' (its parameters: a, b)")


def test_calls_of_knowledge_models_are_bounded() -> None:
    graph = drg(ADD + f'<decision id="many">{_requires("add")}<literalExpression>'
                '<text>for i in 1..20000 return add(i, 1)</text></literalExpression></decision>')
    result = graph.evaluate("many", {})
    assert "exceeded 10000 invocations of business knowledge models" in result.failure_message


def test_a_parsed_model_lists_its_knowledge_models() -> None:
    graph = parse_dmn("m.dmn", '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" '
                      f'name="D" namespace="n">{ADD}<decision id="d">{_requires("add")}<literalExpression>'
                      '<text>add(1, 2)</text></literalExpression></decision></definitions>')
    assert list(graph.knowledge_models) == ["add"]
    assert graph.knowledge_models["add"].parameters == ("a", "b")
    assert graph.decisions["d"].required_knowledge == ("add",)
