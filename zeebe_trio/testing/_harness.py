"""A broker running in the caller's nursery, with helpers that speak in commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from zeebe_trio.broker import Broker, BrokerConfig
from zeebe_trio.gateway._port import BrokerCommand
from zeebe_trio.protocol import (
    DeploymentIntent,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    ValueType,
)

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
         ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="definitions" targetNamespace="http://zeebe-trio">\n')


def service_tasks_bpmn(process_id: str, job_types: list[str], *, retries: int = 3) -> bytes:
    """start -> one service task per job type, in a row -> end."""
    parts = [_HEAD, f'<bpmn:process id="{process_id}" isExecutable="true">\n<bpmn:startEvent id="start"/>\n']
    previous = "start"
    for i, job_type in enumerate(job_types):
        task = f"task{i + 1}"
        parts.append(f'<bpmn:sequenceFlow id="to_{task}" sourceRef="{previous}" targetRef="{task}"/>\n'
                     f'<bpmn:serviceTask id="{task}"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}"'
                     f' retries="{retries}"/></bpmn:extensionElements></bpmn:serviceTask>\n')
        previous = task
    parts.append(f'<bpmn:sequenceFlow id="to_end" sourceRef="{previous}" targetRef="end"/>\n<bpmn:endEvent id="end"/>\n'
                 '</bpmn:process>\n</bpmn:definitions>\n')
    return "".join(parts).encode()


def one_task_bpmn(process_id: str = "one_task", job_type: str = "work") -> bytes:
    return service_tasks_bpmn(process_id, [job_type])


class BrokerHarness:
    """Commands against a running broker's partition 1, as the gateway would send them."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    @property
    def partition(self) -> Any:
        return self.broker.partitions[1]

    async def send(self, value_type: ValueType, intent: Intent, value: dict[str, Any] | None = None, key: int = -1,
                   timeout: float | None = 30.0) -> Record:
        return await self.broker.execute(1, BrokerCommand(value_type, intent, value or {}, key), timeout=timeout)

    async def deploy(self, name: str, data: bytes) -> Record:
        return await self.send(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                               {"resources": [{"resourceName": name, "resource": data}]})

    async def create_instance(self, process_id: str, variables: dict[str, Any] | None = None, *,
                              with_result: bool = False, timeout: float | None = 30.0) -> Record:
        intent = (ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT if with_result
                  else ProcessInstanceCreationIntent.CREATE)
        return await self.send(ValueType.PROCESS_INSTANCE_CREATION, intent,
                               {"bpmnProcessId": process_id, "version": -1, "variables": variables or {}},
                               timeout=timeout)

    async def activate(self, job_type: str, max_jobs: int = 10, timeout_ms: int = 300_000,
                       worker: str = "test-worker") -> list[tuple[int, dict[str, Any]]]:
        record = await self.send(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE,
                                 {"type": job_type, "worker": worker, "timeout": timeout_ms,
                                  "maxJobsToActivate": max_jobs})
        return list(zip(record.value["jobKeys"], record.value["jobs"], strict=True))

    async def complete(self, job_key: int, variables: dict[str, Any] | None = None) -> Record:
        return await self.send(ValueType.JOB, JobIntent.COMPLETE, {"variables": variables or {}}, key=job_key)

    async def fail(self, job_key: int, retries: int, message: str = "", backoff_ms: int = 0) -> Record:
        return await self.send(ValueType.JOB, JobIntent.FAIL,
                               {"retries": retries, "errorMessage": message, "retryBackoff": backoff_ms},
                               key=job_key)

    async def update_retries(self, job_key: int, retries: int) -> Record:
        return await self.send(ValueType.JOB, JobIntent.UPDATE_RETRIES, {"retries": retries}, key=job_key)

    async def resolve(self, incident_key: int) -> Record:
        return await self.send(ValueType.INCIDENT, IncidentIntent.RESOLVE, key=incident_key)

    async def cancel(self, instance_key: int) -> Record:
        return await self.send(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.CANCEL, key=instance_key)

    async def wait_for_record(self, predicate: Callable[[Record], bool]) -> Record:
        """The first record on the log (already there or yet to come) that matches ``predicate``."""
        log_stream = self.partition.log_stream
        position = -1
        while True:
            for record in log_stream.read_after(position, 10_000):
                if predicate(record):
                    return record
                position = record.position
            await log_stream.appended.wait_until(position + 1)

    def records(self) -> list[Record]:
        """Every record on partition 1's log so far, in order."""
        return self.partition.log_stream.read_after(-1, 10**9)


@asynccontextmanager
async def open_broker(data_dir: Path, **settings: Any) -> AsyncIterator[BrokerHarness]:
    """Run a broker (no gateway and no command API unless asked) in a nursery for the duration of the block."""
    settings.setdefault("embedded_gateway", False)
    settings.setdefault("command_api_enabled", False)
    settings.setdefault("exporters", {})
    config = BrokerConfig(data_dir=data_dir, **settings)
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(Broker(config).run)
        try:
            yield BrokerHarness(broker)
        finally:
            nursery.cancel_scope.cancel()
