"""Raising and resolving incidents."""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import (
    ErrorType,
    IncidentIntent,
    ProcessInstanceIntent,
    Record,
    RejectionType,
    ValueType,
)

from ._engine import Batch
from ._registry import processes


def raise_incident(batch: Batch, error_type: ErrorType, message: str, element_key: int,
                   element: dict[str, Any], job_key: int = -1) -> None:
    batch.event(ValueType.INCIDENT, IncidentIntent.CREATED, batch.next_key(), {
        "errorType": error_type.value,
        "errorMessage": message,
        "bpmnProcessId": element["bpmnProcessId"],
        "processDefinitionKey": element["processDefinitionKey"],
        "processInstanceKey": element["processInstanceKey"],
        "elementId": element["elementId"],
        "elementInstanceKey": element_key,
        "jobKey": job_key,
        "variableScopeKey": element_key,
        "tenantId": element.get("tenantId", "<default>"),
    })


def resolve_incidents_of(batch: Batch, element_key: int) -> None:
    """Resolve every open incident of an element instance (when it is terminated)."""
    for incident_key in batch.state.element_incidents(element_key):
        incident = batch.state.incident(incident_key)
        if incident is not None:
            batch.event(ValueType.INCIDENT, IncidentIntent.RESOLVED, incident_key, incident["record"])


@processes(ValueType.INCIDENT, IncidentIntent.RESOLVE)
def resolve_incident(batch: Batch, command: Record) -> None:
    state = batch.state
    incident = state.incident(command.key)
    if incident is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to resolve incident with key '{command.key}', but no such incident was found")
        return
    record = incident["record"]
    job_key = record.get("jobKey", -1)
    if job_key > 0:
        job = state.job(job_key)
        if job is not None and job["record"]["retries"] <= 0:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to resolve incident with key '{command.key}', but job with key '{job_key}'"
                         " has no retries left. Please update the job retries and retry resolving the incident")
            return
    resolved = batch.event(ValueType.INCIDENT, IncidentIntent.RESOLVED, command.key, record)
    batch.respond(command, resolved)
    if job_key > 0:
        job = state.job(job_key)
        if job is not None:
            from ._jobs import job_became_activatable

            job_became_activatable(batch, job_key, job["record"])
        return
    # An element incident: continue the lifecycle step that failed.
    element_key = record["elementInstanceKey"]
    instance = state.element_instance(element_key)
    if instance is None:
        return
    if instance["state"] == "ELEMENT_ACTIVATING":
        batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ACTIVATE_ELEMENT, element_key,
                      instance["record"])
    elif instance["state"] == "ELEMENT_COMPLETING":
        batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, element_key,
                      instance["record"])
