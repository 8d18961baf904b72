"""Job behaviour: jobs of job worker elements, their activation, and pushing them to job streams.

A job that becomes activatable is pushed to an open job stream of its type when there is one
(written as a JOB_BATCH ACTIVATED event, delivered after commit); otherwise long-polling workers are
told that jobs of the type are available.

A job too large to hand out (its variables alone fill a gRPC message) is not sent, to fail every poll:
as in Zeebe's JobBatchActivateProcessor it gets a MESSAGE_SIZE_EXCEEDED incident, which disables it,
and the other jobs are activated. Once its variables are smaller, resolving the incident makes it
activatable again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    ErrorType,
    JobBatchIntent,
    JobIntent,
    ValueType,
    excerpt,
)

from ..._batch import Batch
from ..._due import due_time
from ..._job_streams import JobStreams
from ..._limits import job_type_problem
from ..model import EvaluationError, JobWorkerProperties
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure
from ._incidents import IncidentBehavior

__all__ = ["MAX_BATCH_BYTES", "MAX_TOO_LARGE_PER_BATCH", "JobBehavior", "job_size"]

JOB = ValueType.JOB
MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024  # stay under the 4 MiB gRPC message limit
MAX_TOO_LARGE_PER_BATCH = 10
"""Jobs too large to activate that one activation raises incidents for (each costs reading all its
variables); any further ones wait for the next activation."""

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode




def job_size(job: dict[str, Any]) -> int:
    """About the bytes ``job`` takes in a response (its JSON, as the variables travel) and on the log."""
    return len(_dumps(job).encode("utf-8", "surrogatepass")) + 64


def _pretty_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.1f} KB"


class JobBehavior:
    """Creating, cancelling and activating jobs; pushes a job to an open stream of its type."""

    def __init__(self, job_streams: JobStreams, incidents: IncidentBehavior, expressions: ExpressionBehavior) -> None:
        self.job_streams = job_streams
        self.incidents = incidents
        self.expressions = expressions

    def create_element_job(self, batch: Batch, properties: JobWorkerProperties, context: ElementContext,
                           activate: Callable[[Callable[[], None]], None],
                           extra_headers: dict[str, str] | None = None) -> None:
        """Evaluate the element's job type and retries (an EXTRACT_VALUE_ERROR failure if they do not
        give a usable value), then ``activate`` the element with the job's creation (with the task
        headers and ``extra_headers``, e.g. a user task's evaluated attributes) as the step the
        transition runs between opening the element's subscriptions and ELEMENT_ACTIVATED: JOB CREATED
        comes before ELEMENT_ACTIVATED, as in Zeebe's ``JobWorkerTaskProcessor.finalizeActivation``."""
        job_type, retries = self.evaluate(batch, properties, context)
        headers = {**dict(properties.task_headers), **(extra_headers or {})}
        activate(lambda: self.create_job(batch, context.key, context.value, job_type, retries, headers))

    def create_listener_job(self, batch: Batch, properties: JobWorkerProperties, context: ElementContext,
                            event_type: str) -> None:
        """An execution listener's job (jobKind EXECUTION_LISTENER) for the element; its type and retries
        are evaluated as an element job's are (EXTRACT_VALUE_ERROR failures)."""
        job_type, retries = self.evaluate(batch, properties, context)
        self.create_job(batch, context.key, context.value, job_type, retries, {},
                        job_kind="EXECUTION_LISTENER", listener_event_type=event_type.upper())

    def evaluate(self, batch: Batch, properties: JobWorkerProperties, context: ElementContext) -> tuple[str, int]:
        """The job type and retries of a job worker element; an EXTRACT_VALUE_ERROR failure if they
        give no usable value."""
        try:
            variables = self.expressions.variables_at(batch, context.key)
            job_type = self.expressions.evaluate(batch, properties.job_type, variables)
            if not isinstance(job_type, str) or not job_type:
                raise EvaluationError(
                    f"Expected the job type expression '{properties.job_type.source}' to evaluate to a non-empty"
                    f" string, but it returned {excerpt(job_type)}")
            too_long = job_type_problem(job_type)
            if too_long is not None:
                raise EvaluationError(f"{too_long} (the value of the job type expression"
                                      f" '{properties.job_type.source}')")
            retries = self.expressions.evaluate(batch, properties.retries, variables)
            if isinstance(retries, float) and retries.is_integer():
                retries = int(retries)
            if not isinstance(retries, int) or isinstance(retries, bool):
                raise EvaluationError(
                    f"Expected the job retries expression '{properties.retries.source}' to evaluate to a number,"
                    f" but it returned {excerpt(retries)}")
        except EvaluationError as error:
            raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None
        return job_type, retries

    def cancel_job(self, batch: Batch, job_key: int) -> None:
        if job_key > 0:
            job = batch.state.job(job_key)
            if job is not None:
                batch.event(ValueType.JOB, JobIntent.CANCELED, job_key, job["record"])

    def too_large(self, batch: Batch, job_key: int, job: dict[str, Any], size: int) -> None:
        """Zeebe's MESSAGE_SIZE_EXCEEDED incident for a job no batch can carry (its applier disables the job)."""
        element = batch.state.element_instance(job["elementInstanceKey"])
        if element is None:
            return
        self.incidents.raise_incident(
            batch, ErrorType.MESSAGE_SIZE_EXCEEDED,
            f"The job with key '{job_key}' can not be activated, because with {_pretty_size(size)} it is larger than"
            f" the configured message size (per default is 4 MB). Try to reduce the size by reducing the number of"
            f" fetched variables or modifying the variable values.",
            job["elementInstanceKey"], element.value, job_key=job_key)


    def create_job(self, batch: Batch, element_key: int, element: dict[str, Any], job_type: str, retries: int,
                       headers: dict[str, str], *, job_kind: str = "BPMN_ELEMENT",
                       listener_event_type: str = "UNSPECIFIED") -> None:
        job_key = batch.next_key()
        job = {
            "type": job_type,
            "worker": "",
            "retries": retries,
            "retryBackoff": 0,
            "recurringTime": -1,
            "deadline": -1,
            "timeout": -1,
            "customHeaders": headers,
            "variables": {},
            "errorMessage": "",
            "errorCode": "",
            "elementId": element["elementId"],
            "elementInstanceKey": element_key,
            "bpmnProcessId": element["bpmnProcessId"],
            "processDefinitionVersion": element["version"],
            "processDefinitionKey": element["processDefinitionKey"],
            "processInstanceKey": element["processInstanceKey"],
            "tenantId": element.get("tenantId", DEFAULT_TENANT),
            "jobKind": job_kind,
            "jobListenerEventType": listener_event_type,
        }
        batch.event(JOB, JobIntent.CREATED, job_key, job)
        self.job_became_activatable(batch, job_key, job)


    def job_became_activatable(self, batch: Batch, job_key: int, job: dict[str, Any]) -> None:
        stream = self.job_streams.stream_for(job["type"])
        if stream is None:
            batch.notify_jobs_available(job["type"])
            return
        activated = self.activate(batch, [(job_key, job)], stream.worker, stream.timeout_ms, stream.fetch_variables)
        size = job_size(activated[0])
        if size > MAX_BATCH_BYTES:
            self.too_large(batch, job_key, job, size)
            return
        batch.event(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, batch.next_key(), {
            "type": job["type"], "worker": stream.worker, "timeout": stream.timeout_ms, "maxJobsToActivate": 1,
            "jobKeys": [job_key], "jobs": activated, "variables": list(stream.fetch_variables),
            "truncated": False, "tenantIds": [job.get("tenantId", DEFAULT_TENANT)],
        })
        batch.effects.job_pushes.append((stream.stream_id, job_key, activated[0]))


    def job_variables(self, batch: Batch, job: dict[str, Any], fetch: tuple[str, ...] | list[str]) -> dict[str, Any]:
        scope = job["elementInstanceKey"]
        state = batch.state
        if not fetch:
            return state.visible_variables(scope)
        result = {}
        for name in fetch:
            raw = state.lookup_variable(scope, name)
            if raw is not None:
                result[name] = json.loads(raw)
        return result


    def activate(self, batch: Batch, jobs: list[tuple[int, dict[str, Any]]], worker: str, timeout: int,
                  fetch: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
        deadline = due_time(batch.now, timeout)
        activated = []
        for _key, job in jobs:
            value = dict(job)
            value["worker"] = worker
            value["deadline"] = deadline
            value["timeout"] = timeout
            value["variables"] = self.job_variables(batch, job, fetch)
            activated.append(value)
        return activated
