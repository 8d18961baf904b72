"""The compensation subscriptions of a migrated process instance, as Zeebe's
``ProcessInstanceMigrationCatchEventBehavior.handleCompensationCatchEvents`` moves them.

A completed compensable activity left a COMPENSATION_SUBSCRIPTION (and each subprocess around it one
without a handler). When the process instance migrates, a subscription whose activity has a mapped
compensation boundary event moves to the activity the target boundary event is attached to, and the
subprocesses around it to the target's subprocesses around that one (COMPENSATION_SUBSCRIPTION
MIGRATED, with the target's handler); every other subscription of the instance is DELETED. A target
activity's new compensation boundary event opens no subscription: subscriptions are made as an
activity completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import BpmnElementType, CompensationSubscriptionIntent, RejectionType, ValueType

from .._batch import Batch
from ..bpmn.model import (
    ExecutableActivity,
    ExecutableBoundaryEvent,
    ExecutableElement,
    ExecutableProcess,
    compensation_boundary_event,
)
from ..state import EngineStateView
from ._migration_catch_events import MigrationRefused

__all__ = ["CompensationPlan", "plan_compensations", "write_compensations"]

CS = ValueType.COMPENSATION_SUBSCRIPTION


@dataclass(slots=True)
class CompensationPlan:
    migrate: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    delete: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _mapped_compensation_boundary(activity: ExecutableActivity, mapped: dict[str, str]) -> ExecutableBoundaryEvent | None:
    for event in activity.boundary_events:
        if event.event_type == "COMPENSATION" and event.id in mapped:
            return event
    return None


def _activity_of_boundary(model: ExecutableProcess, boundary_id: str) -> ExecutableActivity | None:
    for element in model.elements.values():
        if isinstance(element, ExecutableActivity) and any(e.id == boundary_id for e in element.boundary_events):
            return element
    return None


def _scope_chain(source: ExecutableElement, target: ExecutableElement, source_root: ExecutableProcess,
                 target_root: ExecutableProcess) -> list[tuple[str, str]]:
    """(source id, target id) for the activity and each pair of flow scopes around it, up to the roots;
    refused when one reaches its root before the other."""
    chain: list[tuple[str, str]] = []
    while True:
        chain.append((source.id, target.id))
        at_source_root, at_target_root = source is source_root, target is target_root
        if at_source_root and at_target_root:
            return chain
        if at_source_root or at_target_root:
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"Expected to migrate process instance with id '{source_root.bpmn_process_id}'"
                                   " but the flow scope of compensation boundary event is changed. Flow scope"
                                   f" '{source.id}' is not in the same level as '{target.id}'. The flow scope of a"
                                   " compensation boundary event cannot be changed during migration yet.")
        assert isinstance(source, ExecutableActivity) and isinstance(target, ExecutableActivity)
        source = source.flow_scope or source_root
        target = target.flow_scope or target_root


def plan_compensations(state: EngineStateView, process_instance_key: int, source: ExecutableProcess,
                       target: ExecutableProcess, mapped: dict[str, str]) -> CompensationPlan:
    subscriptions = state.compensation_subscriptions(process_instance_key)
    moves: dict[str, str] = {}
    for _key, record in subscriptions:
        activity = source.elements.get(record["compensableActivityId"])
        if not isinstance(activity, ExecutableActivity) or activity.element_type is BpmnElementType.SUB_PROCESS:
            continue
        boundary = _mapped_compensation_boundary(activity, mapped)
        if boundary is None:
            continue
        target_boundary_id = mapped[boundary.id]
        target_activity = _activity_of_boundary(target, target_boundary_id)
        target_boundary = target.elements.get(target_boundary_id)
        target_type = getattr(target_boundary, "event_type", "UNSPECIFIED")
        if target_activity is None or target_type != "COMPENSATION":
            raise MigrationRefused(RejectionType.INVALID_ARGUMENT,
                                   f"Expected to migrate process instance with id '{source.bpmn_process_id}' but"
                                   f" compensation boundary event '{boundary.id}' is mapped to a target boundary"
                                   f" event '{target_boundary_id}' that has event type '{target_type}' different"
                                   " than compensation boundary event type.")
        moves.update(_scope_chain(activity, target_activity, source, target))
    planned = CompensationPlan()
    for key, record in subscriptions:
        if record["compensableActivityId"] in moves:
            target_id = moves[record["compensableActivityId"]]
            moved = {**record, "compensableActivityId": target_id}
            target_element = target.elements.get(target_id)
            handler_boundary = compensation_boundary_event(target_element) \
                if isinstance(target_element, ExecutableActivity) else None
            handler = getattr(handler_boundary.event_definition, "handler", None) if handler_boundary else None
            if handler is not None:
                moved["compensationHandlerId"] = handler.id
            planned.migrate.append((key, moved))
        else:
            planned.delete.append((key, record))
    return planned


def write_compensations(batch: Batch, planned: CompensationPlan, target_key: int) -> None:
    for key, record in planned.delete:
        batch.event(CS, CompensationSubscriptionIntent.DELETED, key, record)
    for key, record in planned.migrate:
        batch.event(CS, CompensationSubscriptionIntent.MIGRATED, key, {**record, "processDefinitionKey": target_key})
