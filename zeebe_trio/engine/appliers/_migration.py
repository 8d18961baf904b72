"""Appliers of the events a process instance migration writes: each moves one record in state to
the target process definition (the element instance, its job, incidents, user task and timer); the
command's own MIGRATED event changes nothing of its own."""

from __future__ import annotations

from zeebe_trio.protocol import (
    IncidentIntent,
    JobIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    Record,
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


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ELEMENT_MIGRATED, _element_migrated)
    appliers.register(ValueType.JOB, JobIntent.MIGRATED, _job_migrated)
    appliers.register(ValueType.INCIDENT, IncidentIntent.MIGRATED, _incident_migrated)
    appliers.register(ValueType.USER_TASK, UserTaskIntent.MIGRATED, _user_task_migrated)
    appliers.register(ValueType.TIMER, TimerIntent.MIGRATED, _timer_migrated)
    appliers.register(ValueType.PROCESS_INSTANCE_MIGRATION, ProcessInstanceMigrationIntent.MIGRATED, no_state_change)
