"""Due times: now plus a duration a client chose (a job timeout, a retry back-off, a message's time to
live), kept within what the state's keys, the records and dates can hold.

Durations are 64-bit milliseconds on the wire, so ``now + duration`` can pass 2**63 (an integer no
state key, record or exporter column holds) or the year 9999 (the last one a date holds). A due time
beyond ``LATEST_DUE_TIME`` is ``LATEST_DUE_TIME``: never, in practice, which is what such a duration
asks for.
"""

from __future__ import annotations

LATEST_DUE_TIME = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z in epoch milliseconds."""


def due_time(now: int, duration: int) -> int:
    """``now + duration`` in epoch milliseconds, at most ``LATEST_DUE_TIME``."""
    return min(now + duration, LATEST_DUE_TIME)
