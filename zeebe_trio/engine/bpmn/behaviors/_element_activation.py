"""Activating an element anywhere in a process instance, with the flow scopes it is nested in
(Zeebe's ``ElementActivationBehavior``): what start instructions and modifications do.

Each flow scope of the element (the process, the subprocesses around it) is reused when the flow
scope instance it needs has exactly one instance of it, or the ancestor the caller selected decides;
a missing one is created by its ELEMENT_ACTIVATING and ELEMENT_ACTIVATED events (and its event
subscriptions), written directly as Zeebe does; the element itself gets an ACTIVATE_ELEMENT command.

Planning reads state only and raises ``ActivationRefused`` before anything is written, so that a
command with several instructions is rejected whole or carried out whole: ``ActivationPlanner``
remembers the flow scope instances its earlier plans will create, as state will hold them then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent, ValueType

from ..._batch import Batch
from ...state import EngineStateView
from ..model import ExecutableFlowNode
from ._context import ElementContext
from ._events import CatchEventBehavior

__all__ = ["ActivationPlan", "ActivationPlanner", "ActivationRefused", "ElementActivationBehavior"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
_MI = BpmnElementType.MULTI_INSTANCE_BODY

#: (element id, element instance key): where variables of an activation are created
VariablesCallback = Callable[[str, int], None]


class ActivationRefused(Exception):
    """An activation that cannot be carried out; ``kind`` is ``"multiple_flow_scopes"`` (an
    ambiguous flow scope instance, no ancestor selected that decides) or ``"multi_instance"`` (a
    multi-instance body or inner instance would have to be created), ``element_id`` the flow scope."""

    def __init__(self, kind: str, element_id: str) -> None:
        super().__init__(f"{kind}: {element_id}")
        self.kind = kind
        self.element_id = element_id


@dataclass
class PlannedScope:
    """One flow scope of the element: an existing instance (``new`` False, ``key`` real), or one to
    create (``key`` a placeholder below -1 until it is written, the process instance's own key for
    the process)."""

    element: ExecutableFlowNode
    key: int
    flow_scope_key: int
    new: bool


@dataclass
class ActivationPlan:
    element: ExecutableFlowNode
    scopes: list[PlannedScope] = field(default_factory=list)


class ActivationPlanner:
    """Plans activations in one process instance; placeholders stand for the scopes planned before."""

    def __init__(self, state: EngineStateView, process_instance_key: int) -> None:
        self.state = state
        self.process_instance_key = process_instance_key
        self._process_planned = False
        self._planned_children: dict[int, list[tuple[str, int]]] = {}
        self._planned_parent: dict[int, int] = {}
        self._next_placeholder = -2

    def plan(self, element: ExecutableFlowNode, ancestor_key: int = -1) -> ActivationPlan:
        """How to activate ``element``; raises ``ActivationRefused``."""
        chain: list[ExecutableFlowNode] = []
        scope: ExecutableFlowNode | None = element.flow_scope
        while scope is not None:
            chain.append(scope)
            scope = scope.flow_scope
        chain.reverse()
        plan = ActivationPlan(element)
        flow_scope_key = self.process_instance_key
        for scope in chain:
            reusable = self._reusable(scope, flow_scope_key, ancestor_key)
            if reusable is not None:
                plan.scopes.append(PlannedScope(scope, reusable, flow_scope_key, False))
                flow_scope_key = reusable
                continue
            if scope.element_type is _MI or (scope.flow_scope is not None and scope.flow_scope.element_type is _MI):
                raise ActivationRefused("multi_instance", scope.id)
            if scope.element_type is BpmnElementType.PROCESS:
                self._process_planned = True
                plan.scopes.append(PlannedScope(scope, self.process_instance_key, -1, True))
                flow_scope_key = self.process_instance_key
                continue
            placeholder = self._next_placeholder
            self._next_placeholder -= 1
            self._planned_children.setdefault(flow_scope_key, []).append((scope.id, placeholder))
            self._planned_parent[placeholder] = flow_scope_key
            plan.scopes.append(PlannedScope(scope, placeholder, flow_scope_key, True))
            flow_scope_key = placeholder
        return plan

    # -- which instance of a flow scope to use ----------------------------------------------------------

    def _instances(self, scope: ExecutableFlowNode, flow_scope_key: int) -> list[int]:
        if scope.element_type is BpmnElementType.PROCESS:
            exists = self._process_planned or self.state.element_instance(flow_scope_key) is not None
            return [flow_scope_key] if exists else []
        found = []
        if flow_scope_key > 0:
            for key in self.state.children(flow_scope_key):
                instance = self.state.element_instance(key)
                if instance is not None and instance.element_id == scope.id:
                    found.append(key)
        found.extend(key for element_id, key in self._planned_children.get(flow_scope_key, []) if element_id == scope.id)
        return found

    def _flow_scope_of(self, key: int) -> int:
        if key < -1:
            return self._planned_parent[key]
        instance = self.state.element_instance(key)
        return instance.flow_scope_key if instance is not None else -1

    def _is_ancestor(self, ancestor_key: int, key: int) -> bool:
        seen = 0
        current = self._flow_scope_of(key)
        while current != -1 and seen < 10_000:
            if current == ancestor_key:
                return True
            current = self._flow_scope_of(current)
            seen += 1
        return False

    def _reusable(self, scope: ExecutableFlowNode, flow_scope_key: int, ancestor_key: int) -> int | None:
        instances = self._instances(scope, flow_scope_key)
        selected = ancestor_key > 0
        if not instances:
            return None
        if len(instances) == 1:
            only = instances[0]
            # the selected ancestor lies above this instance: a new one is created beside it
            return None if selected and self._is_ancestor(ancestor_key, only) else only
        if not selected:
            raise ActivationRefused("multiple_flow_scopes", scope.id)
        if ancestor_key in instances:
            return ancestor_key
        if any(self._is_ancestor(ancestor_key, key) for key in instances):
            return None
        for key in instances:
            if self._is_ancestor(key, ancestor_key):
                return key
        raise ActivationRefused("multiple_flow_scopes", scope.id)


class ElementActivationBehavior:
    """Writes planned activations."""

    def __init__(self, catch_events: CatchEventBehavior | None) -> None:
        self.catch_events = catch_events

    def activate(self, batch: Batch, process_value: dict[str, Any], plan: ActivationPlan,
                 placeholders: dict[int, int], variables: VariablesCallback | None = None) -> tuple[int, list[int]]:
        """Write ``plan`` in the instance whose PROCESS record value is ``process_value``; the key of the
        element instance and the keys of its flow scope instances. ``placeholders`` maps the planned
        scopes' placeholders to the keys they got (shared by the plans of one command)."""
        root = ElementContext(process_value["processInstanceKey"], process_value)
        scope_keys: list[int] = []
        for scope in plan.scopes:
            if not scope.new:
                key = placeholders.get(scope.key, scope.key)
                if variables is not None:
                    variables(scope.element.id, key)
                scope_keys.append(key)
                continue
            if scope.element.element_type is BpmnElementType.PROCESS:
                key, value = root.key, process_value
            else:
                key = batch.next_key()
                placeholders[scope.key] = key
                flow_scope_key = placeholders.get(scope.flow_scope_key, scope.flow_scope_key)
                value = root.record_for(scope.element, flow_scope_key)
            batch.event(PI, _I.ELEMENT_ACTIVATING, key, value)
            if variables is not None:
                variables(scope.element.id, key)
            batch.event(PI, _I.ELEMENT_ACTIVATED, key, value)
            if self.catch_events is not None and scope.element.catch_events:
                self.catch_events.subscribe(batch, scope.element, ElementContext(key, value))
            scope_keys.append(key)
        flow_scope_key = scope_keys[-1] if scope_keys else root.key
        element_key = batch.next_key()
        batch.command(PI, _I.ACTIVATE_ELEMENT, element_key, root.record_for(plan.element, flow_scope_key))
        if variables is not None:
            variables(plan.element.id, element_key)
        return element_key, scope_keys
