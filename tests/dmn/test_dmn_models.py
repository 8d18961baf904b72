"""DMN files as Camunda Modeler writes them (diagram interchange, extension namespaces, DMN 1.1 to
1.3) evaluate as dmn-scala evaluates them; every decision written in any DMN namespace parses; and
every .dmn file of the shared corpus parses or is refused with a reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zeebe_trio.engine.dmn import DMN_NAMESPACES, DmnParseError, parse_dmn

from ._dmn_xml import Literal, Table, drg

MODELS = Path(__file__).parent / "models"
CORPUS = Path("/work/shared/corpus")

CASES: list[tuple[str, str, dict[str, Any], Any, list[str]]] = [
    # (file, decision, variables, output, evaluated decisions)
    ("dinner-drg.dmn", "dish", {"month": 10, "guestCount": 4}, "Spareribs", ["season", "dish"]),
    ("dinner-drg.dmn", "dish", {"month": 1, "guestCount": 12}, "Stew", ["season", "dish"]),
    ("dinner-drg.dmn", "dish", {"month": 7, "guestCount": 100}, "Light Salad and a nice Steak", ["season", "dish"]),
    ("dinner-drg.dmn", "dish", {"month": 4, "guestCount": 6}, "Steak", ["season", "dish"]),
    ("dinner-drg.dmn", "season", {"month": 12}, "Winter", ["season"]),
    ("invoice-dmn11.dmn", "invoiceClassification", {"amount": 100, "invoiceCategory": "Misc"},
     ["day-to-day expense"], ["invoiceClassification"]),
    ("invoice-dmn11.dmn", "invoiceClassification", {"amount": 1200.5, "invoiceCategory": "Misc"},
     ["exceptional"], ["invoiceClassification"]),
    ("invoice-dmn11.dmn", "invoiceClassification", {"amount": 5, "invoiceCategory": "Travel Expenses"},
     ["day-to-day expense"], ["invoiceClassification"]),
    ("invoice-dmn11.dmn", "invoiceClassification", {"amount": 5, "invoiceCategory": "Food"}, None,
     ["invoiceClassification"]),
    ("discount-dmn12.dmn", "discount", {"orders": list(range(12))}, Decimal("0.15"), ["customerLevel", "discount"]),
    ("discount-dmn12.dmn", "discount", {"orders": [1, 2, 3]}, Decimal("0.1"), ["customerLevel", "discount"]),
    ("discount-dmn12.dmn", "discount", {"orders": []}, 0, ["customerLevel", "discount"]),
]


@pytest.mark.parametrize(("file", "decision", "variables", "output", "evaluated"), CASES,
                         ids=[f"{c[0]}:{c[1]}:{i}" for i, c in enumerate(CASES)])
def test_modeler_file(file: str, decision: str, variables: dict[str, Any], output: Any, evaluated: list[str]) -> None:
    graph = parse_dmn(file, (MODELS / file).read_bytes())
    result = graph.evaluate(decision, variables)
    assert not result.failed, result.failure_message
    assert result.decision_output == output
    assert [d.decision_id for d in result.evaluated_decisions] == evaluated


def test_the_dinner_file_carries_the_graph_and_the_rule_details() -> None:
    graph = parse_dmn("dinner-drg.dmn", (MODELS / "dinner-drg.dmn").read_bytes())
    assert (graph.id, graph.name) == ("dinnerDecisions", "Dinner Decisions")
    assert list(graph.decisions) == ["dish", "season"]
    dish = graph.decisions["dish"]
    assert (dish.name, dish.version_tag, dish.required_decisions) == ("Dish", "2024-1", ("season",))
    result = graph.evaluate("dish", {"month": 10, "guestCount": 4})
    rule = result.evaluated_decisions[1].matched_rules[0]
    assert (rule.rule_id, rule.rule_index) == ("Rule_fall", 1)
    assert [(i.input_id, i.input_name, i.input_value) for i in result.evaluated_decisions[1].evaluated_inputs] == [
        ("Input_season", "Season", "Fall"), ("Input_guests", "How many guests", 4)]


@pytest.mark.parametrize("namespace", DMN_NAMESPACES)
def test_every_dmn_namespace_parses_and_evaluates(namespace: str) -> None:
    table = Table("t", [("X", "x")], [("out", None, None)], [(["> 1"], ['"big"'])])
    graph = drg(table, Literal("l", "t", variable="l", requires=["t"]), namespace=namespace)
    assert graph.evaluate("l", {"x": 2}).decision_output == "big"


def _corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.dmn")) if CORPUS.is_dir() else []


def test_every_corpus_dmn_file_parses_or_is_refused_with_a_reason() -> None:
    refused = {}
    for path in _corpus_files() + sorted(MODELS.glob("*.dmn")):
        try:
            parse_dmn(path.name, path.read_bytes())
        except DmnParseError as e:
            assert e.problems and all(p.strip() for p in e.problems)
            refused[path] = e.problems
    assert not [p for p in refused if p.parent == MODELS], refused
