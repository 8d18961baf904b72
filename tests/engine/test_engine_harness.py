"""EngineHarness drives the engine as the stream processor does: log order, batch limits, due dates, replay."""

from __future__ import annotations

import pytest

from zeebe_trio.engine import MAX_COMMANDS_IN_BATCH
from zeebe_trio.protocol import (
    JobIntent,
    ProcessInstanceIntent,
    RecordType,
    RejectionType,
    ValueType,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness, ReplayDiverged, one_task_bpmn

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
         ' id="d" targetNamespace="http://zeebe-trio">')


def tasks_in_a_row(count: int) -> bytes:
    parts = [f'{_HEAD}<bpmn:process id="row" isExecutable="true"><bpmn:startEvent id="start"/>']
    previous = "start"
    for i in range(count):
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="t{i}"/><bpmn:task id="t{i}"/>')
        previous = f"t{i}"
    parts.append(f'<bpmn:sequenceFlow id="last" sourceRef="{previous}" targetRef="end"/><bpmn:endEvent id="end"/>'
                 "</bpmn:process></bpmn:definitions>")
    return "".join(parts).encode()


def test_follow_ups_beyond_the_batch_limit_are_processed_later_in_log_order() -> None:
    with EngineHarness() as harness:
        harness.deploy("row.bpmn", tasks_in_a_row(MAX_COMMANDS_IN_BATCH + 20))
        pik = harness.create_instance("row")

        records = harness.records()
        waited = records.only_commands().filter(lambda r: r.source_position >= 0 and not r.processed)
        assert waited, "some follow-up command waited on the log"
        for command in waited:
            produced = records.filter(lambda r, c=command: r.source_position == c.position)
            assert produced and produced[0].position > command.position
            # nothing else ran between the batch that wrote the command and the command itself
            assert all(r.source_position >= 0 for r in records if command.position < r.position < produced[0].position)
        assert harness.process_instance_records(pik)[-1] == (ProcessInstanceIntent.ELEMENT_COMPLETED, "PROCESS", "row")
        assert [r.position for r in records] == list(range(1, len(records) + 1))


def test_time_passes_only_when_advanced_and_due_work_runs_at_its_due_time() -> None:
    with EngineHarness(now=1_000_000) as harness:
        harness.deploy("one_task.bpmn", one_task_bpmn("p", "work"))
        for _ in range(2):
            harness.create_instance("p")
        first = harness.activate_jobs("work", max_jobs=1, timeout_ms=1_000)
        harness.advance(500)
        second = harness.activate_jobs("work", max_jobs=1, timeout_ms=1_000)

        harness.advance(10_000)

        time_outs = harness.records().jobs().with_intent(JobIntent.TIME_OUT)
        assert [(r.key, r.timestamp) for r in time_outs] == [(first[0], 1_001_000), (second[0], 1_001_500)]
        assert harness.now == 1_010_500
        assert sorted(harness.activate_jobs("work")) == sorted(first + second)


def test_client_commands_answer_with_the_response_record() -> None:
    with EngineHarness() as harness:
        deployed = harness.deploy("one_task.bpmn", one_task_bpmn("p", "work"))
        assert deployed is not None and deployed.record_type is RecordType.EVENT

        rejected = harness.complete_job(123, {})
        assert rejected is not None and rejected.record_type is RecordType.COMMAND_REJECTION
        assert rejected.rejection_type is RejectionType.NOT_FOUND

        with pytest.raises(AssertionError, match="NOT_FOUND|none found"):
            harness.create_instance("missing")

        pik = harness.create_instance("p", {"x": 1})
        [variable] = harness.records().with_value_type(ValueType.VARIABLE).with_intent(VariableIntent.CREATED)
        assert (variable.value["name"], variable.value["processInstanceKey"]) == ("x", pik)


def test_a_replayed_state_that_differs_from_the_processed_state_is_reported() -> None:
    with EngineHarness() as harness:
        harness.deploy("one_task.bpmn", one_task_bpmn("p", "work"))
        replaying = harness._replaying  # the twin, broken on purpose: it forgets job creations
        assert replaying is not None
        replaying.engine.appliers.override(ValueType.JOB, JobIntent.CREATED, lambda state, record: None)

        with pytest.raises(ReplayDiverged, match=r"position 4 \(PROCESS_INSTANCE_CREATION\.CREATE\).*'jobs'"):
            harness.create_instance("p")


def test_the_replay_check_can_be_turned_off() -> None:
    with EngineHarness(check_replay=False) as harness:
        harness.deploy("one_task.bpmn", one_task_bpmn("p", "work"))
        harness.create_instance("p")
        assert len(harness.activate_jobs("work")) == 1
