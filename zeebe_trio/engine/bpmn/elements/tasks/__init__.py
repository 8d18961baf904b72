"""Processors of tasks: undefined and manual tasks, job worker tasks, receive tasks."""

from ._job_worker_task import JobWorkerTaskProcessor
from ._receive_task import ReceiveTaskProcessor
from ._undefined_task import UndefinedTaskProcessor

__all__ = ["JobWorkerTaskProcessor", "ReceiveTaskProcessor", "UndefinedTaskProcessor"]
