"""A hostile FEEL expression in a deployed process is an incident, not a dead broker (issue 8, items 1
and 9): an exclusive gateway's condition that builds gigabytes, or runs a thousand regular
expressions, fails with the evaluation's size or time budget; other instances keep running, and after
a restart the replayed partition has the same incident (replay never evaluates again)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import trio

from zeebe_trio.protocol import IncidentIntent, JobIntent, ValueType
from zeebe_trio.testing import one_task_bpmn, open_broker

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">')

# The shape: a context doubles a string 22 times (4 Mi characters), then concatenates it
# 1,000 times. Unbounded, this took ~4 GB and the OOM killer ended the broker.
DOUBLING = ", ".join(['s0: "a"'] + [f"s{i}: s{i - 1} + s{i - 1}" for i in range(1, 23)])
BUILDS_GIGABYTES = "= count({" + DOUBLING + ", copies: for i in 1..1000 return s22 + string(i)}.copies) > 0"
# A thousand matches of about 6 ms each, each far under the per-call timeout; a minute in all.
RUNS_FOR_A_MINUTE = '= count(for i in 1..1000 return matches(text, "(a|aa)+b")) > 0'


def routing(process_id: str, condition: str) -> bytes:
    """start -> exclusive gateway -> (condition) task 'yes' | (default) task 'no' -> end."""
    body = (
        '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="toNo"/>'
        '<bpmn:serviceTask id="yes"><bpmn:extensionElements><zeebe:taskDefinition type="yes"/>'
        "</bpmn:extensionElements></bpmn:serviceTask>"
        '<bpmn:serviceTask id="no"><bpmn:extensionElements><zeebe:taskDefinition type="no"/>'
        '</bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="s" sourceRef="start" targetRef="gw"/>'
        f'<bpmn:sequenceFlow id="toYes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression>{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="toNo" sourceRef="gw" targetRef="no"/>'
        '<bpmn:sequenceFlow id="ye" sourceRef="yes" targetRef="end"/><bpmn:sequenceFlow id="ne" sourceRef="no" targetRef="end"/>'
    )
    return (HEAD + f'<bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>'
            "</bpmn:definitions>").encode()


def _is_incident(record: object) -> bool:
    return record.value_type is ValueType.INCIDENT and record.intent is IncidentIntent.CREATED  # type: ignore[attr-defined]


async def test_a_condition_that_builds_gigabytes_raises_an_incident_and_the_broker_keeps_running(
        tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("hostile.bpmn", routing("hostile", BUILDS_GIGABYTES))
        await broker.deploy("p.bpmn", one_task_bpmn("p", "work"))
        tracemalloc.start()
        try:
            hostile = await broker.create_instance("hostile")
            with trio.fail_after(10):
                incident = await broker.wait_for_record(_is_incident)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 64 * 1024 * 1024
        assert incident.value["errorType"] == "CONDITION_ERROR"
        assert incident.value["processInstanceKey"] == hostile.key
        assert "characters per string" in incident.value["errorMessage"]
        assert len(incident.value["errorMessage"]) < 1000  # the 1,700-character expression is cut short

        # Another instance runs from start to end meanwhile.
        other = await broker.create_instance("p")
        [(job_key, job)] = await broker.activate("work")
        assert job["processInstanceKey"] == other.key
        assert (await broker.complete(job_key)).intent is JobIntent.COMPLETED
        incident_key = incident.key

    # Replay rebuilds the incident from the log; resolving it evaluates again, and fails again.
    async with open_broker(tmp_path) as broker:
        resolved = await broker.resolve(incident_key)
        assert not resolved.is_rejection
        with trio.fail_after(10):
            again = await broker.wait_for_record(lambda r: _is_incident(r) and r.key != incident_key)
        assert again.value["errorMessage"] == incident.value["errorMessage"]


async def test_a_thousand_regular_expressions_in_one_condition_raise_an_incident_after_a_second(
        tmp_path: Path) -> None:
    async with open_broker(tmp_path) as broker:
        await broker.deploy("slow.bpmn", routing("slow", RUNS_FOR_A_MINUTE))
        await broker.deploy("p.bpmn", one_task_bpmn("p", "work"))
        started = time.monotonic()
        await broker.create_instance("slow", {"text": "a" * 18 + "!"})
        with trio.fail_after(10):
            incident = await broker.wait_for_record(_is_incident)
        assert time.monotonic() - started < 5
        assert incident.value["errorType"] == "CONDITION_ERROR"
        assert "evaluation took longer than 1 s (regular expressions included)" in incident.value["errorMessage"]

        # The same condition on an input that matches quickly routes as usual.
        fine = await broker.create_instance("slow", {"text": "ab"})
        [(_, job)] = await broker.activate("yes")
        assert job["processInstanceKey"] == fine.key
