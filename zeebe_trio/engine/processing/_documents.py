"""Variable documents (SetVariables) and signals (messages: ``_messages``)."""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    Record,
    RejectionType,
    SignalIntent,
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
        batch.event(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATING, key, value)
        context = instance.value
        if value.get("updateSemantics", "PROPAGATE") == "LOCAL":
            self.variables.merge_local(batch, context, scope_key, variables)
        else:
            self.variables.merge_propagating(batch, context, scope_key, variables)
        batch.respond(command, batch.event(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED, key, value))


def broadcast_signal(batch: Batch, command: Record) -> None:
    value = dict(command.value)
    if not value.get("signalName"):
        batch.reject(command, RejectionType.INVALID_ARGUMENT, "Expected a signal name, but it was empty")
        return
    value.setdefault("variables", {})
    value.setdefault("tenantId", DEFAULT_TENANT)
    # No signal catch events are supported yet: the broadcast is recorded and reaches no subscription.
    batch.respond(command, batch.event(ValueType.SIGNAL, SignalIntent.BROADCASTED, batch.next_key(), value))


def register_messages_and_signals(processors: CommandProcessors) -> None:
    """Signals (the name stays for its callers: messages are ``MessageProcessors`` now)."""
    processors.add(ValueType.SIGNAL, SignalIntent.BROADCAST, broadcast_signal)
