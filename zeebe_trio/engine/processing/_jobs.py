"""Job commands: activation batches and what workers send (complete, fail, throw error, retries,
timeouts, yield), and the leader's time-outs and back-offs."""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    ErrorType,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceIntent,
    Record,
    RejectionType,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from .._due import due_time
from ..bpmn.behaviors import (
    ElementContext,
    EventTriggerBehavior,
    IncidentBehavior,
    JobBehavior,
    ProcessEventBehavior,
    VariableBehavior,
)
from ..bpmn.behaviors._jobs import MAX_BATCH_BYTES, MAX_TOO_LARGE_PER_BATCH, job_size
from ..state import ACTIVATABLE, ACTIVATED, FAILED

JOB = ValueType.JOB
EXECUTION_LISTENER = "EXECUTION_LISTENER"


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


class JobProcessors:
    def __init__(self, jobs: JobBehavior, incidents: IncidentBehavior, variables: VariableBehavior,
                 triggers: EventTriggerBehavior | None = None) -> None:
        self.jobs = jobs
        self.incidents = incidents
        self.variables = variables
        self.triggers = triggers
        self.process_events = ProcessEventBehavior()

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE, self.activate_jobs)
        processors.add(JOB, JobIntent.COMPLETE, self.complete_job)
        processors.add(JOB, JobIntent.FAIL, self.fail_job)
        processors.add(JOB, JobIntent.THROW_ERROR, self.throw_error)
        processors.add(JOB, JobIntent.UPDATE_RETRIES, self.update_retries)
        processors.add(JOB, JobIntent.UPDATE_TIMEOUT, self.update_timeout)
        processors.add(JOB, JobIntent.TIME_OUT, self.time_out)
        processors.add(JOB, JobIntent.RECUR_AFTER_BACKOFF, self.recur_after_backoff)
        processors.add(JOB, JobIntent.YIELD, self.yield_job)

    def activate_jobs(self, batch: Batch, command: Record) -> None:
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
        size = job_size(result)
        # What a batch holds besides its jobs, when the request adds nothing to it (no worker name, no list of
        # variables): a job too large for a batch even then is too large, whoever asks; one that only this
        # request's own parts crowd out is left for the next batch.
        bare_size = job_size({**result, "worker": "", "variables": []})
        for job_key in state.activatable_jobs(job_type):
            if len(keys) >= max_jobs or len(too_large) >= MAX_TOO_LARGE_PER_BATCH:
                break
            stored = state.job(job_key)
            assert stored is not None
            [job] = self.jobs.activate(batch, [(job_key, stored["record"])], value.get("worker", ""), timeout, fetch)
            entry_size = job_size(job) + 12  # and its key
            if size + entry_size > MAX_BATCH_BYTES:
                bare_job_size = entry_size - len(job["worker"].encode("utf-8", "surrogatepass"))
                if bare_size + bare_job_size > MAX_BATCH_BYTES:
                    too_large.append((job_key, stored["record"], bare_job_size))
                    continue
                result["truncated"] = True
                break
            size += entry_size
            keys.append(job_key)
            jobs.append(job)
        for job_key, job, too_large_size in too_large:  # after the scan: the incidents change the index it reads
            self.jobs.too_large(batch, job_key, job, too_large_size)
        # Written even when empty, as Zeebe does: every activation is on the log.
        batch.respond(command, batch.event(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, batch.next_key(), result))


    def complete_job(self, batch: Batch, command: Record) -> None:
        stored = _job_or_reject(batch, command, "complete", (ACTIVATABLE, ACTIVATED))
        if stored is None:
            return
        variables = _variables_or_reject(batch, command, "complete")
        if variables is None:
            return
        job = dict(stored["record"])
        job["variables"] = variables
        completed = batch.event(JOB, JobIntent.COMPLETED, command.key, job, version=2)
        batch.respond(command, completed)
        element = batch.state.element_instance(job["elementInstanceKey"])
        if element is None:
            return
        # Zeebe's JobCompleteProcessor: the variables wait in a process event for the element's next step.
        if job.get("jobKind") == EXECUTION_LISTENER:
            self.process_events.triggering(batch, element.value, element.key, variables)
            batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_EXECUTION_LISTENER,
                          element.key, element.value)
            return
        scope = batch.state.element_instance(element.flow_scope_key)
        if scope is not None and scope.is_active:  # a terminating scope terminates the element instead
            self.process_events.triggering(batch, element.value, element.key, variables)
            batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT,
                          element.key, element.value)


    def fail_job(self, batch: Batch, command: Record) -> None:
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
            self.variables.merge_local(batch, _element_context(batch, job), job["elementInstanceKey"], variables)
        if retries <= 0:
            element = batch.state.element_instance(job["elementInstanceKey"])
            if element is not None:
                message = job["errorMessage"] or "No more retries left."
                error_type = (ErrorType.EXECUTION_LISTENER_NO_RETRIES if job.get("jobKind") == EXECUTION_LISTENER
                              else ErrorType.JOB_NO_RETRIES)
                self.incidents.raise_incident(batch, error_type, message, job["elementInstanceKey"], element.value,
                               job_key=command.key)
        elif backoff == 0:
            self.jobs.job_became_activatable(batch, command.key, job)


    def throw_error(self, batch: Batch, command: Record) -> None:
        stored = _job_or_reject(batch, command, "throw an error for", (ACTIVATABLE, ACTIVATED))
        if stored is None:
            return
        kind = stored["record"].get("jobKind", "BPMN_ELEMENT")
        if kind == EXECUTION_LISTENER:
            # Zeebe's JobThrowErrorProcessor: the element of a listener job is not ACTIVATED, nothing can catch it.
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Cannot throw BPMN error from {kind} job with key '{command.key}', type"
                         f" '{stored['record']['type']}' and processInstanceKey"
                         f" '{stored['record']['processInstanceKey']}'")
            return
        value = command.value
        job = dict(stored["record"])
        job.update(errorCode=value.get("errorCode", ""), errorMessage=value.get("errorMessage", ""),
                   variables=value.get("variables") or {})
        thrown = batch.event(JOB, JobIntent.ERROR_THROWN, command.key, job)
        batch.respond(command, thrown)
        element = batch.state.element_instance(job["elementInstanceKey"])
        if element is None:
            return
        context = ElementContext(element.key, element.value)
        process = batch.state.processes.get(context.process_definition_key)
        catch = None
        if self.triggers is not None and process is not None:
            catch = self.triggers.find_error_catch(batch, process, context, job["errorCode"])
        if catch is not None:
            # the error's variables are the catch event's local variables (Zeebe's ThrowError)
            assert self.triggers is not None
            self.triggers.throw_error(batch, catch, job["errorCode"], job["errorMessage"], job["variables"])
            return
        self.incidents.raise_incident(
            batch, ErrorType.UNHANDLED_ERROR_EVENT,
            f"Expected to throw an error event with the code '{job['errorCode']}' with message"
            f" '{job['errorMessage']}', but it was not caught. No error events are available in the scope.",
            job["elementInstanceKey"], element.value, job_key=command.key)


    def update_retries(self, batch: Batch, command: Record) -> None:
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


    def update_timeout(self, batch: Batch, command: Record) -> None:
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


    def time_out(self, batch: Batch, command: Record) -> None:
        stored = _job_or_reject(batch, command, "time out", (ACTIVATED,))
        if stored is None:
            return
        job = stored["record"]
        if job["deadline"] > batch.now:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to time out job with key '{command.key}', but its deadline has not passed yet")
            return
        batch.event(JOB, JobIntent.TIMED_OUT, command.key, job)
        self.jobs.job_became_activatable(batch, command.key, job)


    def recur_after_backoff(self, batch: Batch, command: Record) -> None:
        stored = _job_or_reject(batch, command, "recur", (FAILED,))
        if stored is None:
            return
        job = stored["record"]
        if job.get("recurringTime", -1) < 0 or job["recurringTime"] > batch.now or job["retries"] <= 0:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to recur job with key '{command.key}' after its back-off, but it is not backing off")
            return
        batch.event(JOB, JobIntent.RECURRED_AFTER_BACKOFF, command.key, job)
        self.jobs.job_became_activatable(batch, command.key, job)


    def yield_job(self, batch: Batch, command: Record) -> None:
        stored = _job_or_reject(batch, command, "yield", (ACTIVATED,))
        if stored is None:
            return
        batch.event(JOB, JobIntent.YIELDED, command.key, stored["record"])
        batch.notify_jobs_available(stored["record"]["type"])
