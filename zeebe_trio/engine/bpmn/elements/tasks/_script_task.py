"""Script tasks: a job (zeebe:taskDefinition) like any job worker task, or a FEEL expression
(zeebe:script) that the engine evaluates itself.

The expression is evaluated in the task's scope when it activates (a failure is an EXTRACT_VALUE_ERROR
incident; resolving it evaluates again); its value waits in a PROCESS_EVENT for the completion, which
follows at once and takes the value as ``resultVariable`` through the output mappings, as a job's
variables are taken (Zeebe's ``ScriptTaskProcessor``).
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import ErrorType

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    JobBehavior,
    ProcessEventBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableScriptTask
from ._job_worker_task import JobWorkerTaskProcessor

__all__ = ["ScriptTaskProcessor"]


class ScriptTaskProcessor(JobWorkerTaskProcessor):
    """The job worker processor for script tasks in their job form, the script's own steps otherwise."""

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, jobs: JobBehavior, expressions: ExpressionBehavior) -> None:
        super().__init__(transitions, variables, incidents, jobs)
        self.expressions = expressions
        self.process_events = ProcessEventBehavior()

    def finalize_activation(self, batch: Batch, element: Any, context: ElementContext) -> None:
        if not isinstance(element, ExecutableScriptTask):
            super().finalize_activation(batch, element, context)
            return
        try:
            result = self.expressions.evaluate(batch, element.expression,
                                               self.expressions.variables_at(batch, context.key))
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        self.process_events.triggering(batch, context.value, context.key, {element.result_variable: result})
        self.transitions.to_activated(batch, context)
        self.complete_now(batch, element, context)  # type: ignore[arg-type]  # one processor for both forms
