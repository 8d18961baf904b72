"""Variable documents (SetVariables); messages are ``_messages``, signal broadcasts ``_signals``."""

from __future__ import annotations

from zeebe_trio.protocol import (
    BpmnElementType,
    Record,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import VariableBehavior


class VariableDocumentProcessors:
    def __init__(self, variables: VariableBehavior) -> None:
        self.variables = variables

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE, self.update_variables)

    def update_variables(self, batch: Batch, command: Record) -> None:
        value = command.value
        scope_key = value.get("scopeKey", -1)
        instance = batch.state.element_instance(scope_key)
        if instance is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to update variables for element with key '{scope_key}', but no such element was found")
            return
        variables = value.get("variables") or {}
        if not isinstance(variables, dict):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         "Expected document to be a root level object, but it was not")
            return
        key = batch.next_key()
        if instance.element_type is BpmnElementType.USER_TASK and instance.user_task_key > 0:
            # Only a Camunda user task's variables go through UPDATING (its task listeners may see them
            # first); any other scope's are merged at once, then UPDATED (VariableDocumentUpdateProcessor).
            batch.event(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATING, key, value)
        context = instance.value
        if value.get("updateSemantics", "PROPAGATE") == "LOCAL":
            self.variables.merge_local(batch, context, scope_key, variables)
        else:
            self.variables.merge_propagating(batch, context, scope_key, variables)
        batch.respond(command, batch.event(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED, key, value))


