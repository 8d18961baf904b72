"""Exclusive gateways: take the first outgoing flow whose condition is true, else the default flow.

A gateway without outgoing flows ends its path in the flow scope (as in Zeebe). No true condition and
no default flow is a CONDITION_ERROR incident; resolving it evaluates the conditions again.
"""

from __future__ import annotations

from zeebe_trio.protocol import ErrorType, excerpt

from ...._batch import Batch
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableExclusiveGateway, ExecutableSequenceFlow
from .._processor import FlowNodeProcessor

__all__ = ["ExclusiveGatewayProcessor"]


class ExclusiveGatewayProcessor(FlowNodeProcessor[ExecutableExclusiveGateway]):
    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, expressions: ExpressionBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.expressions = expressions

    def finalize_activation(self, batch: Batch, element: ExecutableExclusiveGateway, context: ElementContext) -> None:
        # After the start execution listeners, whose variables the conditions see (Zeebe evaluates them
        # in the gateway's own scope).
        try:
            flow = self._choose_flow(batch, element, context)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.CONDITION_ERROR, str(error)) from None
        self.transitions.to_activated(batch, context)
        self.transitions.to_completing(batch, context)
        self.variables.apply_output_mappings(batch, element, context)
        self.transitions.complete_and_take_flows(batch, element, context, () if flow is None else (flow,))

    def _choose_flow(self, batch: Batch, element: ExecutableExclusiveGateway,
                     context: ElementContext) -> ExecutableSequenceFlow | None:
        outgoing = element.outgoing
        if not outgoing:
            return None
        if len(outgoing) == 1 and outgoing[0].condition is None:
            return outgoing[0]
        variables = self.expressions.variables_at(batch, context.key)
        for flow in outgoing:
            if flow is element.default_flow or flow.condition is None:
                continue
            result = self.expressions.evaluate(batch, flow.condition, variables)
            if result is True:
                return flow
            if result is not False and result is not None:
                raise EvaluationError(
                    f"Expected the condition '{flow.condition.source}' of sequence flow '{flow.id}' to evaluate to"
                    f" a boolean, but it returned {type(result).__name__} {excerpt(result)}")
        if element.default_flow is not None:
            return element.default_flow
        raise EvaluationError(
            f"Expected at least one condition to evaluate to true, or to have a default flow, but no condition"
            f" of exclusive gateway '{element.id}' was true and it has no default flow")
