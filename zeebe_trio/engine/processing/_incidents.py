"""INCIDENT.RESOLVE: a resolved incident lets its job be activated again, or runs again the lifecycle
step of its element that failed.

As Zeebe's ``IncidentResolveProcessor``, an element incident's failed command (ACTIVATE_ELEMENT for an
activating element, COMPLETE_ELEMENT for a completing one) is not written again: it is rebuilt from the
element instance and handed to the BPMN dispatcher within the RESOLVE command's batch, so what the step
writes has the RESOLVE command as its source. If it fails again, the dispatcher raises a new incident.
A job incident only makes the job activatable again; its element waits for the job as before.
"""

from __future__ import annotations

from collections.abc import Callable

from zeebe_trio.protocol import (
    IncidentIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import JobBehavior

_I = ProcessInstanceIntent


class IncidentProcessors:
    """``retry`` processes a rebuilt element command (the BPMN dispatcher's ``process_retried``); without it
    the command is written to be processed after the RESOLVE command."""

    def __init__(self, jobs: JobBehavior, retry: Callable[[Batch, Record], None] | None = None) -> None:
        self.jobs = jobs
        self.retry = retry

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
            failed = _I.ACTIVATE_ELEMENT
        elif instance.state is _I.ELEMENT_COMPLETING:
            failed = _I.COMPLETE_ELEMENT
        else:
            return
        if self.retry is None:
            batch.command(ValueType.PROCESS_INSTANCE, failed, instance.key, instance.value)
            return
        self.retry(batch, Record(record_type=RecordType.COMMAND, value_type=ValueType.PROCESS_INSTANCE, intent=failed,
                                 key=instance.key, value=instance.value, partition_id=command.partition_id))
