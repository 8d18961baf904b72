"""User tasks, in both of Zeebe's forms.

A job worker user task (no zeebe:userTask) is a job of type ``io.camunda.zeebe:userTask`` whose custom
headers carry the task's evaluated attributes (``io.camunda.zeebe:assignee``, ...); completing the job
completes the task. A Camunda user task (zeebe:userTask) writes USER_TASK CREATING and CREATED, then
the element's ACTIVATED, then ASSIGNING and ASSIGNED when it has an assignee; a USER_TASK COMPLETE
command (``processing._user_tasks``) completes it. Terminating either cancels its job or its user task.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    IncidentBehavior,
    JobBehavior,
    StateTransitionBehavior,
    UserTaskBehavior,
    VariableBehavior,
)
from ...model import ExecutableUserTask
from .._processor import FlowNodeProcessor

__all__ = ["UserTaskProcessor"]


class UserTaskProcessor(FlowNodeProcessor[ExecutableUserTask]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, jobs: JobBehavior, user_tasks: UserTaskBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.jobs = jobs
        self.user_tasks = user_tasks

    def finalize_activation(self, batch: Batch, element: ExecutableUserTask, context: ElementContext) -> None:
        evaluated = self.user_tasks.evaluate(batch, element.user_task, context)
        if element.job is not None:
            self.jobs.create_element_job(batch, element.job, context,
                                         lambda create_job: self.transitions.to_activated(batch, context, create_job),
                                         self.user_tasks.job_headers(element.user_task, evaluated))
            return
        created = self.user_tasks.create(batch, element.user_task, evaluated, context)
        self.transitions.to_activated(batch, context)
        if evaluated.assignee:
            self.user_tasks.assign(batch, created, evaluated.assignee)

    def on_terminate(self, batch: Batch, element: ExecutableUserTask, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        instance = batch.state.element_instance(context.key)
        if element.job is not None:
            if instance is not None:
                self.jobs.cancel_job(batch, instance.job_key)
            self.incidents.resolve_incidents_of(batch, context.key)
        else:
            self.incidents.resolve_incidents_of(batch, context.key)
            if instance is not None:
                self.user_tasks.cancel(batch, instance.user_task_key)
        self.transitions.to_terminated(batch, element, context)
