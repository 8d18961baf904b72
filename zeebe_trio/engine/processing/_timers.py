"""TIMER.TRIGGER: a timer that fell due triggers its catch event, and a repeating timer is scheduled again.

The leader's schedule service writes TRIGGER for every timer whose due date has passed. A timer of an
element instance triggers the catch event it names (an intermediate catch event, a boundary event, an
event subprocess's start event) if the instance still takes events; a timer start event's timer
creates a process instance. A cycle is scheduled again for non-interrupting boundary events and start
events, until its repetitions are used up.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ProcessEventIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    Record,
    RejectionType,
    TimerIntent,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import ElementContext, ElementFailure, EventTriggerBehavior, TimerSubscriber
from ..bpmn.model import (
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableProcess,
    ExecutableStartEvent,
    ExecutableTimer,
)

_I = ProcessInstanceIntent


class TimerProcessors:
    def __init__(self, timers: TimerSubscriber, triggers: EventTriggerBehavior) -> None:
        self.timers = timers
        self.triggers = triggers

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.TIMER, TimerIntent.TRIGGER, self.trigger)

    def trigger(self, batch: Batch, command: Record) -> None:
        state = batch.state
        timer = state.timer(command.key)
        if timer is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to trigger timer with key '{command.key}', but no such timer was found")
            return
        if timer["dueDate"] > batch.now:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to trigger timer with key '{command.key}', but it is not due yet")
            return
        element_key = timer["elementInstanceKey"]
        if element_key > 0 and not self.triggers.can_trigger(batch, element_key):
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to trigger timer with key '{command.key}', but its element instance with key"
                         f" '{element_key}' does not take events any more")
            return
        process = state.processes.get(timer["processDefinitionKey"])
        assert process is not None
        catch_event = process.flow_node(timer["targetElementId"])
        assert isinstance(catch_event, ExecutableCatchEvent)
        batch.event(ValueType.TIMER, TimerIntent.TRIGGERED, command.key, timer)
        if element_key > 0:
            instance = state.element_instance(element_key)
            assert instance is not None
            scope = ElementContext(instance.key, instance.value)
            self.triggers.trigger(batch, catch_event, scope, {})
            if self._repeats(catch_event):
                self._reschedule(batch, timer, catch_event, scope.key, scope.value)
        else:
            assert isinstance(catch_event, ExecutableStartEvent)
            self.start_instance(batch, process, timer, catch_event, {})
            self._reschedule(batch, timer, catch_event, -1, {"processDefinitionKey": timer["processDefinitionKey"],
                                                            "tenantId": timer.get("tenantId", DEFAULT_TENANT)})

    @staticmethod
    def _repeats(event: ExecutableCatchEvent) -> bool:
        return isinstance(event, ExecutableStartEvent) or (
            isinstance(event, ExecutableBoundaryEvent) and not event.cancel_activity)

    def _reschedule(self, batch: Batch, timer: dict, event: ExecutableCatchEvent, owner_key: int,
                    owner: dict) -> None:
        repetitions = timer["repetitions"]
        definition = event.event_definition
        if repetitions == 1 or not isinstance(definition, ExecutableTimer) or definition.timer_kind != "cycle":
            return
        try:
            timer_definition = self.timers.timer_definition(batch, definition, owner_key)
        except ElementFailure:
            return  # the cycle's expression no longer gives a timer: it stops
        due = timer_definition.next_due(timer["dueDate"], batch.now)
        if due is None:
            return
        self.timers.create_timer(batch, timer_definition, due, event.id, owner_key, owner,
                                 -1 if repetitions < 0 else repetitions - 1)

    def start_instance(self, batch: Batch, process: ExecutableProcess, stored: dict, start: ExecutableStartEvent,
                       variables: dict) -> int:
        """Create an instance of ``process`` at ``start`` (Zeebe's activateProcessInstanceForStartEvent):
        the trigger on the process definition, the process's ACTIVATE_ELEMENT, and its CREATED."""
        definition_key = stored["processDefinitionKey"]
        process_record = batch.state.process(definition_key)
        assert process_record is not None
        instance_key = batch.next_key()
        tenant = process_record.get("tenantId", DEFAULT_TENANT)
        batch.event(ValueType.PROCESS_EVENT, ProcessEventIntent.TRIGGERING, batch.next_key(), {
            "scopeKey": definition_key, "targetElementId": start.id, "variables": variables,
            "processDefinitionKey": definition_key, "processInstanceKey": instance_key, "tenantId": tenant,
        })
        value = {
            "bpmnElementType": BpmnElementType.PROCESS.value, "elementId": process.bpmn_process_id,
            "bpmnProcessId": process.bpmn_process_id, "version": process_record["version"],
            "processDefinitionKey": definition_key, "processInstanceKey": instance_key, "flowScopeKey": -1,
            "bpmnEventType": "UNSPECIFIED", "parentProcessInstanceKey": -1, "parentElementInstanceKey": -1,
            "tenantId": tenant,
        }
        batch.command(ValueType.PROCESS_INSTANCE, _I.ACTIVATE_ELEMENT, instance_key, value)
        batch.event(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED, instance_key, {
            "bpmnProcessId": process.bpmn_process_id, "version": process_record["version"],
            "processDefinitionKey": definition_key, "processInstanceKey": instance_key, "variables": variables,
            "fetchVariables": [], "startInstructions": [], "tenantId": tenant,
        })
        return instance_key
