"""Compensation in the executable model: the compensate event definition, linked to its activities.

On a compensation boundary event the definition holds the compensation handler (the activity its
bpmn:association points to, ``isForCompensation="true"``); on a compensation throw event (intermediate or
end) the activity it compensates (``activityRef``) or None to compensate every completed activity of its
scope. ``link_compensations`` links both after the first pass of the transformer, as Zeebe's
``CompensationEventDefinitionTransformer`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .. import _model as syntax
from ._definitions import EventDefinition
from ._elements import ExecutableActivity, ExecutableBoundaryEvent, ExecutableFlowNode

__all__ = ["ExecutableCompensation", "compensation_boundary_event", "link_compensations"]


@dataclass(frozen=True, slots=True)
class ExecutableCompensation(EventDefinition):
    """``activity_ref_id`` as written; ``activity`` the activity a throw event compensates (None: the whole
    scope); ``handler`` the compensation handler of a boundary event."""

    activity_ref_id: str | None = None
    activity: ExecutableActivity | None = None
    handler: ExecutableActivity | None = None

    @property
    def kind(self) -> str:
        return "compensation"


def compensation_boundary_event(activity: ExecutableActivity) -> ExecutableBoundaryEvent | None:
    """The compensation boundary event attached to ``activity`` (its multi-instance body's, for a
    multi-instance activity), or None."""
    for event in activity.boundary_events:
        if isinstance(event.event_definition, ExecutableCompensation):
            return event
    return None


def link_compensations(parsed: syntax.ExecutableProcess, nodes: Mapping[str, ExecutableFlowNode],
                       problems: list[str], prefix: str) -> None:
    """Give every compensation boundary event its handler and every compensation throw event its activity."""
    for node in parsed.flow_nodes():
        element = nodes.get(node.id)
        definition = getattr(element, "event_definition", None)
        if element is None or not isinstance(definition, ExecutableCompensation):
            continue
        if isinstance(element, ExecutableBoundaryEvent):
            handler = nodes.get(node.compensation_handler_id or "")
            if not isinstance(handler, ExecutableActivity):  # the syntax layer refuses this
                problems.append(f"{prefix}: boundary event '{node.id}': its compensation association names no"
                                " compensation handler; point it at an activity with isForCompensation=\"true\"")
                continue
            element.event_definition = ExecutableCompensation(handler=handler)
        elif definition.activity_ref_id is not None:
            activity = nodes.get(definition.activity_ref_id)
            if not isinstance(activity, ExecutableActivity):  # the syntax layer refuses this
                problems.append(f"{prefix}: '{node.id}': the referenced compensation activity"
                                f" '{definition.activity_ref_id}' doesn't exist")
                continue
            element.event_definition = ExecutableCompensation(definition.activity_ref_id, activity=activity)  # type: ignore[attr-defined]
