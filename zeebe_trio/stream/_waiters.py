"""Waiting for a monotonically increasing position (appended, durable)."""

from __future__ import annotations

import heapq
import itertools

import trio


class PositionWatermark:
    """A position that only moves forward; tasks wait until it reaches a target."""

    def __init__(self, value: int = -1) -> None:
        self.value = value
        self._waiters: list[tuple[int, int, trio.Event]] = []
        self._tie = itertools.count()

    def advance(self, value: int) -> None:
        if value <= self.value:
            return
        self.value = value
        waiters = self._waiters
        while waiters and waiters[0][0] <= value:
            heapq.heappop(waiters)[2].set()

    async def wait_until(self, target: int) -> None:
        """Return once ``value >= target`` (always checkpoints)."""
        if self.value >= target:
            await trio.lowlevel.checkpoint()
            return
        event = trio.Event()
        heapq.heappush(self._waiters, (target, next(self._tie), event))
        await event.wait()

    def statistics(self) -> dict[str, int]:
        return {"value": self.value, "waiting": len(self._waiters)}
