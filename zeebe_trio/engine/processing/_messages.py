"""Messages and their subscriptions: publishing, correlation, and both sides of a subscription.

Zeebe's exchange, partition by partition (with one partition, every send comes back to this one):

- PUBLISH writes PUBLISHED (buffered for its time to live), then correlates: MESSAGE_SUBSCRIPTION
  CORRELATING for each open subscription of the name and correlation key (one per process: a message
  correlates at most once per BPMN process id, and never to a subscription already correlating),
  then MESSAGE_START_EVENT_SUBSCRIPTION CORRELATED and a new instance for each message start event of
  the name (unless an instance started with the same correlation key still runs), then EXPIRED at
  once for a message without a time to live. Each correlating subscription gets
  PROCESS_MESSAGE_SUBSCRIPTION CORRELATE on its instance's partition.
- MESSAGE_SUBSCRIPTION CREATE (from a waiting element) writes CREATED and correlates the oldest
  buffered message that has not correlated to the process yet; without one it acknowledges with
  PROCESS_MESSAGE_SUBSCRIPTION CREATE, which writes CREATED.
- PROCESS_MESSAGE_SUBSCRIPTION CORRELATE writes CORRELATED, triggers the catch event with the
  message's variables (``EventTriggerBehavior``) and acknowledges with MESSAGE_SUBSCRIPTION CORRELATE
  (CORRELATED; a non-interrupting subscription then correlates the next buffered message). A
  subscription whose element no longer takes events rejects, and MESSAGE_SUBSCRIPTION REJECT frees the
  message for the process again.
- MESSAGE_SUBSCRIPTION DELETE (an element stopped waiting) writes DELETED and acknowledges with
  PROCESS_MESSAGE_SUBSCRIPTION DELETE, which writes DELETED.
- Message start events: a deployment writes MESSAGE_START_EVENT_SUBSCRIPTION CREATED for the new
  version's message start events (DELETED for the previous version's) and starts instances for
  buffered messages of those names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    MessageIntent,
    MessageStartEventSubscriptionIntent,
    MessageSubscriptionIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RejectionType,
    ValueType,
    excerpt,
    partition_of,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from .._due import due_time
from ..bpmn.behaviors import ElementContext, EventTriggerBehavior, MessageSubscriber
from ..bpmn.model import ExecutableCatchEvent, ExecutableMessage, ExecutableProcess, ExecutableStartEvent

__all__ = ["MessageProcessors"]

MS = ValueType.MESSAGE_SUBSCRIPTION
PMS = ValueType.PROCESS_MESSAGE_SUBSCRIPTION
MSES = ValueType.MESSAGE_START_EVENT_SUBSCRIPTION
_M = MessageSubscriptionIntent
_P = ProcessMessageSubscriptionIntent

#: (batch, process, stored definition, start event, variables, instance key) -> process instance key
StartInstance = Callable[[Batch, ExecutableProcess, dict, ExecutableStartEvent, dict, int], int]


class MessageProcessors:
    def __init__(self, subscriber: MessageSubscriber, triggers: EventTriggerBehavior,
                 start_instance: StartInstance) -> None:
        self.subscriber = subscriber
        self.triggers = triggers
        self.start_instance = start_instance

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.MESSAGE, MessageIntent.PUBLISH, self.publish)
        processors.add(ValueType.MESSAGE, MessageIntent.EXPIRE, self.expire)
        processors.add(MS, _M.CREATE, self.create_subscription)
        processors.add(MS, _M.CORRELATE, self.subscription_correlated)
        processors.add(MS, _M.DELETE, self.delete_subscription)
        processors.add(MS, _M.REJECT, self.reject_correlation)
        processors.add(PMS, _P.CREATE, self.process_subscription_created)
        processors.add(PMS, _P.CORRELATE, self.correlate_process_subscription)
        processors.add(PMS, _P.DELETE, self.process_subscription_deleted)

    # -- publishing ----------------------------------------------------------------------------------

    def publish(self, batch: Batch, command: Record) -> None:
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
        value["correlationKey"] = correlation_key
        value["messageId"] = message_id
        value.setdefault("timeToLive", 0)
        value["variables"] = value.get("variables") or {}
        value["tenantId"] = value.get("tenantId") or DEFAULT_TENANT
        value["deadline"] = due_time(batch.now, value["timeToLive"]) if value["timeToLive"] > 0 else -1
        key = batch.next_key()
        batch.respond(command, batch.event(ValueType.MESSAGE, MessageIntent.PUBLISHED, key, value))
        correlated_processes: set[str] = set()
        sends = []
        for subscription_key in batch.state.message_subscriptions_for(value["tenantId"], name, correlation_key):
            stored = batch.state.message_subscription(subscription_key)
            if stored is None or stored["correlating"]:
                continue
            record = stored["record"]
            if record["bpmnProcessId"] in correlated_processes:
                continue
            correlating = {**record, "messageKey": key, "variables": value["variables"]}
            batch.event(MS, _M.CORRELATING, subscription_key, correlating)
            correlated_processes.add(record["bpmnProcessId"])
            sends.append(correlating)
        self._correlate_to_start_events(batch, key, value, correlated_processes)
        for correlating in sends:
            self._send_correlate(batch, correlating)
        if value["timeToLive"] <= 0:
            batch.event(ValueType.MESSAGE, MessageIntent.EXPIRED, key, value)

    def expire(self, batch: Batch, command: Record) -> None:
        stored = batch.state.message(command.key)
        if stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to expire message with key '{command.key}', but no such message was found")
            return
        batch.event(ValueType.MESSAGE, MessageIntent.EXPIRED, command.key, stored)

    def _send_correlate(self, batch: Batch, subscription: dict[str, Any]) -> None:
        batch.send_to_partition(partition_of(subscription["processInstanceKey"]), PMS, _P.CORRELATE, -1, {
            "subscriptionPartitionId": batch.partition_id,
            "processInstanceKey": subscription["processInstanceKey"],
            "elementInstanceKey": subscription["elementInstanceKey"],
            "bpmnProcessId": subscription["bpmnProcessId"],
            "messageKey": subscription["messageKey"],
            "messageName": subscription["messageName"],
            "variables": subscription["variables"],
            "correlationKey": subscription["correlationKey"],
            "elementId": "",
            "interrupting": subscription["interrupting"],
            "tenantId": subscription["tenantId"],
        })

    # -- message start events ------------------------------------------------------------------------

    def _correlate_to_start_events(self, batch: Batch, message_key: int, message: dict[str, Any],
                                   correlated_processes: set[str]) -> None:
        for subscription in batch.state.message_start_subscriptions(message["tenantId"], message["name"]):
            process_id = subscription["bpmnProcessId"]
            if process_id in correlated_processes:
                continue
            if self._start_message(batch, message_key, message, subscription):
                correlated_processes.add(process_id)

    def _start_message(self, batch: Batch, message_key: int, message: dict[str, Any],
                       subscription: dict[str, Any]) -> bool:
        """Start an instance at the message start event of ``subscription`` unless an instance started
        with the message's correlation key still runs; whether it started."""
        correlation_key = message.get("correlationKey") or ""
        process_id = subscription["bpmnProcessId"]
        if correlation_key and batch.state.active_message_instance(message["tenantId"], process_id,
                                                                   correlation_key) is not None:
            return False
        process = batch.state.processes.get(subscription["processDefinitionKey"])
        assert process is not None
        start = process.flow_node(subscription["startEventId"])
        assert isinstance(start, ExecutableStartEvent)
        stored = {"processDefinitionKey": subscription["processDefinitionKey"]}
        instance_key = batch.next_key()  # first, as Zeebe's: the CORRELATED event names the instance
        batch.event(MSES, MessageStartEventSubscriptionIntent.CORRELATED, subscription["subscriptionKey"], {
            **{k: v for k, v in subscription.items() if k != "subscriptionKey"},
            "messageKey": message_key,
            "correlationKey": correlation_key,
            "variables": message.get("variables") or {},
            "processInstanceKey": instance_key,
        })
        self.start_instance(batch, process, stored, start, message.get("variables") or {}, instance_key)
        return True

    def open_start_event_subscriptions(self, batch: Batch, process: ExecutableProcess, key: int,
                                       previous_key: int | None, tenant: str) -> None:
        """A new version's message start events replace the previous version's; buffered messages of
        their names start instances."""
        if previous_key is not None:
            for subscription in batch.state.message_start_subscriptions_of(previous_key):
                batch.event(MSES, MessageStartEventSubscriptionIntent.DELETED, subscription["subscriptionKey"],
                            {k: v for k, v in subscription.items() if k != "subscriptionKey"})
        opened = []
        for start in process.start_events:
            definition = start.event_definition
            if not isinstance(definition, ExecutableMessage) or not definition.name.is_static:
                continue
            name = definition.name.evaluate({}, batch.now_datetime)
            subscription_key = batch.next_key()
            record = {
                "processDefinitionKey": key, "bpmnProcessId": process.bpmn_process_id, "startEventId": start.id,
                "messageName": name, "messageKey": -1, "correlationKey": "", "variables": {},
                "processInstanceKey": -1, "tenantId": tenant,
            }
            batch.event(MSES, MessageStartEventSubscriptionIntent.CREATED, subscription_key, record)
            opened.append({**record, "subscriptionKey": subscription_key})
        for subscription in opened:
            self._start_buffered(batch, subscription)

    def _start_buffered(self, batch: Batch, subscription: dict[str, Any]) -> None:
        """Buffered messages of the start event's name start instances, one per message not yet
        correlated to the process (and per free correlation key)."""
        for message_key, message in batch.state.buffered_messages_named(subscription["tenantId"],
                                                                         subscription["messageName"]):
            if message["deadline"] <= batch.now or batch.state.message_correlated(message_key,
                                                                                  subscription["bpmnProcessId"]):
                continue
            self._start_message(batch, message_key, message, subscription)

    # RootInstanceListener: an instance a message with a correlation key started has ended; the key is
    # free, and the next buffered message with it starts the latest version again (Zeebe's
    # BpmnBufferedMessageStartEventBehavior).

    def before_root_end(self, batch: Batch, context: ElementContext) -> Any:
        return batch.state.message_instance_correlation(context.key)

    def after_root_end(self, batch: Batch, context: ElementContext, token: Any) -> None:
        if not token:
            return
        tenant, process_id, correlation_key = token
        latest = batch.state.process_key_by_version(process_id, batch.state.latest_version(process_id))
        if latest is None:
            return
        for subscription in batch.state.message_start_subscriptions_of(latest):
            for message_key, message in batch.state.buffered_messages(tenant, subscription["messageName"],
                                                                      correlation_key):
                if message["deadline"] <= batch.now or batch.state.message_correlated(message_key, process_id):
                    continue
                self._start_message(batch, message_key, message, subscription)
                return

    # -- the message partition's side ----------------------------------------------------------------

    def create_subscription(self, batch: Batch, command: Record) -> None:
        value = dict(command.value)
        if batch.state.message_subscription_of(value["elementInstanceKey"], value["messageName"]) is not None:
            self._send_process_create(batch, value)
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to open a new message subscription for element with key"
                         f" '{value['elementInstanceKey']}' and message name '{value['messageName']}', but there"
                         " is already a message subscription for that element key and message name opened")
            return
        key = batch.next_key()
        batch.event(MS, _M.CREATED, key, value)
        if not self._correlate_next(batch, key, value):
            self._send_process_create(batch, value)

    def _send_process_create(self, batch: Batch, value: dict[str, Any]) -> None:
        self._send_to_process(batch, _P.CREATE, value)

    def _correlate_next(self, batch: Batch, subscription_key: int, record: dict[str, Any]) -> bool:
        """Correlate the oldest buffered message of the subscription's name and key that has not
        correlated to its process yet; whether there was one."""
        for message_key, message in batch.state.buffered_messages(record.get("tenantId", DEFAULT_TENANT),
                                                                  record["messageName"], record["correlationKey"]):
            if message["deadline"] <= batch.now or batch.state.message_correlated(message_key,
                                                                                  record["bpmnProcessId"]):
                continue
            correlating = {**record, "messageKey": message_key, "variables": message.get("variables") or {}}
            batch.event(MS, _M.CORRELATING, subscription_key, correlating)
            self._send_correlate(batch, correlating)
            return True
        return False

    def subscription_correlated(self, batch: Batch, command: Record) -> None:
        value = command.value
        subscription_key = batch.state.message_subscription_of(value["elementInstanceKey"], value["messageName"])
        stored = batch.state.message_subscription(subscription_key) if subscription_key is not None else None
        if subscription_key is None or stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to correlate subscription for element with key '{value['elementInstanceKey']}'"
                         f" and message name '{value['messageName']}', but no such message subscription exists")
            return
        record = {**stored["record"], "messageKey": value.get("messageKey", stored["record"]["messageKey"])}
        batch.event(MS, _M.CORRELATED, subscription_key, record)
        if not record.get("interrupting", True):
            self._correlate_next(batch, subscription_key, {**record, "variables": {}})

    def reject_correlation(self, batch: Batch, command: Record) -> None:
        value = command.value
        subscription_key = batch.state.message_subscription_of(value["elementInstanceKey"], value["messageName"])
        stored = batch.state.message_subscription(subscription_key) if subscription_key is not None else None
        if subscription_key is None or stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to reject correlation of subscription for element with key"
                         f" '{value['elementInstanceKey']}' and message name '{value['messageName']}', but no such"
                         " message subscription exists")
            return
        batch.event(MS, _M.REJECTED, subscription_key, {**stored["record"], "messageKey": value["messageKey"]})

    def delete_subscription(self, batch: Batch, command: Record) -> None:
        value = command.value
        subscription_key = batch.state.message_subscription_of(value["elementInstanceKey"], value["messageName"])
        stored = batch.state.message_subscription(subscription_key) if subscription_key is not None else None
        if subscription_key is None or stored is None:
            self._send_process_delete(batch, value)
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to delete message subscription for element with key"
                         f" '{value['elementInstanceKey']}', but no such message subscription exists")
            return
        batch.event(MS, _M.DELETED, subscription_key, stored["record"])
        self._send_process_delete(batch, stored["record"])

    def _send_process_delete(self, batch: Batch, value: dict[str, Any]) -> None:
        self._send_to_process(batch, _P.DELETE, value)

    def _send_to_process(self, batch: Batch, intent: ProcessMessageSubscriptionIntent, value: dict[str, Any]) -> None:
        """A PROCESS_MESSAGE_SUBSCRIPTION command about the subscription ``value`` to the partition of its
        process instance."""
        batch.send_to_partition(partition_of(value["processInstanceKey"]), PMS, intent, -1, {
            "subscriptionPartitionId": batch.partition_id,
            "processInstanceKey": value["processInstanceKey"],
            "elementInstanceKey": value["elementInstanceKey"],
            "bpmnProcessId": value.get("bpmnProcessId", ""),
            "messageKey": -1,
            "messageName": value["messageName"],
            "variables": {},
            "correlationKey": value.get("correlationKey", ""),
            "elementId": "",
            "interrupting": value.get("interrupting", True),
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
        })

    # -- the process instance's side -----------------------------------------------------------------

    def process_subscription_created(self, batch: Batch, command: Record) -> None:
        value = command.value
        stored = batch.state.process_message_subscription(value["elementInstanceKey"], value["messageName"])
        if stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to create process message subscription with element key"
                         f" '{value['elementInstanceKey']}' and message name '{value['messageName']}', but no such"
                         " subscription was found")
            return
        if stored["state"] != "CREATING":
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to create process message subscription with element key"
                         f" '{value['elementInstanceKey']}' and message name '{value['messageName']}', but it is"
                         " already opened")
            return
        batch.event(PMS, _P.CREATED, stored["key"], stored["record"])

    def correlate_process_subscription(self, batch: Batch, command: Record) -> None:
        value = dict(command.value)
        element_key, name = value["elementInstanceKey"], value["messageName"]
        stored = batch.state.process_message_subscription(element_key, name)
        where = f"process message subscription with element key '{element_key}' and message name '{name}'"
        if stored is None:
            self._reject_correlate(batch, command, RejectionType.NOT_FOUND,
                                   f"Expected to correlate {where}, but no such subscription was found")
            return
        if stored["state"] == "DELETING":
            self._reject_correlate(batch, command, RejectionType.INVALID_STATE,
                                   f"Expected to correlate {where}, but it is already closing")
            return
        record = stored["record"]
        if value["messageKey"] <= record.get("messageKey", -1):
            batch.reject(command, RejectionType.INVALID_STATE, "Already correlated this message")
            self._send_subscription_correlate(batch, value)
            return
        if not self.triggers.can_trigger(batch, element_key):
            self._reject_correlate(batch, command, RejectionType.INVALID_STATE,
                                   f"Expected to correlate subscription for element with key '{element_key}' and"
                                   f" message name '{name}', but the subscription is not active anymore")
            return
        value["elementId"] = record["elementId"]
        value["interrupting"] = record["interrupting"]
        batch.event(PMS, _P.CORRELATED, stored["key"], value)
        instance = batch.state.element_instance(element_key)
        assert instance is not None
        process = batch.state.processes.get(instance.value["processDefinitionKey"])
        assert process is not None
        catch_event = process.flow_node(record["elementId"])
        assert isinstance(catch_event, ExecutableCatchEvent)
        self.triggers.trigger(batch, catch_event, ElementContext(instance.key, instance.value),
                              value.get("variables") or {})
        self._send_subscription_correlate(batch, value)

    def _send_subscription_correlate(self, batch: Batch, value: dict[str, Any]) -> None:
        self._send_to_message_partition(batch, _M.CORRELATE, value)

    def _reject_correlate(self, batch: Batch, command: Record, rejection: RejectionType, reason: str) -> None:
        batch.reject(command, rejection, reason)
        self._send_to_message_partition(batch, _M.REJECT, command.value)

    def _send_to_message_partition(self, batch: Batch, intent: MessageSubscriptionIntent,
                                   value: dict[str, Any]) -> None:
        """A MESSAGE_SUBSCRIPTION command about the correlation ``value`` back to the partition of the
        message's subscription."""
        batch.send_to_partition(value["subscriptionPartitionId"], MS, intent, -1, {
            "processInstanceKey": value["processInstanceKey"],
            "elementInstanceKey": value["elementInstanceKey"],
            "bpmnProcessId": value["bpmnProcessId"],
            "messageKey": value["messageKey"],
            "messageName": value["messageName"],
            "correlationKey": value.get("correlationKey", ""),
            "interrupting": value.get("interrupting", True),
            "variables": {},
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
        })

    def process_subscription_deleted(self, batch: Batch, command: Record) -> None:
        value = command.value
        stored = batch.state.process_message_subscription(value["elementInstanceKey"], value["messageName"])
        if stored is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to delete process message subscription with element key"
                         f" '{value['elementInstanceKey']}' and message name '{value['messageName']}', but no such"
                         " subscription was found")
            return
        batch.event(PMS, _P.DELETED, stored["key"], stored["record"])
