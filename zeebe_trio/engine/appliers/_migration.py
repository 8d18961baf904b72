"""Appliers of the events a process instance migration writes: each moves one record in state to
the target process definition (the element instance, its job, incidents, user task, timer, message,
signal and compensation subscriptions); a taken sequence flow's SEQUENCE_FLOW_DELETED takes back its token at a join
(the SEQUENCE_FLOW_TAKEN of the target's flow puts it back); the command's own MIGRATED event changes
nothing of its own."""

from __future__ import annotations

from zeebe_trio.protocol import (
    CompensationSubscriptionIntent,
    IncidentIntent,
    JobIntent,
    MessageSubscriptionIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    SignalSubscriptionIntent,
    TimerIntent,
    UserTaskIntent,
    ValueType,
)

from ..state import ElementInstance, EngineState, UserTask
from ._registry import EventAppliers, no_state_change

__all__ = ["register"]

_MOVED_FIELDS = ("processDefinitionKey", "bpmnProcessId", "elementId")


def _element_migrated(state: EngineState, record: Record) -> None:
    instance = state.element_instance(record.key)
    if instance is None:
        return
    # a new record dict: the old one may be shared with the records written before
    moved = {**instance.value, **{name: record.value[name] for name in (*_MOVED_FIELDS, "version")}}
    state.put_element_instance(ElementInstance.from_stored(instance.key, {**instance.to_stored(), "record": moved}))


def _job_migrated(state: EngineState, record: Record) -> None:
    stored = state.job(record.key)
    if stored is None:
        return
    updated = {**stored["record"], **{name: record.value[name]
                                      for name in (*_MOVED_FIELDS, "processDefinitionVersion")}}
    state.put_job(record.key, stored["state"], updated)


def _incident_migrated(state: EngineState, record: Record) -> None:
    stored = state.incident(record.key)
    if stored is not None:
        state.put_incident(record.key, {**stored["record"], **{name: record.value[name] for name in _MOVED_FIELDS}})


def _user_task_migrated(state: EngineState, record: Record) -> None:
    task = state.user_task(record.key)
    if task is not None:
        moved = {name: record.value[name] for name in (*_MOVED_FIELDS, "processDefinitionVersion")}
        state.put_user_task(UserTask(task.key, task.lifecycle, {**task.record, **moved}))


def _timer_migrated(state: EngineState, record: Record) -> None:
    if state.timer(record.key) is not None:  # the same due date: only the record changes
        state.put_timer(record.key, dict(record.value))


def _process_message_subscription_migrated(state: EngineState, record: Record) -> None:
    value = record.value
    stored = state.process_message_subscription(value["elementInstanceKey"], value["messageName"])
    if stored is not None:
        state.put_process_message_subscription(value["elementInstanceKey"], value["messageName"], stored["key"],
                                               stored["state"], dict(value))


def _message_subscription_migrated(state: EngineState, record: Record) -> None:
    stored = state.message_subscription(record.key)
    if stored is not None:
        state.put_message_subscription(record.key, dict(record.value), correlating=stored["correlating"])


def _signal_subscription_migrated(state: EngineState, record: Record) -> None:
    state.put_signal_subscription(record.key, dict(record.value))  # the same owner and name: replaced in place


def _compensation_subscription_migrated(state: EngineState, record: Record) -> None:
    state.put_compensation_subscription(record.key, dict(record.value))  # the same instance and key: replaced


def _sequence_flow_deleted(state: EngineState, record: Record) -> None:
    """A token waiting at a join taken back (its flow is renamed by the SEQUENCE_FLOW_TAKEN after it)."""
    value = record.value
    scope_key = value["flowScopeKey"]
    process = state.processes.get(value["processDefinitionKey"])
    assert process is not None
    gateway = process.sequence_flow(value["elementId"]).target
    count = state.taken_flow_count(scope_key, gateway.id, value["elementId"])
    if count > 0:
        state.set_taken_flow_count(scope_key, gateway.id, value["elementId"], count - 1)
    parent = state.element_instance(scope_key)
    if parent is not None:
        parent.active_flows -= 1
        in_flight = parent.flows_in_flight
        remaining = in_flight.get(gateway.id, 0) - 1
        if remaining > 0:
            in_flight[gateway.id] = remaining
        else:
            in_flight.pop(gateway.id, None)
        state.put_element_instance(parent)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ELEMENT_MIGRATED, _element_migrated)
    appliers.register(ValueType.JOB, JobIntent.MIGRATED, _job_migrated)
    appliers.register(ValueType.INCIDENT, IncidentIntent.MIGRATED, _incident_migrated)
    appliers.register(ValueType.USER_TASK, UserTaskIntent.MIGRATED, _user_task_migrated)
    appliers.register(ValueType.TIMER, TimerIntent.MIGRATED, _timer_migrated)
    appliers.register(ValueType.PROCESS_INSTANCE_MIGRATION, ProcessInstanceMigrationIntent.MIGRATED, no_state_change)
    appliers.register(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.MIGRATED,
                      _process_message_subscription_migrated)
    appliers.register(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.MIGRATED, _message_subscription_migrated)
    appliers.register(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.MIGRATED, _signal_subscription_migrated)
    appliers.register(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.SEQUENCE_FLOW_DELETED, _sequence_flow_deleted)
    appliers.register(ValueType.COMPENSATION_SUBSCRIPTION, CompensationSubscriptionIntent.MIGRATED,
                      _compensation_subscription_migrated)
