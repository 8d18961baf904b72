"""The engine: processors (one per command), event appliers (one per event), BPMN and FEEL.

Never imports trio and never reads the wall clock: time arrives as ``now`` from the stream processor.
"""

from ._batch import MAX_COMMANDS_IN_BATCH, Batch, SideEffects
from ._engine import Engine
from ._job_streams import JobStream, JobStreams
from ._scheduled import CHECKERS, Checker, DueCommand, ScheduledChecks, due_commands, next_due_time
from .processing import REDISTRIBUTION_INTERVAL_MS
from .state import COLUMN_FAMILIES, EngineState

__all__ = [
    "CHECKERS", "COLUMN_FAMILIES", "Checker", "DueCommand", "due_commands", "next_due_time", "MAX_COMMANDS_IN_BATCH",
    "Batch", "Engine", "EngineState", "JobStream", "JobStreams", "ScheduledChecks", "SideEffects",
    "REDISTRIBUTION_INTERVAL_MS",
]
