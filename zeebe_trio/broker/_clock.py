"""The engine clock: epoch milliseconds that advance with Trio's clock.

Read once from the wall clock at start, then driven by ``trio.current_time()``: under
``MockClock`` virtual time moves the engine clock too, so timer and timeout tests run instantly.
"""

from __future__ import annotations

import time

import trio


class EngineClock:
    def __init__(self, epoch_ms: int | None = None) -> None:
        # A whole millisecond, so that millisecond deadlines map to exact trio times.
        self._epoch0 = float(int(time.time() * 1000) if epoch_ms is None else epoch_ms)
        self._trio0 = trio.current_time()

    def now_ms(self) -> int:
        return round(self._epoch0 + (trio.current_time() - self._trio0) * 1000)

    def trio_time_at(self, epoch_ms: int) -> float:
        return self._trio0 + (epoch_ms - self._epoch0) / 1000
