"""`Transport`: how a Raft driver sends and receives messages, and `InMemoryNetwork`, a controllable one.

A transport is lossy by contract: `send_nowait` never blocks and may drop a message (a full queue, an
unreachable peer); Raft retransmits what matters. A TCP implementation keeps one bounded outgoing queue
per peer and a task per connection that drains it, so one slow peer never stalls the Raft loop.

`InMemoryNetwork` connects the endpoints of one process. Tests control it: `drop_rate`,
`duplicate_rate`, `delay` (a random delay per message, which also reorders), `partition(...)` / `heal()`,
`disconnect(node)` / `reconnect(node)`. Delayed messages are delivered by `run()`, which must be running in
a nursery when `delay` is set. Every inbox is bounded (`inbox_capacity`); a full inbox drops.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import trio

from ._messages import RaftMessage


class Transport(Protocol):
    def send_nowait(self, message: RaftMessage) -> None:
        """Queue `message` for `message.target`, or drop it; never blocks."""
        ...

    async def receive(self) -> RaftMessage:
        """The next message addressed to this node."""
        ...


@dataclass(slots=True)
class NetworkStatistics:
    sent: int = 0
    delivered: int = 0
    dropped: int = 0
    delayed: int = 0


class InMemoryTransport:
    """One node's endpoint on an `InMemoryNetwork`."""

    def __init__(self, network: InMemoryNetwork, node_id: int,
                 inbox: trio.MemoryReceiveChannel[RaftMessage]) -> None:
        self.network = network
        self.node_id = node_id
        self._inbox = inbox

    def send_nowait(self, message: RaftMessage) -> None:
        self.network._send(message)

    async def receive(self) -> RaftMessage:
        return await self._inbox.receive()


class InMemoryNetwork:
    def __init__(self, *, rng: random.Random | None = None, inbox_capacity: int = 256) -> None:
        self.rng = rng or random.Random(0)
        self.inbox_capacity = inbox_capacity
        self.drop_rate = 0.0
        self.duplicate_rate = 0.0
        self.delay: tuple[float, float] = (0.0, 0.0)
        """(min, max) seconds; each message waits a uniformly random time in between."""
        self.statistics = NetworkStatistics()
        self._inboxes: dict[int, trio.MemorySendChannel[RaftMessage]] = {}
        self._groups: dict[int, int] | None = None
        self._down: set[int] = set()
        self._delayed: list[tuple[float, int, RaftMessage]] = []
        self._seq = 0
        self._wakeup = trio.Event()

    def endpoint(self, node_id: int) -> InMemoryTransport:
        """The transport of `node_id` (a new inbox each time: what a restarted node would get)."""
        send, receive = trio.open_memory_channel[RaftMessage](self.inbox_capacity)
        self._inboxes[node_id] = send
        return InMemoryTransport(self, node_id, receive)

    def partition(self, *groups: Iterable[int]) -> None:
        """Only nodes in the same group reach each other (nodes in no group are alone)."""
        self._groups = {}
        for number, group in enumerate(groups):
            for node in group:
                self._groups[node] = number

    def heal(self) -> None:
        self._groups = None

    def disconnect(self, node_id: int) -> None:
        self._down.add(node_id)

    def reconnect(self, node_id: int) -> None:
        self._down.discard(node_id)

    def connected(self, a: int, b: int) -> bool:
        if a in self._down or b in self._down:
            return False
        if self._groups is None:
            return True
        return a in self._groups and b in self._groups and self._groups[a] == self._groups[b]

    def _send(self, message: RaftMessage) -> None:
        self.statistics.sent += 1
        copies = 2 if self.rng.random() < self.duplicate_rate else 1
        for _ in range(copies):
            if self.rng.random() < self.drop_rate:
                self.statistics.dropped += 1
                continue
            low, high = self.delay
            if high > 0:
                self._seq += 1
                due = trio.current_time() + self.rng.uniform(low, high)
                heapq.heappush(self._delayed, (due, self._seq, message))
                self.statistics.delayed += 1
                self._wakeup.set()
            else:
                self._deliver(message)

    def _deliver(self, message: RaftMessage) -> None:
        inbox = self._inboxes.get(message.target)
        if inbox is None or not self.connected(message.source, message.target):
            self.statistics.dropped += 1
            return
        try:
            inbox.send_nowait(message)
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            self.statistics.dropped += 1
            return
        self.statistics.delivered += 1

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver delayed messages when they are due (needed only while `delay` is set)."""
        task_status.started()
        while True:
            if not self._delayed:
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            due = self._delayed[0][0]
            now = trio.current_time()
            if due > now:
                self._wakeup = trio.Event()
                with trio.move_on_after(due - now):
                    await self._wakeup.wait()
                continue
            _, _, message = heapq.heappop(self._delayed)
            self._deliver(message)
