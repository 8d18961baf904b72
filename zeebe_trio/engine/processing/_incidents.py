"""INCIDENT.RESOLVE: a resolved incident lets its job be activated again, or runs again the lifecycle
step of its element that failed."""

from __future__ import annotations

from zeebe_trio.protocol import IncidentIntent, ProcessInstanceIntent, Record, RejectionType, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import JobBehavior

_I = ProcessInstanceIntent


class IncidentProcessors:
    def __init__(self, jobs: JobBehavior) -> None:
        self.jobs = jobs

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.INCIDENT, IncidentIntent.RESOLVE, self.resolve_incident)

    def resolve_incident(self, batch: Batch, command: Record) -> None:
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
                self.jobs.job_became_activatable(batch, job_key, job["record"])
            return
        # An element incident: continue the lifecycle step that failed.
        instance = state.element_instance(record["elementInstanceKey"])
        if instance is None:
            return
        if instance.state is _I.ELEMENT_ACTIVATING:
            batch.command(ValueType.PROCESS_INSTANCE, _I.ACTIVATE_ELEMENT, instance.key, instance.value)
        elif instance.state is _I.ELEMENT_COMPLETING:
            batch.command(ValueType.PROCESS_INSTANCE, _I.COMPLETE_ELEMENT, instance.key, instance.value)
