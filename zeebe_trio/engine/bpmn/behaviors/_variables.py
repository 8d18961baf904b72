"""Variable behaviour: local and propagating merges, input and output mappings (Zeebe semantics).

- A propagating merge updates each variable in the nearest scope that already holds it, and creates
  the rest in the root scope (the process instance).
- Input mappings are evaluated in the element's scope (its flow scope's variables, plus any loop
  variables of a multi-instance inner instance) and become local variables of the element;
  later mappings see the targets of earlier ones, as in a FEEL context.
- With output mappings, job variables become local variables of the element, the mappings are
  evaluated there, and their results are merged (propagating) from the flow scope; without output
  mappings, the job variables are merged (propagating) from the element itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from zeebe_trio.protocol import ErrorType, ValueType, VariableIntent

from ..._batch import Batch
from ..model import EvaluationError, ExecutableFlowNode, MappingRule
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure
from ._process_events import ProcessEventBehavior

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def to_json_text(value: Any) -> str:
    return _dumps(value)


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


class VariableBehavior:
    """Variable events for merges and mappings; mapping failures are IO_MAPPING_ERROR failures."""

    def __init__(self, expressions: ExpressionBehavior) -> None:
        self.expressions = expressions
        self.process_events = ProcessEventBehavior()

    def set_local(self, batch: Batch, context: dict[str, Any], scope_key: int, name: str, value: Any) -> None:
        """Create or update ``name`` in exactly ``scope_key`` (no event when the value is unchanged)."""
        value_json = to_json_text(value)
        current = batch.state.variable_json(scope_key, name)
        if current is None:
            batch.event(ValueType.VARIABLE, VariableIntent.CREATED, batch.next_key(),
                        _record(context, scope_key, name, value_json))
        elif current != value_json:
            batch.event(ValueType.VARIABLE, VariableIntent.UPDATED, batch.next_key(),
                        _record(context, scope_key, name, value_json))


    def merge_local(self, batch: Batch, context: dict[str, Any], scope_key: int, document: Mapping[str, Any]) -> None:
        for name, value in document.items():
            self.set_local(batch, context, scope_key, name, value)


    def merge_propagating(self, batch: Batch, context: dict[str, Any], scope_key: int, document: Mapping[str, Any]) -> None:
        root = context["processInstanceKey"]
        for name, value in document.items():
            target = batch.state.find_variable_scope(scope_key, name)
            self.set_local(batch, context, target if target > 0 else root, name, value)

    def evaluate_mappings(self, batch: Batch, rules: Iterable[MappingRule], scope_key: int,
                          overlay: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Evaluate mapping rules in ``scope_key``; raises EvaluationError on the first failure."""
        result: dict[str, Any] = {}
        now = batch.now_datetime
        visible = self.expressions.variables_at(batch, scope_key, overlay)
        for rule in rules:
            # Later rules see earlier targets, like the entries of a FEEL context.
            context = self.expressions.variables_at(batch, scope_key, {**(overlay or {}), **result}) if result else visible
            value = rule.source.evaluate(context, now, self.expressions.monotonic)
            base = context.get(rule.target_path[0]) if len(rule.target_path) > 1 else None
            _assign(result, rule.target_path, value, base)
        return result

    def apply_input_mappings(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        """Input mappings become the element's local variables. As in Zeebe they are evaluated in the
        element's own scope: what its flow scope sees, and the loop variables (item, loopCounter) that a
        multi-instance body gave it before."""
        if not element.inputs:
            return
        try:
            local = self.evaluate_mappings(batch, element.inputs, context.key)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.IO_MAPPING_ERROR, str(error)) from None
        self.merge_local(batch, context.value, context.key, local)

    def apply_output_mappings(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext,
                              variables: Mapping[str, Any] | None = None) -> None:
        """The variables the element completes with, through its output mappings if it has any: the ones
        a job completed with (its pending PROCESS_EVENT, TRIGGERED here as Zeebe's
        ``BpmnVariableMappingBehavior`` does), a user task's or called process's (``pending_variables``),
        or ``variables`` (e.g. a script's result)."""
        pending: Mapping[str, Any] | None = variables
        if pending is None:
            pending = self.process_events.consume(batch, context.key)
            if pending is None:
                pending = batch.state.pending_variables(context.key)
        try:
            if element.outputs:
                if pending:
                    self.merge_local(batch, context.value, context.key, pending)
                result = self.evaluate_mappings(batch, element.outputs, context.key)
                self.merge_propagating(batch, context.value, context.flow_scope_key, result)
            elif pending:
                self.merge_propagating(batch, context.value, context.key, pending)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.IO_MAPPING_ERROR, str(error)) from None

    def apply_root_output_mappings(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        """The root process has no outer scope: its output mappings set variables on itself, so a
        create-with-result caller sees them."""
        if not element.outputs:
            return
        try:
            self.merge_local(batch, context.value, context.key,
                             self.evaluate_mappings(batch, element.outputs, context.key))
        except EvaluationError as error:
            raise ElementFailure(ErrorType.IO_MAPPING_ERROR, str(error)) from None
