"""The applier registry: one applier per (value type, intent, record version), and an event without one
is an error, never silently skipped."""

from __future__ import annotations

import pytest

from zeebe_trio.engine.appliers import EventAppliers, NoApplierError, event_appliers
from zeebe_trio.protocol import (
    INTENTS_BY_VALUE_TYPE,
    JobIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness, one_task_bpmn


def _event(value_type: ValueType, intent: JobIntent | ProcessMessageSubscriptionIntent, version: int = 1) -> Record:
    return Record(record_type=RecordType.EVENT, value_type=value_type, intent=intent, key=1, value={},
                  position=7, record_version=version)


def test_an_event_without_an_applier_is_an_error_naming_it() -> None:
    appliers = event_appliers()
    # zeebe-trio writes no PROCESS_MESSAGE_SUBSCRIPTION MIGRATING (Zeebe's intent for it is unused too)
    with pytest.raises(NoApplierError,
                       match=r"PROCESS_MESSAGE_SUBSCRIPTION\.MIGRATING version 1 \(record at position 7\)"):
        appliers.apply(None, _event(ValueType.PROCESS_MESSAGE_SUBSCRIPTION,  # type: ignore[arg-type]
                                    ProcessMessageSubscriptionIntent.MIGRATING))


def test_an_event_of_a_version_without_an_applier_is_an_error() -> None:
    appliers = event_appliers()
    with pytest.raises(NoApplierError, match=r"JOB\.CREATED version 2"):
        appliers.apply(None, _event(ValueType.JOB, JobIntent.CREATED, version=2))  # type: ignore[arg-type]


def test_a_second_applier_for_the_same_event_and_version_is_refused() -> None:
    appliers = EventAppliers()
    appliers.register(ValueType.JOB, JobIntent.CREATED, lambda state, record: None)
    appliers.register(ValueType.JOB, JobIntent.CREATED, lambda state, record: None, version=2)
    with pytest.raises(AssertionError, match="two appliers"):
        appliers.register(ValueType.JOB, JobIntent.CREATED, lambda state, record: None)


def test_every_event_the_engine_writes_in_a_run_has_an_applier() -> None:
    registered = {(vt, intent) for vt, intent, _version in event_appliers().registrations()}
    with EngineHarness() as harness:
        harness.deploy("one_task.bpmn", one_task_bpmn("p", "work"))
        instance = harness.create_instance("p", {"x": 1})
        [job_key] = harness.activate_jobs("work")
        harness.complete_job(job_key, {"y": 2})
        harness.cancel(harness.create_instance("p"))
        harness.publish_message("m", "k", time_to_live_ms=1000)
        written = {(r.value_type, int(r.intent)) for r in harness.records() if r.is_event}
    assert written <= registered
    assert instance > 0


def test_only_events_are_registered() -> None:
    for value_type, intent, _version in event_appliers().registrations():
        assert INTENTS_BY_VALUE_TYPE[value_type](intent).is_event
