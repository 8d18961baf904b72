"""Timer events the way users meet them: under trio's MockClock an in-process broker fires an
intermediate timer, an interrupting boundary timer and each repetition of a timer start event's cycle
at their exact virtual due dates; in real time, a broker process and a real gRPC client see a one-second
timer complete through create-with-result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
import trio.testing
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.protocol import BpmnElementType, JobIntent, ProcessInstanceIntent, ValueType
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import open_broker

from .conftest import Client
from .test_crash import _free_port, broker_process

PI = ProcessInstanceIntent
SETTINGS = {"fsync_in_thread": False, "due_date_check_interval": 1.0}
EPSILON = 1e-6  # float arithmetic between trio seconds and engine milliseconds


def waiting(duration: str) -> bytes:
    return b.process("waiting", b.start(), b.flow("f1", "start", "timer"),
                     b.intermediate_catch("timer", b.timer_definition(duration=duration)),
                     b.flow("f2", "timer", "end"), b.end())


GUARDED = b.process("guarded", b.start(), b.flow("f1", "start", "task"), b.service_task("task", "nobody"),
                    b.flow("f2", "task", "end"), b.end(),
                    b.boundary("timeout", "task", b.timer_definition(duration="PT5M")),
                    b.flow("f3", "timeout", "late"), b.end("late"))


def _completed(key: int):  # type: ignore[no-untyped-def]
    return lambda r: (r.value_type is ValueType.PROCESS_INSTANCE and r.intent is PI.ELEMENT_COMPLETED
                      and r.key == key)


async def test_an_intermediate_timer_completes_after_exactly_its_virtual_duration(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("waiting.bpmn", waiting("PT10M"))
        start = trio.current_time()
        created = await broker.create_instance("waiting")
        pik = created.value["processInstanceKey"]
        await broker.wait_for_record(_completed(pik))
        done_at = trio.current_time()
        records = broker.records()
    [timer_completed] = [r for r in records if r.value_type is ValueType.PROCESS_INSTANCE
                         and r.intent is PI.ELEMENT_COMPLETED and r.value["elementId"] == "timer"]
    assert timer_completed.value["bpmnElementType"] == BpmnElementType.INTERMEDIATE_CATCH_EVENT.name
    assert done_at - start == pytest.approx(600.0, abs=EPSILON)


async def test_an_interrupting_boundary_timer_takes_its_path_at_the_exact_virtual_time(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with open_broker(tmp_path, **SETTINGS) as broker:
        await broker.deploy("guarded.bpmn", GUARDED)
        start = trio.current_time()
        created = await broker.create_instance("guarded")
        pik = created.value["processInstanceKey"]
        [(job_key, _)] = await broker.activate("nobody", timeout_ms=3_600_000)  # activated, never completed
        await broker.wait_for_record(_completed(pik))
        done_at = trio.current_time()
        late = await broker.complete(job_key)
        records = broker.records()
    completed = [r.value["elementId"] for r in records if r.value_type is ValueType.PROCESS_INSTANCE
                 and r.intent is PI.ELEMENT_COMPLETED and r.value["processInstanceKey"] == pik]
    terminated = [r.value["elementId"] for r in records if r.value_type is ValueType.PROCESS_INSTANCE
                  and r.intent is PI.ELEMENT_TERMINATED]
    canceled = [r.key for r in records if r.value_type is ValueType.JOB and r.intent is JobIntent.CANCELED]
    assert done_at - start == pytest.approx(300.0, abs=EPSILON)
    assert completed == ["start", "timeout", "late", "guarded"]
    assert terminated == ["task"] and canceled == [job_key]
    assert late.is_rejection  # the worker comes too late: its job went with the task


async def test_a_one_second_timer_in_real_time_completes_for_a_create_with_result_client(tmp_path: Path) -> None:
    port = _free_port()
    with broker_process(tmp_path / "data", port):
        client = Client(f"127.0.0.1:{port}")
        try:
            await client.deploy("waiting.bpmn", waiting("PT1S"))
            result = await client.call("CreateProcessInstanceWithResult", pb.CreateProcessInstanceWithResultRequest(
                request=pb.CreateProcessInstanceRequest(bpmnProcessId="waiting", version=-1,
                                                        variables='{"order": 3}'),
                requestTimeout=20_000), timeout=30.0)
        finally:
            client.close()
    assert result.bpmnProcessId == "waiting" and result.processInstanceKey > 0
    assert json.loads(result.variables) == {"order": 3}


async def test_a_timer_start_event_cycle_creates_an_instance_at_each_virtual_repetition(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    ticking = b.process("ticking", b.start("tick", b.timer_definition(cycle="R2/PT1M")), b.flow("f", "tick", "end"),
                        b.end())
    async with open_broker(tmp_path, **SETTINGS) as broker:
        start = trio.current_time()
        await broker.deploy("ticking.bpmn", ticking)
        created_at, after = [], -1
        for _ in range(2):
            completed = await broker.wait_for_record(
                lambda r: r.position > after and r.value_type is ValueType.PROCESS_INSTANCE  # noqa: B023
                and r.intent is PI.ELEMENT_COMPLETED and r.value["elementId"] == "ticking")
            created_at.append(trio.current_time() - start)
            after = completed.position
        await trio.sleep(600)  # the cycle has ended: no third instance
        instances = [r for r in broker.records() if r.value_type is ValueType.PROCESS_INSTANCE
                     and r.intent is PI.ELEMENT_COMPLETED and r.value["elementId"] == "ticking"]
    assert created_at == [pytest.approx(60.0, abs=EPSILON), pytest.approx(120.0, abs=EPSILON)]
    assert len(instances) == 2
