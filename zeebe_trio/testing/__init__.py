"""Harnesses for tests (ours and users'): a broker in a nursery, an engine
without a broker that records every record, BPMN builders, command helpers.

Not imported by ``zeebe_trio`` itself.
"""

from ._engine_harness import EngineHarness, RecordStream, ReplayDiverged
from ._harness import BrokerHarness, one_task_bpmn, open_broker, service_tasks_bpmn
from ._multi_partition_harness import MultiPartitionHarness

__all__ = ["BrokerHarness", "EngineHarness", "RecordStream", "ReplayDiverged", "one_task_bpmn", "open_broker", "service_tasks_bpmn",
           "MultiPartitionHarness"]
