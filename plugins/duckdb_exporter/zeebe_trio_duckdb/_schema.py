"""The export schema: the raw record stream, typed per-value-type event tables and analyst views.

Every table is keyed by (partition_id, position) so re-exporting a record is a no-op. Typed event
tables hold events only (``record_type = 'EVENT'``), with the value's fields as columns, extracted
while writing so that views and queries never parse JSON. Times are UTC ``TIMESTAMP``s.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import ValueType

SCHEMA_VERSION = 5
"""1: the value types of the first engine (processes, instances, jobs, incidents, variables, messages).
2: timers, message / process message / message start event / signal / compensation subscriptions, signals,
escalations, user tasks and errors. 3: forms. 4: decisions, decision requirements and decision evaluations. 5: runtime instructions. Opening an older file adds the new tables and fills them from
``records``."""


_BIGINT = (-(1 << 63), (1 << 63) - 1)
_INTEGER = (-(1 << 31), (1 << 31) - 1)


def _int(value: Any) -> int | None:
    """A BIGINT column's value; anything else (a number beyond 64 bits included) is NULL, the value's JSON
    in ``records`` keeps it."""
    return value if type(value) is int and _BIGINT[0] <= value <= _BIGINT[1] else None


def _int32(value: Any) -> int | None:
    return value if type(value) is int and _INTEGER[0] <= value <= _INTEGER[1] else None


def text(value: str) -> str:
    """``value`` as a VARCHAR can hold it: DuckDB strings are UTF-8, so a lone surrogate (which JSON can
    carry) becomes its escape, ``\\ud800``."""
    return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode("utf-8")


def _str(value: Any) -> str | None:
    return text(value) if type(value) is str else None


def _without_lone_surrogates(value: Any) -> Any:
    if type(value) is str:
        return text(value)
    if isinstance(value, dict):
        return {text(k) if type(k) is str else k: _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


def json_text(value: Any) -> str:
    """``value`` as JSON text DuckDB's JSON type accepts. Raises for a value that is not JSON data (a
    bytes key). DuckDB refuses ``\\ud800`` escapes without their pair, so a lone surrogate is written
    as the six characters of its escape instead."""
    dumped = json.dumps(value, separators=(",", ":"), default=str)
    if "\\ud" in dumped:  # surrogates, paired or not (rare: check the value, and only then)
        dumped = json.dumps(_without_lone_surrogates(value), separators=(",", ":"), default=str)
    return dumped


def _json(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _json_text(value: Any) -> str | None:
    """Variable values are JSON documents already (Zeebe's VariableRecord.value)."""
    if type(value) is not str:
        return _json(value)
    if value.isascii() and "\\ud" not in value:
        return value
    try:
        return json_text(json.loads(value))
    except ValueError:
        return text(value)


def _int_list(value: Any) -> list[int] | None:
    return [item for item in value if _int(item) is not None] if isinstance(value, list) else None


def _str_list(value: Any) -> list[str] | None:
    return [text(item) for item in value if type(item) is str] if isinstance(value, list) else None


def _bool(value: Any) -> bool | None:
    return value if type(value) is bool else None


def _epoch_ms(value: Any) -> int | None:
    """A TIMESTAMP column's value from epoch milliseconds; Zeebe's ``-1`` ("not set") and 0 are NULL."""
    number = _int(value)
    return number if number is not None and number > 0 else None


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _iso_date_ms(value: Any) -> int | None:
    """Epoch milliseconds of an ISO 8601 date-time string (a user task's ``dueDate``), in UTC; one
    without an offset is read as UTC, ``""`` (not set) and anything unparsable are NULL. A Java
    ``ZonedDateTime`` region after the offset (``+01:00[Europe/Berlin]``) is dropped: the offset says it."""
    if type(value) is not str or not value:
        return None
    if value.endswith("]") and "[" in value:
        value = value[: value.index("[")]
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return (moment - _EPOCH) // datetime.timedelta(milliseconds=1)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "BIGINT": _int, "INTEGER": _int32, "VARCHAR": _str, "JSON": _json_text, "BIGINT[]": _int_list,
    "VARCHAR[]": _str_list, "BOOLEAN": _bool, "TIMESTAMP": _epoch_ms,
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    field: str
    """The value field it comes from (camelCase, as in Zeebe's JSON export)."""
    convert: Callable[[Any], Any]


def column(name: str, sql_type: str, field: str, convert: Callable[[Any], Any] | None = None) -> Column:
    return Column(name, sql_type, field, convert or _CONVERT[sql_type])


@dataclass(frozen=True)
class EventTable:
    name: str
    value_type: ValueType
    key_column: str
    columns: tuple[Column, ...]
    since: int = 1
    """The schema version that added the table: opening an older file fills it from ``records``."""


EVENT_TABLES: tuple[EventTable, ...] = (
    EventTable("process_events", ValueType.PROCESS, "process_definition_key", (
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("version", "INTEGER", "version"),
        column("resource_name", "VARCHAR", "resourceName"),
        column("checksum", "VARCHAR", "checksum"),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("process_instance_events", ValueType.PROCESS_INSTANCE, "element_instance_key", (
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("version", "INTEGER", "version"),
        column("element_id", "VARCHAR", "elementId"),
        column("bpmn_element_type", "VARCHAR", "bpmnElementType"),
        column("bpmn_event_type", "VARCHAR", "bpmnEventType"),
        column("flow_scope_key", "BIGINT", "flowScopeKey"),
        column("parent_process_instance_key", "BIGINT", "parentProcessInstanceKey"),
        column("parent_element_instance_key", "BIGINT", "parentElementInstanceKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("job_events", ValueType.JOB, "job_key", (
        column("job_type", "VARCHAR", "type"),
        column("worker", "VARCHAR", "worker"),
        column("retries", "INTEGER", "retries"),
        column("deadline", "BIGINT", "deadline"),
        column("error_message", "VARCHAR", "errorMessage"),
        column("error_code", "VARCHAR", "errorCode"),
        column("element_id", "VARCHAR", "elementId"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("job_batch_events", ValueType.JOB_BATCH, "job_batch_key", (
        column("job_type", "VARCHAR", "type"),
        column("worker", "VARCHAR", "worker"),
        column("timeout", "BIGINT", "timeout"),
        column("job_keys", "BIGINT[]", "jobKeys"),
    )),
    EventTable("incident_events", ValueType.INCIDENT, "incident_key", (
        column("error_type", "VARCHAR", "errorType"),
        column("error_message", "VARCHAR", "errorMessage"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("element_id", "VARCHAR", "elementId"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("job_key", "BIGINT", "jobKey"),
        column("variable_scope_key", "BIGINT", "variableScopeKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("variable_events", ValueType.VARIABLE, "variable_key", (
        column("name", "VARCHAR", "name"),
        column("value", "JSON", "value"),
        column("scope_key", "BIGINT", "scopeKey"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("message_events", ValueType.MESSAGE, "message_key", (
        column("name", "VARCHAR", "name"),
        column("correlation_key", "VARCHAR", "correlationKey"),
        column("message_id", "VARCHAR", "messageId"),
        column("time_to_live", "BIGINT", "timeToLive"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    )),
    EventTable("timer_events", ValueType.TIMER, "timer_key", (
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("due_date", "TIMESTAMP", "dueDate"),
        column("repetitions", "INTEGER", "repetitions"),
        column("target_element_id", "VARCHAR", "targetElementId"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("message_subscription_events", ValueType.MESSAGE_SUBSCRIPTION, "message_subscription_key", (
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("element_id", "VARCHAR", "elementId"),
        column("message_name", "VARCHAR", "messageName"),
        column("correlation_key", "VARCHAR", "correlationKey"),
        column("message_key", "BIGINT", "messageKey"),
        column("interrupting", "BOOLEAN", "interrupting"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("process_message_subscription_events", ValueType.PROCESS_MESSAGE_SUBSCRIPTION,
               "process_message_subscription_key", (
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("element_id", "VARCHAR", "elementId"),
        column("message_name", "VARCHAR", "messageName"),
        column("correlation_key", "VARCHAR", "correlationKey"),
        column("message_key", "BIGINT", "messageKey"),
        column("interrupting", "BOOLEAN", "interrupting"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("message_start_event_subscription_events", ValueType.MESSAGE_START_EVENT_SUBSCRIPTION,
               "message_start_event_subscription_key", (
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("start_event_id", "VARCHAR", "startEventId"),
        column("message_name", "VARCHAR", "messageName"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("correlation_key", "VARCHAR", "correlationKey"),
        column("message_key", "BIGINT", "messageKey"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("signal_subscription_events", ValueType.SIGNAL_SUBSCRIPTION, "signal_subscription_key", (
        column("signal_name", "VARCHAR", "signalName"),
        column("catch_event_id", "VARCHAR", "catchEventId"),
        column("catch_event_instance_key", "BIGINT", "catchEventInstanceKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("signal_events", ValueType.SIGNAL, "signal_key", (
        column("signal_name", "VARCHAR", "signalName"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("escalation_events", ValueType.ESCALATION, "escalation_key", (
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("escalation_code", "VARCHAR", "escalationCode"),
        column("throw_element_id", "VARCHAR", "throwElementId"),
        column("catch_element_id", "VARCHAR", "catchElementId"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("user_task_events", ValueType.USER_TASK, "user_task_key", (
        column("assignee", "VARCHAR", "assignee"),
        column("candidate_groups_list", "VARCHAR[]", "candidateGroupsList"),
        column("candidate_users_list", "VARCHAR[]", "candidateUsersList"),
        column("due_date", "TIMESTAMP", "dueDate", _iso_date_ms),
        column("follow_up_date", "TIMESTAMP", "followUpDate", _iso_date_ms),
        column("form_key", "BIGINT", "formKey"),
        column("external_form_reference", "VARCHAR", "externalFormReference"),
        column("element_id", "VARCHAR", "elementId"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("process_definition_version", "INTEGER", "processDefinitionVersion"),
        column("variables", "JSON", "variables", _json),
        column("custom_headers", "JSON", "customHeaders", _json),
        column("changed_attributes", "VARCHAR[]", "changedAttributes"),
        column("action", "VARCHAR", "action"),
        column("priority", "INTEGER", "priority"),
        column("creation_timestamp", "TIMESTAMP", "creationTimestamp"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("compensation_subscription_events", ValueType.COMPENSATION_SUBSCRIPTION,
               "compensation_subscription_key", (
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("compensable_activity_id", "VARCHAR", "compensableActivityId"),
        column("compensable_activity_scope_id", "VARCHAR", "compensableActivityScopeId"),
        column("compensable_activity_instance_key", "BIGINT", "compensableActivityInstanceKey"),
        column("compensable_activity_scope_key", "BIGINT", "compensableActivityScopeKey"),
        column("throw_event_id", "VARCHAR", "throwEventId"),
        column("throw_event_instance_key", "BIGINT", "throwEventInstanceKey"),
        column("compensation_handler_id", "VARCHAR", "compensationHandlerId"),
        column("compensation_handler_instance_key", "BIGINT", "compensationHandlerInstanceKey"),
        column("variables", "JSON", "variables", _json),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=2),
    EventTable("error_events", ValueType.ERROR, "error_key", (
        column("exception_message", "VARCHAR", "exceptionMessage"),
        column("stacktrace", "VARCHAR", "stacktrace"),
        column("error_event_position", "BIGINT", "errorEventPosition"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
    ), since=2),
    EventTable("form_events", ValueType.FORM, "form_key", (
        column("form_id", "VARCHAR", "formId"),
        column("version", "INTEGER", "version"),
        column("version_tag", "VARCHAR", "versionTag"),
        column("resource_name", "VARCHAR", "resourceName"),
        column("checksum", "VARCHAR", "checksum"),
        column("deployment_key", "BIGINT", "deploymentKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=3),
    EventTable("decision_requirements_events", ValueType.DECISION_REQUIREMENTS, "decision_requirements_key", (
        column("decision_requirements_id", "VARCHAR", "decisionRequirementsId"),
        column("decision_requirements_name", "VARCHAR", "decisionRequirementsName"),
        column("version", "INTEGER", "decisionRequirementsVersion"),
        column("namespace", "VARCHAR", "namespace"),
        column("resource_name", "VARCHAR", "resourceName"),
        column("checksum", "VARCHAR", "checksum"),
        column("deployment_key", "BIGINT", "deploymentKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=4),
    EventTable("decision_events", ValueType.DECISION, "decision_key", (
        column("decision_id", "VARCHAR", "decisionId"),
        column("decision_name", "VARCHAR", "decisionName"),
        column("version", "INTEGER", "version"),
        column("version_tag", "VARCHAR", "versionTag"),
        column("decision_requirements_id", "VARCHAR", "decisionRequirementsId"),
        column("decision_requirements_key", "BIGINT", "decisionRequirementsKey"),
        column("deployment_key", "BIGINT", "deploymentKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=4),
    EventTable("decision_evaluation_events", ValueType.DECISION_EVALUATION, "decision_evaluation_key", (
        column("decision_key", "BIGINT", "decisionKey"),
        column("decision_id", "VARCHAR", "decisionId"),
        column("decision_name", "VARCHAR", "decisionName"),
        column("decision_version", "INTEGER", "decisionVersion"),
        column("decision_requirements_id", "VARCHAR", "decisionRequirementsId"),
        column("decision_requirements_key", "BIGINT", "decisionRequirementsKey"),
        column("decision_output", "JSON", "decisionOutput"),
        column("evaluated_decisions", "JSON", "evaluatedDecisions", _json),
        column("failed_decision_id", "VARCHAR", "failedDecisionId"),
        column("evaluation_failure_message", "VARCHAR", "evaluationFailureMessage"),
        column("bpmn_process_id", "VARCHAR", "bpmnProcessId"),
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("process_instance_key", "BIGINT", "processInstanceKey"),
        column("element_id", "VARCHAR", "elementId"),
        column("element_instance_key", "BIGINT", "elementInstanceKey"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=4),
    EventTable("runtime_instruction_events", ValueType.RUNTIME_INSTRUCTION, "process_instance_key", (
        column("process_definition_key", "BIGINT", "processDefinitionKey"),
        column("element_id", "VARCHAR", "elementId"),
        column("tenant_id", "VARCHAR", "tenantId"),
    ), since=5),
)

EVENT_TABLES_BY_VALUE_TYPE = {table.value_type: table for table in EVENT_TABLES}

RAW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("partition_id", "INTEGER"), ("position", "BIGINT"), ("source_position", "BIGINT"), ("key", "BIGINT"),
    ("timestamp", "BIGINT"), ("record_type", "VARCHAR"), ("value_type", "VARCHAR"), ("intent", "VARCHAR"),
    ("rejection_type", "VARCHAR"), ("rejection_reason", "VARCHAR"), ("value", "VARCHAR"),
)


def _event_table_ddl(table: EventTable) -> str:
    columns = ",\n  ".join(f"{col.name} {col.sql_type}" for col in table.columns)
    return f"""CREATE TABLE IF NOT EXISTS {table.name} (
  partition_id INTEGER NOT NULL,
  position BIGINT NOT NULL,
  timestamp TIMESTAMP NOT NULL,
  intent VARCHAR NOT NULL,
  {table.key_column} BIGINT NOT NULL,
  {columns},
  PRIMARY KEY (partition_id, position)
)"""


TABLES_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS records (
  partition_id INTEGER NOT NULL,
  position BIGINT NOT NULL,
  source_position BIGINT,
  key BIGINT,
  timestamp TIMESTAMP NOT NULL,
  record_type VARCHAR NOT NULL,
  value_type VARCHAR NOT NULL,
  intent VARCHAR NOT NULL,
  rejection_type VARCHAR,
  rejection_reason VARCHAR,
  value JSON,
  PRIMARY KEY (partition_id, position)
)""",
    """CREATE TABLE IF NOT EXISTS exporter_positions (
  partition_id INTEGER PRIMARY KEY,
  position BIGINT NOT NULL,
  exported_at TIMESTAMP NOT NULL
)""",
    "CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL)",
    *(_event_table_ddl(table) for table in EVENT_TABLES),
)

VIEWS_DDL: tuple[str, ...] = (
    """CREATE OR REPLACE VIEW process_definitions AS
SELECT process_definition_key, bpmn_process_id, version, resource_name, tenant_id, timestamp AS deployed_at
FROM process_events WHERE intent = 'CREATED'
QUALIFY row_number() OVER (PARTITION BY process_definition_key ORDER BY timestamp, partition_id) = 1""",
    """CREATE OR REPLACE VIEW forms AS
SELECT form_key, form_id, version, version_tag, resource_name, checksum, deployment_key, tenant_id,
       timestamp AS deployed_at
FROM form_events WHERE intent = 'CREATED'
QUALIFY row_number() OVER (PARTITION BY form_key ORDER BY timestamp, partition_id) = 1""",
    """CREATE OR REPLACE VIEW decisions AS
SELECT d.decision_key, d.decision_id, d.decision_name, d.version, d.version_tag, d.decision_requirements_id,
       d.decision_requirements_key, r.resource_name, d.deployment_key, d.tenant_id, d.timestamp AS deployed_at
FROM decision_events d
LEFT JOIN (SELECT DISTINCT decision_requirements_key, resource_name FROM decision_requirements_events) r
  USING (decision_requirements_key)
WHERE d.intent = 'CREATED'
QUALIFY row_number() OVER (PARTITION BY d.decision_key ORDER BY d.timestamp, d.partition_id) = 1""",
    """CREATE OR REPLACE VIEW decision_evaluations AS
SELECT decision_evaluation_key, decision_key, decision_id, decision_version, intent = 'EVALUATED' AS succeeded,
       decision_output, evaluated_decisions, failed_decision_id, evaluation_failure_message, process_instance_key,
       element_id, element_instance_key, tenant_id, timestamp AS evaluated_at
FROM decision_evaluation_events
QUALIFY row_number() OVER (PARTITION BY partition_id, decision_evaluation_key ORDER BY position) = 1""",
    """CREATE OR REPLACE VIEW element_instances AS
SELECT
  element_instance_key,
  any_value(partition_id) AS partition_id,
  any_value(process_instance_key) AS process_instance_key,
  any_value(process_definition_key) AS process_definition_key,
  any_value(bpmn_process_id) AS bpmn_process_id,
  any_value(version) AS version,
  any_value(element_id) AS element_id,
  any_value(bpmn_element_type) AS bpmn_element_type,
  any_value(flow_scope_key) AS flow_scope_key,
  any_value(parent_process_instance_key) AS parent_process_instance_key,
  any_value(tenant_id) AS tenant_id,
  coalesce(min(timestamp) FILTER (WHERE intent = 'ELEMENT_ACTIVATING'), min(timestamp)) AS start_time,
  max(timestamp) FILTER (WHERE intent IN ('ELEMENT_COMPLETED', 'ELEMENT_TERMINATED')) AS end_time,
  CASE
    WHEN bool_or(intent = 'ELEMENT_COMPLETED') THEN 'COMPLETED'
    WHEN bool_or(intent = 'ELEMENT_TERMINATED') THEN 'TERMINATED'
    ELSE 'ACTIVE'
  END AS state,
  end_time - start_time AS duration,
  epoch_ms(end_time) - epoch_ms(start_time) AS duration_ms
FROM process_instance_events
WHERE intent IN ('ELEMENT_ACTIVATING', 'ELEMENT_ACTIVATED', 'ELEMENT_COMPLETING', 'ELEMENT_COMPLETED',
                 'ELEMENT_TERMINATING', 'ELEMENT_TERMINATED')
GROUP BY element_instance_key""",
    """CREATE OR REPLACE VIEW process_instances AS
SELECT
  element_instance_key AS process_instance_key, partition_id, process_definition_key, bpmn_process_id, version,
  parent_process_instance_key, tenant_id, start_time, end_time, state, duration, duration_ms
FROM element_instances WHERE bpmn_element_type = 'PROCESS'""",
    """CREATE OR REPLACE VIEW job_activations AS
SELECT partition_id, position, timestamp, unnest(job_keys) AS job_key, job_type, worker, timeout
FROM job_batch_events WHERE intent = 'ACTIVATED'""",
    """CREATE OR REPLACE VIEW jobs AS
WITH events AS (
  SELECT
    job_key,
    any_value(partition_id) AS partition_id,
    any_value(job_type) AS job_type,
    any_value(process_instance_key) AS process_instance_key,
    any_value(bpmn_process_id) AS bpmn_process_id,
    any_value(element_id) AS element_id,
    any_value(element_instance_key) AS element_instance_key,
    min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
    max(timestamp) FILTER (WHERE intent = 'COMPLETED') AS completed_at,
    max(timestamp) FILTER (WHERE intent = 'FAILED') AS last_failed_at,
    count(*) FILTER (WHERE intent = 'FAILED') AS failures,
    arg_max(retries, position) AS retries,
    arg_max(error_message, position) FILTER (WHERE error_message <> '') AS last_error_message,
    arg_max(worker, position) FILTER (WHERE worker <> '') AS event_worker,
    arg_max(intent, position) AS last_intent,
    max(position) AS last_position
  FROM job_events GROUP BY job_key
), activations AS (
  SELECT job_key, count(*) AS activations, max(timestamp) AS activated_at, arg_max(worker, position) AS worker,
         max(position) AS last_position
  FROM job_activations GROUP BY job_key
)
SELECT
  e.job_key, e.partition_id, e.job_type, e.process_instance_key, e.bpmn_process_id, e.element_id,
  e.element_instance_key, coalesce(a.worker, e.event_worker) AS worker,
  CASE WHEN a.last_position > e.last_position THEN 'ACTIVATED' ELSE e.last_intent END AS state,
  e.retries, e.failures, coalesce(a.activations, 0) AS activations, e.last_error_message,
  e.created_at, a.activated_at, e.completed_at, e.last_failed_at,
  e.completed_at - e.created_at AS duration,
  epoch_ms(e.completed_at) - epoch_ms(e.created_at) AS duration_ms
FROM events e LEFT JOIN activations a USING (job_key)""",
    """CREATE OR REPLACE VIEW incidents AS
SELECT
  incident_key,
  any_value(partition_id) AS partition_id,
  any_value(error_type) AS error_type,
  arg_min(error_message, position) AS error_message,
  any_value(process_instance_key) AS process_instance_key,
  any_value(bpmn_process_id) AS bpmn_process_id,
  any_value(element_id) AS element_id,
  any_value(element_instance_key) AS element_instance_key,
  any_value(job_key) AS job_key,
  min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
  max(timestamp) FILTER (WHERE intent = 'RESOLVED') AS resolved_at,
  CASE WHEN bool_or(intent = 'RESOLVED') THEN 'RESOLVED' ELSE 'ACTIVE' END AS state
FROM incident_events GROUP BY incident_key""",
    """CREATE OR REPLACE VIEW variable_history AS
SELECT partition_id, position, timestamp, intent, variable_key, name, value, scope_key, process_instance_key,
       bpmn_process_id, tenant_id
FROM variable_events""",
    """CREATE OR REPLACE VIEW variables AS
SELECT
  variable_key,
  any_value(partition_id) AS partition_id,
  any_value(name) AS name,
  arg_max(value, position) AS value,
  any_value(scope_key) AS scope_key,
  any_value(process_instance_key) AS process_instance_key,
  any_value(bpmn_process_id) AS bpmn_process_id,
  min(timestamp) AS created_at,
  max(timestamp) AS updated_at,
  count(*) AS versions
FROM variable_events GROUP BY variable_key""",
    """CREATE OR REPLACE VIEW messages AS
SELECT
  message_key,
  any_value(partition_id) AS partition_id,
  any_value(name) AS name,
  any_value(correlation_key) AS correlation_key,
  any_value(message_id) AS message_id,
  any_value(time_to_live) AS time_to_live_ms,
  any_value(variables) AS variables,
  min(timestamp) FILTER (WHERE intent = 'PUBLISHED') AS published_at,
  max(timestamp) FILTER (WHERE intent = 'EXPIRED') AS expired_at,
  CASE WHEN bool_or(intent = 'EXPIRED') THEN 'EXPIRED' ELSE 'PUBLISHED' END AS state
FROM message_events GROUP BY message_key""",

    # -- schema version 2: the BPMN event value types ---------------------------------------------------
    # State views take the entity's state from its last lifecycle event (by position); events that do
    # not change the state (MIGRATED, a REJECTED correlation) are left out of that choice.
    """CREATE OR REPLACE VIEW timers AS
SELECT
  t.timer_key,
  any_value(t.partition_id) AS partition_id,
  any_value(t.process_instance_key) AS process_instance_key,
  any_value(t.process_definition_key) AS process_definition_key,
  any_value(d.bpmn_process_id) AS bpmn_process_id,
  any_value(t.element_instance_key) AS element_instance_key,
  any_value(t.target_element_id) AS target_element_id,
  arg_max(t.due_date, t.position) AS due_date,
  arg_max(t.repetitions, t.position) AS repetitions,
  any_value(t.tenant_id) AS tenant_id,
  min(t.timestamp) FILTER (WHERE t.intent = 'CREATED') AS created_at,
  max(t.timestamp) FILTER (WHERE t.intent = 'TRIGGERED') AS triggered_at,
  max(t.timestamp) FILTER (WHERE t.intent = 'CANCELED') AS canceled_at,
  coalesce(arg_max(t.intent, t.position) FILTER (WHERE t.intent IN ('CREATED', 'TRIGGERED', 'CANCELED')),
           'CREATED') AS state
FROM timer_events t LEFT JOIN process_definitions d USING (process_definition_key)
GROUP BY t.timer_key""",
    """CREATE OR REPLACE VIEW message_subscriptions AS
WITH subscriptions AS (
  SELECT
    message_subscription_key,
    any_value(partition_id) AS partition_id,
    any_value(process_instance_key) AS process_instance_key,
    any_value(element_instance_key) AS element_instance_key,
    any_value(process_definition_key) AS process_definition_key,
    any_value(bpmn_process_id) AS bpmn_process_id,
    max(nullif(element_id, '')) AS element_id,
    any_value(message_name) AS message_name,
    any_value(correlation_key) AS correlation_key,
    bool_or(interrupting) AS interrupting,
    any_value(tenant_id) AS tenant_id,
    min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
    count(*) FILTER (WHERE intent = 'CORRELATED') AS correlations,
    arg_max(message_key, position) FILTER (WHERE intent = 'CORRELATED') AS last_message_key,
    max(timestamp) FILTER (WHERE intent = 'CORRELATED') AS last_correlated_at,
    max(timestamp) FILTER (WHERE intent = 'DELETED') AS deleted_at,
    arg_max(CASE intent WHEN 'REJECTED' THEN 'CREATED' ELSE intent END, position)
      FILTER (WHERE intent IN ('CREATED', 'CORRELATING', 'CORRELATED', 'REJECTED', 'DELETED')) AS state
  FROM message_subscription_events GROUP BY message_subscription_key
)
SELECT *, coalesce(state <> 'DELETED' AND NOT (state = 'CORRELATED' AND interrupting), true) AS is_open
FROM subscriptions""",
    """CREATE OR REPLACE VIEW process_message_subscriptions AS
WITH subscriptions AS (
  SELECT
    process_message_subscription_key,
    any_value(partition_id) AS partition_id,
    any_value(process_instance_key) AS process_instance_key,
    any_value(element_instance_key) AS element_instance_key,
    any_value(process_definition_key) AS process_definition_key,
    any_value(bpmn_process_id) AS bpmn_process_id,
    any_value(element_id) AS element_id,
    any_value(message_name) AS message_name,
    any_value(correlation_key) AS correlation_key,
    bool_or(interrupting) AS interrupting,
    any_value(tenant_id) AS tenant_id,
    min(timestamp) AS created_at,
    count(*) FILTER (WHERE intent = 'CORRELATED') AS correlations,
    max(timestamp) FILTER (WHERE intent = 'CORRELATED') AS last_correlated_at,
    max(timestamp) FILTER (WHERE intent = 'DELETED') AS deleted_at,
    arg_max(intent, position)
      FILTER (WHERE intent IN ('CREATING', 'CREATED', 'CORRELATED', 'DELETING', 'DELETED')) AS state
  FROM process_message_subscription_events GROUP BY process_message_subscription_key
)
SELECT *,
  coalesce(state NOT IN ('DELETING', 'DELETED') AND NOT (state = 'CORRELATED' AND interrupting), true) AS is_open
FROM subscriptions""",
    """CREATE OR REPLACE VIEW message_start_event_subscriptions AS
SELECT
  message_start_event_subscription_key,
  any_value(partition_id) AS partition_id,
  any_value(process_definition_key) AS process_definition_key,
  any_value(bpmn_process_id) AS bpmn_process_id,
  any_value(start_event_id) AS start_event_id,
  any_value(message_name) AS message_name,
  any_value(tenant_id) AS tenant_id,
  min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
  count(*) FILTER (WHERE intent = 'CORRELATED') AS correlations,
  max(timestamp) FILTER (WHERE intent = 'CORRELATED') AS last_correlated_at,
  max(timestamp) FILTER (WHERE intent = 'DELETED') AS deleted_at,
  CASE WHEN bool_or(intent = 'DELETED') THEN 'DELETED' ELSE 'CREATED' END AS state
FROM message_start_event_subscription_events GROUP BY message_start_event_subscription_key""",
    """CREATE OR REPLACE VIEW signal_subscriptions AS
SELECT
  signal_subscription_key,
  any_value(partition_id) AS partition_id,
  any_value(signal_name) AS signal_name,
  any_value(catch_event_id) AS catch_event_id,
  any_value(catch_event_instance_key) AS catch_event_instance_key,
  any_value(bpmn_process_id) AS bpmn_process_id,
  any_value(process_definition_key) AS process_definition_key,
  any_value(tenant_id) AS tenant_id,
  min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
  max(timestamp) FILTER (WHERE intent = 'DELETED') AS deleted_at,
  min(position) FILTER (WHERE intent = 'CREATED') AS created_position,
  max(position) FILTER (WHERE intent = 'DELETED') AS deleted_position,
  CASE WHEN bool_or(intent = 'DELETED') THEN 'DELETED' ELSE 'CREATED' END AS state
FROM signal_subscription_events GROUP BY signal_subscription_key""",
    # A broadcast triggers every subscription to its name that is open on the partition when the
    # BROADCASTED event is written; positions (not timestamps, which one batch shares) say which.
    """CREATE OR REPLACE VIEW signals AS
SELECT
  s.signal_key, s.partition_id, s.position, s.signal_name, s.variables, s.tenant_id, s.timestamp AS broadcast_at,
  (SELECT count(*) FROM signal_subscriptions sub
   WHERE sub.partition_id = s.partition_id AND sub.signal_name = s.signal_name
     AND sub.tenant_id IS NOT DISTINCT FROM s.tenant_id
     AND sub.created_position < s.position
     AND (sub.deleted_position IS NULL OR sub.deleted_position > s.position)) AS subscriptions_reached
FROM signal_events s WHERE s.intent = 'BROADCASTED'""",
    """CREATE OR REPLACE VIEW user_tasks AS
WITH settled AS (
  -- events after which the task's attributes are what they say (not a proposal a listener may deny)
  SELECT * FROM user_task_events
  WHERE intent IN ('CREATED', 'ASSIGNED', 'UPDATED', 'MIGRATED', 'COMPLETED', 'CANCELED')
), attributes AS (
  SELECT
    user_task_key,
    arg_max(nullif(assignee, ''), position) AS assignee,
    arg_max(candidate_groups_list, position) AS candidate_groups_list,
    arg_max(candidate_users_list, position) AS candidate_users_list,
    arg_max(due_date, position) AS due_date,
    arg_max(follow_up_date, position) AS follow_up_date,
    arg_max(priority, position) AS priority
  FROM settled GROUP BY user_task_key
), lifecycle AS (
  SELECT
    user_task_key,
    any_value(partition_id) AS partition_id,
    any_value(element_id) AS element_id,
    any_value(element_instance_key) AS element_instance_key,
    any_value(process_instance_key) AS process_instance_key,
    any_value(bpmn_process_id) AS bpmn_process_id,
    any_value(process_definition_key) AS process_definition_key,
    any_value(process_definition_version) AS process_definition_version,
    any_value(form_key) AS form_key,
    any_value(nullif(external_form_reference, '')) AS external_form_reference,
    any_value(tenant_id) AS tenant_id,
    coalesce(min(timestamp) FILTER (WHERE intent = 'CREATED'), min(timestamp)) AS created_at,
    max(timestamp) FILTER (WHERE intent = 'ASSIGNED') AS assigned_at,
    max(timestamp) FILTER (WHERE intent = 'COMPLETED') AS completed_at,
    max(timestamp) FILTER (WHERE intent = 'CANCELED') AS canceled_at,
    arg_max(CASE WHEN intent IN ('ASSIGNED', 'UPDATED', 'MIGRATED', 'COMPLETION_DENIED', 'ASSIGNMENT_DENIED',
                                 'UPDATE_DENIED') THEN 'CREATED' ELSE intent END, position)
      FILTER (WHERE intent <> 'CORRECTED') AS state
  FROM user_task_events GROUP BY user_task_key
)
SELECT
  l.user_task_key, l.partition_id, l.element_id, l.element_instance_key, l.process_instance_key, l.bpmn_process_id,
  l.process_definition_key, l.process_definition_version, l.state, a.assignee, a.candidate_groups_list,
  a.candidate_users_list, a.due_date, a.follow_up_date, a.priority, l.form_key, l.external_form_reference,
  l.tenant_id, l.created_at, l.assigned_at, l.completed_at, l.canceled_at,
  coalesce(l.completed_at, l.canceled_at) AS end_time,
  epoch_ms(coalesce(l.completed_at, l.canceled_at)) - epoch_ms(l.created_at) AS duration_ms
FROM lifecycle l LEFT JOIN attributes a USING (user_task_key)""",
    """CREATE OR REPLACE VIEW compensation_subscriptions AS
SELECT
  compensation_subscription_key,
  any_value(partition_id) AS partition_id,
  any_value(process_instance_key) AS process_instance_key,
  any_value(process_definition_key) AS process_definition_key,
  any_value(compensable_activity_id) AS compensable_activity_id,
  any_value(compensable_activity_instance_key) AS compensable_activity_instance_key,
  arg_max(nullif(compensation_handler_id, ''), position) AS compensation_handler_id,
  arg_max(nullif(throw_event_id, ''), position) AS throw_event_id,
  any_value(tenant_id) AS tenant_id,
  min(timestamp) FILTER (WHERE intent = 'CREATED') AS created_at,
  max(timestamp) FILTER (WHERE intent = 'TRIGGERED') AS triggered_at,
  max(timestamp) FILTER (WHERE intent = 'COMPLETED') AS completed_at,
  max(timestamp) FILTER (WHERE intent = 'DELETED') AS deleted_at,
  arg_max(intent, position) FILTER (WHERE intent <> 'MIGRATED') AS state
FROM compensation_subscription_events GROUP BY compensation_subscription_key""",
)


def _unnest_select(columns: list[tuple[str, str]], timestamp_column: str = "timestamp") -> str:
    """One ``unnest($n)`` per column list; epoch milliseconds (the record timestamp, TIMESTAMP value
    columns) arrive as BIGINTs and become TIMESTAMPs here."""
    parts = []
    for index, (name, sql_type) in enumerate(columns, start=1):
        cast = {"JSON": "VARCHAR", "TIMESTAMP": "BIGINT"}.get(sql_type, sql_type)
        expression = f"unnest(${index}::{cast}[])"
        if name == timestamp_column or sql_type == "TIMESTAMP":
            expression = f"epoch_ms({expression})"
        parts.append(expression)
    return "SELECT " + ", ".join(parts)


RAW_INSERT = f"INSERT OR IGNORE INTO records {_unnest_select(list(RAW_COLUMNS))}"


def event_table_columns(table: EventTable) -> list[tuple[str, str]]:
    return [("partition_id", "INTEGER"), ("position", "BIGINT"), ("timestamp", "BIGINT"), ("intent", "VARCHAR"),
            (table.key_column, "BIGINT"), *((col.name, col.sql_type) for col in table.columns)]


def event_table_insert(table: EventTable) -> str:
    return f"INSERT OR IGNORE INTO {table.name} {_unnest_select(event_table_columns(table))}"
