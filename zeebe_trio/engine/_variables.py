"""Variable behaviour: local and propagating merges, input and output mappings (Zeebe semantics).

- A propagating merge updates each variable in the nearest scope that already holds it, and creates
  the rest in the root scope (the process instance).
- Input mappings are evaluated in the element's flow scope and become local variables of the element;
  later mappings see the targets of earlier ones, as in a FEEL context.
- With output mappings, job variables become local variables of the element, the mappings are
  evaluated there, and their results are merged (propagating) from the flow scope; without output
  mappings, the job variables are merged (propagating) from the element itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from zeebe_trio.protocol import ValueType, VariableIntent

from ._engine import Batch
from ._expressions import MappingRule, ScopeVariables

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def to_json_text(value: Any) -> str:
    return _dumps(value)


def variables_at(batch: Batch, scope_key: int, overlay: Mapping[str, Any] | None = None) -> ScopeVariables:
    state = batch.state
    return ScopeVariables(lambda name: state.lookup_variable(scope_key, name),
                          lambda: state.visible_variables(scope_key), overlay)


def _record(context: dict[str, Any], scope_key: int, name: str, value_json: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value_json,
        "scopeKey": scope_key,
        "processInstanceKey": context["processInstanceKey"],
        "processDefinitionKey": context["processDefinitionKey"],
        "bpmnProcessId": context["bpmnProcessId"],
        "tenantId": context.get("tenantId", "<default>"),
    }


def set_local(batch: Batch, context: dict[str, Any], scope_key: int, name: str, value: Any) -> None:
    """Create or update ``name`` in exactly ``scope_key`` (no event when the value is unchanged)."""
    value_json = to_json_text(value)
    current = batch.state.variable_json(scope_key, name)
    if current is None:
        batch.event(ValueType.VARIABLE, VariableIntent.CREATED, batch.next_key(),
                    _record(context, scope_key, name, value_json))
    elif current != value_json:
        batch.event(ValueType.VARIABLE, VariableIntent.UPDATED, batch.next_key(),
                    _record(context, scope_key, name, value_json))


def merge_local(batch: Batch, context: dict[str, Any], scope_key: int, document: Mapping[str, Any]) -> None:
    for name, value in document.items():
        set_local(batch, context, scope_key, name, value)


def merge_propagating(batch: Batch, context: dict[str, Any], scope_key: int, document: Mapping[str, Any]) -> None:
    root = context["processInstanceKey"]
    for name, value in document.items():
        target = batch.state.find_variable_scope(scope_key, name)
        set_local(batch, context, target if target > 0 else root, name, value)


def _assign(document: dict[str, Any], path: tuple[str, ...], value: Any, base: Any = None) -> None:
    """Set ``path`` in ``document``; a nested path keeps the other entries of an existing context."""
    head = path[0]
    if len(path) == 1:
        document[head] = value
        return
    existing = document.get(head, base)
    nested = dict(existing) if isinstance(existing, dict) else {}
    _assign(nested, path[1:], value)
    document[head] = nested


def evaluate_mappings(batch: Batch, rules: Iterable[MappingRule], scope_key: int,
                      overlay: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate mapping rules in ``scope_key``; raises EvaluationError on the first failure."""
    result: dict[str, Any] = {}
    now = batch.now_datetime
    visible = variables_at(batch, scope_key, overlay)
    for rule in rules:
        # Later rules see earlier targets, like the entries of a FEEL context.
        context = variables_at(batch, scope_key, {**(overlay or {}), **result}) if result else visible
        value = rule.source.evaluate(context, now, batch.engine.monotonic)
        base = context.get(rule.target_path[0]) if len(rule.target_path) > 1 else None
        _assign(result, rule.target_path, value, base)
    return result
