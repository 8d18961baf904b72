"""Event appliers: one per event, the only code that changes engine state.

Used both while processing (``Batch.event`` applies each event as it is written) and while replaying
the log, so state built either way is identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zeebe_trio.protocol import (
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceResultIntent,
    ProcessIntent,
    Record,
    ValueType,
    VariableIntent,
)

from ._due import due_time
from ._state import ACTIVATABLE, ACTIVATED, ERROR_THROWN, FAILED, EngineState

Applier = Callable[[EngineState, Record], None]
APPLIERS: dict[tuple[ValueType, Intent], Applier] = {}


def applies(value_type: ValueType, *intents: Intent) -> Callable[[Applier], Applier]:
    def register(fn: Applier) -> Applier:
        for intent in intents:
            assert intent.is_event, f"{intent!r} is not an event"
            APPLIERS[(value_type, intent)] = fn
        return fn

    return register


PI = ValueType.PROCESS_INSTANCE


# -- processes -------------------------------------------------------------------------------------

@applies(ValueType.PROCESS, ProcessIntent.CREATED)
def _process_created(state: EngineState, record: Record) -> None:
    state.put_process(record.key, record.value)


# -- element instances -----------------------------------------------------------------------------

@applies(PI, ProcessInstanceIntent.ELEMENT_ACTIVATING)
def _element_activating(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["flowScopeKey"]
    state.put_element_instance(record.key, {
        "state": "ELEMENT_ACTIVATING", "record": value, "children": 0, "activeFlows": 0, "jobKey": -1,
    })
    state.set_scope_parent(record.key, scope_key)
    if scope_key <= 0:
        return
    parent = state.element_instance(scope_key)
    if parent is None:
        return
    parent["children"] += 1
    # An element entered through sequence flows consumes them (a parallel join: one per incoming flow).
    node = state.processes.get(value["processDefinitionKey"]).process.flow_node(value["elementId"])
    if node.incoming:
        if _is_join(node):
            parent["activeFlows"] -= len(node.incoming)
            for flow_id in node.incoming:
                count = state.taken_flow_count(scope_key, node.id, flow_id)
                state.set_taken_flow_count(scope_key, node.id, flow_id, count - 1)
        else:
            parent["activeFlows"] -= 1
    state.put_element_instance(scope_key, parent)
    state.add_child(scope_key, record.key)


def _is_join(node: Any) -> bool:
    return node.element_type.name == "PARALLEL_GATEWAY" and len(node.incoming) > 1


def _set_element_state(state: EngineState, record: Record) -> None:
    instance = state.element_instance(record.key)
    if instance is not None:
        instance["state"] = record.intent.name
        state.put_element_instance(record.key, instance)


applies(PI, ProcessInstanceIntent.ELEMENT_ACTIVATED, ProcessInstanceIntent.ELEMENT_COMPLETING,
        ProcessInstanceIntent.ELEMENT_TERMINATING)(_set_element_state)


@applies(PI, ProcessInstanceIntent.ELEMENT_COMPLETED, ProcessInstanceIntent.ELEMENT_TERMINATED)
def _element_finished(state: EngineState, record: Record) -> None:
    scope_key = record.value["flowScopeKey"]
    state.remove_element_instance(record.key, scope_key)
    state.remove_scope(record.key)
    if scope_key <= 0:  # the process instance itself: nobody can await its result any more
        state.set_awaiting_result(record.key, None)
        state.clear_taken_flows(record.key)  # only containers hold joins
    if scope_key > 0:
        parent = state.element_instance(scope_key)
        if parent is not None:
            parent["children"] -= 1
            state.put_element_instance(scope_key, parent)


@applies(PI, ProcessInstanceIntent.SEQUENCE_FLOW_TAKEN)
def _sequence_flow_taken(state: EngineState, record: Record) -> None:
    value = record.value
    scope_key = value["flowScopeKey"]
    parent = state.element_instance(scope_key)
    if parent is not None:
        parent["activeFlows"] += 1
        state.put_element_instance(scope_key, parent)
    process = state.processes.get(value["processDefinitionKey"]).process
    target = process.flow_node(process.sequence_flow(value["elementId"]).target_ref)
    if _is_join(target):
        count = state.taken_flow_count(scope_key, target.id, value["elementId"])
        state.set_taken_flow_count(scope_key, target.id, value["elementId"], count + 1)


@applies(PI, ProcessInstanceIntent.CANCELING)
def _canceling(state: EngineState, record: Record) -> None:
    pass  # audit only, as in Zeebe


# -- process instance creation and results ---------------------------------------------------------

@applies(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED)
def _instance_created(state: EngineState, record: Record) -> None:
    if record.request_id >= 0:  # only set when the creator awaits the result
        state.set_awaiting_result(record.value["processInstanceKey"], {
            "requestId": record.request_id,
            "requestStreamId": record.request_stream_id,
            "fetchVariables": record.value.get("fetchVariables", []),
        })


@applies(ValueType.PROCESS_INSTANCE_RESULT, ProcessInstanceResultIntent.COMPLETED)
def _instance_result(state: EngineState, record: Record) -> None:
    state.set_awaiting_result(record.value["processInstanceKey"], None)


# -- variables -------------------------------------------------------------------------------------

@applies(ValueType.VARIABLE, VariableIntent.CREATED, VariableIntent.UPDATED)
def _variable_set(state: EngineState, record: Record) -> None:
    value = record.value
    state.set_variable_json(value["scopeKey"], value["name"], value["value"])


# -- jobs ------------------------------------------------------------------------------------------

def _job_record(record: Record) -> dict[str, Any]:
    """The job as state keeps it: without variables (those live in the variable scopes)."""
    value = dict(record.value)
    value.pop("variables", None)
    return value


@applies(ValueType.JOB, JobIntent.CREATED)
def _job_created(state: EngineState, record: Record) -> None:
    state.put_job(record.key, ACTIVATABLE, _job_record(record))
    instance = state.element_instance(record.value["elementInstanceKey"])
    if instance is not None:
        instance["jobKey"] = record.key
        state.put_element_instance(record.value["elementInstanceKey"], instance)


@applies(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED)
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


@applies(ValueType.JOB, JobIntent.COMPLETED)
def _job_completed(state: EngineState, record: Record) -> None:
    state.remove_job(record.key)
    element_key = record.value["elementInstanceKey"]
    instance = state.element_instance(element_key)
    if instance is not None:
        instance["jobKey"] = -1
        state.put_element_instance(element_key, instance)
    state.set_pending_variables(element_key, record.value.get("variables") or None)


@applies(ValueType.JOB, JobIntent.CANCELED)
def _job_canceled(state: EngineState, record: Record) -> None:
    state.remove_job(record.key)


@applies(ValueType.JOB, JobIntent.FAILED)
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


@applies(ValueType.JOB, JobIntent.TIMED_OUT, JobIntent.RECURRED_AFTER_BACKOFF, JobIntent.YIELDED)
def _job_back_to_activatable(state: EngineState, record: Record) -> None:
    _update_job(state, record, ACTIVATABLE, deadline=-1, recurringTime=-1)


@applies(ValueType.JOB, JobIntent.RETRIES_UPDATED)
def _job_retries_updated(state: EngineState, record: Record) -> None:
    _update_job(state, record, None, retries=record.value["retries"])


@applies(ValueType.JOB, JobIntent.TIMEOUT_UPDATED)
def _job_timeout_updated(state: EngineState, record: Record) -> None:
    _update_job(state, record, None, deadline=record.value["deadline"])


@applies(ValueType.JOB, JobIntent.ERROR_THROWN)
def _job_error_thrown(state: EngineState, record: Record) -> None:
    _update_job(state, record, ERROR_THROWN, errorCode=record.value.get("errorCode", ""),
                errorMessage=record.value.get("errorMessage", ""), deadline=-1)


# -- incidents -------------------------------------------------------------------------------------

@applies(ValueType.INCIDENT, IncidentIntent.CREATED)
def _incident_created(state: EngineState, record: Record) -> None:
    state.put_incident(record.key, record.value)
    # A job incident disables its job until it is resolved (Zeebe's IncidentCreatedApplier). Jobs that
    # failed without retries or threw an error are not activatable anyway; one that is too large to
    # activate (MESSAGE_SIZE_EXCEEDED) is, and must stop being.
    job_key = record.value.get("jobKey", -1)
    stored = state.job(job_key) if job_key > 0 else None
    if stored is not None and stored["state"] in (ACTIVATABLE, ACTIVATED):
        state.put_job(job_key, FAILED, {**stored["record"], "deadline": -1, "recurringTime": -1})


@applies(ValueType.INCIDENT, IncidentIntent.RESOLVED)
def _incident_resolved(state: EngineState, record: Record) -> None:
    state.remove_incident(record.key)
    job_key = record.value.get("jobKey", -1)
    if job_key > 0:
        stored = state.job(job_key)
        if stored is not None and stored["state"] in (FAILED, ERROR_THROWN) and stored["record"]["retries"] > 0:
            updated = dict(stored["record"])
            updated["recurringTime"] = -1
            state.put_job(job_key, ACTIVATABLE, updated)


# -- messages --------------------------------------------------------------------------------------

@applies(ValueType.MESSAGE, MessageIntent.PUBLISHED)
def _message_published(state: EngineState, record: Record) -> None:
    if record.value["timeToLive"] > 0:
        value = {k: v for k, v in record.value.items() if k != "variables"}
        value["deadline"] = due_time(record.timestamp, record.value["timeToLive"])
        state.put_message(record.key, value)


@applies(ValueType.MESSAGE, MessageIntent.EXPIRED)
def _message_expired(state: EngineState, record: Record) -> None:
    state.remove_message(record.key)
