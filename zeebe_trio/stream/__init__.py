"""The stream platform: the log stream, the processing and replay loops, snapshots."""

from ._logstream import LogStream
from ._processor import ProcessingResult, RecordProcessor, StreamProcessor
from ._repair import RepairPlan, plan_repair
from ._snapshots import Snapshot, SnapshotStore
from ._waiters import PositionWatermark

__all__ = ["LogStream", "PositionWatermark", "ProcessingResult", "RecordProcessor", "RepairPlan", "Snapshot",
           "SnapshotStore", "StreamProcessor", "plan_repair"]
