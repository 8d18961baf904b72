"""A DMN resource that cannot be evaluated is refused at parse time with every problem listed, each
naming the file, the decision and the element: bad XML, unknown hit policies, missing inputs, bad
FEEL, missing or cyclic required decisions, what is not supported yet."""

from __future__ import annotations

import pytest

from zeebe_trio.engine.dmn import DmnParseError, parse_dmn

from ._dmn_xml import Literal, Table, definitions


def _problems(xml: str | bytes) -> list[str]:
    with pytest.raises(DmnParseError) as caught:
        parse_dmn("bad.dmn", xml)
    assert str(caught.value).startswith("'bad.dmn': ")
    return caught.value.problems


def _table(**changes: object) -> Table:
    table = Table("d", [("X", "x")], [("out", None, None)], [([">0"], ['"a"'])], name="Dish")
    for key, value in changes.items():
        setattr(table, key, value)
    return table


CASES: list[tuple[str, str | bytes, str]] = [
    ("empty", b"  ", "the resource is empty; expected DMN XML"),
    ("not xml", b"<definitions", "not well-formed XML"),
    ("doctype", b'<!DOCTYPE x [<!ENTITY e "e">]><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>',
     "DOCTYPE declarations (DTDs and entities) are not allowed"),
    ("bpmn instead of dmn", b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
     "the root element must be 'definitions' in a DMN namespace"),
    ("no decision", definitions(), "the resource has no decision"),
    ("unknown hit policy", definitions(_table(hit_policy="SOMETIMES")),
     "decision 'd' (Dish): unknown hit policy 'SOMETIMES'; use one of UNIQUE, FIRST, PRIORITY, ANY, COLLECT, "
     "RULE ORDER, OUTPUT ORDER"),
    ("unknown aggregation", definitions(_table(hit_policy="COLLECT", aggregation="AVG")),
     "decision 'd' (Dish): unknown aggregation 'AVG'"),
    ("aggregation without collect", definitions(_table(hit_policy="FIRST", aggregation="SUM")),
     "decision 'd' (Dish): the aggregation SUM needs the hit policy COLLECT, not FIRST"),
    ("aggregation of several outputs", definitions(_table(
        hit_policy="COLLECT", aggregation="SUM", outputs=[("a", None, None), ("b", None, None)],
        rules=[([">0"], ["1", "2"])])),
     "decision 'd' (Dish): hit policy 'COLLECT' with aggregator is not defined for compound output"),
    ("bad feel in input entry", definitions(_table(rules=[([">> 0"], ['"a"'])])),
     "decision 'd' (Dish): rule 'd_r1' (row 1): input entry 1: FEEL unary-tests: unexpected '>' at 1:2"),
    ("bad feel in output entry", definitions(_table(rules=[([">0"], ['"a'])])),
     "decision 'd' (Dish): rule 'd_r1' (row 1): output entry 1: FEEL expression: "),
    ("bad feel in input expression", definitions(_table(inputs=[("X", "x +")])),
     "decision 'd' (Dish): input 1 ('X') inputExpression: FEEL expression: "),
    ("empty input expression", definitions(_table(inputs=[("X", " ")])),
     "decision 'd' (Dish): input 1 ('X') inputExpression is empty; give it a FEEL expression"),
    ("missing input entries", definitions(_table(rules=[([], ['"a"'])])),
     "decision 'd' (Dish): rule 'd_r1' (row 1): it has 0 input entries but the table has 1 inputs"),
    ("missing output entries", definitions(_table(rules=[([">0"], [])])),
     "decision 'd' (Dish): rule 'd_r1' (row 1): it has 0 output entries but the table has 1 outputs"),
    ("no output", definitions(_table(outputs=[], rules=[])), "decision 'd' (Dish): the decision table has no output"),
    ("unnamed outputs", definitions(_table(outputs=[("", None, None), ("b", None, None)], rules=[])),
     "decision 'd' (Dish): no output name defined for output 1"),
    ("bad feel in literal expression", definitions(Literal("lit", "1 +")),
     "decision 'lit' (lit): literal expression: FEEL expression: "),
    ("empty literal expression", definitions(Literal("lit", "")),
     "decision 'lit' (lit): literal expression is empty; give it a FEEL expression"),
    ("missing required decision", definitions(Literal("lit", "1", requires=["gone"])),
     "decision 'lit' requires the decision 'gone', which is not in this resource"),
    ("cycle", definitions(Literal("a", "b", requires=["b"]), Literal("b", "c", requires=["c"]),
                          Literal("c", "a", requires=["a"])),
     "Invalid DMN model: Cyclic dependencies between decisions detected ('a' -> 'b' -> 'c' -> 'a')"),
    ("self requirement", definitions(Literal("a", "1", requires=["a"])),
     "Invalid DMN model: Cyclic dependencies between decisions detected ('a' -> 'a')"),
    ("duplicate ids", definitions(Literal("a", "1"), Literal("a", "2")), "two decisions have the id 'a'"),
    ("no decision logic", definitions('<decision id="x" name="X"/>'), "decision 'x' (X): it has no decision logic"),
    ("context logic", definitions('<decision id="x"><context/></decision>'),
     "decision 'x': context decision logic is not supported yet"),
    ("missing business knowledge model", definitions(
        '<decision id="x"><knowledgeRequirement id="k"><requiredKnowledge href="#bkm"/></knowledgeRequirement>'
        "<literalExpression><text>1</text></literalExpression></decision>"),
     "decision 'x' requires the business knowledge model 'bkm', which is not in this resource"),
    ("business knowledge model with a decision table", definitions(
        '<businessKnowledgeModel id="b"><encapsulatedLogic><formalParameter name="a"/>'
        '<decisionTable><output name="o"/></decisionTable></encapsulatedLogic></businessKnowledgeModel>'
        '<decision id="x"><literalExpression><text>1</text></literalExpression></decision>'),
     "business knowledge model 'b': decisionTable as the logic of a business knowledge model is not supported yet"),
    ("business knowledge models in a cycle", definitions(
        '<businessKnowledgeModel id="a"><knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>'
        '<encapsulatedLogic><literalExpression><text>1</text></literalExpression></encapsulatedLogic>'
        '</businessKnowledgeModel>'
        '<businessKnowledgeModel id="b"><knowledgeRequirement><requiredKnowledge href="#a"/></knowledgeRequirement>'
        '<encapsulatedLogic><literalExpression><text>1</text></literalExpression></encapsulatedLogic>'
        '</businessKnowledgeModel>'
        '<decision id="x"><literalExpression><text>1</text></literalExpression></decision>'),
     "business knowledge models require each other in a cycle ('a' -> 'b' -> 'a')"),
    ("business knowledge model parameter twice", definitions(
        '<businessKnowledgeModel id="b"><encapsulatedLogic><formalParameter name="a"/><formalParameter name="a"/>'
        '<literalExpression><text>a</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>'
        '<decision id="x"><literalExpression><text>1</text></literalExpression></decision>'),
     "business knowledge model 'b': the parameter 'a' is declared twice"),
    ("invocation without a function", definitions(
        '<decision id="x"><invocation><binding><parameter name="a"/></binding></invocation></decision>'),
     "decision 'x': the invocation names no function"),
    ("imported decision", definitions(
        '<decision id="x"><informationRequirement><requiredDecision href="other.dmn#y"/></informationRequirement>'
        "<literalExpression><text>1</text></literalExpression></decision>"),
     "imported decisions are not supported yet"),
    ("other expression language", definitions(
        '<decision id="x"><literalExpression expressionLanguage="juel"><text>1</text></literalExpression></decision>'),
     "decision 'x': literal expression: expression language 'juel' is not supported; use FEEL"),
]


@pytest.mark.parametrize(("xml", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_resource(xml: str | bytes, expected: str) -> None:
    problems = _problems(xml)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_not_just_the_first() -> None:
    problems = _problems(definitions(_table(hit_policy="SOMETIMES"), Literal("lit", "1 +")))
    assert len(problems) == 2


def test_a_very_long_list_of_problems_is_cut() -> None:
    xml = definitions(*[Literal(f"d{i}", "1 +") for i in range(30)])
    with pytest.raises(DmnParseError) as caught:
        parse_dmn("bad.dmn", xml)
    assert len(caught.value.problems) == 30
    assert str(caught.value).splitlines()[-1] == "... and 10 more problems"


def test_a_long_chain_of_required_decisions_is_refused() -> None:
    chain = [Literal("d0", "1")] + [Literal(f"d{i}", "1", requires=[f"d{i - 1}"]) for i in range(1, 150)]
    problems = _problems(definitions(*chain))
    assert any("chain of" in p and "more than the limit of 100" in p for p in problems), problems


def test_an_external_entity_is_never_read(tmp_path: object) -> None:
    xml = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x">&x;</definitions>')
    problems = _problems(xml)
    assert "root:" not in " ".join(problems)


def test_every_truncation_of_a_modeler_file_parses_or_is_refused_never_crashes() -> None:
    from pathlib import Path

    data = (Path(__file__).parent / "models" / "dinner-drg.dmn").read_bytes()
    for end in range(0, len(data), 97):
        try:
            parse_dmn("cut.dmn", data[:end])
        except DmnParseError as e:
            assert e.problems
