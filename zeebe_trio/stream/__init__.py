"""The stream platform: the log stream, the processing and replay loops, the leader-only schedule service,
the inter-partition sender port, the replicated log stream of a Raft replica, snapshots, the crash guard, and the repair an operator asks for
(``plan_repair``)."""

from ._guard import CrashGuard
from ._logstream import LogStream, Reservation
from ._processor import (
    BatchTooLarge,
    ProcessingCrashed,
    ProcessingResult,
    RecordProcessor,
    StateCommitError,
    StreamProcessor,
    StreamProcessorMode,
    StreamProcessorPhase,
    is_disk_full,
)
from ._repair import RepairPlan, plan_repair
from ._replicated import ReplicatedLogStream, Replicator
from ._schedule import ScheduleClock, ScheduledWork, ScheduleService
from ._sender import InterPartitionSender, LocalPartitionSender, UnknownPartitionError
from ._snapshots import Snapshot, SnapshotStore, list_snapshots
from ._snapshots import verify as verify_snapshot
from ._waiters import PositionWatermark

__all__ = ["BatchTooLarge", "CrashGuard", "InterPartitionSender", "LocalPartitionSender", "LogStream", "PositionWatermark",
           "ProcessingCrashed", "ProcessingResult", "RecordProcessor", "RepairPlan", "ReplicatedLogStream", "Replicator", "Reservation", "ScheduleClock",
           "ScheduleService", "ScheduledWork", "Snapshot", "SnapshotStore", "StateCommitError", "StreamProcessor",
           "StreamProcessorMode", "StreamProcessorPhase", "UnknownPartitionError", "is_disk_full", "list_snapshots", "plan_repair",
           "verify_snapshot"]
