"""Compensation subscriptions: what a completed activity leaves to undo, and undoing it.

As Zeebe's ``BpmnCompensationSubscriptionBehaviour``:

- an activity with a compensation boundary event writes COMPENSATION_SUBSCRIPTION CREATED as it completes
  (before its ELEMENT_COMPLETED), and so does a subprocess or multi-instance body that completes with
  subscriptions inside it (one without a handler, standing for its children);
- a compensation throw event triggers the subscriptions of its scope (all of them, or those of its
  ``activityRef``) and, recursively, those inside the subprocesses they stand for: for each, the
  compensation boundary event is activated and completed at once, the handler is activated (in the throw
  event's flow scope, with the event type COMPENSATION), and the subscription is TRIGGERED;
- a completed handler COMPLETES its subscription, then the subprocess subscriptions above it whose
  children are all compensated; once no subscription of the throw event is left, the throw event completes;
- the subscriptions of a process instance are DELETED when it completes or is terminated, those inside a
  subprocess (recursively) when the subprocess is terminated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    CompensationSubscriptionIntent,
    ProcessInstanceIntent,
    ValueType,
)

from ..._batch import Batch
from ..model import (
    ExecutableActivity,
    ExecutableFlowNode,
    compensation_boundary_event,
)
from ._context import ElementContext

__all__ = ["CompensationBehavior"]

CS = ValueType.COMPENSATION_SUBSCRIPTION
_CS = CompensationSubscriptionIntent
PI = ValueType.PROCESS_INSTANCE
_I = ProcessInstanceIntent
# Zeebe's default of the record's key fields: no throw event, no handler instance (yet).
NONE = -1
_SCOPES = (BpmnElementType.SUB_PROCESS, BpmnElementType.MULTI_INSTANCE_BODY)

Subscription = tuple[int, dict[str, Any]]


def _triggered(subscription: Subscription) -> bool:
    return bool(subscription[1].get("throwEventId"))


def _has_handler(subscription: Subscription) -> bool:
    return bool(subscription[1].get("compensationHandlerId"))


class CompensationBehavior:
    # -- subscriptions of completed activities -------------------------------------------------------

    def before_completed(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        """Before ``element``'s ELEMENT_COMPLETED: a process deletes its subscriptions, an activity that can
        be compensated leaves a subscription."""
        if context.element_type is BpmnElementType.PROCESS:
            self.delete_of_process_instance(batch, context)
            return
        if not isinstance(element, ExecutableActivity):
            return
        boundary = compensation_boundary_event(element)
        if boundary is None and not self._holds_subscriptions(batch, context):
            return
        handler_id = ""
        if boundary is not None:
            handler = getattr(boundary.event_definition, "handler", None)
            handler_id = handler.id if handler is not None else ""
        value = context.value
        batch.event(CS, _CS.CREATED, batch.next_key(), {
            "tenantId": value.get("tenantId", DEFAULT_TENANT),
            "processInstanceKey": context.process_instance_key,
            "processDefinitionKey": context.process_definition_key,
            "compensableActivityId": element.id,
            "throwEventId": "",
            "throwEventInstanceKey": NONE,
            "compensationHandlerId": handler_id,
            "compensationHandlerInstanceKey": NONE,
            "compensableActivityScopeKey": context.flow_scope_key,
            "compensableActivityInstanceKey": context.key,
            "variables": {},
        })

    def _holds_subscriptions(self, batch: Batch, context: ElementContext) -> bool:
        """Whether a subprocess or multi-instance body completes with subscriptions inside it."""
        if context.element_type not in _SCOPES:
            return False  # the state is read for flow scopes only
        return any(record["compensableActivityScopeKey"] == context.key
                   for _, record in batch.state.compensation_subscriptions(context.process_instance_key))

    # -- triggering ----------------------------------------------------------------------------------

    def trigger(self, batch: Batch, throw_event: ExecutableFlowNode, context: ElementContext,
                activity: ExecutableActivity | None) -> bool:
        """Compensate the completed activities of the throw event's scope (only ``activity``'s, if given);
        False if there is nothing to compensate (the throw event completes at once)."""
        scope_keys = self._compensation_scopes(batch, throw_event, context)
        untriggered = [s for s in batch.state.compensation_subscriptions(context.process_instance_key)
                       if not _triggered(s)]
        accept: Callable[[Subscription], bool] = (lambda s: True) if activity is None \
            else (lambda s: s[1]["compensableActivityId"] == activity.id)
        in_scope = [s for s in untriggered if s[1]["compensableActivityScopeKey"] in scope_keys and accept(s)]
        for subscription in in_scope:
            self._trigger_subscription(batch, context, untriggered, subscription)
        return bool(in_scope)

    @staticmethod
    def _compensation_scopes(batch: Batch, throw_event: ExecutableFlowNode, context: ElementContext) -> list[int]:
        """The throw event's flow scope; inside an event subprocess also the scope around that."""
        keys = [context.flow_scope_key]
        container = throw_event.flow_scope
        if container is not None and container.element_type is BpmnElementType.EVENT_SUB_PROCESS:
            scope = batch.state.element_instance(context.flow_scope_key)
            if scope is not None:
                keys.append(scope.flow_scope_key)
        return keys

    def _trigger_subscription(self, batch: Batch, context: ElementContext, untriggered: list[Subscription],
                              subscription: Subscription) -> None:
        key, record = subscription
        handler_key = NONE
        if _has_handler(subscription):
            handler_key = self._activate_handler(batch, context, record["compensableActivityId"])
        triggered = dict(record, throwEventId=context.element_id, throwEventInstanceKey=context.key,
                         compensationHandlerInstanceKey=handler_key)
        batch.event(CS, _CS.TRIGGERED, key, triggered)
        # the subscriptions inside a compensated subprocess, top to bottom
        for inner in untriggered:
            if inner[1]["compensableActivityScopeKey"] == record["compensableActivityInstanceKey"]:
                self._trigger_subscription(batch, context, untriggered, inner)

    @staticmethod
    def _activate_handler(batch: Batch, context: ElementContext, activity_id: str) -> int:
        """Activate and complete the compensation boundary event of ``activity_id`` at once, and activate
        its handler beside the throw event; the handler's element instance key."""
        process = batch.state.processes.get(context.process_definition_key)
        assert process is not None, f"process definition {context.process_definition_key} is not deployed"
        activity = process.flow_node(activity_id)
        boundary = compensation_boundary_event(activity) if isinstance(activity, ExecutableActivity) else None
        handler = getattr(boundary.event_definition, "handler", None) if boundary is not None else None
        assert boundary is not None and handler is not None, \
            f"No compensation boundary event found for activity '{activity_id}'"
        boundary_key = batch.next_key()
        boundary_value = dict(context.value, elementId=boundary.id, bpmnElementType=boundary.element_type.value,
                              bpmnEventType=boundary.event_type)
        for intent in (_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING, _I.ELEMENT_COMPLETED):
            batch.event(PI, intent, boundary_key, boundary_value)
        handler_key = batch.next_key()
        batch.command(PI, _I.ACTIVATE_ELEMENT, handler_key,
                      dict(context.value, elementId=handler.id, bpmnElementType=handler.element_type.value,
                           bpmnEventType="COMPENSATION"))
        return handler_key

    # -- completing ----------------------------------------------------------------------------------

    def after_completed(self, batch: Batch, context: ElementContext) -> None:
        """After a compensation handler's ELEMENT_COMPLETED: its subscription is COMPLETED, then the
        subprocess subscriptions above it that have nothing left inside, then (if none of its
        subscriptions is left) the throw event completes."""
        if context.value.get("bpmnEventType") != "COMPENSATION" or context.element_type.name.endswith("_EVENT"):
            return  # only handlers; throw events have the event type too
        for subscription in batch.state.compensation_subscriptions(context.process_instance_key):
            if _triggered(subscription) and subscription[1]["compensationHandlerInstanceKey"] == context.key:
                self._complete(batch, context, subscription)
                return

    def _complete(self, batch: Batch, context: ElementContext, subscription: Subscription) -> None:
        key, record = subscription
        batch.event(CS, _CS.COMPLETED, key, record)
        self._complete_flow_scope(batch, context, record["compensableActivityScopeKey"])
        throw_key = record["throwEventInstanceKey"]
        if any(r["throwEventInstanceKey"] == throw_key
               for _, r in batch.state.compensation_subscriptions(context.process_instance_key)):
            return
        throw_event = batch.state.element_instance(throw_key)
        if throw_event is not None:
            batch.command(PI, _I.COMPLETE_ELEMENT, throw_event.key, throw_event.value)

    def _complete_flow_scope(self, batch: Batch, context: ElementContext, scope_key: int) -> None:
        subscriptions = batch.state.compensation_subscriptions(context.process_instance_key)
        if any(r["compensableActivityScopeKey"] == scope_key for _, r in subscriptions):
            return  # not every compensation inside is done yet
        for subscription in subscriptions:
            if subscription[1]["compensableActivityInstanceKey"] == scope_key and not _has_handler(subscription):
                batch.event(CS, _CS.COMPLETED, subscription[0], subscription[1])
                self._complete_flow_scope(batch, context, subscription[1]["compensableActivityScopeKey"])
                return

    # -- deleting ------------------------------------------------------------------------------------

    def delete_of_process_instance(self, batch: Batch, context: ElementContext) -> None:
        """The process instance ends: every subscription it has left is DELETED."""
        for key, record in batch.state.compensation_subscriptions(context.process_instance_key):
            batch.event(CS, _CS.DELETED, key, record)

    def delete_of_sub_process(self, batch: Batch, context: ElementContext) -> None:
        """A subprocess is terminated: the subscriptions inside it (recursively) are DELETED."""
        subscriptions = batch.state.compensation_subscriptions(context.process_instance_key)

        def delete_in(scope_key: int) -> None:
            for key, record in subscriptions:
                if record["compensableActivityScopeKey"] == scope_key:
                    batch.event(CS, _CS.DELETED, key, record)
                    delete_in(record["compensableActivityInstanceKey"])

        delete_in(context.key)
