"""Ad-hoc subprocesses and their inner instances (Zeebe's ``AdHocSubProcessProcessor`` and
``AdHocSubProcessInnerInstanceProcessor``, the BPMN implementation type).

- Activating the subprocess sets its local ``adHocSubProcessElements`` variable (the activities it can
  activate) and, with a zeebe:adHoc outputCollection, that collection as a local empty list, then applies
  its input mappings. Becoming active, it evaluates ``activeElementsCollection`` in its own scope (a list
  of element ids; no expression: nothing to activate) and activates each element in an inner instance of
  its own: the inner instance's ELEMENT_ACTIVATING and ELEMENT_ACTIVATED are written directly, then
  ACTIVATE_ELEMENT for the element in it. Not a list of strings, or ids that are no ad-hoc activity of
  the subprocess: an EXTRACT_VALUE_ERROR incident on the subprocess, with Zeebe's messages.
- Sequence flows between inner elements are followed inside the inner instance; an inner instance
  completes when its last path ended. Then the subprocess appends the outputElement (evaluated in the
  inner instance) to its output collection and evaluates its completionCondition in its own scope. True:
  with cancelRemainingInstances (the default) the other inner instances are terminated and the
  subprocess completes once they are gone; without, it completes once nothing is active in it. No
  condition: it completes once nothing is active in it any more. False: it stays active.
- Completing the subprocess propagates the output collection to its flow scope and applies its output
  mappings; terminating it terminates its inner instances first. An interrupting event subprocess in it
  terminates the inner instances, then runs; the subprocess completes after it.
"""

from __future__ import annotations

import re
from typing import Any

from zeebe_trio.protocol import ErrorType, ProcessInstanceIntent, ValueType, excerpt

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
from ...model import EvaluationError, ExecutableAdHocSubProcess, ExecutableFlowElementContainer, Expression
from .._processor import FlowNodeProcessor
from ._container import ContainerCallbacksMixin

__all__ = ["AD_HOC_ELEMENTS_VARIABLE", "AdHocSubProcessInnerInstanceProcessor", "AdHocSubProcessProcessor"]

PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
_EXTRACT = ErrorType.EXTRACT_VALUE_ERROR
_PLAIN_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_ACTIVATION_FAILED = "Failed to activate ad-hoc elements. "
_CONDITION_FAILED = "Failed to evaluate completion condition. "

#: The local variable listing what an ad-hoc subprocess can activate (read by AI agent connectors).
AD_HOC_ELEMENTS_VARIABLE = "adHocSubProcessElements"

# msgpack's names of a JSON value's type, as Zeebe's output collection message quotes them
_MSGPACK_TYPES = {"NULL": "NIL", "BOOLEAN": "BOOLEAN", "STRING": "STRING", "ARRAY": "ARRAY", "OBJECT": "MAP"}


def _type_mismatch(expression: Expression, value: Any, expected: str, variables: Any) -> str:
    shown = expression.source.removeprefix("=")
    message = f"Expected result of the expression '{shown}' to be '{expected}', but was '{_feel_type(value)}'."
    plain = _PLAIN_NAME.fullmatch(shown)
    if value is None and plain is not None and plain.group(1) not in variables:
        message += (" The evaluation reported the following warnings:\n"
                    f"[NO_VARIABLE_FOUND] No variable found with name '{plain.group(1)}'")
    return message


class AdHocSubProcessProcessor(ContainerCallbacksMixin, FlowNodeProcessor[ExecutableAdHocSubProcess]):
    waits = True

    def __init__(self, transitions: StateTransitionBehavior, variables: VariableBehavior,
                 incidents: IncidentBehavior, expressions: ExpressionBehavior) -> None:
        super().__init__(transitions, variables, incidents)
        self.expressions = expressions
        # The completion condition is evaluated before an inner instance's ELEMENT_COMPLETED and acted on
        # after it, in the same step: inner instance key -> its result (None: the subprocess has none).
        self._condition_met: dict[int, bool | None] = {}

    # -- the subprocess's own lifecycle --------------------------------------------------------------

    def on_activate(self, batch: Batch, element: ExecutableAdHocSubProcess, context: ElementContext) -> None:
        self.variables.set_local(batch, context.value, context.key, AD_HOC_ELEMENTS_VARIABLE,
                                 element.activities_metadata)
        if element.output_collection is not None:
            self.variables.set_local(batch, context.value, context.key, element.output_collection, [])
        super().on_activate(batch, element, context)

    def finalize_activation(self, batch: Batch, element: ExecutableAdHocSubProcess, context: ElementContext) -> None:
        ids = self.elements_to_activate(batch, element, context)
        self.transitions.to_activated(batch, context)
        for element_id in ids:
            self.activate_element(batch, element, context, element_id)

    def on_complete(self, batch: Batch, element: ExecutableAdHocSubProcess, context: ElementContext) -> None:
        name = element.output_collection
        if name is not None and batch.state.variable_json(context.key, name) is not None:
            visible = self.expressions.variables_at(batch, context.key)
            self.variables.merge_propagating(batch, context.value, context.flow_scope_key, {name: visible[name]})
        super().on_complete(batch, element, context)

    def on_terminate(self, batch: Batch, element: ExecutableAdHocSubProcess, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        if not self.transitions.terminate_children(batch, context):
            self.transitions.to_terminated(batch, element, context)

    # -- activating elements -------------------------------------------------------------------------

    def elements_to_activate(self, batch: Batch, element: ExecutableAdHocSubProcess,
                             context: ElementContext) -> list[str]:
        """The ids ``activeElementsCollection`` names (none without the expression); an EXTRACT_VALUE_ERROR
        failure if it is not a list of strings or names elements that are no ad-hoc activity."""
        expression = element.active_elements_collection
        if expression is None:
            return []
        variables = self.expressions.variables_at(batch, context.key)
        try:
            value = self.expressions.evaluate(batch, expression, variables)
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, _ACTIVATION_FAILED + str(error)) from None
        if not isinstance(value, list):
            raise ElementFailure(_EXTRACT, _ACTIVATION_FAILED + _type_mismatch(expression, value, "ARRAY", variables))
        if not all(isinstance(item, str) for item in value):
            raise ElementFailure(
                _EXTRACT,
                f"{_ACTIVATION_FAILED}Expected result of the expression '{expression.source.removeprefix('=')}' to"
                " be 'ARRAY' containing 'STRING' items, but was 'ARRAY' containing at least one non-'STRING' item.")
        unknown = [item for item in value if item not in element.ad_hoc_activities]
        if unknown:
            ids = ", ".join(f"'{item}'" for item in unknown)
            raise ElementFailure(_EXTRACT, f"{_ACTIVATION_FAILED}No BPMN elements found with ids: {ids}.")
        instance = batch.state.element_instance(context.key)
        held = (instance.child_count + instance.active_flows) if instance is not None else 0
        limit = self.transitions.max_element_instances_per_scope
        if held + len(value) > limit:
            # Zeebe has no such bound; here every flow scope has one.
            raise ElementFailure(
                ErrorType.UNKNOWN,
                f"Expected to activate {len(value)} elements in the ad-hoc sub-process {excerpt(context.element_id)},"
                f" but a flow scope may hold at most {limit} element instances (max_element_instances_per_scope);"
                " activate fewer elements or raise the limit, then resolve this incident")
        return value

    def activate_element(self, batch: Batch, element: ExecutableAdHocSubProcess, context: ElementContext,
                         element_id: str, variables: dict[str, Any] | None = None) -> None:
        """Activate the ad-hoc activity ``element_id`` in a new inner instance (whose local variables
        ``variables`` become)."""
        inner = element.inner_instance
        inner_key = batch.next_key()
        inner_value = context.record_for(inner, context.key)
        batch.event(PI, _I.ELEMENT_ACTIVATING, inner_key, inner_value)
        batch.event(PI, _I.ELEMENT_ACTIVATED, inner_key, inner_value)
        output = element.output_element_variable
        if output is not None:
            self.variables.set_local(batch, inner_value, inner_key, output, None)
        if variables:
            self.variables.merge_local(batch, inner_value, inner_key, variables)
        inner_context = ElementContext(inner_key, inner_value)
        self.transitions.activate_child(batch, inner_context, element.ad_hoc_activities[element_id])

    # -- the inner instances (container callbacks) ---------------------------------------------------

    def before_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                        container_context: ElementContext, child_context: ElementContext) -> None:
        assert isinstance(container, ExecutableAdHocSubProcess)
        self._update_output_collection(batch, container, container_context, child_context)
        self._condition_met[child_context.key] = self._completion_condition(batch, container, container_context)

    def after_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                       container_context: ElementContext, child_context: ElementContext) -> None:
        assert isinstance(container, ExecutableAdHocSubProcess)
        met = self._condition_met.pop(child_context.key, None)
        scope = batch.state.element_instance(container_context.key)
        if scope is None or not scope.is_active or met is False:
            return
        idle = scope.child_count == 0 and scope.active_flows == 0
        if met and container.cancel_remaining_instances and not idle:
            self.transitions.terminate_children(batch, container_context)  # completes once they are gone
        elif idle:
            batch.command(PI, _I.COMPLETE_ELEMENT, scope.key, scope.value)

    def on_child_terminated(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None:
        scope = batch.state.element_instance(container_context.key)
        if scope is None or scope.child_count != 0:
            return
        triggers = self.transitions.event_triggers
        if scope.state is _I.ELEMENT_TERMINATING or scope.interrupting_element_id is not None or (
                triggers is not None and scope.is_active
                and triggers.pending_event_sub_process_trigger(batch, container, container_context) is not None):
            # terminated from outside, or an interrupting event subprocess waits for the children to be gone
            super().on_child_terminated(batch, container, container_context, child_context)
        elif scope.is_active and scope.active_flows == 0:
            # the completion condition was met and the remaining inner instances are terminated now
            batch.command(PI, _I.COMPLETE_ELEMENT, scope.key, scope.value)

    # -- helpers -------------------------------------------------------------------------------------

    def _completion_condition(self, batch: Batch, element: ExecutableAdHocSubProcess,
                              context: ElementContext) -> bool | None:
        condition = element.completion_condition
        if condition is None:
            return None
        variables = self.expressions.variables_at(batch, context.key)
        try:
            result = self.expressions.evaluate(batch, condition, variables)
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, _CONDITION_FAILED + str(error)) from None
        if isinstance(result, bool):
            return result
        raise ElementFailure(_EXTRACT, _CONDITION_FAILED + _type_mismatch(condition, result, "BOOLEAN", variables))

    def _update_output_collection(self, batch: Batch, element: ExecutableAdHocSubProcess,
                                  context: ElementContext, child_context: ElementContext) -> None:
        name = element.output_collection
        if name is None or element.output_element is None:
            return
        try:
            item = self.expressions.evaluate(batch, element.output_element,
                                             self.expressions.variables_at(batch, child_context.key))
        except EvaluationError as error:
            raise ElementFailure(_EXTRACT, str(error)) from None
        raw = batch.state.variable_json(context.key, name)
        collection = self.expressions.variables_at(batch, context.key)[name] if raw is not None else None
        if not isinstance(collection, list):
            found = _MSGPACK_TYPES.get(_feel_type(collection), "INTEGER" if isinstance(collection, int) else "FLOAT")
            raise ElementFailure(ErrorType.UNKNOWN,
                                 f"The output collection has the wrong type. Expected ARRAY but was {found}.")
        self.variables.set_local(batch, context.value, context.key, name, [*collection, item])


class AdHocSubProcessInnerInstanceProcessor(ContainerCallbacksMixin,
                                            FlowNodeProcessor[ExecutableFlowElementContainer]):
    """The scope one activated element of an ad-hoc subprocess runs in: created by the subprocess with its
    events (never by ACTIVATE_ELEMENT), completed when its last path ended."""

    waits = True

    def activation_refused(self, batch: Batch, element: ExecutableFlowElementContainer,
                           context: ElementContext) -> str | None:
        return ("An ACTIVATE command is not supported for an inner instance of an ad-hoc sub-process. Instead, the"
                " inner instance should be activated by writing events.")

    def on_complete(self, batch: Batch, element: ExecutableFlowElementContainer, context: ElementContext) -> None:
        pass  # no mappings of its own

    def on_terminate(self, batch: Batch, element: ExecutableFlowElementContainer, context: ElementContext) -> None:
        self.transitions.to_terminating(batch, context)
        self.incidents.resolve_incidents_of(batch, context.key)
        if not self.transitions.terminate_children(batch, context):
            self.transitions.to_terminated(batch, element, context)
