"""A running gateway on loopback, in front of a scripted broker port, and a real gRPC client.

``FakeBroker`` is a test double for ``BrokerPort`` (the real broker is being written in parallel). It
keeps the port's contract and nothing more: it records every command, answers each with whatever the
test scripted (an event, a rejection, a ``BrokerError``), keeps activatable jobs per partition and
type for ``JOB_BATCH.ACTIVATE``, calls jobs-available listeners when a test makes jobs available,
and hands tests the sinks of opened job streams.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.gateway import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    ClusterTopology,
    JobStreamSink,
    JobStreamSpec,
    PartitionInfo,
    serve_gateway,
)
from zeebe_trio.protocol import (
    Intent,
    JobBatchIntent,
    PartitionHealth,
    PartitionRole,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)

Responder = Callable[[int, BrokerCommand], Any]


def event(command: BrokerCommand, intent: Intent, value: dict[str, Any], *, key: int = -1) -> Record:
    return Record(
        record_type=RecordType.EVENT, value_type=command.value_type, intent=intent, value=value, key=key
    )


def rejection(command: BrokerCommand, rejection_type: RejectionType, reason: str) -> Record:
    return Record(
        record_type=RecordType.COMMAND_REJECTION,
        value_type=command.value_type,
        intent=command.intent,
        value=command.value,
        key=command.key,
        rejection_type=rejection_type,
        rejection_reason=reason,
    )


@dataclass
class OpenedStream:
    spec: JobStreamSpec
    sink: JobStreamSink
    closed: trio.Event = field(default_factory=trio.Event)
    undelivered: list[int] = field(default_factory=list)  # keys handed back when the stream closed


class FakeBroker:
    def __init__(self, partition_ids: Sequence[int] = (1, 2, 3)) -> None:
        self.partition_ids = list(partition_ids)
        self.commands: list[tuple[int, BrokerCommand]] = []
        self.responders: dict[tuple[ValueType, Intent], Responder] = {}
        self.activatable: dict[tuple[int, str], list[tuple[int, dict[str, Any]]]] = {}
        self.streams: list[OpenedStream] = []
        self._listeners: list[Callable[[str], None]] = []
        self.watched: dict[str, int] = {}  # job type -> open watches (the gateway's ActivateJobs interest)
        self._changed = trio.Event()

    # -- scripting (tests) ---------------------------------------------------------------------

    event = staticmethod(event)
    rejection = staticmethod(rejection)

    @staticmethod
    def job_value(job_type: str = "payment", **overrides: Any) -> dict[str, Any]:
        return job_value(job_type, **overrides)

    def respond(self, value_type: ValueType, intent: Intent, responder: Responder) -> None:
        self.responders[(value_type, intent)] = responder

    def make_jobs_available(
        self, partition_id: int, job_type: str, *jobs: tuple[int, dict[str, Any]]
    ) -> None:
        self.activatable.setdefault((partition_id, job_type), []).extend(jobs)
        for listener in list(self._listeners):
            listener(job_type)

    def commands_of(self, value_type: ValueType, intent: Intent) -> list[tuple[int, BrokerCommand]]:
        return [(p, c) for p, c in self.commands if c.value_type is value_type and c.intent == intent]

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait (no polling) until ``condition()`` holds after some port call."""
        while not condition():
            changed = self._changed
            await changed.wait()

    def _touch(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # -- BrokerPort ----------------------------------------------------------------------------

    async def execute(
        self,
        partition_id: int,
        command: BrokerCommand,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Record:
        await trio.lowlevel.checkpoint()
        self.commands.append((partition_id, command))
        self._touch()
        if command.value_type is ValueType.JOB_BATCH and command.intent == JobBatchIntent.ACTIVATE:
            return self._activate(partition_id, command)
        responder = self.responders.get((command.value_type, command.intent))
        if responder is None:
            raise BrokerError(
                BrokerError.INTERNAL,
                f"test scripted no answer to {command.value_type.name}.{command.intent.name}",
            )
        result = responder(partition_id, command)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, BrokerError):
            raise result
        return result

    def _activate(self, partition_id: int, command: BrokerCommand) -> Record:
        value = command.value
        available = self.activatable.get((partition_id, value["type"]), [])
        taken, available[:] = available[: value["maxJobsToActivate"]], available[value["maxJobsToActivate"] :]
        batch = {
            "type": value["type"],
            "worker": value["worker"],
            "timeout": value["timeout"],
            "maxJobsToActivate": value["maxJobsToActivate"],
            "variables": value["variables"],
            "tenantIds": value["tenantIds"],
            "truncated": False,
            "jobKeys": [key for key, _ in taken],
            "jobs": [{**job, "worker": value["worker"]} for _, job in taken],
        }
        return event(command, JobBatchIntent.ACTIVATED, batch, key=partition_id << 51 | 999)

    def topology(self) -> ClusterTopology:
        partitions = tuple(
            PartitionInfo(
                pid, PartitionRole.LEADER, PartitionHealth.HEALTHY if pid != 3 else PartitionHealth.UNHEALTHY
            )
            for pid in self.partition_ids
        )
        return ClusterTopology(
            brokers=(
                BrokerInfo(node_id=0, host="127.0.0.1", port=26501, version="8.8.0", partitions=partitions),
            ),
            cluster_size=1,
            partitions_count=len(self.partition_ids),
            replication_factor=1,
            gateway_version="8.8.0",
        )

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        self.watched[job_type] = self.watched.get(job_type, 0) + 1

        def unwatch() -> None:
            self.watched[job_type] -= 1

        return unwatch

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        opened = OpenedStream(spec, sink)
        self.streams.append(opened)
        self._touch()

        def close(undelivered: Sequence[int] = ()) -> None:
            opened.undelivered = list(undelivered)
            opened.closed.set()
            self._touch()

        return close


def job_value(job_type: str = "payment", **overrides: Any) -> dict[str, Any]:
    value = {
        "type": job_type,
        "worker": "",
        "retries": 3,
        "retryBackoff": 0,
        "deadline": 1_700_000_000_000,
        "timeout": 30_000,
        "customHeaders": {"method": "card"},
        "variables": {"amount": 42},
        "errorMessage": "",
        "errorCode": "",
        "elementId": "charge",
        "elementInstanceKey": (1 << 51) + 7,
        "bpmnProcessId": "order",
        "processDefinitionVersion": 2,
        "processDefinitionKey": (1 << 51) + 1,
        "processInstanceKey": (1 << 51) + 5,
        "tenantId": "<default>",
    }
    value.update(overrides)
    return value


@dataclass
class RunningGateway:
    broker: FakeBroker
    port: int
    channel: grpc.Channel
    stub: gateway_pb2_grpc.GatewayStub

    async def call(self, rpc: str, request: Any, *, deadline_s: float = 10.0) -> Any:
        """A unary call from a real gRPC client (with a gRPC deadline), in a worker thread."""
        return await trio.to_thread.run_sync(partial(getattr(self.stub, rpc), request, timeout=deadline_s))

    async def collect(self, rpc: str, request: Any, *, deadline_s: float = 10.0) -> list[Any]:
        """Every message of a server-streaming call, until the server completes it."""
        return await trio.to_thread.run_sync(
            lambda: list(getattr(self.stub, rpc)(request, timeout=deadline_s))
        )


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
async def gateway(nursery: trio.Nursery, broker: FakeBroker) -> AsyncIterator[RunningGateway]:
    port = await nursery.start(partial(serve_gateway, broker, host="127.0.0.1", grpc_port=0))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield RunningGateway(broker, port, channel, gateway_pb2_grpc.GatewayStub(channel))
    finally:
        channel.close()
