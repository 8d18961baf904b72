"""Inclusive gateways: a fork takes every outgoing flow whose condition is true (in document order),
else the default flow; a join activates once no token of its flow scope can still reach it through an
incoming flow that has not been taken (Zeebe's ``InclusiveGatewayProcessor`` and the inclusive gateway
check of its ``ProcessInstanceStateTransitionGuard``).

Fork: a gateway without outgoing flows ends its path; a single flow without a condition is taken as
it is; otherwise every condition except the default flow's is evaluated. A condition that does not
evaluate to a boolean is an EXTRACT_VALUE_ERROR incident, no true condition and no default flow a
CONDITION_ERROR incident; resolving one evaluates the conditions again.

Join: every taken incoming flow writes ACTIVATE_ELEMENT for the gateway. The command is accepted once
every incoming flow has a token, or once no active child of the flow scope and no token on its way in
it lies on a path to an incoming flow without a token (``ExecutableInclusiveGateway.reached_from``,
worked out when the process was transformed); else it is rejected, and a later arrival tries again.
The activation consumes one token of every incoming flow that has one. As in Zeebe, nothing but an
arrival re-checks a waiting join: a token that could have reached it but ends elsewhere leaves it
waiting.
"""

from __future__ import annotations

from zeebe_trio.protocol import ErrorType

from ...._batch import Batch
from ..._result_types import result_type as _result_type
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableInclusiveGateway, ExecutableSequenceFlow
from .._processor import FlowNodeProcessor

__all__ = ["InclusiveGatewayProcessor"]

#: Zeebe's message, word for word.
NO_FLOW_CHOSEN = "Expected at least one condition to evaluate to true, or to have a default flow"




class InclusiveGatewayProcessor(FlowNodeProcessor[ExecutableInclusiveGateway]):
    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, expressions: ExpressionBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.expressions = expressions

    # -- join ----------------------------------------------------------------------------------------

    def activation_refused(self, batch: Batch, element: ExecutableInclusiveGateway,
                           context: ElementContext) -> str | None:
        if not element.is_join:
            return None
        state = batch.state
        scope_key = context.flow_scope_key
        waiting = [flow for flow in element.incoming if state.taken_flow_count(scope_key, element.id, flow.id) == 0]
        if not waiting:
            return None
        if len(waiting) == len(element.incoming):
            # a second ACTIVATE_ELEMENT after an activation that consumed every token
            return (f"Expected to be able to activate inclusive gateway '{element.id}', but the inclusive gateway"
                    " way already activated.")
        if self._token_can_still_arrive(batch, element, scope_key, waiting):
            return (f"Expected to be able to activate inclusive gateway '{element.id}', but not all satisfied"
                    " sequence flows have been taken.")
        return None

    @staticmethod
    def _token_can_still_arrive(batch: Batch, element: ExecutableInclusiveGateway, scope_key: int,
                                waiting: list[ExecutableSequenceFlow]) -> bool:
        state = batch.state
        scope = state.element_instance(scope_key)
        if scope is None:
            return False
        reaching: set[str] = set()
        for flow in waiting:
            reaching |= element.reached_from.get(flow.id, frozenset())
        reaching.discard(element.id)
        if any(target in reaching for target in scope.flows_in_flight):
            return True
        for child_key in state.children(scope_key):
            child = state.element_instance(child_key)
            if child is not None and child.element_id in reaching:
                return True
        return False

    # -- fork ----------------------------------------------------------------------------------------

    def on_activate(self, batch: Batch, element: ExecutableInclusiveGateway, context: ElementContext) -> None:
        flows = self._choose_flows(batch, element, context)
        self.transitions.check_scope_capacity(batch, context, len(flows))
        self.transitions.to_activated(batch, context)
        self.transitions.to_completing(batch, context)
        self.transitions.complete_and_take_flows(batch, element, context, flows)

    def finalize_activation(self, batch: Batch, element: ExecutableInclusiveGateway, context: ElementContext) -> None:
        pass  # completed in on_activate, with the flows it chose

    def _choose_flows(self, batch: Batch, element: ExecutableInclusiveGateway,
                      context: ElementContext) -> list[ExecutableSequenceFlow]:
        outgoing = element.outgoing
        if not outgoing:
            return []  # an implicit end of its flow scope's path
        if len(outgoing) == 1 and outgoing[0].condition is None:
            return [outgoing[0]]
        variables = self.expressions.variables_at(batch, context.flow_scope_key)
        chosen = []
        for flow in outgoing:
            if flow is element.default_flow or flow.condition is None:
                continue
            try:
                result = self.expressions.evaluate(batch, flow.condition, variables)
            except EvaluationError as error:
                raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
            if not isinstance(result, bool):
                shown = flow.condition.source.strip().removeprefix("=").strip()
                raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                     f"Expected result of the expression '{shown}' to be 'BOOLEAN', but was"
                                     f" '{_result_type(result)}'.")
            if result:
                chosen.append(flow)
        if chosen:
            return chosen
        if element.default_flow is not None:
            return [element.default_flow]
        raise ElementFailure(ErrorType.CONDITION_ERROR, NO_FLOW_CHOSEN)
