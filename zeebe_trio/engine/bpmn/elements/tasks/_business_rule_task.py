"""Business rule tasks: a job (zeebe:taskDefinition) like any job worker task, or a decision
(zeebe:calledDecision) that the engine evaluates itself.

On activation (after the input mappings) the decision id is evaluated, the version the binding names
is looked up (none: a CALLED_DECISION_ERROR incident) and evaluated in the task's scope; the
DECISION_EVALUATION event is written either way, and a failed evaluation is a
DECISION_EVALUATION_ERROR incident with its failure message (resolving either evaluates again). The
output waits in a PROCESS_EVENT for the completion, which follows at once and takes it as
``resultVariable`` through the output mappings (Zeebe's ``BusinessRuleTaskProcessor``).
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import ErrorType, ValueType

from ...._batch import Batch
from ...behaviors import (
    DecisionBehavior,
    DecisionLookupError,
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    JobBehavior,
    ProcessEventBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import ExecutableBusinessRuleTask
from ._job_worker_task import JobWorkerTaskProcessor

__all__ = ["BusinessRuleTaskProcessor"]


class BusinessRuleTaskProcessor(JobWorkerTaskProcessor):
    """The job worker processor for business rule tasks in their job form, the decision's steps otherwise."""

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, jobs: JobBehavior, expressions: ExpressionBehavior,
                 decisions: DecisionBehavior) -> None:
        super().__init__(transitions, variables, incidents, jobs)
        self.expressions = expressions
        self.decisions = decisions
        self.process_events = ProcessEventBehavior()

    def finalize_activation(self, batch: Batch, element: Any, context: ElementContext) -> None:
        if not isinstance(element, ExecutableBusinessRuleTask):
            super().finalize_activation(batch, element, context)
            return
        variables = self.expressions.variables_at(batch, context.key)
        decision_id = self._decision_id(batch, element, variables)
        tenant = context.value.get("tenantId") or ""
        try:
            decision = self._called_decision(batch, element, context, decision_id, tenant)
            result = self.decisions.evaluate(batch, decision, variables)
        except DecisionLookupError as error:
            raise ElementFailure(ErrorType.CALLED_DECISION_ERROR, str(error)) from None
        key = batch.next_key()
        intent, event = self.decisions.evaluation_event(
            batch, decision, result, key,
            bpmnProcessId=context.value.get("bpmnProcessId", ""),
            processDefinitionKey=context.process_definition_key,
            processInstanceKey=context.process_instance_key,
            elementId=context.element_id,
            elementInstanceKey=context.key)
        batch.event(ValueType.DECISION_EVALUATION, intent, key, event)
        if result.failed:
            raise ElementFailure(ErrorType.DECISION_EVALUATION_ERROR, result.failure_message)
        self.process_events.triggering(batch, context.value, context.key,
                                       {element.result_variable: result.decision_output})
        self.transitions.to_activated(batch, context)
        self.complete_now(batch, element, context)  # type: ignore[arg-type]  # one processor for both forms

    def _decision_id(self, batch: Batch, element: ExecutableBusinessRuleTask, variables: Any) -> str:
        return self.expressions.evaluate_string(batch, element.decision_id, variables)

    def _called_decision(self, batch: Batch, element: ExecutableBusinessRuleTask, context: ElementContext,
                         decision_id: str, tenant: str) -> dict[str, Any]:
        if element.binding_type == "deployment":
            process = batch.state.process(context.process_definition_key) or {}
            return self.decisions.by_deployment(batch, decision_id, process.get("deploymentKey", -1), tenant)
        if element.binding_type == "versionTag":
            return self.decisions.by_version_tag(batch, decision_id, element.version_tag or "", tenant)
        return self.decisions.latest(batch, decision_id, tenant)
