"""Jobs: creation by job-worker elements, activation batches, and the job commands workers send.

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
from typing import Any

from zeebe_trio.protocol import (
    ErrorType,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceIntent,
    Record,
    RejectionType,
    ValueType,
)

from ._deployment import DEFAULT_TENANT
from ._due import due_time
from ._engine import Batch
from ._incidents import raise_incident
from ._registry import processes
from ._state import ACTIVATABLE, ACTIVATED, FAILED
from ._variables import merge_local

JOB = ValueType.JOB
MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024  # stay under the 4 MiB gRPC message limit
MAX_TOO_LARGE_PER_BATCH = 10
"""Jobs too large to activate that one activation raises incidents for (each costs reading all its
variables); any further ones wait for the next activation."""

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def _job_size(job: dict[str, Any]) -> int:
    """About the bytes ``job`` takes in a response (its JSON, as the variables travel) and on the log."""
    return len(_dumps(job).encode("utf-8", "surrogatepass")) + 64


def _pretty_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.1f} KB"


def _too_large(batch: Batch, job_key: int, job: dict[str, Any], size: int) -> None:
    """Zeebe's MESSAGE_SIZE_EXCEEDED incident for a job no batch can carry (its applier disables the job)."""
    element = batch.state.element_instance(job["elementInstanceKey"])
    if element is None:
        return
    raise_incident(
        batch, ErrorType.MESSAGE_SIZE_EXCEEDED,
        f"The job with key '{job_key}' can not be activated, because with {_pretty_size(size)} it is larger than"
        f" the configured message size (per default is 4 MB). Try to reduce the size by reducing the number of"
        f" fetched variables or modifying the variable values.",
        job["elementInstanceKey"], element["record"], job_key=job_key)


def create_job(batch: Batch, element_key: int, element: dict[str, Any], job_type: str, retries: int,
               headers: dict[str, str]) -> None:
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
        "jobKind": "BPMN_ELEMENT",
        "jobListenerEventType": "UNSPECIFIED",
    }
    batch.event(JOB, JobIntent.CREATED, job_key, job)
    job_became_activatable(batch, job_key, job)


def job_became_activatable(batch: Batch, job_key: int, job: dict[str, Any]) -> None:
    stream = batch.engine.job_streams.stream_for(job["type"])
    if stream is None:
        batch.notify_jobs_available(job["type"])
        return
    activated = _activate(batch, [(job_key, job)], stream.worker, stream.timeout_ms, stream.fetch_variables)
    size = _job_size(activated[0])
    if size > MAX_BATCH_BYTES:
        _too_large(batch, job_key, job, size)
        return
    batch.event(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, batch.next_key(), {
        "type": job["type"], "worker": stream.worker, "timeout": stream.timeout_ms, "maxJobsToActivate": 1,
        "jobKeys": [job_key], "jobs": activated, "variables": list(stream.fetch_variables),
        "truncated": False, "tenantIds": [job.get("tenantId", DEFAULT_TENANT)],
    })
    batch.effects.job_pushes.append((stream.stream_id, job_key, activated[0]))


def _job_variables(batch: Batch, job: dict[str, Any], fetch: tuple[str, ...] | list[str]) -> dict[str, Any]:
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


def _activate(batch: Batch, jobs: list[tuple[int, dict[str, Any]]], worker: str, timeout: int,
              fetch: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    deadline = due_time(batch.now, timeout)
    activated = []
    for _key, job in jobs:
        value = dict(job)
        value["worker"] = worker
        value["deadline"] = deadline
        value["timeout"] = timeout
        value["variables"] = _job_variables(batch, job, fetch)
        activated.append(value)
    return activated


@processes(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE)
def activate_jobs(batch: Batch, command: Record) -> None:
    value = command.value
    job_type = value.get("type") or ""
    max_jobs = value.get("maxJobsToActivate", 0)
    timeout = value.get("timeout", 0)
    # Zeebe's checks and wording (JobBatchActivateProcessor).
    if max_jobs < 1:
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     "Expected to activate job batch with max jobs to activate to be greater than zero, but it"
                     f" was '{max_jobs}'")
        return
    if timeout < 1:
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     f"Expected to activate job batch with timeout to be greater than zero, but it was '{timeout}'")
        return
    if not job_type:
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     "Expected to activate job batch with type to be present, but it was blank")
        return
    state = batch.state
    fetch = value.get("variables") or []
    keys: list[int] = []
    jobs: list[dict[str, Any]] = []
    too_large: list[tuple[int, dict[str, Any], int]] = []
    result = {
        "type": job_type, "worker": value.get("worker", ""), "timeout": timeout, "maxJobsToActivate": max_jobs,
        "jobKeys": keys, "jobs": jobs, "variables": list(fetch), "truncated": False,
        "tenantIds": list(value.get("tenantIds") or [DEFAULT_TENANT]),
    }
    size = _job_size(result)
    # What a batch holds besides its jobs, when the request adds nothing to it (no worker name, no list of
    # variables): a job too large for a batch even then is too large, whoever asks; one that only this
    # request's own parts crowd out is left for the next batch.
    bare_size = _job_size({**result, "worker": "", "variables": []})
    for job_key in state.activatable_jobs(job_type):
        if len(keys) >= max_jobs or len(too_large) >= MAX_TOO_LARGE_PER_BATCH:
            break
        stored = state.job(job_key)
        assert stored is not None
        [job] = _activate(batch, [(job_key, stored["record"])], value.get("worker", ""), timeout, fetch)
        job_size = _job_size(job) + 12  # and its key
        if size + job_size > MAX_BATCH_BYTES:
            bare_job_size = job_size - len(job["worker"].encode("utf-8", "surrogatepass"))
            if bare_size + bare_job_size > MAX_BATCH_BYTES:
                too_large.append((job_key, stored["record"], bare_job_size))
                continue
            result["truncated"] = True
            break
        size += job_size
        keys.append(job_key)
        jobs.append(job)
    for job_key, job, job_size in too_large:  # after the scan: the incidents change the index it reads
        _too_large(batch, job_key, job, job_size)
    # Written even when empty, as Zeebe does: every activation is on the log.
    batch.respond(command, batch.event(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, batch.next_key(), result))


def _job_or_reject(batch: Batch, command: Record, verb: str, states: tuple[str, ...]) -> dict[str, Any] | None:
    stored = batch.state.job(command.key)
    if stored is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to {verb} job with key '{command.key}', but no such job was found")
        return None
    if stored["state"] not in states:
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to {verb} job with key '{command.key}', but it is in state '{stored['state']}'")
        return None
    return stored


def _element_context(batch: Batch, job: dict[str, Any]) -> dict[str, Any]:
    return {"processInstanceKey": job["processInstanceKey"], "processDefinitionKey": job["processDefinitionKey"],
            "bpmnProcessId": job["bpmnProcessId"], "tenantId": job.get("tenantId", DEFAULT_TENANT)}


def _variables_or_reject(batch: Batch, command: Record, verb: str) -> dict[str, Any] | None:
    variables = command.value.get("variables") or {}
    if not isinstance(variables, dict):
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     f"Expected to {verb} job with key '{command.key}' with variables that are a JSON object")
        return None
    return variables


@processes(JOB, JobIntent.COMPLETE)
def complete_job(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "complete", (ACTIVATABLE, ACTIVATED))
    if stored is None:
        return
    variables = _variables_or_reject(batch, command, "complete")
    if variables is None:
        return
    job = dict(stored["record"])
    job["variables"] = variables
    completed = batch.event(JOB, JobIntent.COMPLETED, command.key, job)
    batch.respond(command, completed)
    element = batch.state.element_instance(job["elementInstanceKey"])
    if element is not None:
        batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT,
                      job["elementInstanceKey"], element["record"])


@processes(JOB, JobIntent.FAIL)
def fail_job(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "fail", (ACTIVATABLE, ACTIVATED))
    if stored is None:
        return
    variables = _variables_or_reject(batch, command, "fail")
    if variables is None:
        return
    value = command.value
    retries = value.get("retries", 0)
    backoff = max(0, value.get("retryBackoff", 0) or 0)
    job = dict(stored["record"])
    job.update(retries=retries, errorMessage=value.get("errorMessage", ""), retryBackoff=backoff,
               variables=variables)
    failed = batch.event(JOB, JobIntent.FAILED, command.key, job)
    batch.respond(command, failed)
    if variables:
        merge_local(batch, _element_context(batch, job), job["elementInstanceKey"], variables)
    if retries <= 0:
        element = batch.state.element_instance(job["elementInstanceKey"])
        if element is not None:
            message = job["errorMessage"] or "No more retries left."
            raise_incident(batch, ErrorType.JOB_NO_RETRIES, message, job["elementInstanceKey"], element["record"],
                           job_key=command.key)
    elif backoff == 0:
        job_became_activatable(batch, command.key, job)


@processes(JOB, JobIntent.THROW_ERROR)
def throw_error(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "throw an error for", (ACTIVATABLE, ACTIVATED))
    if stored is None:
        return
    value = command.value
    job = dict(stored["record"])
    job.update(errorCode=value.get("errorCode", ""), errorMessage=value.get("errorMessage", ""),
               variables=value.get("variables") or {})
    thrown = batch.event(JOB, JobIntent.ERROR_THROWN, command.key, job)
    batch.respond(command, thrown)
    # No error catch events are supported yet, so every thrown error is unhandled, as Zeebe reports it
    # for a process without a matching catch event.
    element = batch.state.element_instance(job["elementInstanceKey"])
    if element is not None:
        raise_incident(
            batch, ErrorType.UNHANDLED_ERROR_EVENT,
            f"Expected to throw an error event with the code '{job['errorCode']}' with message"
            f" '{job['errorMessage']}', but it was not caught. No error events are available in the scope.",
            job["elementInstanceKey"], element["record"], job_key=command.key)


@processes(JOB, JobIntent.UPDATE_RETRIES)
def update_retries(batch: Batch, command: Record) -> None:
    retries = command.value.get("retries", 0)
    if retries < 1:
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     f"Expected to update retries for job with key '{command.key}' with a positive amount of"
                     f" retries, but the amount given was '{retries}'")
        return
    stored = batch.state.job(command.key)
    if stored is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to update retries for job with key '{command.key}', but no such job was found")
        return
    job = dict(stored["record"])
    job["retries"] = retries
    batch.respond(command, batch.event(JOB, JobIntent.RETRIES_UPDATED, command.key, job))


@processes(JOB, JobIntent.UPDATE_TIMEOUT)
def update_timeout(batch: Batch, command: Record) -> None:
    stored = batch.state.job(command.key)
    if stored is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to update the timeout of job with key '{command.key}', but no such job was found")
        return
    if stored["state"] != ACTIVATED:
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to update the timeout of job with key '{command.key}', but it is not active")
        return
    timeout = command.value.get("timeout", 0)
    if timeout < 1:
        batch.reject(command, RejectionType.INVALID_ARGUMENT,
                     f"Expected a job timeout of at least 1 ms, but it was '{timeout}'")
        return
    job = dict(stored["record"])
    job["deadline"] = due_time(batch.now, timeout)
    job["timeout"] = timeout
    batch.respond(command, batch.event(JOB, JobIntent.TIMEOUT_UPDATED, command.key, job))


@processes(JOB, JobIntent.TIME_OUT)
def time_out(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "time out", (ACTIVATED,))
    if stored is None:
        return
    job = stored["record"]
    if job["deadline"] > batch.now:
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to time out job with key '{command.key}', but its deadline has not passed yet")
        return
    batch.event(JOB, JobIntent.TIMED_OUT, command.key, job)
    job_became_activatable(batch, command.key, job)


@processes(JOB, JobIntent.RECUR_AFTER_BACKOFF)
def recur_after_backoff(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "recur", (FAILED,))
    if stored is None:
        return
    job = stored["record"]
    if job.get("recurringTime", -1) < 0 or job["recurringTime"] > batch.now or job["retries"] <= 0:
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to recur job with key '{command.key}' after its back-off, but it is not backing off")
        return
    batch.event(JOB, JobIntent.RECURRED_AFTER_BACKOFF, command.key, job)
    job_became_activatable(batch, command.key, job)


@processes(JOB, JobIntent.YIELD)
def yield_job(batch: Batch, command: Record) -> None:
    stored = _job_or_reject(batch, command, "yield", (ACTIVATED,))
    if stored is None:
        return
    batch.event(JOB, JobIntent.YIELDED, command.key, stored["record"])
    batch.notify_jobs_available(stored["record"]["type"])

