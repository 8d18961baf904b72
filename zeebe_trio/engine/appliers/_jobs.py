"""Appliers of job and job batch events: the job's state and its indexes (activatable by type,
deadlines, back-offs), and the element instance's link to its job."""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import JobBatchIntent, JobIntent, Record, ValueType

from .._due import due_time
from ..state import ACTIVATABLE, ACTIVATED, ERROR_THROWN, FAILED, EngineState
from ._registry import EventAppliers

EXECUTION_LISTENER = "EXECUTION_LISTENER"


def _job_record(record: Record) -> dict[str, Any]:
    """The job as state keeps it: without variables (those live in the variable scopes)."""
    value = dict(record.value)
    value.pop("variables", None)
    return value


def _job_created(state: EngineState, record: Record) -> None:
    state.put_job(record.key, ACTIVATABLE, _job_record(record))
    instance = state.element_instance(record.value["elementInstanceKey"])
    if instance is not None:
        instance.job_key = record.key
        if record.value.get("jobKind") == EXECUTION_LISTENER:
            instance.execution_listener_index += 1
        state.put_element_instance(instance)


def _jobs_activated(state: EngineState, record: Record) -> None:
    for job_key, job in zip(record.value["jobKeys"], record.value["jobs"], strict=True):
        stored = state.job(job_key)
        if stored is None:
            continue
        updated = dict(stored["record"])
        updated["worker"] = job["worker"]
        updated["deadline"] = job["deadline"]
        updated["timeout"] = job.get("timeout", -1)
        state.put_job(job_key, ACTIVATED, updated)


def _update_job(state: EngineState, record: Record, new_state: str | None, **fields: Any) -> None:
    stored = state.job(record.key)
    if stored is None:
        return
    updated = dict(stored["record"])
    updated.update(fields)
    state.put_job(record.key, new_state or stored["state"], updated)


def _job_completed_v2(state: EngineState, record: Record) -> None:
    """The job is gone; its variables travel in the PROCESS_EVENT TRIGGERING written after it."""
    state.remove_job(record.key)
    instance = state.element_instance(record.value["elementInstanceKey"])
    if instance is not None:
        instance.job_key = -1
        state.put_element_instance(instance)


def _job_completed_v1(state: EngineState, record: Record) -> None:
    """JOB COMPLETED as written before job completions wrote a PROCESS_EVENT: an element's job handed
    its variables to the element's completion through ``pending_variables``."""
    _job_completed_v2(state, record)
    if record.value.get("jobKind") != EXECUTION_LISTENER:
        state.set_pending_variables(record.value["elementInstanceKey"], record.value.get("variables") or None)


def _job_canceled(state: EngineState, record: Record) -> None:
    state.remove_job(record.key)


def _job_failed(state: EngineState, record: Record) -> None:
    value = record.value
    retries = value["retries"]
    backoff = value.get("retryBackoff", 0)
    if retries > 0 and backoff > 0:
        new_state, recurring = FAILED, due_time(record.timestamp, backoff)
    elif retries > 0:
        new_state, recurring = ACTIVATABLE, -1
    else:
        new_state, recurring = FAILED, -1
    _update_job(state, record, new_state, retries=retries, errorMessage=value.get("errorMessage", ""),
                retryBackoff=backoff, recurringTime=recurring, deadline=-1)


def _job_back_to_activatable(state: EngineState, record: Record) -> None:
    _update_job(state, record, ACTIVATABLE, deadline=-1, recurringTime=-1)


def _job_retries_updated(state: EngineState, record: Record) -> None:
    _update_job(state, record, None, retries=record.value["retries"])


def _job_timeout_updated(state: EngineState, record: Record) -> None:
    _update_job(state, record, None, deadline=record.value["deadline"])


def _job_error_thrown(state: EngineState, record: Record) -> None:
    _update_job(state, record, ERROR_THROWN, errorCode=record.value.get("errorCode", ""),
                errorMessage=record.value.get("errorMessage", ""), deadline=-1)


def register(appliers: EventAppliers) -> None:
    J = ValueType.JOB
    appliers.register(J, JobIntent.CREATED, _job_created)
    appliers.register(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, _jobs_activated)
    appliers.register(J, JobIntent.COMPLETED, _job_completed_v1)
    appliers.register(J, JobIntent.COMPLETED, _job_completed_v2, version=2)
    appliers.register(J, JobIntent.CANCELED, _job_canceled)
    appliers.register(J, JobIntent.FAILED, _job_failed)
    for intent in (JobIntent.TIMED_OUT, JobIntent.RECURRED_AFTER_BACKOFF, JobIntent.YIELDED):
        appliers.register(J, intent, _job_back_to_activatable)
    appliers.register(J, JobIntent.RETRIES_UPDATED, _job_retries_updated)
    appliers.register(J, JobIntent.TIMEOUT_UPDATED, _job_timeout_updated)
    appliers.register(J, JobIntent.ERROR_THROWN, _job_error_thrown)
