"""MESSAGE_SUBSCRIPTION MIGRATE on the message's partition, as Zeebe's
``MessageSubscriptionMigrateProcessor``: a migrated element's subscription takes the target's
bpmnProcessId and interrupting flag (MIGRATED); it keeps its name, correlation key and any message on
its way. The element's partition sends it after its PROCESS_MESSAGE_SUBSCRIPTION MIGRATED
(``_migration_catch_events``)."""

from __future__ import annotations

from zeebe_trio.protocol import MessageSubscriptionIntent, Record, RejectionType, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors

__all__ = ["MessageSubscriptionMigrationProcessors"]

MS = ValueType.MESSAGE_SUBSCRIPTION


class MessageSubscriptionMigrationProcessors:
    def register(self, processors: CommandProcessors) -> None:
        processors.add(MS, MessageSubscriptionIntent.MIGRATE, self.migrate)

    def migrate(self, batch: Batch, command: Record) -> None:
        value = command.value
        subscription_key = batch.state.message_subscription_of(value["elementInstanceKey"], value["messageName"])
        stored = batch.state.message_subscription(subscription_key) if subscription_key is not None else None
        if subscription_key is None or stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to migrate a message subscription with key '{command.key}', but subscription not"
                         f" found for element instance key '{value['elementInstanceKey']}' and the provided message"
                         " name")
            return
        batch.event(MS, MessageSubscriptionIntent.MIGRATED, subscription_key, {
            **stored["record"], "bpmnProcessId": value["bpmnProcessId"],
            "interrupting": value.get("interrupting", stored["record"].get("interrupting", True))})
