"""A job worker user task migrated to a Camunda user task, as Zeebe 8.8.17's
``ProcessInstanceMigrationUserTaskBehavior.tryMigrateJobWorkerToCamundaUserTask`` converts it.

The task's job carries its attributes as ``io.camunda.zeebe:*`` custom headers. The new Camunda user
task keeps the candidate groups and users, due and follow-up dates and the form (a linked form's key,
or the external reference; an embedded form is replaced by the target's form reference, if any), takes
the target's priority (50 without one) and the target's assignee (none without one: the job worker
task's assignee is not kept), and the job's other custom headers. It is written as activating a
Camunda user task writes it (USER_TASK CREATING, CREATED), then always assigned (ASSIGNING,
ASSIGNED), then the job is CANCELED; the migration's USER_TASK MIGRATED for it follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from zeebe_trio.protocol import DEFAULT_TENANT, JobIntent, RejectionType, UserTaskIntent, ValueType

from .._batch import Batch
from ..bpmn.behaviors import ElementContext, ElementFailure, UserTaskBehavior
from ..bpmn.behaviors._user_tasks import (
    CANDIDATE_GROUPS_HEADER,
    CANDIDATE_USERS_HEADER,
    DEFAULT_PRIORITY,
    DUE_DATE_HEADER,
    FOLLOW_UP_DATE_HEADER,
    FORM_KEY_HEADER,
    EvaluatedUserTask,
)
from ..bpmn.model import EvaluationError, ExecutableUserTask, UserTaskProperties
from ..state import ElementInstance
from ._migration_catch_events import MigrationRefused

__all__ = ["UserTaskConversion", "plan_conversion", "write_conversion"]

UT = ValueType.USER_TASK
_RESERVED_HEADER_PREFIX = "io.camunda.zeebe:"


@dataclass(slots=True)
class UserTaskConversion:
    job_key: int
    job: dict[str, Any]
    properties: UserTaskProperties
    evaluated: EvaluatedUserTask
    headers: dict[str, str] = field(default_factory=dict)


def _json_list(headers: dict[str, str], name: str, what: str) -> list[str] | None:
    text = headers.get(name)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise MigrationRefused(RejectionType.INVALID_STATE, f"Failed to parse {what}: {error}") from None
    return [str(item) for item in value] if isinstance(value, list) else []


def plan_conversion(batch: Batch, user_tasks: UserTaskBehavior, pik: int, instance: ElementInstance,
                    source_task: ExecutableUserTask, target_task: ExecutableUserTask, target_id: str,
                    migrated_value: dict[str, Any]) -> UserTaskConversion:
    """Everything the new user task needs, evaluated; raises ``MigrationRefused`` with Zeebe's reasons."""
    state = batch.state
    stored = state.job(instance.job_key) if instance.job_key > 0 else None
    if stored is None:
        raise MigrationRefused(RejectionType.INVALID_STATE,
                               f"Expected to migrate a job for user task '{instance.element_id}' on process instance"
                               f" with key '{pik}', but could not find job with key '{instance.job_key}'. Please"
                               " resolve any incidents on the user task before migrating the process instance.")
    job = stored["record"]
    headers: dict[str, str] = dict(job.get("customHeaders") or {})
    evaluated = EvaluatedUserTask()
    groups = _json_list(headers, CANDIDATE_GROUPS_HEADER, "candidate groups")
    users = _json_list(headers, CANDIDATE_USERS_HEADER, "candidate users")
    evaluated.candidate_groups = groups or []
    evaluated.candidate_users = users or []
    evaluated.due_date = headers.get(DUE_DATE_HEADER, "")
    evaluated.follow_up_date = headers.get(FOLLOW_UP_DATE_HEADER, "")
    target = target_task.user_task
    context = ElementContext(instance.key, migrated_value)
    flow_scope_variables = user_tasks.expressions.variables_at(batch, instance.flow_scope_key)

    def value_of(expression: Any) -> Any:
        return user_tasks.expressions.evaluate(batch, expression, flow_scope_variables)

    form_key = headers.get(FORM_KEY_HEADER)
    if form_key is not None:
        if "bpmn:usertaskform" in form_key.lower():  # an embedded form: the target's reference instead
            if target.external_reference is not None:
                try:
                    reference = value_of(target.external_reference)
                except EvaluationError as error:
                    raise _form_refused(instance, "external", target.external_reference.source, target_id,
                                        str(error)) from None
                evaluated.external_reference = reference if isinstance(reference, str) else ""
            elif target.form_id is not None:
                only_form = replace(UserTaskProperties(), form_id=target.form_id,
                                    form_binding_type=target.form_binding_type,
                                    form_version_tag=target.form_version_tag)
                try:
                    evaluated.form_key = user_tasks.evaluate(batch, only_form, context).form_key
                except ElementFailure as failure:
                    raise _form_refused(instance, "internal", target.form_id.source, target_id,
                                        failure.message) from None
        elif source_task.user_task.form_id is None:
            evaluated.external_reference = form_key
        else:
            evaluated.form_key = int(form_key)
    if target.priority is not None:
        try:
            priority = value_of(target.priority)
        except EvaluationError:
            priority = DEFAULT_PRIORITY  # Zeebe keeps the default when the expression fails
        if isinstance(priority, float) and priority.is_integer():
            priority = int(priority)
        if isinstance(priority, int) and not isinstance(priority, bool) and 0 <= priority <= 100:
            evaluated.priority = priority
    if target.assignee is not None:
        try:
            assignee = value_of(target.assignee)
        except EvaluationError:
            assignee = ""
        evaluated.assignee = assignee if isinstance(assignee, str) else ""
    kept_headers = {name: text for name, text in headers.items() if not name.startswith(_RESERVED_HEADER_PREFIX)}
    return UserTaskConversion(instance.job_key, job, replace(target, task_headers=tuple(kept_headers.items())),
                              evaluated, kept_headers)


def _form_refused(instance: ElementInstance, kind: str, reference: str, target_id: str,
                  message: str) -> MigrationRefused:
    return MigrationRefused(RejectionType.INVALID_STATE,
                            f"Expected to migrate form of user task with id '{instance.element_id}' to {kind} form"
                            f" with reference '{reference}' defined in target element '{target_id}', but reference"
                            f" evaluation failed with message: {message}")


def write_conversion(batch: Batch, user_tasks: UserTaskBehavior, conversion: UserTaskConversion,
                     instance_key: int, migrated_value: dict[str, Any]) -> None:
    context = ElementContext(instance_key, migrated_value)
    assignee = conversion.evaluated.assignee
    conversion.evaluated.assignee = ""  # created without one, then assigned
    created = user_tasks.create(batch, conversion.properties, conversion.evaluated, context)
    # always assigned: a job worker task's assignee elsewhere may be anything (Zeebe syncs it)
    assigning = {**created, "assignee": assignee, "action": "", "changedAttributes": ["assignee"]}
    batch.event(UT, UserTaskIntent.ASSIGNING, created["userTaskKey"], assigning)
    batch.event(UT, UserTaskIntent.ASSIGNED, created["userTaskKey"], assigning)
    batch.event(ValueType.JOB, JobIntent.CANCELED, conversion.job_key,
                {**conversion.job, "isJobToUserTaskMigration": True,
                 "tenantId": conversion.job.get("tenantId", DEFAULT_TENANT)})
