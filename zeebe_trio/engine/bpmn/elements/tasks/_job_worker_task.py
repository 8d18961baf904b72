"""Job worker tasks (service tasks, and send, business rule and script tasks in their job form).

Activating one creates its job; it waits until a worker completes the job (JOB COMPLETED writes
COMPLETE_ELEMENT), and terminating it cancels the job.
"""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    IncidentBehavior,
    JobBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableJobWorkerTask
from .._processor import FlowNodeProcessor

__all__ = ["JobWorkerTaskProcessor"]


class JobWorkerTaskProcessor(FlowNodeProcessor[ExecutableJobWorkerTask]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, jobs: JobBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.jobs = jobs

    def finalize_activation(self, batch: Batch, element: ExecutableJobWorkerTask, context: ElementContext) -> None:
        self.jobs.create_element_job(batch, element.job, context,
                                     lambda create_job: self.transitions.to_activated(batch, context, create_job,
                                                                                      element=element))

    def on_terminate(self, batch: Batch, element: ExecutableJobWorkerTask, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        instance = batch.state.element_instance(context.key)
        if instance is not None:
            self.jobs.cancel_job(batch, instance.job_key)
        self.incidents.resolve_incidents_of(batch, context.key)
        self.transitions.to_terminated(batch, element, context)
