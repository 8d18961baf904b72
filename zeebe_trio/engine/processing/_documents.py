"""Variable documents (SetVariables) and messages (signal broadcasts: ``_signals``)."""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    MessageIntent,
    Record,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
    excerpt,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from .._due import due_time
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


def publish_message(batch: Batch, command: Record) -> None:
    value = dict(command.value)
    name = value.get("name") or ""
    if not name:
        batch.reject(command, RejectionType.INVALID_ARGUMENT, "Expected a message name, but it was empty")
        return
    correlation_key = value.get("correlationKey") or ""
    message_id = value.get("messageId") or ""
    if message_id and batch.state.message_id_exists(name, correlation_key, message_id):
        batch.reject(command, RejectionType.ALREADY_EXISTS,
                     f"Expected to publish a new message with id {excerpt(message_id)}, but a message with that id was"
                     " already published")
        return
    value.setdefault("timeToLive", 0)
    value.setdefault("variables", {})
    value.setdefault("tenantId", DEFAULT_TENANT)
    value["deadline"] = due_time(batch.now, value["timeToLive"]) if value["timeToLive"] > 0 else -1
    # No message catch events are supported yet: the message is only buffered for its time to live.
    batch.respond(command, batch.event(ValueType.MESSAGE, MessageIntent.PUBLISHED, batch.next_key(), value))


def expire_message(batch: Batch, command: Record) -> None:
    stored = batch.state.message(command.key)
    if stored is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to expire message with key '{command.key}', but no such message was found")
        return
    batch.event(ValueType.MESSAGE, MessageIntent.EXPIRED, command.key, stored)


def register_messages_and_signals(processors: CommandProcessors) -> None:
    processors.add(ValueType.MESSAGE, MessageIntent.PUBLISH, publish_message)
    processors.add(ValueType.MESSAGE, MessageIntent.EXPIRE, expire_message)
