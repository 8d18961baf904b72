"""Processors of tasks: undefined and manual tasks, job worker tasks, script tasks, user tasks, receive tasks."""

from ._business_rule_task import BusinessRuleTaskProcessor
from ._job_worker_task import JobWorkerTaskProcessor
from ._receive_task import ReceiveTaskProcessor
from ._script_task import ScriptTaskProcessor
from ._undefined_task import UndefinedTaskProcessor
from ._user_task import UserTaskProcessor

__all__ = ["BusinessRuleTaskProcessor", "JobWorkerTaskProcessor", "ReceiveTaskProcessor", "ScriptTaskProcessor", "UndefinedTaskProcessor",
           "UserTaskProcessor"]
