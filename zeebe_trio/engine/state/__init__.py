"""Engine state: typed element instances, read views for processors, mutation only in appliers."""

from ._distribution import DistributionState
from ._element_instance import LIFECYCLE_STATES, ElementInstance, RecordFields
from ._engine_state import ACTIVATABLE, ACTIVATED, COLUMN_FAMILIES, ERROR_THROWN, FAILED, EngineState
from ._multi_instance import MultiInstanceBodyState
from ._user_task import UserTask, UserTaskLifecycle
from ._view import EngineStateView, ProcessLookup

__all__ = [
    "ACTIVATABLE",
    "ACTIVATED",
    "COLUMN_FAMILIES",
    "ERROR_THROWN",
    "FAILED",
    "LIFECYCLE_STATES",
    "ElementInstance",
    "RecordFields",
    "EngineState",
    "EngineStateView",
    "ProcessLookup",
    "UserTask",
    "UserTaskLifecycle",
    "MultiInstanceBodyState",
    "DistributionState",
]
