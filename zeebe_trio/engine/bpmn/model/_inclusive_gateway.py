"""Inclusive gateways in the executable model, and where a token must be for an inclusive join to wait.

A fork takes every outgoing flow whose condition holds. A join activates once no token in its flow
scope can still reach it through an incoming flow that has not been taken yet (Zeebe's
``BpmnInclusiveGatewayBehavior``). Which elements can reach which incoming flow depends on the model
alone, so it is worked out once per gateway when the process is transformed: for every incoming flow,
the flow nodes of the same flow scope from which a path leads to that flow without passing the gateway
(following sequence flows, an activity's boundary events and a link throw event's jump to its catch
event). At run time the join only looks up its active element instances and the tokens on their way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ._definitions import LinkEventDefinition
from ._elements import (
    ExecutableActivity,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableIntermediateThrowEvent,
    ExecutableSequenceFlow,
)

__all__ = ["ExecutableInclusiveGateway", "link_inclusive_joins"]


@dataclass(eq=False, repr=False)
class ExecutableInclusiveGateway(ExecutableFlowNode):
    """``reached_from`` maps each incoming flow's id to the ids of the flow nodes (of the gateway's flow
    scope) that can still send a token through it; set by ``link_inclusive_joins``."""

    default_flow: ExecutableSequenceFlow | None = None
    reached_from: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_join(self) -> bool:
        """A join (more than one incoming flow) waits for the tokens that can still reach it."""
        return len(self.incoming) > 1


def _successors(node: ExecutableFlowNode) -> Iterable[ExecutableFlowNode]:
    """Where a token at ``node`` can go next in its flow scope."""
    for flow in node.outgoing:
        yield flow.target
    if isinstance(node, ExecutableActivity):
        yield from node.boundary_events
    if isinstance(node, ExecutableIntermediateThrowEvent) and isinstance(node.event_definition, LinkEventDefinition):
        if node.event_definition.catch_event is not None:
            yield node.event_definition.catch_event


def _predecessors(scope: ExecutableFlowElementContainer) -> dict[str, list[ExecutableFlowNode]]:
    before: dict[str, list[ExecutableFlowNode]] = {}
    for node in scope.children:
        for successor in _successors(node):
            before.setdefault(successor.id, []).append(node)
    return before


def _reaching(gateway: ExecutableInclusiveGateway, flow: ExecutableSequenceFlow,
              before: dict[str, list[ExecutableFlowNode]]) -> frozenset[str]:
    """The ids of the nodes from which ``flow`` can be reached without passing ``gateway``."""
    source = flow.source
    if source is gateway:
        return frozenset()  # a loop from the gateway to itself: only the gateway sends tokens there
    seen = {source.id}
    pending = [source]
    while pending:
        node = pending.pop()
        for previous in before.get(node.id, ()):
            if previous is not gateway and previous.id not in seen:
                seen.add(previous.id)
                pending.append(previous)
    return frozenset(seen)


def link_inclusive_joins(containers: Iterable[ExecutableFlowElementContainer]) -> None:
    """Work out ``reached_from`` of every inclusive join in ``containers`` (after flows are linked)."""
    for scope in containers:
        joins = [n for n in scope.children if isinstance(n, ExecutableInclusiveGateway) and n.is_join]
        if not joins:
            continue
        before = _predecessors(scope)
        for join in joins:
            join.reached_from = {flow.id: _reaching(join, flow, before) for flow in join.incoming}
