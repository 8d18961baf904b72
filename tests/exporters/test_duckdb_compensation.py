"""The DuckDB exporter fed with the compensation records the engine writes (not hand-built ones): the
``compensation_subscription_events`` table and the ``compensation_subscriptions`` view show each
compensable activity's subscription through CREATED, TRIGGERED and COMPLETED, or DELETED."""

from __future__ import annotations

from pathlib import Path

import pytest
from _duckdb_export import export
from zeebe_trio_duckdb import query

from zeebe_trio.protocol import Record
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_compensation as c

pytestmark = pytest.mark.trio

ORDER = b.process(
    "order", b.start(), b.flow("f0", "start", "fork"), '<bpmn:parallelGateway id="fork"/>',
    b.flow("fa", "fork", "charge"), b.service_task("charge", "charge"),
    *c.compensation("charge", c.handler_task("refund", "refund")),
    b.flow("fb", "fork", "reserve"), b.service_task("reserve", "reserve"),
    *c.compensation("reserve", c.handler_task("release", "release")),
    b.flow("ja", "charge", "join"), b.flow("jb", "reserve", "join"), '<bpmn:parallelGateway id="join"/>',
    b.flow("ft", "join", "undo"), c.compensation_throw("undo", "charge"), b.flow("fe", "undo", "end"), b.end())


def engine_records() -> tuple[list[Record], int]:
    with EngineHarness() as harness:
        harness.deploy("order.bpmn", ORDER)
        pik = harness.create_instance("order")
        for job_type in ("charge", "reserve", "refund"):
            [job] = harness.activate_jobs(job_type)
            harness.complete_job(job)
        return list(harness.records()), pik


async def test_the_engines_compensation_records_fill_the_subscription_table_and_view(tmp_path: Path) -> None:
    records, pik = engine_records()
    path = tmp_path / "export.duckdb"
    await export(path, records)

    events = query(path, "SELECT intent, compensable_activity_id, throw_event_id, compensation_handler_id,"
                         " process_instance_key, compensable_activity_scope_key, tenant_id"
                         " FROM compensation_subscription_events ORDER BY position").rows
    assert events == [
        ("CREATED", "charge", "", "refund", pik, pik, "<default>"),
        ("CREATED", "reserve", "", "release", pik, pik, "<default>"),
        ("TRIGGERED", "charge", "undo", "refund", pik, pik, "<default>"),
        ("COMPLETED", "charge", "undo", "refund", pik, pik, "<default>"),
        ("DELETED", "reserve", "", "release", pik, pik, "<default>"),
    ]
    handler_keys = query(path, "SELECT throw_event_instance_key > 0, compensation_handler_instance_key > 0"
                               " FROM compensation_subscription_events WHERE intent = 'TRIGGERED'").rows
    assert handler_keys == [(True, True)]
    view = query(path, "SELECT compensable_activity_id, compensation_handler_id, throw_event_id, state,"
                       " completed_at IS NOT NULL, deleted_at IS NOT NULL FROM compensation_subscriptions"
                       " ORDER BY compensable_activity_id").rows
    assert view == [("charge", "refund", "undo", "COMPLETED", True, False),
                    ("reserve", "release", None, "DELETED", False, True)]
