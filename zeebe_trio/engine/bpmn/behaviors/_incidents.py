"""Incident behaviour: writing an incident for an element instance, and resolving an element's incidents."""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import DEFAULT_TENANT, ErrorType, IncidentIntent, ValueType

from ..._batch import Batch

__all__ = ["IncidentBehavior"]


class IncidentBehavior:
    def raise_incident(self, batch: Batch, error_type: ErrorType, message: str, element_key: int,
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
            "tenantId": element.get("tenantId", DEFAULT_TENANT),
        })

    def resolve_incidents_of(self, batch: Batch, element_key: int) -> None:
        """Resolve every open incident of an element instance (when it is terminated)."""
        for incident_key in batch.state.element_incidents(element_key):
            incident = batch.state.incident(incident_key)
            if incident is not None:
                batch.event(ValueType.INCIDENT, IncidentIntent.RESOLVED, incident_key, incident["record"])
