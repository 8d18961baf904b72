"""Parallel gateways: a fork takes every outgoing flow; a join activates once a token has arrived on
each of its incoming flows, and each activation consumes one token per flow."""

from __future__ import annotations

from ...._batch import Batch
from ...behaviors import ElementContext
from ...model import ExecutableParallelGateway
from .._processor import FlowNodeProcessor

__all__ = ["ParallelGatewayProcessor"]


class ParallelGatewayProcessor(FlowNodeProcessor[ExecutableParallelGateway]):
    waits = False
    completes_inline = True  # Zeebe's ParallelGatewayProcessor completes within finalizeActivation

    def activation_refused(self, batch: Batch, element: ExecutableParallelGateway, context: ElementContext) -> str | None:
        # Zeebe's activation guard (camunda#6778): a second ACTIVATE_ELEMENT written for the same set of
        # flows (an incoming flow taken twice) finds one missing; the extra token stays waiting.
        if element.is_join and not self.transitions.all_flows_taken(batch, context.flow_scope_key, element):
            return (f"Expected to be able to activate parallel gateway '{element.id}', but not all sequence flows"
                    " have been taken.")
        return None
