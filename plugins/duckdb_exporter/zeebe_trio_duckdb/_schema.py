"""The export schema: the raw record stream, typed per-value-type event tables and analyst views.

Every table is keyed by (partition_id, position) so re-exporting a record is a no-op. Typed event
tables hold events only (``record_type = 'EVENT'``), with the value's fields as columns, extracted
while writing so that views and queries never parse JSON. Times are UTC ``TIMESTAMP``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import ValueType

SCHEMA_VERSION = 1


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


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "BIGINT": _int, "INTEGER": _int32, "VARCHAR": _str, "JSON": _json_text, "BIGINT[]": _int_list,
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
)


def _unnest_select(columns: list[tuple[str, str]], timestamp_column: str = "timestamp") -> str:
    parts = []
    for index, (name, sql_type) in enumerate(columns, start=1):
        cast = "VARCHAR" if sql_type == "JSON" else sql_type
        expression = f"unnest(${index}::{cast}[])"
        if name == timestamp_column:
            expression = f"epoch_ms({expression})"
        parts.append(expression)
    return "SELECT " + ", ".join(parts)


RAW_INSERT = f"INSERT OR IGNORE INTO records {_unnest_select(list(RAW_COLUMNS))}"


def event_table_columns(table: EventTable) -> list[tuple[str, str]]:
    return [("partition_id", "INTEGER"), ("position", "BIGINT"), ("timestamp", "BIGINT"), ("intent", "VARCHAR"),
            (table.key_column, "BIGINT"), *((col.name, col.sql_type) for col in table.columns)]


def event_table_insert(table: EventTable) -> str:
    return f"INSERT OR IGNORE INTO {table.name} {_unnest_select(event_table_columns(table))}"
