"""Multi-instance bodies: run the inner activity once per item of the input collection (Zeebe's
``MultiInstanceBodyProcessor``).

- Activating the body reads the input collection (not a list: an EXTRACT_VALUE_ERROR incident on the
  body; resolving it reads again), initialises the output collection on the body (one null per item),
  and activates the inner instances: all at once when parallel (a PROCESS_INSTANCE_BATCH ACTIVATE
  command, one inner instance per step, see ``MultiInstanceBatchProcessors``), one after another when
  sequential. An empty collection completes the body at once; a parallel body over more items than a
  flow scope may hold (``max_element_instances_per_scope``) is an incident instead.
- Each inner instance, while activating, gets its item as the local ``inputElement`` variable, its
  ``loopCounter`` (1-based) and, when the output element names a variable, that variable as a local
  null, so that its results stay in the inner instance.
- Each inner completion writes the output element into the output collection at its loop counter and
  evaluates the completion condition (with ``numberOfInstances``, ``numberOfActiveInstances``,
  ``numberOfCompletedInstances`` and ``numberOfTerminatedInstances``); a true condition terminates the
  other inner instances and completes the body. Failures there are incidents on the inner instance.
- Completing the body propagates the output collection to the body's flow scope; terminating it
  terminates its inner instances first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    ErrorType,
    ProcessInstanceBatchIntent,
    ProcessInstanceIntent,
    ValueType,
    excerpt,
)

from ...._batch import Batch
from ..._result_types import result_type as _feel_type
from ...behaviors import (
    ElementContext,
    ElementFailure,
    ExpressionBehavior,
    IncidentBehavior,
    StateTransitionBehavior,
    VariableBehavior,
)
from ...model import EvaluationError, ExecutableFlowElementContainer, ExecutableMultiInstanceBody
from .._processor import BpmnElementProcessor

__all__ = ["MultiInstanceBodyProcessor"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
_EXTRACT = ErrorType.EXTRACT_VALUE_ERROR
_PLAIN_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")




class _Counters(Mapping[str, Any]):
    """Variables that the completion condition sees before those of the inner instance."""

    def __init__(self, counters: dict[str, int], variables: Mapping[str, Any]) -> None:
        self._counters = counters
        self._variables = variables

    def __getitem__(self, name: str) -> Any:
        if name in self._counters:
            return self._counters[name]
        return self._variables[name]

    def __contains__(self, name: object) -> bool:
        return name in self._counters or name in self._variables

    def __iter__(self) -> Any:
        return iter({**dict.fromkeys(self._variables), **self._counters})

    def __len__(self) -> int:
        return len({**dict.fromkeys(self._variables), **self._counters})


class MultiInstanceBodyProcessor(BpmnElementProcessor[ExecutableMultiInstanceBody]):
    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, expressions: ExpressionBehavior) -> None:
        super().__init__(transitions)
        self.variables = variables
        self.incidents = incidents
        self.expressions = expressions
        # The completion condition is evaluated before an inner instance's ELEMENT_COMPLETED (in its
        # scope) and acted on after it, within the same step: inner instance key -> its result.
        self._condition_met: dict[int, bool] = {}

    # -- the body's own lifecycle --------------------------------------------------------------------

    def on_activate(self, batch: Batch, element: ExecutableMultiInstanceBody, context: ElementContext) -> None:
        items = self.input_collection(batch, element, context.key)
        limit = self.transitions.max_element_instances_per_scope
        if not element.loop.is_sequential and len(items) > limit:
            # Zeebe has no such bound; here every flow scope has one (a parallel body holds all its items).
            raise ElementFailure(
                ErrorType.UNKNOWN,
                f"Expected to activate {len(items)} inner instances of the parallel multi-instance body"
                f" {excerpt(context.element_id)}, but a flow scope may hold at most {limit} element instances"
                " (max_element_instances_per_scope); make the input collection smaller, make the activity"
                " sequential, or raise the limit, then resolve this incident")

    def finalize_activation(self, batch: Batch, element: ExecutableMultiInstanceBody,
                            context: ElementContext) -> None:
        items = self.input_collection(batch, element, context.key)
        self.transitions.to_activated(batch, context)
        loop = element.loop
        if loop.output_collection is not None:
            self.variables.set_local(batch, context.value, context.key, loop.output_collection, [None] * len(items))
        if not items:
            batch.command(PI, _I.COMPLETE_ELEMENT, context.key, context.value)
        elif loop.is_sequential:
            self.transitions.activate_child(batch, context, element.inner_activity)
        else:
            value = context.value
            batch.command(ValueType.PROCESS_INSTANCE_BATCH, ProcessInstanceBatchIntent.ACTIVATE, batch.next_key(), {
                "processInstanceKey": context.process_instance_key,
                "processDefinitionKey": context.process_definition_key,
                "batchElementInstanceKey": context.key,
                "index": len(items),
                "tenantId": value.get("tenantId", DEFAULT_TENANT),
            })

    def on_complete(self, batch: Batch, element: ExecutableMultiInstanceBody, context: ElementContext) -> None:
        self.transitions.check_scope_capacity(batch, context, len(element.outgoing))
        name = element.loop.output_collection
        if name is not None:
            raw = batch.state.variable_json(context.key, name)
            if raw is not None:
                visible = self.expressions.variables_at(batch, context.key)
                self.variables.merge_propagating(batch, context.value, context.flow_scope_key, {name: visible[name]})

    def on_terminate(self, batch: Batch, element: ExecutableMultiInstanceBody, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        if not self.transitions.terminate_children(batch, context):
            self._terminated(batch, element, context)

    def _terminated(self, batch: Batch, element: ExecutableMultiInstanceBody, context: ElementContext) -> None:
        self.incidents.resolve_incidents_of(batch, context.key)
        self.transitions.to_terminated(batch, element, context)

    # -- the inner instances (container callbacks) ---------------------------------------------------

    def on_child_activating(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None:
        """Set the inner instance's loop variables: its item, the output element's variable, its loop
        counter (given to it by the ELEMENT_ACTIVATING applier)."""
        assert isinstance(container, ExecutableMultiInstanceBody)
        loop = container.loop
        counter = batch.state.loop_counter(child_context.key)
        items = self.input_collection(batch, container, child_context.key)
        index = counter - 1
        if index >= len(items):
            raise ElementFailure(
                _EXTRACT,
                f"Expected to read item at index {index} of the multiInstanceBody input collection but it contains"
                f" only {len(items)} elements. The input collection might be modified while iterating over it.")
        value, key = child_context.value, child_context.key
        if loop.input_element is not None:
            self.variables.set_local(batch, value, key, loop.input_element, items[index])
        output = loop.output_element_variable
        if output is not None and output != loop.input_element and output != "loopCounter":
            self.variables.set_local(batch, value, key, output, None)
        self.variables.set_local(batch, value, key, "loopCounter", counter)

    def before_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                        container_context: ElementContext, child_context: ElementContext) -> None:
        assert isinstance(container, ExecutableMultiInstanceBody)
        self._update_output_collection(batch, container, container_context, child_context)
        met = self._completion_condition_met(batch, container, container_context, child_context)
        self.input_collection(batch, container, container_context.key)  # it must still be readable
        self._condition_met[child_context.key] = met

    def after_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                       container_context: ElementContext, child_context: ElementContext) -> None:
        assert isinstance(container, ExecutableMultiInstanceBody)
        met = self._condition_met.pop(child_context.key, False)
        if met:
            no_children_left = not self.transitions.terminate_children(batch, container_context)
            if no_children_left or container.loop.is_sequential:
                self._complete(batch, container_context)
            return
        try:
            items = self.input_collection(batch, container, container_context.key)
        except ElementFailure:
            return  # checked before the inner instance completed, in this very step
        state = batch.state
        counters = state.multi_instance_body(container_context.key)
        created = counters.loop_counter if counters is not None else 0
        if container.loop.is_sequential and created < len(items):
            self.transitions.activate_child(batch, container_context, container.inner_activity)
            return
        body = state.element_instance(container_context.key)
        finished = (counters.completed + counters.terminated) if counters is not None else 0
        if body is not None and body.child_count == 0 and body.active_flows == 0 and finished == len(items):
            self._complete(batch, container_context)

    def on_child_terminated(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None:
        assert isinstance(container, ExecutableMultiInstanceBody)
        body = batch.state.element_instance(container_context.key)
        if body is None or body.child_count > 0:
            return
        if body.state is _I.ELEMENT_TERMINATING:
            self._terminated(batch, container, ElementContext(body.key, body.value))
        elif body.is_active:
            # the completion condition was met and the other inner instances are terminated now
            self._complete(batch, container_context)

    # -- helpers -------------------------------------------------------------------------------------

    def _complete(self, batch: Batch, body_context: ElementContext) -> None:
        batch.command(PI, _I.COMPLETE_ELEMENT, body_context.key, body_context.value)

    def input_collection(self, batch: Batch, body: ExecutableMultiInstanceBody, scope_key: int) -> list[Any]:
        """The input collection as seen from ``scope_key``; an EXTRACT_VALUE_ERROR failure if it is not a
        list."""
        expression = body.loop.input_collection
        variables = self.expressions.variables_at(batch, scope_key)
        try:
            value = self.expressions.evaluate(batch, expression, variables)
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, str(error)) from None
        if isinstance(value, list):
            return value
        shown = expression.source.removeprefix("=")
        message = f"Expected result of the expression '{shown}' to be 'ARRAY', but was '{_feel_type(value)}'."
        plain = _PLAIN_NAME.fullmatch(shown)
        if value is None and plain is not None and plain.group(1) not in variables:
            message += (" The evaluation reported the following warnings:\n"
                        f"[NO_VARIABLE_FOUND] No variable found with name '{plain.group(1)}'")
        raise ElementFailure(_EXTRACT, message)

    def _update_output_collection(self, batch: Batch, body: ExecutableMultiInstanceBody,
                                  body_context: ElementContext, child_context: ElementContext) -> None:
        loop = body.loop
        name = loop.output_collection
        if name is None or loop.output_element is None:
            return
        try:
            item = self.expressions.evaluate(batch, loop.output_element,
                                             self.expressions.variables_at(batch, child_context.key))
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, str(error)) from None
        position = batch.state.loop_counter(child_context.key)
        raw = batch.state.variable_json(body_context.key, name)
        collection = self.expressions.variables_at(batch, body_context.key)[name] if raw is not None else None
        if not isinstance(collection, list):
            raise ElementFailure(
                _EXTRACT,
                f"Unable to update an item in output collection '{name}' because the type of the output collection"
                f" is: {_feel_type(collection) if raw is not None else 'NIL'}. This may happen when multiple BPMN"
                " elements write to the same variable.")
        if position > len(collection):
            raise ElementFailure(
                _EXTRACT,
                f"Unable to update an item in output collection '{name}' at position {position} because the size of"
                f" the collection is: {len(collection)}. This may happen when multiple BPMN elements write to the"
                " same variable.")
        updated = list(collection)
        updated[position - 1] = item
        self.variables.set_local(batch, body_context.value, body_context.key, name, updated)

    def _completion_condition_met(self, batch: Batch, body: ExecutableMultiInstanceBody,
                                  body_context: ElementContext, child_context: ElementContext) -> bool:
        condition = body.loop.completion_condition
        if condition is None:
            return False
        state = batch.state
        counters = state.multi_instance_body(body_context.key)
        instance = state.element_instance(body_context.key)
        # Seen while the inner instance completes: it still counts as active, not yet as completed.
        variables = _Counters({
            "numberOfInstances": counters.loop_counter if counters else 0,
            "numberOfActiveInstances": (instance.child_count if instance else 0) - 1,
            "numberOfCompletedInstances": (counters.completed if counters else 0) + 1,
            "numberOfTerminatedInstances": counters.terminated if counters else 0,
        }, self.expressions.variables_at(batch, child_context.key))
        try:
            result = self.expressions.evaluate(batch, condition, variables)
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, str(error)) from None
        if isinstance(result, bool):
            return result
        raise ElementFailure(
            _EXTRACT,
            f"Expected result of the expression '{condition.source.removeprefix('=')}' to be 'BOOLEAN', but was"
            f" '{_feel_type(result)}'.")

