"""Processors of tasks: undefined and manual tasks, job worker tasks, script tasks, user tasks."""

from ._job_worker_task import JobWorkerTaskProcessor
from ._script_task import ScriptTaskProcessor
from ._undefined_task import UndefinedTaskProcessor
from ._user_task import UserTaskProcessor

__all__ = ["JobWorkerTaskProcessor", "ScriptTaskProcessor", "UndefinedTaskProcessor", "UserTaskProcessor"]
