"""Several engines connected by an in-memory network of inter-partition commands (Zeebe's
``EngineRule.multiplePartition``), for tests of what crosses partitions: command distribution,
acknowledgements, redistribution, message subscriptions.

Each partition is an ``EngineHarness`` (its own state, log, replaying twin and clock, all moved
together). A command one partition sends to another goes *in flight*; ``settle`` delivers what is in
flight (to the receiver's log, as the local sender does) and lets every partition process until nothing
moves. ``lose`` drops the next commands that match, the way a command is lost when its receiver is down;
``advance`` moves time on every partition and runs the leader's redistribution every
``REDISTRIBUTION_INTERVAL_MS``, so a lost distribution is sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from zeebe_trio.engine.processing import REDISTRIBUTION_INTERVAL_MS
from zeebe_trio.protocol import (
    DeploymentIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    Record,
    RecordType,
    SignalIntent,
    ValueType,
)

from ._engine_harness import START_TIME, EngineHarness, RecordStream

__all__ = ["MultiPartitionHarness"]


class MultiPartitionHarness:
    """``partition_count`` engines; partition ``p`` is ``harness.partition(p)``."""

    def __init__(self, partition_count: int = 3, *, now: int = START_TIME, check_replay: bool = True) -> None:
        self.partition_count = partition_count
        self.in_flight: list[tuple[int, int, Record]] = []  # (sender, receiver, command)
        self.delivered: list[tuple[int, int, Record]] = []
        self.lost: list[tuple[int, int, Record]] = []
        self._losing: list[Callable[[int, Record], bool]] = []
        self._since_redistribution = 0
        self.partitions: dict[int, EngineHarness] = {}
        for partition_id in range(1, partition_count + 1):
            self.partitions[partition_id] = EngineHarness(
                now=now, check_replay=check_replay, partition_id=partition_id, partition_count=partition_count,
                send=self._sender_of(partition_id))

    def _sender_of(self, sender: int) -> Callable[[int, Record], None]:
        def send(receiver: int, command: Record) -> None:
            for index, predicate in enumerate(self._losing):
                if predicate(receiver, command):
                    del self._losing[index]
                    self.lost.append((sender, receiver, command))
                    return
            self.in_flight.append((sender, receiver, command))

        return send

    # -- lifetime ----------------------------------------------------------------------------------

    def close(self) -> None:
        for harness in self.partitions.values():
            harness.close()

    def __enter__(self) -> MultiPartitionHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def partition(self, partition_id: int) -> EngineHarness:
        return self.partitions[partition_id]

    @property
    def now(self) -> int:
        return self.partitions[1].now

    # -- the network -------------------------------------------------------------------------------

    def lose(self, predicate: Callable[[int, Record], bool]) -> None:
        """Drop the next inter-partition command for which ``predicate(receiver, command)`` holds."""
        self._losing.append(predicate)

    def settle(self) -> None:
        """Deliver every command in flight and process, until no partition has anything left to do."""
        while self.in_flight:
            sender, receiver, command = self.in_flight.pop(0)
            self.delivered.append((sender, receiver, command))
            harness = self.partitions[receiver]
            harness.receive(command)
            harness.process_log()

    def redistribute(self) -> int:
        """One run of every partition's periodic retry (distributions, pending subscriptions); how many
        commands it sent."""
        sent = 0
        for partition_id, harness in self.partitions.items():
            with harness.read():
                commands = harness.engine.commands_to_resend()
            send = self._sender_of(partition_id)
            for receiver, command in commands:
                send(receiver, command)
            sent += len(commands)
        return sent

    def advance(self, ms: int) -> None:
        """Let ``ms`` pass on every partition, running the redistribution at its interval, and settle."""
        remaining = ms
        while remaining > 0:
            step = min(remaining, REDISTRIBUTION_INTERVAL_MS - self._since_redistribution)
            for harness in self.partitions.values():
                harness.advance(step)
            remaining -= step
            self._since_redistribution += step
            if self._since_redistribution >= REDISTRIBUTION_INTERVAL_MS:
                self._since_redistribution = 0
                self.redistribute()
            self.settle()

    # -- client commands (each settles) ------------------------------------------------------------

    def write(self, partition_id: int, value_type: ValueType, intent: Any, value: dict[str, Any] | None = None,
              key: int = -1) -> Record | None:
        response = self.partitions[partition_id].write(value_type, intent, value, key)
        self.settle()
        return response

    def deploy(self, name: str, resource: bytes) -> Record | None:
        """Deploy on partition 1 (the deployment partition), which distributes it."""
        return self.write(1, ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                          {"resources": [{"resourceName": name, "resource": resource}]})

    def create_instance(self, partition_id: int, process_id: str, variables: dict[str, Any] | None = None) -> int:
        response = self.write(partition_id, ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                              {"bpmnProcessId": process_id, "version": -1, "variables": variables or {}})
        assert response is not None and response.record_type is RecordType.EVENT, response
        return int(response.value["processInstanceKey"])

    def publish_message(self, partition_id: int, name: str, correlation_key: str, *,
                        variables: dict[str, Any] | None = None, time_to_live_ms: int = 0) -> Record | None:
        return self.write(partition_id, ValueType.MESSAGE, MessageIntent.PUBLISH,
                          {"name": name, "correlationKey": correlation_key, "timeToLive": time_to_live_ms,
                           "variables": variables or {}, "messageId": ""})

    def broadcast_signal(self, name: str, variables: dict[str, Any] | None = None) -> Record | None:
        return self.write(1, ValueType.SIGNAL, SignalIntent.BROADCAST,
                          {"signalName": name, "variables": variables or {}})

    # -- records -----------------------------------------------------------------------------------

    def records(self, partition_id: int) -> RecordStream:
        return self.partitions[partition_id].records()

    def all_records(self) -> Iterator[Record]:
        for harness in self.partitions.values():
            yield from harness.records()
