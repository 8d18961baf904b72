"""The pass that links each link throw event to its catch event.

The syntax layer has already checked the links (a catch name is unique in its flow scope, every throw
has a catch of its name there); here a throw event's ``LinkEventDefinition`` gets the catch event it
jumps to, as Zeebe's ``LinkEventTransformer`` does.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import _model as syntax
from ._definitions import LinkEventDefinition
from ._elements import (
    ExecutableCatchEvent,
    ExecutableFlowNode,
    ExecutableIntermediateThrowEvent,
)

__all__ = ["link_throw_events"]


def link_throw_events(nodes: Iterable[ExecutableFlowNode], problems: list[str], prefix: str) -> None:
    """Give every link throw event the catch event of its name in its flow scope."""
    all_nodes = list(nodes)
    catches: dict[tuple[int, str], ExecutableCatchEvent] = {}
    for node in all_nodes:
        if isinstance(node, ExecutableCatchEvent) and isinstance(node.event_definition, LinkEventDefinition) \
                and node.element_type is syntax.ElementType.INTERMEDIATE_CATCH_EVENT:
            catches.setdefault((id(node.flow_scope), node.event_definition.name), node)
    for node in all_nodes:
        if isinstance(node, ExecutableIntermediateThrowEvent) and isinstance(node.event_definition, LinkEventDefinition):
            name = node.event_definition.name
            catch = catches.get((id(node.flow_scope), name))
            if catch is None:  # the syntax layer refuses this; kept as a model check of its own
                problems.append(f"{prefix}: intermediate throw event '{node.id}': no link catch event named"
                                f" '{name}' in the same flow scope; add one or rename the link")
                continue
            node.event_definition = LinkEventDefinition(name, catch)
