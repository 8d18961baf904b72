"""Appliers of incident events: open incidents by key and by element, and the job an incident disables."""

from __future__ import annotations

from zeebe_trio.protocol import IncidentIntent, Record, ValueType

from ..state import ACTIVATABLE, ACTIVATED, ERROR_THROWN, FAILED, EngineState
from ._registry import EventAppliers


def _incident_created(state: EngineState, record: Record) -> None:
    state.put_incident(record.key, record.value)
    # A job incident disables its job until it is resolved (Zeebe's IncidentCreatedApplier). Jobs that
    # failed without retries or threw an error are not activatable anyway; one that is too large to
    # activate (MESSAGE_SIZE_EXCEEDED) is, and must stop being.
    job_key = record.value.get("jobKey", -1)
    stored = state.job(job_key) if job_key > 0 else None
    if stored is not None and stored["state"] in (ACTIVATABLE, ACTIVATED):
        state.put_job(job_key, FAILED, {**stored["record"], "deadline": -1, "recurringTime": -1})


def _incident_resolved(state: EngineState, record: Record) -> None:
    state.remove_incident(record.key)
    job_key = record.value.get("jobKey", -1)
    if job_key > 0:
        stored = state.job(job_key)
        if stored is not None and stored["state"] in (FAILED, ERROR_THROWN) and stored["record"]["retries"] > 0:
            updated = dict(stored["record"])
            updated["recurringTime"] = -1
            state.put_job(job_key, ACTIVATABLE, updated)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.INCIDENT, IncidentIntent.CREATED, _incident_created)
    appliers.register(ValueType.INCIDENT, IncidentIntent.RESOLVED, _incident_resolved)
