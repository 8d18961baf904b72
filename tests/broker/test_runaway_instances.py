"""A process that multiplies its own tokens without end (an exclusive merge feeding a parallel fork
that loops back) is bounded: its flow scope holds at most ``max_element_instances_per_scope``
element instances and flows; the token that would pass the limit raises an incident instead. Other
instances keep running, cancel answers, and the log stays small."""

from __future__ import annotations

from pathlib import Path

import trio

from zeebe_trio.protocol import IncidentIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import one_task_bpmn, open_broker

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="d" targetNamespace="t">')
FORK_BOMB = (HEAD + '<bpmn:process id="bomb" isExecutable="true">'
             '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="merge"/><bpmn:parallelGateway id="fork"/>'
             '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="merge"/>'
             '<bpmn:sequenceFlow id="f1" sourceRef="merge" targetRef="fork"/>'
             '<bpmn:sequenceFlow id="back1" sourceRef="fork" targetRef="merge"/>'
             '<bpmn:sequenceFlow id="back2" sourceRef="fork" targetRef="merge"/>'
             "</bpmn:process></bpmn:definitions>").encode()
LIMIT = 200


async def test_a_fork_bomb_is_stopped_at_the_scope_limit_and_the_partition_stays_responsive(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, fsync_in_thread=False, max_element_instances_per_scope=LIMIT) as broker:
        await broker.deploy("bomb.bpmn", FORK_BOMB)
        await broker.deploy("p.bpmn", one_task_bpmn("p", "work"))
        bomb = (await broker.create_instance("bomb")).value["processInstanceKey"]
        incident = await broker.wait_for_record(
            lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED)
        assert "max_element_instances_per_scope" in incident.value["errorMessage"]
        assert incident.value["processInstanceKey"] == bomb

        # Another instance runs from start to end meanwhile.
        other = (await broker.create_instance("p")).value["processInstanceKey"]
        [(job_key, _)] = await broker.activate("work")
        assert (await broker.complete(job_key)).intent.name == "COMPLETED"
        await broker.wait_for_record(lambda r: r.key == other and r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED)

        # The bomb is answered when cancelled, and everything in it is terminated.
        cancelled = await broker.cancel(bomb)
        assert not cancelled.is_rejection
        await broker.wait_for_record(lambda r: r.key == bomb and r.intent is ProcessInstanceIntent.ELEMENT_TERMINATED)
        records = broker.records()
    # Bounded: a few records per element instance the limit allowed, not millions.
    assert len(records) < 40 * LIMIT
    live = {r.key for r in records if r.value_type is ValueType.PROCESS_INSTANCE
            and r.intent is ProcessInstanceIntent.ELEMENT_ACTIVATED and r.value.get("processInstanceKey") == bomb}
    ended = {r.key for r in records if r.value_type is ValueType.PROCESS_INSTANCE
             and r.intent in (ProcessInstanceIntent.ELEMENT_COMPLETED, ProcessInstanceIntent.ELEMENT_TERMINATED)}
    assert live <= ended  # nothing of the bomb is left running


async def test_after_raising_the_limit_resolving_the_incident_lets_the_token_go_on(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    # A fork into four waiting tasks needs four places in its scope: over a limit of 3 it raises an
    # incident; an operator raises the setting, restarts, and resolves the incident.
    body = ('<bpmn:process id="wide" isExecutable="true"><bpmn:startEvent id="start"/>'
            '<bpmn:parallelGateway id="fork"/>'
            + "".join(f'<bpmn:serviceTask id="t{i}"><bpmn:extensionElements>'
                      f'<zeebe:taskDefinition type="w{i}"/></bpmn:extensionElements></bpmn:serviceTask>'
                      f'<bpmn:endEvent id="e{i}"/>'
                      f'<bpmn:sequenceFlow id="a{i}" sourceRef="fork" targetRef="t{i}"/>'
                      f'<bpmn:sequenceFlow id="b{i}" sourceRef="t{i}" targetRef="e{i}"/>' for i in range(4))
            + '<bpmn:sequenceFlow id="s" sourceRef="start" targetRef="fork"/></bpmn:process></bpmn:definitions>')
    model = (HEAD.replace('id="d"', 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d"') + body).encode()
    async with open_broker(tmp_path, fsync_in_thread=False, max_element_instances_per_scope=3) as broker:
        await broker.deploy("wide.bpmn", model)
        await broker.create_instance("wide")
        incident = await broker.wait_for_record(
            lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED)
        assert incident.value["elementId"] == "fork"
        assert "limit of 3" in incident.value["errorMessage"]
        assert await broker.activate("w0") == []  # nothing ran past the fork
    async with open_broker(tmp_path, fsync_in_thread=False, max_element_instances_per_scope=10) as broker:
        await broker.resolve(incident.key)
        jobs = [await broker.activate(f"w{i}") for i in range(4)]
    assert all(len(found) == 1 for found in jobs)
