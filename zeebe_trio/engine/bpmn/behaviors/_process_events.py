"""Process events: variables handed to an element instance ahead of the step that takes them in.

A PROCESS_EVENT TRIGGERING holds them (a script task's result, the variables an execution listener's
job completed with, the variables of any other job an element waits for) until the element's next step
merges them and writes TRIGGERED (Zeebe's ``EventTriggerBehavior``). Camunda user tasks and called
processes still hand their variables over through ``pending_variables`` without process events.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import DEFAULT_TENANT, ProcessEventIntent, ValueType

from ..._batch import Batch

__all__ = ["ProcessEventBehavior"]

PE = ValueType.PROCESS_EVENT


class ProcessEventBehavior:
    def triggering(self, batch: Batch, element: dict[str, Any], element_key: int, variables: dict[str, Any]) -> None:
        """PROCESS_EVENT TRIGGERING for ``element_key`` (whose record value is ``element``)."""
        batch.event(PE, ProcessEventIntent.TRIGGERING, batch.next_key(), {
            "scopeKey": element_key,
            "targetElementId": element["elementId"],
            "variables": variables,
            "processDefinitionKey": element["processDefinitionKey"],
            "processInstanceKey": element["processInstanceKey"],
            "tenantId": element.get("tenantId", DEFAULT_TENANT),
        })

    def pending(self, batch: Batch, element_key: int) -> dict[str, Any] | None:
        """The variables of the element's pending process event, or None without one."""
        trigger = batch.state.event_trigger(element_key)
        return None if trigger is None else dict(trigger["record"].get("variables") or {})

    def consume(self, batch: Batch, element_key: int) -> dict[str, Any] | None:
        """The variables of the element's pending process event, which is TRIGGERED now; None without one."""
        trigger = batch.state.event_trigger(element_key)
        if trigger is None:
            return None
        batch.event(PE, ProcessEventIntent.TRIGGERED, trigger["key"], trigger["record"])
        return dict(trigger["record"].get("variables") or {})

    def triggered(self, batch: Batch, element_key: int) -> None:
        """PROCESS_EVENT TRIGGERED for the element's pending event (if it has one)."""
        trigger = batch.state.event_trigger(element_key)
        if trigger is not None:
            batch.event(PE, ProcessEventIntent.TRIGGERED, trigger["key"], trigger["record"])
