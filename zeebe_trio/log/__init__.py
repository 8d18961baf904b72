"""The segmented append-only log under each partition (later a Raft replica's log).

`SegmentedLog` stores entries in segment files (format documented in `zeebe_trio.log._segment`, durability
and recovery rules in `zeebe_trio.log._log`); `InMemoryLog` has the same API for tests. Both satisfy the
`Log` protocol. The core is synchronous and never imports trio: the broker runs the blocking
`SegmentedLog.sync` (fsync) in a worker thread via `trio.to_thread.run_sync` with a limiter.
"""

from ._entry import (
    Log,
    LogClosedError,
    LogCompactedError,
    LogCorruptedError,
    LogDamage,
    LogEntry,
    LogRecovery,
)
from ._log import LogInspection, SegmentedLog
from ._memory import InMemoryLog
from ._meta import DurableMark

__all__ = [
    "DurableMark",
    "InMemoryLog",
    "Log",
    "LogClosedError",
    "LogCompactedError",
    "LogCorruptedError",
    "LogDamage",
    "LogEntry",
    "LogInspection",
    "LogRecovery",
    "SegmentedLog",
]
