"""Tokens waiting at a join when their flow scope migrates, as Zeebe's
``ProcessInstanceMigrationSequenceFlowBehavior`` moves them.

A parallel or inclusive join remembers, in its flow scope's element instance, the incoming sequence
flows taken that no activation of the join has consumed yet. Migrating the flow scope renames them:
for each, SEQUENCE_FLOW_DELETED of the source's flow (the flow scope's old record) and then
SEQUENCE_FLOW_TAKEN of the target's flow (the flow's mapping instruction, or the same id), both keyed
anew. Zeebe 8.8's conditions: the join is mapped, to a gateway of the same type, with at least as many
incoming flows; the flow exists in the target and leads to that gateway; a join whose every incoming
flow was taken is on its way to activate (a concurrent command).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent, RejectionType, ValueType

from .._batch import Batch
from ..bpmn.model import (
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableProcess,
    ExecutableSequenceFlow,
)
from ..state import ElementInstance, EngineStateView
from ._migration_catch_events import MigrationRefused

__all__ = ["TakenFlow", "plan_taken_flows", "waiting_at_joins", "write_taken_flows"]

_JOIN_TYPES = (BpmnElementType.PARALLEL_GATEWAY, BpmnElementType.INCLUSIVE_GATEWAY)


@dataclass(frozen=True, slots=True)
class TakenFlow:
    """A token waiting at a join: the source's flow and the target's flow it becomes."""

    source_flow: ExecutableSequenceFlow
    target_flow: ExecutableSequenceFlow


def _joins(element: ExecutableFlowNode) -> list[ExecutableFlowNode]:
    if not isinstance(element, ExecutableFlowElementContainer):
        return []
    return [child for child in element.children if child.element_type in _JOIN_TYPES and len(child.incoming) > 1]


def _waiting(state: EngineStateView, scope_key: int, join: ExecutableFlowNode) -> list[tuple[ExecutableSequenceFlow, int]]:
    found = []
    for flow in join.incoming:
        count = state.taken_flow_count(scope_key, join.id, flow.id)
        if count > 0:
            found.append((flow, count))
    return found


def waiting_at_joins(state: EngineStateView, instance: ElementInstance, source_element: ExecutableFlowNode) -> int:
    """How many of the flow scope ``instance``'s active sequence flows are tokens waiting at a join
    (they are no concurrent command)."""
    return sum(count for join in _joins(source_element) for _, count in _waiting(state, instance.key, join))


def plan_taken_flows(state: EngineStateView, pik: int, instance: ElementInstance, source_element: ExecutableFlowNode,
                     target: ExecutableProcess, mapped: dict[str, str]) -> list[TakenFlow]:
    """The taken flows of the flow scope ``instance`` to rename; raises ``MigrationRefused``."""
    planned: list[TakenFlow] = []
    for join in _joins(source_element):
        waiting = _waiting(state, instance.key, join)
        if not waiting:
            continue
        prefix = f"Expected to migrate process instance '{pik}' but"
        if join.element_type is BpmnElementType.PARALLEL_GATEWAY and len(waiting) == len(join.incoming):
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"{prefix} a concurrent command was executed on the process instance. Please"
                                   " retry the migration.")
        target_join_id = mapped.get(join.id)
        if target_join_id is None:
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"{prefix} no mapping instruction defined for the joining gateway with id"
                                   f" '{join.id}' that has taken incoming sequence flows. Joining gateways with taken"
                                   " incoming sequence flows cannot be migrated without a mapping.")
        target_join = target.elements[target_join_id]
        if target_join.element_type is not join.element_type or not isinstance(target_join, ExecutableFlowNode):
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"{prefix} active element with id '{join.id}' and type '{join.element_type.name}'"
                                   f" is mapped to an element with id '{target_join_id}' and different type"
                                   f" '{target_join.element_type.name}'. Elements must be mapped to elements of the"
                                   " same type.")
        if len(target_join.incoming) < len(join.incoming):
            raise MigrationRefused(RejectionType.INVALID_STATE,
                                   f"{prefix} the target gateway with id '{target_join_id}' has fewer incoming"
                                   f" sequence flows than the joining gateway with id '{join.id}'. The target"
                                   " gateway must have at least the same number of incoming sequence flows.")
        for flow, count in waiting:
            target_flow_id = mapped.get(flow.id, flow.id)
            target_flow = target.elements.get(target_flow_id)
            if not isinstance(target_flow, ExecutableSequenceFlow) or target_flow.target is not target_join:
                raise MigrationRefused(RejectionType.INVALID_STATE,
                                       f"{prefix} the taken sequence flow with id '{flow.id}' of the joining gateway"
                                       f" with id '{join.id}' has no sequence flow with id '{target_flow_id}' to the"
                                       f" gateway with id '{target_join_id}' in the target process. Please provide a"
                                       " mapping instruction to the sequence flow it becomes.")
            planned.extend([TakenFlow(flow, target_flow)] * count)
    return planned


def _flow_record(value: dict[str, Any], flow: ExecutableSequenceFlow, scope_key: int) -> dict[str, Any]:
    return {**value, "elementId": flow.id, "bpmnElementType": flow.element_type.value,
            "bpmnEventType": "UNSPECIFIED", "flowScopeKey": scope_key}


def write_taken_flows(batch: Batch, planned: list[TakenFlow], scope_key: int, source_value: dict[str, Any],
                      migrated_value: dict[str, Any]) -> None:
    for taken in planned:
        batch.event(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.SEQUENCE_FLOW_DELETED, batch.next_key(),
                    _flow_record(source_value, taken.source_flow, scope_key))
        batch.event(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.SEQUENCE_FLOW_TAKEN, batch.next_key(),
                    _flow_record(migrated_value, taken.target_flow, scope_key))
