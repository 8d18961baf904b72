"""Harnesses for tests (ours and users'): a broker in a nursery, BPMN builders, command helpers.

Not imported by ``zeebe_trio`` itself.
"""

from ._harness import BrokerHarness, one_task_bpmn, open_broker, service_tasks_bpmn

__all__ = ["BrokerHarness", "one_task_bpmn", "open_broker", "service_tasks_bpmn"]
