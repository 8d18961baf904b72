"""Processors of tasks: undefined and manual tasks, job worker tasks."""

from ._job_worker_task import JobWorkerTaskProcessor
from ._undefined_task import UndefinedTaskProcessor

__all__ = ["JobWorkerTaskProcessor", "UndefinedTaskProcessor"]
