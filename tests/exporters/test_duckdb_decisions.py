"""The DuckDB export of decisions (schema 4): the DECISION_REQUIREMENTS, DECISION and DECISION_EVALUATION
records the engine writes reach their event tables and the ``decisions`` and ``decision_evaluations``
views, and a schema 3 file is upgraded with its earlier decision records."""

from __future__ import annotations

import json
from pathlib import Path

from _duckdb_export import export
from zeebe_trio_duckdb import SCHEMA_VERSION, ExportStore, query

from zeebe_trio.protocol import DecisionEvaluationIntent, DeploymentIntent, Record, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_decisions import business_rule_task, decision_table, dmn

RATING = dmn(decision_table("rating", "score", [("< 5", '"low"'), (">= 5", '"high"')], name="Rating"),
             drg_id="ratings", name="Ratings")
PROCESS = b.process("p", b.start(), b.flow("f1", "start", "task"), business_rule_task("task", "rating", "out"),
                    b.flow("f2", "task", "end"), b.end())


def engine_records() -> list[Record]:
    with EngineHarness() as harness:
        harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {"resources": [
            {"resourceName": "rating.dmn", "resource": RATING}, {"resourceName": "p.bpmn", "resource": PROCESS}]})
        harness.create_instance("p", {"score": 7})
        harness.write(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE, {"decisionId": "rating"})
        return list(harness.records())


async def test_decisions_and_their_evaluations_are_rows_of_their_views(tmp_path: Path) -> None:
    records = engine_records()
    path = tmp_path / "export.duckdb"
    await export(path, records)
    [decision] = [r for r in records if r.value_type is ValueType.DECISION]
    assert query(path, "SELECT decision_key, decision_id, decision_name, version, decision_requirements_id,"
                       " resource_name FROM decisions").rows == [
        (decision.key, "rating", "Rating", 1, "ratings", "rating.dmn")]
    rows = query(path, "SELECT decision_id, succeeded, decision_output, element_id, evaluated_decisions"
                       " FROM decision_evaluations ORDER BY evaluated_at, decision_evaluation_key").rows
    assert [(row[0], row[1], json.loads(row[2]), row[3]) for row in rows] == [
        ("rating", True, "high", "task"), ("rating", True, None, "")]
    assert json.loads(rows[0][4])[0]["matchedRules"][0]["ruleIndex"] == 2


async def test_a_schema_3_export_is_upgraded_with_its_earlier_decision_records(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    await export(path, engine_records())
    store = ExportStore(path, 1)
    for view in ("decisions", "decision_evaluations"):
        store._connection.execute(f"DROP VIEW {view}")
    for table in ("decision_events", "decision_requirements_events", "decision_evaluation_events"):
        store._connection.execute(f"DROP TABLE {table}")
    store._connection.execute("UPDATE schema_info SET version = 3")
    store.close()
    ExportStore(path, 1).close()
    assert query(path, "SELECT version FROM schema_info").rows == [(SCHEMA_VERSION,)]
    assert query(path, "SELECT decision_id FROM decisions").rows == [("rating",)]
    assert query(path, "SELECT count(*) FROM decision_evaluations").rows == [(2,)]
