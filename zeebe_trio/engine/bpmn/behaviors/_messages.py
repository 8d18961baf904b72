"""Message subscriptions of waiting elements: what an element writes when it starts or stops waiting
for a message.

``MessageSubscriber`` is the "message" ``EventSubscriber`` of ``CatchEventBehavior``. Before anything
is written it evaluates every message's name and correlation key (a failure is an EXTRACT_VALUE_ERROR
with Zeebe's text); then, per message, it writes PROCESS_MESSAGE_SUBSCRIPTION CREATING on the
instance's partition and sends MESSAGE_SUBSCRIPTION CREATE to the partition the correlation key
hashes to. Leaving the element writes PROCESS_MESSAGE_SUBSCRIPTION DELETING for each subscription
still open and sends MESSAGE_SUBSCRIPTION DELETE. The rest of the exchange (CREATED both ways,
correlation, DELETED) is ``engine.processing._messages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    ErrorType,
    MessageSubscriptionIntent,
    ProcessMessageSubscriptionIntent,
    ValueType,
    partition_for_correlation_key,
)

from ..._batch import Batch
from .._errors import excerpt
from .._result_types import result_type as _feel_type
from ..model import (
    EvaluationError,
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableMessage,
    ExecutableStartEvent,
)
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure

quote = "'"

__all__ = ["MessageSubscriber", "PreparedMessage", "correlation_key_text", "message_subscription_command",
           "subscription_interrupts"]


def message_subscription_command(subscription: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The value of a MESSAGE_SUBSCRIPTION command (CREATE, DELETE, MIGRATE) the instance's partition
    sends about its process message subscription ``subscription`` (its record value), with ``changes``."""
    return {
        "processInstanceKey": subscription["processInstanceKey"],
        "elementInstanceKey": subscription["elementInstanceKey"],
        "bpmnProcessId": subscription["bpmnProcessId"],
        "messageKey": -1,
        "messageName": subscription["messageName"],
        "correlationKey": subscription["correlationKey"],
        "interrupting": subscription["interrupting"],
        "variables": {},
        "tenantId": subscription.get("tenantId", DEFAULT_TENANT),
        **changes,
    }

PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION
MS = ValueType.MESSAGE_SUBSCRIPTION


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    name: str
    correlation_key: str


def subscription_interrupts(event: ExecutableCatchEvent) -> bool:
    """Whether correlating the subscription of ``event`` closes it (Zeebe's ``isInterrupting``)."""
    if isinstance(event, ExecutableBoundaryEvent):
        return event.cancel_activity
    if isinstance(event, ExecutableStartEvent):
        return event.interrupting
    return True


def correlation_key_text(value: Any) -> str | None:
    """A correlation key as Zeebe takes it: a string as is, a number as its text; otherwise None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return str(int(value)) if value == int(value) else str(value)
    return None


class MessageSubscriber:
    def __init__(self, expressions: ExpressionBehavior, partition_count: int = 1) -> None:
        self.expressions = expressions
        self.partition_count = partition_count

    def message_partition(self, correlation_key: str) -> int:
        return partition_for_correlation_key(correlation_key, self.partition_count)

    def evaluate(self, batch: Batch, message: ExecutableMessage, scope_key: int) -> PreparedMessage:
        """The message's name and correlation key in the scope ``scope_key``; raises ElementFailure."""
        variables = self.expressions.variables_at(batch, scope_key)
        name_expression = message.name
        try:
            name = self.expressions.evaluate(batch, name_expression, variables)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        if not isinstance(name, str):
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                 f"Expected result of the expression '{excerpt(name_expression.source, quote=quote)}'"
                                 f" to be 'STRING', but was '{_feel_type(name)}'.")
        if message.correlation_key is None:
            return PreparedMessage(name, "")
        key_expression = message.correlation_key
        try:
            value = self.expressions.evaluate(batch, key_expression, variables)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        key = correlation_key_text(value)
        if key is None:
            shown = key_expression.source.strip().removeprefix("=").strip()
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                 f"Failed to extract the correlation key for '{excerpt(shown, quote=quote)}': The value must be"
                                 f" either a string or a number, but was '{_feel_type(value)}'.")
        return PreparedMessage(name, key)

    # -- EventSubscriber ------------------------------------------------------------------------------

    def prepare(self, batch: Batch, event: ExecutableCatchEvent, context: ElementContext) -> Any:
        assert isinstance(event.event_definition, ExecutableMessage)
        return self.evaluate(batch, event.event_definition, context.key)

    def subscribe(self, batch: Batch, event: ExecutableCatchEvent, prepared: Any, context: ElementContext) -> None:
        message: PreparedMessage = prepared
        value = context.value
        partition = self.message_partition(message.correlation_key)
        interrupting = subscription_interrupts(event)
        subscription = {
            "subscriptionPartitionId": partition,
            "processInstanceKey": context.process_instance_key,
            "elementInstanceKey": context.key,
            "bpmnProcessId": value["bpmnProcessId"],
            "messageKey": -1,
            "messageName": message.name,
            "variables": {},
            "correlationKey": message.correlation_key,
            "elementId": event.id,
            "interrupting": interrupting,
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
        }
        batch.event(PMS, ProcessMessageSubscriptionIntent.CREATING, batch.next_key(), subscription)
        batch.send_to_partition(partition, MS, MessageSubscriptionIntent.CREATE, -1,
                                message_subscription_command(subscription))

    def unsubscribe(self, batch: Batch, context: ElementContext) -> None:
        for subscription in batch.state.process_message_subscriptions_of(context.key):
            if subscription["state"] == "DELETING":
                continue
            record = subscription["record"]
            batch.event(PMS, ProcessMessageSubscriptionIntent.DELETING, subscription["key"], record)
            batch.send_to_partition(record["subscriptionPartitionId"], MS, MessageSubscriptionIntent.DELETE, -1,
                                    message_subscription_command(record))
