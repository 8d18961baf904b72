"""Signal subscriptions and broadcasts (Zeebe's signal parts of ``CatchEventBehavior`` and its
``BpmnSignalBehavior``).

``SignalSubscriber`` is the "signal" ``EventSubscriber``: an element waiting for a signal (an
intermediate catch event, an activity with signal boundary events, a container with signal event
subprocesses, an event-based gateway) holds one SIGNAL_SUBSCRIPTION per signal catch event while it is
active (CREATED as it activates, DELETED as it leaves). The latest version of a process holds one for
each of its signal start events (``subscribe_start_events`` at deployment), with no element instance
(``catchEventInstanceKey`` -1). ``broadcast`` is what a signal throw or end event does: a SIGNAL
BROADCAST command with the element's local variables.
"""

from __future__ import annotations

import json
from typing import Any

from zeebe_trio.protocol import DEFAULT_TENANT, ErrorType, SignalIntent, SignalSubscriptionIntent, ValueType

from ..._batch import Batch
from ..model import EvaluationError, ExecutableCatchEvent, ExecutableProcess, ExecutableSignal
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure

__all__ = ["SignalSubscriber"]


class SignalSubscriber:
    def __init__(self, expressions: ExpressionBehavior) -> None:
        self.expressions = expressions

    def signal_name(self, batch: Batch, signal: ExecutableSignal, scope_key: int) -> str:
        """The signal's name, its expression evaluated in ``scope_key`` (-1: no variables); an
        EXTRACT_VALUE_ERROR failure if it is not a non-empty string."""
        try:
            variables = self.expressions.variables_at(batch, scope_key) if scope_key > 0 else {}
            name = self.expressions.evaluate(batch, signal.name, variables)
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        if not isinstance(name, str) or not name:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                 f"Expected the signal name to be a non-empty string, but it was {json.dumps(name)};"
                                 " give the signal a name (or an expression that evaluates to one)")
        return name

    # -- EventSubscriber -----------------------------------------------------------------------------

    def prepare(self, batch: Batch, event: ExecutableCatchEvent, context: ElementContext) -> Any:
        assert isinstance(event.event_definition, ExecutableSignal)
        return self.signal_name(batch, event.event_definition, context.key)

    def subscribe(self, batch: Batch, event: ExecutableCatchEvent, prepared: Any, context: ElementContext) -> None:
        value = context.value
        self._create(batch, prepared, event.id, context.key, value["processDefinitionKey"], value["bpmnProcessId"],
                     value.get("tenantId", DEFAULT_TENANT))

    def unsubscribe(self, batch: Batch, context: ElementContext) -> None:
        self.close(batch, context.key)

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _create(batch: Batch, name: str, catch_event_id: str, instance_key: int, definition_key: int,
                bpmn_process_id: str, tenant: str) -> None:
        batch.event(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.CREATED, batch.next_key(), {
            "signalName": name,
            "processDefinitionKey": definition_key,
            "bpmnProcessId": bpmn_process_id,
            "catchEventId": catch_event_id,
            "catchEventInstanceKey": instance_key,
            "tenantId": tenant,
        })

    @staticmethod
    def close(batch: Batch, owner_key: int) -> None:
        """SIGNAL_SUBSCRIPTION DELETED for every subscription of ``owner_key`` (an element instance, or a
        negated process definition key for start events)."""
        for key, record in batch.state.signal_subscriptions_of(owner_key):
            batch.event(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.DELETED, key, record)

    def subscribe_start_events(self, batch: Batch, process: ExecutableProcess, definition_key: int,
                               previous_key: int | None, tenant: str) -> None:
        """A new version's signal start events replace the previous version's subscriptions."""
        if previous_key is not None:
            self.close(batch, -previous_key)
        for start in process.start_events:
            definition = start.event_definition
            if not isinstance(definition, ExecutableSignal):
                continue
            try:
                name = self.signal_name(batch, definition, -1)
            except ElementFailure:
                continue  # a name that needs an instance's variables never starts one
            self._create(batch, name, start.id, -1, definition_key, process.bpmn_process_id, tenant)

    def broadcast(self, batch: Batch, signal: ExecutableSignal, context: ElementContext) -> None:
        """A signal throw or end event: SIGNAL BROADCAST with the element's local variables (fails before
        anything is written if the name does not evaluate)."""
        name = self.signal_name(batch, signal, context.key)
        variables = {n: json.loads(text) for n, text in batch.state.local_variables(context.key)}
        batch.command(ValueType.SIGNAL, SignalIntent.BROADCAST, batch.next_key(), {
            "signalName": name, "variables": variables,
            "tenantId": context.value.get("tenantId", DEFAULT_TENANT),
        })
