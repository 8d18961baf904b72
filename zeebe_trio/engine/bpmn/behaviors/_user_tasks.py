"""User task behaviour: a user task's attributes evaluated at activation, and Camunda user task records.

Both forms evaluate the same attributes in the element's scope (Zeebe's ``BpmnUserTaskBehavior``):
assignee and external form reference are strings, candidate groups and users lists of strings, due and
follow-up dates ISO date-times (a FEEL date and time or a string that parses as one), the priority an
integer in [0, 100] (default 50). A value of the wrong kind fails with EXTRACT_VALUE_ERROR and Zeebe's
message. A form id resolves to a deployed form's key (the latest version, the one deployed with the
process, or the latest with a version tag, by the binding type); without one it fails with FORM_NOT_FOUND.

A job worker user task hands the values to its job as Zeebe's ``io.camunda.zeebe:*`` custom headers
(``job_headers``); a Camunda user task writes USER_TASK CREATING and CREATED (``create``), and
ASSIGNING (CLAIMING for a claim) and ASSIGNED when it has an assignee (``assign``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zeebe_trio.protocol import DEFAULT_TENANT, ErrorType, UserTaskIntent, ValueType

from ..._batch import Batch
from ...feel._temporal import format_temporal_json
from ...state import UserTaskLifecycle
from .._errors import excerpt
from .._result_types import result_type as _result_type
from ..model import EvaluationError, Expression, UserTaskProperties
from ._context import ElementContext
from ._expressions import ExpressionBehavior
from ._failure import ElementFailure

__all__ = ["DEFAULT_PRIORITY", "EvaluatedUserTask", "UserTaskBehavior", "zoned_date_time"]

UT = ValueType.USER_TASK
DEFAULT_PRIORITY = 50

# Zeebe's Protocol header names of a job worker user task's job.
ASSIGNEE_HEADER = "io.camunda.zeebe:assignee"
CANDIDATE_GROUPS_HEADER = "io.camunda.zeebe:candidateGroups"
CANDIDATE_USERS_HEADER = "io.camunda.zeebe:candidateUsers"
DUE_DATE_HEADER = "io.camunda.zeebe:dueDate"
FOLLOW_UP_DATE_HEADER = "io.camunda.zeebe:followUpDate"
FORM_KEY_HEADER = "io.camunda.zeebe:formKey"

_ZONED = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?)(Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
                    r"(?:\[([^\]]+)\])?\Z")


def zoned_date_time(text: str) -> str | None:
    """``text`` as java.time's ``ZonedDateTime.parse(text).toString()`` gives it, or None if it is not
    an ISO zoned date-time (a date-time with an offset, optionally a bracketed zone id)."""
    match = _ZONED.match(text)
    if match is None:
        return None
    local, fraction, offset, zone = match.groups()
    if fraction is not None and len(fraction) > 6:
        local = local[: len(local) - len(fraction) + 6]  # Python keeps microseconds
    try:
        value = datetime.fromisoformat(local + ("+00:00" if offset == "Z" else offset))
        if zone:
            value = value.astimezone(ZoneInfo(zone))
    except (ValueError, ZoneInfoNotFoundError, OverflowError):
        return None
    return format_temporal_json(value)




def _shown(expression: Expression) -> str:
    """The expression as Zeebe's messages quote it: a FEEL expression without its '='."""
    source = expression.source.strip()
    return excerpt(source[1:].strip() if source.startswith("=") else source, quote="'")


@dataclass
class EvaluatedUserTask:
    assignee: str = ""
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    due_date: str = ""
    follow_up_date: str = ""
    external_reference: str = ""
    priority: int = DEFAULT_PRIORITY
    form_key: int = -1  # the deployed form a zeebe:formDefinition formId links (-1: none)
    # Which attributes the BPMN sets (a job's headers name only those).
    has_candidate_groups: bool = False
    has_candidate_users: bool = False


class UserTaskBehavior:
    def __init__(self, expressions: ExpressionBehavior) -> None:
        self.expressions = expressions

    # -- evaluation ----------------------------------------------------------------------------------

    def evaluate(self, batch: Batch, properties: UserTaskProperties, context: ElementContext) -> EvaluatedUserTask:
        """Every attribute's value in the element's scope; ElementFailure on the first that fails."""
        variables = self.expressions.variables_at(batch, context.key)
        result = EvaluatedUserTask()

        def value_of(expression: Expression) -> Any:
            try:
                return self.expressions.evaluate(batch, expression, variables)
            except EvaluationError as error:
                raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR, str(error)) from None

        def wrong(expression: Expression, expected: str, value: Any) -> ElementFailure:
            return ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                  f"Expected result of the expression '{_shown(expression)}' to be {expected}, but was"
                                  f" '{_result_type(value)}'.")

        def string(expression: Expression | None) -> str:
            if expression is None:
                return ""
            value = value_of(expression)
            if not isinstance(value, str):
                raise wrong(expression, "'STRING'", value)
            return value

        def strings(expression: Expression | None) -> list[str]:
            if expression is None:
                return []
            value = value_of(expression)
            if not isinstance(value, list):
                raise wrong(expression, "'ARRAY'", value)
            if not all(isinstance(item, str) for item in value):
                raise ElementFailure(
                    ErrorType.EXTRACT_VALUE_ERROR,
                    f"Expected result of the expression '{_shown(expression)}' to be 'ARRAY' containing 'STRING'"
                    " items, but was 'ARRAY' containing at least one non-'STRING' item.")
            return list(value)

        def date(expression: Expression | None) -> str:
            if expression is None:
                return ""
            value = value_of(expression)
            if value is None or value == "":
                return ""  # Zeebe ignores an empty or null date
            if not isinstance(value, str):
                raise wrong(expression, "one of '[DATE_TIME, STRING]'", value)
            parsed = zoned_date_time(value.strip())
            if parsed is None:
                raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                     f"Invalid date-time format '{excerpt(value, quote=chr(39))}' for expression"
                                     f" '{_shown(expression)}'.")
            return parsed

        result.assignee = string(properties.assignee)
        result.candidate_groups = strings(properties.candidate_groups)
        result.has_candidate_groups = properties.candidate_groups is not None
        result.candidate_users = strings(properties.candidate_users)
        result.has_candidate_users = properties.candidate_users is not None
        result.due_date = date(properties.due_date)
        result.follow_up_date = date(properties.follow_up_date)
        if properties.form_id is not None:
            result.form_key = self._linked_form_key(batch, properties, string(properties.form_id), context)
        result.external_reference = string(properties.external_reference)
        if properties.priority is not None:
            priority = value_of(properties.priority)
            if isinstance(priority, float) and priority.is_integer():
                priority = int(priority)
            if not isinstance(priority, int) or isinstance(priority, bool):
                raise wrong(properties.priority, "'NUMBER'", priority)
            if not 0 <= priority <= 100:
                raise ElementFailure(ErrorType.EXTRACT_VALUE_ERROR,
                                     f"Expected priority to be in the range [0,100] but was '{priority}'.")
            result.priority = priority
        return result

    def _linked_form_key(self, batch: Batch, properties: UserTaskProperties, form_id: str,
                         context: ElementContext) -> int:
        """The key of the deployed form ``form_id`` in the version the binding type picks (Zeebe's
        ``BpmnUserTaskBehavior``); a FORM_NOT_FOUND failure if there is none (deploying it and resolving the
        incident activates the task)."""
        state = batch.state
        tenant = context.value.get("tenantId") or DEFAULT_TENANT
        shown = excerpt(form_id, quote="'")
        if properties.form_binding_type == "deployment":
            deployment_key = (state.process(context.process_definition_key) or {}).get("deploymentKey", -1)
            form = state.form_by_deployment(form_id, deployment_key, tenant)
            if form is None:
                raise ElementFailure(
                    ErrorType.FORM_NOT_FOUND,
                    f"Expected to use a form with id '{shown}' with binding type 'deployment', but no such form found"
                    f" in the deployment with key {deployment_key} which contained the current process. To resolve"
                    " this incident, migrate the process instance to a process definition that is deployed together"
                    " with the intended form to use.")
        elif properties.form_binding_type == "versionTag":
            tag = properties.form_version_tag
            form = state.form_by_version_tag(form_id, tag, tenant)
            if form is None:
                raise ElementFailure(
                    ErrorType.FORM_NOT_FOUND,
                    f"Expected to use a form with id '{shown}' and version tag '{excerpt(tag, quote=chr(39))}', but"
                    " no such form found. To resolve the incident, deploy a form with the given id and version tag.")
        else:
            form = state.latest_form(form_id, tenant)
            if form is None:
                raise ElementFailure(
                    ErrorType.FORM_NOT_FOUND,
                    f"Expected to find a form with id '{shown}', but no form with this id is found, at least a form"
                    " with this id should be available. To resolve the Incident please deploy a form with the same"
                    " id")
        return int(form["formKey"])

    def job_headers(self, properties: UserTaskProperties, evaluated: EvaluatedUserTask) -> dict[str, str]:
        """The ``io.camunda.zeebe:*`` custom headers of a job worker user task's job (only set values): the
        static formKey, or the key of the deployed form a formId links."""
        headers: dict[str, str] = {}
        if properties.form_key:
            headers[FORM_KEY_HEADER] = properties.form_key
        elif evaluated.form_key > 0:
            headers[FORM_KEY_HEADER] = str(evaluated.form_key)
        if evaluated.assignee:
            headers[ASSIGNEE_HEADER] = evaluated.assignee
        if evaluated.has_candidate_groups:
            headers[CANDIDATE_GROUPS_HEADER] = json.dumps(evaluated.candidate_groups, separators=(",", ":"))
        if evaluated.has_candidate_users:
            headers[CANDIDATE_USERS_HEADER] = json.dumps(evaluated.candidate_users, separators=(",", ":"))
        if evaluated.due_date:
            headers[DUE_DATE_HEADER] = evaluated.due_date
        if evaluated.follow_up_date:
            headers[FOLLOW_UP_DATE_HEADER] = evaluated.follow_up_date
        return headers

    # -- Camunda user task records -------------------------------------------------------------------

    def create(self, batch: Batch, properties: UserTaskProperties, evaluated: EvaluatedUserTask,
               context: ElementContext) -> dict[str, Any]:
        """USER_TASK CREATING (with the assignee) and CREATED (without it: assigning comes next); the
        CREATED record value."""
        element = context.value
        key = batch.next_key()
        record = {
            "userTaskKey": key,
            "assignee": evaluated.assignee,
            "candidateGroupsList": evaluated.candidate_groups,
            "candidateUsersList": evaluated.candidate_users,
            "dueDate": evaluated.due_date,
            "followUpDate": evaluated.follow_up_date,
            "formKey": evaluated.form_key,
            "changedAttributes": [],
            "variables": {},
            "bpmnProcessId": element["bpmnProcessId"],
            "processDefinitionVersion": element["version"],
            "processDefinitionKey": element["processDefinitionKey"],
            "processInstanceKey": element["processInstanceKey"],
            "elementId": element["elementId"],
            "elementInstanceKey": context.key,
            "tenantId": element.get("tenantId", DEFAULT_TENANT),
            "externalFormReference": evaluated.external_reference,
            "customHeaders": dict(properties.task_headers),
            "creationTimestamp": batch.now,
            "action": "",
            "priority": evaluated.priority,
        }
        batch.event(UT, UserTaskIntent.CREATING, key, record)
        created = {**record, "assignee": ""}
        batch.event(UT, UserTaskIntent.CREATED, key, created)
        return created

    def assign(self, batch: Batch, record: dict[str, Any], assignee: str, action: str = "", *,
               claim: bool = False) -> dict[str, Any]:
        """ASSIGNING (CLAIMING for a claim) and ASSIGNED to ``assignee``; the ASSIGNED record value."""
        changed = ["assignee"] if record.get("assignee", "") != assignee else []
        assigning = {**record, "assignee": assignee, "action": action, "changedAttributes": changed}
        batch.event(UT, UserTaskIntent.CLAIMING if claim else UserTaskIntent.ASSIGNING, record["userTaskKey"],
                    assigning)
        return batch.event(UT, UserTaskIntent.ASSIGNED, record["userTaskKey"], assigning).value

    def cancel(self, batch: Batch, user_task_key: int) -> None:
        """CANCELING and CANCELED, if the task exists and is not being canceled already."""
        if user_task_key <= 0:
            return
        stored = batch.state.user_task(user_task_key)
        if stored is None or stored.lifecycle is UserTaskLifecycle.CANCELING:
            return
        batch.event(UT, UserTaskIntent.CANCELING, user_task_key, stored.record)
        batch.event(UT, UserTaskIntent.CANCELED, user_task_key, stored.record)
