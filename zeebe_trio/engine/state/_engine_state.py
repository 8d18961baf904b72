"""The engine's state: typed access to the partition's column families.

Processors see it through ``EngineStateView`` (reads only); event appliers (``engine.appliers``) get
the ``EngineState`` itself and are the only callers of its mutating methods, so there is exactly one
way state changes, and replay uses the very same appliers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from zeebe_trio.protocol import encode_key
from zeebe_trio.state import ColumnFamily, StateStore, Transaction

from ._distribution import DISTRIBUTION_COLUMN_FAMILIES
from ._element_instance import ElementInstance
from ._multi_instance import MultiInstanceBodyState
from ._user_task import UserTask
from ._view import ProcessLookup

COLUMN_FAMILIES = [
    "meta",  # ("lastProcessedPosition",) / ("key",) / ("lastWrittenPosition",)
    "processes",  # (processDefinitionKey,) -> process record (incl. resource bytes)
    "process_versions",  # (bpmnProcessId,) -> latest version
    "process_by_version",  # (bpmnProcessId, version) -> processDefinitionKey
    "process_digests",  # (bpmnProcessId,) -> checksum of the latest version's resource
    "element_instances",  # (key,) -> {"state", "record", "children", "activeFlows", "jobKey", "incidentKey"}
    "element_children",  # (parentKey, childKey) -> None
    "taken_flows",  # (flowScopeKey, gatewayId, flowId) -> count (parallel joins)
    "variables",  # (scopeKey, name) -> JSON text
    "scope_parents",  # no longer written (a scope's parent is its element instance's flow scope); kept for old snapshots
    "pending_variables",  # (elementInstanceKey,) -> dict from a job completion, consumed at COMPLETE_ELEMENT
    "jobs",  # (jobKey,) -> {"state", "record"}
    "jobs_activatable",  # (type, jobKey) -> None
    "job_deadlines",  # (deadline, jobKey) -> None
    "job_backoffs",  # (recurTime, jobKey) -> None
    "incidents",  # (incidentKey,) -> {"record"}
    "element_incidents",  # (elementInstanceKey, incidentKey) -> None
    "awaiting_results",  # (processInstanceKey,) -> {"requestId", "requestStreamId", "fetchVariables"}
    "messages",  # (messageKey,) -> message record
    "message_ids",  # (name, correlationKey, messageId) -> messageKey
    "message_deadlines",  # (deadline, messageKey) -> None
    "timers",  # (timerKey,) -> TIMER record value
    "timer_due_dates",  # (dueDate, timerKey) -> None
    "element_timers",  # (elementInstanceKey or -processDefinitionKey for start events, timerKey) -> None
    "event_triggers",  # (eventScopeKey, eventKey) -> {"elementId", "variables"}: events not yet consumed
    "interrupted_scopes",  # (eventScopeKey,) -> elementId of the interrupting event that triggered
    "exporter_positions",  # (exporterId,) -> position
    "process_by_deployment",  # (bpmnProcessId, deploymentKey) -> processDefinitionKey (call activities)
    "process_by_version_tag",  # (bpmnProcessId, versionTag) -> processDefinitionKey of its latest version
    "called_child_instances",  # (callActivityKey,) -> the child process instance key it created
    "user_tasks",  # (userTaskKey,) -> {"state": lifecycle state, "record": USER_TASK record value}
    "signal_subscriptions",  # (tenantId, signalName, subscriptionKey) -> SIGNAL_SUBSCRIPTION record value
    "signal_subscription_owners",  # (catchEventInstanceKey or -processDefinitionKey, subscriptionKey) -> record
    "message_subscriptions",  # (subscriptionKey,) -> {"record", "correlating"}: the message partition's side
    "message_subscriptions_by_name",  # (tenantId, messageName, correlationKey, subscriptionKey) -> None
    "message_subscriptions_by_element",  # (elementInstanceKey, messageName) -> subscriptionKey
    "process_message_subscriptions",  # (elementInstanceKey, messageName) -> {"key", "state", "record"}
    "message_correlations",  # (messageKey, bpmnProcessId) -> None: a message correlates once per process
    "message_start_subscriptions",  # (tenantId, messageName, processDefinitionKey) -> subscription record
    "message_start_subscriptions_by_process",  # (processDefinitionKey, messageName) -> None
    "active_message_instances",  # (tenantId, bpmnProcessId, correlationKey) -> processInstanceKey
    "message_instance_correlation_keys",  # (processInstanceKey,) -> correlation key it was started with
    "multi_instance_bodies",  # (bodyKey,) -> {"loopCounter", "completed", "terminated"}
    "loop_counters",  # (innerInstanceKey,) -> its loopCounter (1-based) in its multi-instance body
    "compensation_subscriptions",  # (processInstanceKey, subscriptionKey) -> COMPENSATION_SUBSCRIPTION record
    "forms",  # (formKey,) -> FORM record value (incl. the resource bytes)
    "form_versions",  # (tenantId, formId) -> latest version
    "form_by_version",  # (tenantId, formId, version) -> formKey
    "form_by_deployment",  # (tenantId, formId, deploymentKey) -> formKey (user tasks' 'deployment' binding)
    "form_by_version_tag",  # (tenantId, formId, versionTag) -> formKey of its latest version
    "decision_requirements",  # (decisionRequirementsKey,) -> DECISION_REQUIREMENTS record value (incl. resource)
    "latest_decision_requirements",  # (tenantId, decisionRequirementsId) -> key of its latest version
    "decisions",  # (decisionKey,) -> DECISION record value
    "latest_decisions",  # (tenantId, decisionId) -> key of its latest version
    "decisions_by_requirements",  # (decisionRequirementsKey, decisionId) -> decisionKey
    "decision_by_deployment",  # (tenantId, decisionId, deploymentKey) -> decisionKey ('deployment' binding)
    "decision_by_version_tag",  # (tenantId, decisionId, versionTag) -> decisionKey of its latest version
    "highest_versions",  # ("process", bpmnProcessId) / ("form" | "drg" | "decision", tenantId, id) -> highest version
    "runtime_instructions",  # (processInstanceKey,) -> [{"type", "afterElementId"}] given at its creation
    *DISTRIBUTION_COLUMN_FAMILIES,  # command distribution (state/_distribution.py)
]

# Job states (Zeebe's JobState.State names).
ACTIVATABLE = "ACTIVATABLE"
ACTIVATED = "ACTIVATED"
FAILED = "FAILED"
ERROR_THROWN = "ERROR_THROWN"


_UNREAD = object()  # not looked up in this transaction yet
_LOCAL_KEY_MASK = (1 << 51) - 1  # a key's counter, below its partition id


class EngineState:
    """All engine state of one partition, bound to the current transaction by ``bind``."""

    def __init__(self, store: StateStore, partition_id: int) -> None:
        self.store = store
        self.partition_id = partition_id
        self.txn: Transaction = None  # type: ignore[assignment]
        self._instances: dict[int, ElementInstance | None] = {}
        self._changed_instances: set[int] = set()
        f = store.family
        self._meta = f("meta")
        self._processes = f("processes")
        self._process_versions = f("process_versions")
        self._process_by_version = f("process_by_version")
        self._process_digests = f("process_digests")
        self._elements = f("element_instances")
        self._children = f("element_children")
        self._taken_flows = f("taken_flows")
        self._variables = f("variables")
        self._scope_parents = f("scope_parents")
        self._pending_variables = f("pending_variables")
        self._jobs = f("jobs")
        self._activatable = f("jobs_activatable")
        self._deadlines = f("job_deadlines")
        self._backoffs = f("job_backoffs")
        self._incidents = f("incidents")
        self._element_incidents = f("element_incidents")
        self._awaiting = f("awaiting_results")
        self._messages = f("messages")
        self._message_ids = f("message_ids")
        self._message_deadlines = f("message_deadlines")
        self._timers = f("timers")
        self._timer_due_dates = f("timer_due_dates")
        self._element_timers = f("element_timers")
        self._event_triggers = f("event_triggers")
        self._interrupted = f("interrupted_scopes")
        self._exporter_positions = f("exporter_positions")
        self._process_by_deployment = f("process_by_deployment")
        self._process_by_version_tag = f("process_by_version_tag")
        self._called_children = f("called_child_instances")
        self._user_tasks = f("user_tasks")
        self._signal_subscriptions = f("signal_subscriptions")
        self._signal_owners = f("signal_subscription_owners")
        self._message_subscriptions = f("message_subscriptions")
        self._message_subscriptions_by_name = f("message_subscriptions_by_name")
        self._message_subscriptions_by_element = f("message_subscriptions_by_element")
        self._process_message_subscriptions = f("process_message_subscriptions")
        self._message_correlations = f("message_correlations")
        self._message_start_subscriptions = f("message_start_subscriptions")
        self._message_start_by_process = f("message_start_subscriptions_by_process")
        self._active_message_instances = f("active_message_instances")
        self._message_instance_keys = f("message_instance_correlation_keys")
        self._multi_instance_bodies = f("multi_instance_bodies")
        self._loop_counters = f("loop_counters")
        self._compensation_subscriptions = f("compensation_subscriptions")
        self._forms = f("forms")
        self._form_versions = f("form_versions")
        self._form_by_version = f("form_by_version")
        self._form_by_deployment = f("form_by_deployment")
        self._form_by_version_tag = f("form_by_version_tag")
        self._decision_requirements = f("decision_requirements")
        self._latest_decision_requirements = f("latest_decision_requirements")
        self._decisions = f("decisions")
        self._latest_decisions = f("latest_decisions")
        self._decisions_by_requirements = f("decisions_by_requirements")
        self._decision_by_deployment = f("decision_by_deployment")
        self._decision_by_version_tag = f("decision_by_version_tag")
        self._highest_versions = f("highest_versions")
        self._runtime_instructions = f("runtime_instructions")
        # Whether a family that nearly no instance uses may hold anything (missing: not looked yet): runtime
        # instructions, compensation subscriptions, instances started by a message. One look at the family's
        # first key spares a lookup or scan at every element's or instance's end; storing a row sets it,
        # and only ``forget_derived`` (after a failed transaction) forgets it.
        self._possibly_filled: dict[ColumnFamily, bool] = {}
        self._last_local_key = 0
        # The key generator's value as the state this transaction started from was committed (read at the
        # transaction's first ``load_key``; None before): a key issued after it is in no stored row.
        self._committed_key: int | None = None
        self.processes: ProcessLookup = None  # type: ignore[assignment]  # set by the Engine

    def bind(self, txn: Transaction) -> None:
        self.txn = txn
        # The element instances read or written in this transaction, as typed views (None: there is
        # none): a command reads the same few many times, through several behaviours and appliers,
        # and changes each several times; those changed are put once, when the transaction writes back.
        self._instances = {}
        self._changed_instances = set()
        self._committed_key = None
        txn.on_write_back(self._put_changed_instances, self._elements)

    def _put_changed_instances(self) -> None:
        instances = self._instances
        for key in self._changed_instances:
            instance = instances[key]
            if instance is not None:
                self.txn.put(self._elements, (key,), instance.to_stored())
        self._changed_instances.clear()

    # -- keys and positions ------------------------------------------------------------------------

    def load_key(self) -> None:
        self._last_local_key = self.txn.get(self._meta, "key") or 0
        if self._committed_key is None:
            self._committed_key = self._last_local_key

    def _issued_in_transaction(self, key: int) -> bool:
        """Whether ``key`` was issued (or, replaying, first seen) after the state this transaction started
        from was committed: no stored row can hold it, as every key in state was issued or seen before the
        transaction that stored it committed its generator. What this transaction put, it holds itself."""
        committed = self._committed_key
        return committed is not None and key >> 51 == self.partition_id and key & _LOCAL_KEY_MASK > committed

    def next_key(self) -> int:
        self._last_local_key += 1
        return encode_key(self.partition_id, self._last_local_key)

    def observe_key(self, key: int) -> None:
        """Replay: keep the generator ahead of every key seen on this partition's log."""
        if key > 0 and key >> 51 == self.partition_id:
            local = key & ((1 << 51) - 1)
            if local > self._last_local_key:
                self._last_local_key = local

    def save_key(self) -> None:
        self.txn.put(self._meta, ("key",), self._last_local_key)

    @property
    def last_processed_position(self) -> int:
        value = self.txn.get(self._meta, "lastProcessedPosition")
        return -1 if value is None else value

    def set_last_processed_position(self, position: int) -> None:
        self.txn.put(self._meta, ("lastProcessedPosition",), position)

    @property
    def last_written_position(self) -> int:
        """The highest position written by processing (end of the last batch)."""
        value = self.txn.get(self._meta, "lastWrittenPosition")
        return -1 if value is None else value

    def set_last_written_position(self, position: int) -> None:
        self.txn.put(self._meta, ("lastWrittenPosition",), position)

    # -- processes ---------------------------------------------------------------------------------

    def put_process(self, key: int, value: dict[str, Any]) -> None:
        pid, version = value["bpmnProcessId"], value["version"]
        self.txn.put(self._processes, (key,), value)
        self.txn.put(self._process_by_version, (pid, version), key)
        if version > (self.txn.get(self._highest_versions, "process", pid) or 0):
            self.txn.put(self._highest_versions, ("process", pid), version)
        if version > (self.txn.get(self._process_versions, pid) or 0):
            self.txn.put(self._process_versions, (pid,), version)
            self.txn.put(self._process_digests, (pid,), value["checksum"])

    def process(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._processes, key)  # type: ignore[no-any-return]

    def latest_version(self, bpmn_process_id: str) -> int:
        return self.txn.get(self._process_versions, bpmn_process_id) or 0

    def latest_digest(self, bpmn_process_id: str) -> str | None:
        return self.txn.get(self._process_digests, bpmn_process_id)  # type: ignore[no-any-return]

    def process_key_by_version(self, bpmn_process_id: str, version: int) -> int | None:
        return self.txn.get(self._process_by_version, bpmn_process_id, version)  # type: ignore[no-any-return]

    # -- element instances -------------------------------------------------------------------------

    def element_instance(self, key: int) -> ElementInstance | None:
        found = self._instances.get(key, _UNREAD)
        if found is _UNREAD:
            # an element instance this transaction creates (an ACTIVATE_ELEMENT's key): no lookup
            stored = self.txn.get_unstored(self._elements, key) if self._issued_in_transaction(key) \
                else self.txn.get(self._elements, key)
            found = self._instances[key] = None if stored is None else ElementInstance.from_stored(key, stored)
        return found  # type: ignore[return-value]

    def put_element_instance(self, instance: ElementInstance) -> None:
        self._instances[instance.key] = instance
        self._changed_instances.add(instance.key)  # put at write-back (see ``bind``)

    def remove_element_instance(self, key: int, parent_key: int) -> None:
        self._instances[key] = None
        self._changed_instances.discard(key)
        self.txn.delete(self._elements, key)
        if parent_key > 0:
            self.txn.delete(self._children, parent_key, key)

    def add_child(self, parent_key: int, child_key: int) -> None:
        # a new element instance's key: no row holds it yet (one that ends in this transaction never reaches LMDB)
        self.txn.insert(self._children, (parent_key, child_key), None)

    def children(self, parent_key: int) -> list[int]:
        return [k[1] for k in self.txn.keys(self._children, parent_key)]  # type: ignore[misc]

    def taken_flow_count(self, scope_key: int, gateway_id: str, flow_id: str) -> int:
        return self.txn.get(self._taken_flows, scope_key, gateway_id, flow_id) or 0

    def set_taken_flow_count(self, scope_key: int, gateway_id: str, flow_id: str, count: int) -> None:
        if count > 0:
            self.txn.put(self._taken_flows, (scope_key, gateway_id, flow_id), count)
        else:
            self.txn.delete(self._taken_flows, scope_key, gateway_id, flow_id)

    def clear_taken_flows(self, scope_key: int) -> None:
        for key in list(self.txn.keys(self._taken_flows, scope_key)):
            self.txn.delete(self._taken_flows, *key)

    # -- variables ---------------------------------------------------------------------------------

    def scope_parent(self, scope_key: int) -> int:
        """The variable scope above ``scope_key``: its element instance's flow scope (-1 for a process
        instance, or when there is none). Variable scopes are element instances, so this is not stored
        apart (the ``scope_parents`` family stays empty)."""
        instance = self.element_instance(scope_key)
        return -1 if instance is None else instance.flow_scope_key

    def variable_json(self, scope_key: int, name: str) -> str | None:
        return self.txn.get(self._variables, scope_key, name)  # type: ignore[no-any-return]

    def set_variable_json(self, scope_key: int, name: str, value_json: str) -> None:
        self.txn.put(self._variables, (scope_key, name), value_json)

    def local_variables(self, scope_key: int) -> Iterator[tuple[str, str]]:
        for key, value in self.txn.items(self._variables, scope_key):
            yield key[1], value  # type: ignore[misc]

    def find_variable_scope(self, scope_key: int, name: str) -> int:
        """The nearest scope (from ``scope_key`` up) that holds ``name``; -1 if none."""
        while scope_key > 0:
            if self.txn.exists(self._variables, scope_key, name):
                return scope_key
            scope_key = self.scope_parent(scope_key)
        return -1

    def lookup_variable(self, scope_key: int, name: str) -> str | None:
        while scope_key > 0:
            value = self.txn.get(self._variables, scope_key, name)
            if value is not None:
                return value  # type: ignore[no-any-return]
            scope_key = self.scope_parent(scope_key)
        return None

    def visible_variables(self, scope_key: int) -> dict[str, Any]:
        """All variables visible from a scope, inner scopes shadowing outer ones (decoded)."""
        chain = []
        while scope_key > 0:
            chain.append(scope_key)
            scope_key = self.scope_parent(scope_key)
        result: dict[str, Any] = {}
        for scope in reversed(chain):
            for name, value in self.local_variables(scope):
                result[name] = json.loads(value)
        return result

    def remove_scope(self, scope_key: int) -> None:
        for key in list(self.txn.keys(self._variables, scope_key)):
            self.txn.delete(self._variables, *key)
        self.txn.delete(self._pending_variables, scope_key)

    def pending_variables(self, element_instance_key: int) -> dict[str, Any] | None:
        return self.txn.get(self._pending_variables, element_instance_key)  # type: ignore[no-any-return]

    def set_pending_variables(self, element_instance_key: int, variables: dict[str, Any] | None) -> None:
        if variables:
            self.txn.put(self._pending_variables, (element_instance_key,), variables)
        else:
            self.txn.delete(self._pending_variables, element_instance_key)

    # -- jobs --------------------------------------------------------------------------------------

    def job(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._jobs, key)  # type: ignore[no-any-return]

    def put_job(self, key: int, state: str, record: dict[str, Any]) -> None:
        old = self.txn.get_unstored(self._jobs, key) if self._issued_in_transaction(key) else self.txn.get(self._jobs, key)
        if old is not None:
            self._unindex_job(key, old)
        self.txn.put(self._jobs, (key,), {"state": state, "record": record})
        if state == ACTIVATABLE:
            self.txn.put(self._activatable, (record["type"], key), None)
        elif state == ACTIVATED:
            self.txn.put(self._deadlines, (record["deadline"], key), None)
        elif state == FAILED and record["retries"] > 0 and record.get("recurringTime", -1) > 0:
            self.txn.put(self._backoffs, (record["recurringTime"], key), None)

    def remove_job(self, key: int) -> None:
        old = self.txn.get(self._jobs, key)
        if old is not None:
            self._unindex_job(key, old)
            self.txn.delete(self._jobs, key)

    def _unindex_job(self, key: int, old: dict[str, Any]) -> None:
        """Remove the index row ``put_job`` wrote for the job's stored state (at most one)."""
        state, record = old["state"], old["record"]
        if state == ACTIVATABLE:
            self.txn.delete(self._activatable, record["type"], key)
        elif state == ACTIVATED:
            self.txn.delete(self._deadlines, record["deadline"], key)
        elif state == FAILED and record["retries"] > 0 and record.get("recurringTime", -1) > 0:
            self.txn.delete(self._backoffs, record["recurringTime"], key)

    def activatable_jobs(self, job_type: str) -> Iterator[int]:
        for key in self.txn.keys(self._activatable, job_type):
            yield key[1]  # type: ignore[misc]

    def jobs_due(self, cf_name: str, now: int) -> Iterator[tuple[int, int]]:
        """(due time, job key) of jobs whose deadline (``job_deadlines``) or back-off
        (``job_backoffs``) is at or before ``now``, earliest first."""
        cf = self._deadlines if cf_name == "job_deadlines" else self._backoffs
        for due, key in self.txn.keys(cf):
            if due > now:  # type: ignore[operator]
                return
            yield due, key  # type: ignore[misc]

    def next_due(self, cf_name: str) -> int | None:
        cf = {"job_deadlines": self._deadlines, "job_backoffs": self._backoffs,
              "message_deadlines": self._message_deadlines}[cf_name]
        for key in self.txn.keys(cf):
            return key[0]  # type: ignore[return-value]
        return None

    # -- incidents ---------------------------------------------------------------------------------

    def incident(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._incidents, key)  # type: ignore[no-any-return]

    def put_incident(self, key: int, record: dict[str, Any]) -> None:
        self.txn.put(self._incidents, (key,), {"record": record})
        self.txn.put(self._element_incidents, (record["elementInstanceKey"], key), None)

    def remove_incident(self, key: int) -> None:
        incident = self.txn.get(self._incidents, key)
        if incident is not None:
            self.txn.delete(self._element_incidents, incident["record"]["elementInstanceKey"], key)
            self.txn.delete(self._incidents, key)

    def element_incidents(self, element_key: int) -> list[int]:
        return [k[1] for k in self.txn.keys(self._element_incidents, element_key)]  # type: ignore[misc]

    # -- awaiting results --------------------------------------------------------------------------

    def awaiting_result(self, process_instance_key: int) -> dict[str, Any] | None:
        return self.txn.get(self._awaiting, process_instance_key)  # type: ignore[no-any-return]

    def set_awaiting_result(self, process_instance_key: int, value: dict[str, Any] | None) -> None:
        if value is None:
            self.txn.delete(self._awaiting, process_instance_key)
        else:
            self.txn.put(self._awaiting, (process_instance_key,), value)

    # -- call activities ---------------------------------------------------------------------------

    def index_called_process(self, key: int, value: dict[str, Any]) -> None:
        """Index a deployed process for call activities' ``deployment`` and ``versionTag`` bindings."""
        pid = value["bpmnProcessId"]
        deployment_key = value.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key > 0:
            self.txn.put(self._process_by_deployment, (pid, deployment_key), key)
        tag = value.get("versionTag") or ""
        if tag:
            current = self.txn.get(self._process_by_version_tag, pid, tag)
            current_version = -1 if current is None else (self.process(current) or {}).get("version", -1)
            if value["version"] > current_version:
                self.txn.put(self._process_by_version_tag, (pid, tag), key)

    def process_key_by_deployment(self, bpmn_process_id: str, deployment_key: int) -> int | None:
        return self.txn.get(self._process_by_deployment, bpmn_process_id, deployment_key)  # type: ignore[no-any-return]

    def process_key_by_version_tag(self, bpmn_process_id: str, version_tag: str) -> int | None:
        return self.txn.get(self._process_by_version_tag, bpmn_process_id, version_tag)  # type: ignore[no-any-return]

    def set_called_child_instance(self, call_activity_key: int, child_instance_key: int | None) -> None:
        if child_instance_key is None:
            self.txn.delete(self._called_children, call_activity_key)
        else:
            self.txn.put(self._called_children, (call_activity_key,), child_instance_key)

    def called_child_instance(self, call_activity_key: int) -> int:
        """The process instance a call activity created; -1 if it created none (yet)."""
        child = self.txn.get(self._called_children, call_activity_key)
        return -1 if child is None else child  # type: ignore[no-any-return]

    def calling_element_instance(self, process_instance_key: int) -> int:
        """The element instance (a call activity) that created this process instance; -1 for a root
        instance or one that is gone. Error propagation walks up the call tree through it."""
        instance = self.element_instance(process_instance_key)
        if instance is None:
            return -1
        return instance.value.get("parentElementInstanceKey", -1)  # type: ignore[no-any-return]

    def root_process_instance(self, process_instance_key: int) -> int:
        """The root of the call tree that ``process_instance_key`` belongs to (itself if it is a root)."""
        key = process_instance_key
        while True:
            instance = self.element_instance(key)
            parent = -1 if instance is None else instance.value.get("parentProcessInstanceKey", -1)
            if parent is None or parent <= 0:
                return key
            key = parent

    def process_depth(self, process_instance_key: int) -> int:
        """How many process instances the call tree holds from its root down to this one (1 for a root)."""
        depth, key = 1, process_instance_key
        while True:
            instance = self.element_instance(key)
            parent = -1 if instance is None else instance.value.get("parentProcessInstanceKey", -1)
            if parent is None or parent <= 0:
                return depth
            depth, key = depth + 1, parent

    # -- messages ----------------------------------------------------------------------------------

    def message_id_exists(self, name: str, correlation_key: str, message_id: str) -> bool:
        return self.txn.exists(self._message_ids, name, correlation_key, message_id)

    def put_message(self, key: int, record: dict[str, Any]) -> None:
        self.txn.put(self._messages, (key,), record)
        self.txn.put(self._message_deadlines, (record["deadline"], key), None)
        if record.get("messageId"):
            self.txn.put(self._message_ids, (record["name"], record["correlationKey"], record["messageId"]), key)

    def message(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._messages, key)  # type: ignore[no-any-return]

    def remove_message(self, key: int) -> None:
        record = self.txn.get(self._messages, key)
        if record is None:
            return
        self.txn.delete(self._messages, key)
        self.txn.delete(self._message_deadlines, record["deadline"], key)
        if record.get("messageId"):
            self.txn.delete(self._message_ids, record["name"], record["correlationKey"], record["messageId"])

    def messages_due(self, now: int) -> Iterator[int]:
        for due, key in self.txn.keys(self._message_deadlines):
            if due > now:  # type: ignore[operator]
                return
            yield key  # type: ignore[misc]

    def buffered_messages(self, tenant_id: str, name: str, correlation_key: str) -> list[tuple[int, dict[str, Any]]]:
        """The buffered messages of a name and correlation key, oldest first."""
        found = []
        for key, record in self.txn.items(self._messages):
            if record["name"] == name and record["correlationKey"] == correlation_key \
                    and record.get("tenantId", "<default>") == tenant_id:
                found.append((key[0], record))
        return found  # type: ignore[return-value]

    def buffered_messages_named(self, tenant_id: str, name: str) -> list[tuple[int, dict[str, Any]]]:
        return [(key[0], record) for key, record in self.txn.items(self._messages)  # type: ignore[misc]
                if record["name"] == name and record.get("tenantId", "<default>") == tenant_id]

    # -- message subscriptions (the message partition's side) ----------------------------------------

    def put_message_subscription(self, key: int, record: dict[str, Any], correlating: bool) -> None:
        self.txn.put(self._message_subscriptions, (key,), {"record": record, "correlating": correlating})
        self.txn.put(self._message_subscriptions_by_name, (record.get("tenantId", "<default>"), record["messageName"],
                                                           record["correlationKey"], key), None)
        self.txn.put(self._message_subscriptions_by_element, (record["elementInstanceKey"], record["messageName"]),
                     key)

    def message_subscription(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._message_subscriptions, key)  # type: ignore[no-any-return]

    def message_subscription_of(self, element_instance_key: int, message_name: str) -> int | None:
        return self.txn.get(self._message_subscriptions_by_element, element_instance_key,  # type: ignore[no-any-return]
                            message_name)

    def message_subscriptions_for(self, tenant_id: str, name: str, correlation_key: str) -> list[int]:
        return [k[3] for k in self.txn.keys(self._message_subscriptions_by_name,  # type: ignore[misc]
                                            tenant_id, name, correlation_key)]

    def remove_message_subscription(self, key: int) -> None:
        stored = self.txn.get(self._message_subscriptions, key)
        if stored is None:
            return
        record = stored["record"]
        self.txn.delete(self._message_subscriptions, key)
        self.txn.delete(self._message_subscriptions_by_name, record.get("tenantId", "<default>"),
                        record["messageName"], record["correlationKey"], key)
        self.txn.delete(self._message_subscriptions_by_element, record["elementInstanceKey"], record["messageName"])

    def put_message_correlation(self, message_key: int, bpmn_process_id: str) -> None:
        self.txn.put(self._message_correlations, (message_key, bpmn_process_id), None)

    def message_correlated(self, message_key: int, bpmn_process_id: str) -> bool:
        return self.txn.exists(self._message_correlations, message_key, bpmn_process_id)

    def remove_message_correlation(self, message_key: int, bpmn_process_id: str) -> None:
        self.txn.delete(self._message_correlations, message_key, bpmn_process_id)

    def remove_message_correlations(self, message_key: int) -> None:
        for key in list(self.txn.keys(self._message_correlations, message_key)):
            self.txn.delete(self._message_correlations, *key)

    # -- process message subscriptions (the waiting element's side) ----------------------------------

    def put_process_message_subscription(self, element_instance_key: int, message_name: str, key: int, state: str,
                                         record: dict[str, Any]) -> None:
        self.txn.put(self._process_message_subscriptions, (element_instance_key, message_name),
                     {"key": key, "state": state, "record": record})

    def process_message_subscription(self, element_instance_key: int, message_name: str) -> dict[str, Any] | None:
        return self.txn.get(self._process_message_subscriptions,  # type: ignore[no-any-return]
                            element_instance_key, message_name)

    def process_message_subscriptions_of(self, element_instance_key: int) -> list[dict[str, Any]]:
        return [value for _key, value in self.txn.items(self._process_message_subscriptions, element_instance_key)]

    def remove_process_message_subscription(self, element_instance_key: int, message_name: str) -> None:
        self.txn.delete(self._process_message_subscriptions, element_instance_key, message_name)

    # -- message start event subscriptions -----------------------------------------------------------

    def put_message_start_subscription(self, record: dict[str, Any]) -> None:
        self.txn.put(self._message_start_subscriptions, (record.get("tenantId", "<default>"), record["messageName"],
                                                          record["processDefinitionKey"]), record)
        self.txn.put(self._message_start_by_process, (record["processDefinitionKey"], record["messageName"]), None)

    def remove_message_start_subscription(self, record: dict[str, Any]) -> None:
        self.txn.delete(self._message_start_subscriptions, record.get("tenantId", "<default>"), record["messageName"],
                        record["processDefinitionKey"])
        self.txn.delete(self._message_start_by_process, record["processDefinitionKey"], record["messageName"])

    def message_start_subscriptions(self, tenant_id: str, name: str) -> list[dict[str, Any]]:
        return [value for _key, value in self.txn.items(self._message_start_subscriptions, tenant_id, name)]

    def message_start_subscriptions_of(self, process_definition_key: int) -> list[dict[str, Any]]:
        return [value for _key, value in self.txn.items(self._message_start_subscriptions)
                if value["processDefinitionKey"] == process_definition_key]

    def active_message_instance(self, tenant_id: str, bpmn_process_id: str, correlation_key: str) -> int | None:
        return self.txn.get(self._active_message_instances, tenant_id,  # type: ignore[no-any-return]
                            bpmn_process_id, correlation_key)

    def put_active_message_instance(self, tenant_id: str, bpmn_process_id: str, correlation_key: str,
                                    process_instance_key: int) -> None:
        self.txn.put(self._active_message_instances, (tenant_id, bpmn_process_id, correlation_key),
                     process_instance_key)
        self._possibly_filled[self._message_instance_keys] = True
        self.txn.put(self._message_instance_keys, (process_instance_key,),
                     [tenant_id, bpmn_process_id, correlation_key])

    def message_instance_correlation(self, process_instance_key: int) -> list[str] | None:
        if not self._may_hold(self._message_instance_keys):
            return None
        return self.txn.get(self._message_instance_keys, process_instance_key)  # type: ignore[no-any-return]

    def remove_active_message_instance(self, process_instance_key: int) -> None:
        found = self.message_instance_correlation(process_instance_key)
        if found is None:
            return
        self.txn.delete(self._message_instance_keys, process_instance_key)
        self.txn.delete(self._active_message_instances, *found)

    # -- timers ------------------------------------------------------------------------------------

    @staticmethod
    def _timer_owner(record: dict[str, Any]) -> int:
        """Whose timers a timer is listed under: its element instance, or (a timer start event) its
        process definition, negated so the two never meet."""
        element_key = record.get("elementInstanceKey", -1)
        return element_key if element_key > 0 else -record["processDefinitionKey"]

    def put_timer(self, key: int, record: dict[str, Any]) -> None:
        self.txn.put(self._timers, (key,), record)
        self.txn.put(self._timer_due_dates, (record["dueDate"], key), None)
        self.txn.put(self._element_timers, (self._timer_owner(record), key), None)

    def timer(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._timers, key)  # type: ignore[no-any-return]

    def remove_timer(self, key: int) -> None:
        record = self.txn.get(self._timers, key)
        if record is None:
            return
        self.txn.delete(self._timers, key)
        self.txn.delete(self._timer_due_dates, record["dueDate"], key)
        self.txn.delete(self._element_timers, self._timer_owner(record), key)

    def timers_of(self, element_instance_key: int) -> list[int]:
        """The timers an element instance (or, negated, a process definition) holds."""
        return [k[1] for k in self.txn.keys(self._element_timers, element_instance_key)]  # type: ignore[misc]

    def timers_due(self, now: int) -> Iterator[tuple[int, int]]:
        for due, key in self.txn.keys(self._timer_due_dates):
            if due > now:  # type: ignore[operator]
                return
            yield due, key  # type: ignore[misc]

    def next_timer_due(self) -> int | None:
        for key in self.txn.keys(self._timer_due_dates):
            return key[0]  # type: ignore[return-value]
        return None

    # -- event triggers ------------------------------------------------------------------------------

    def put_event_trigger(self, scope_key: int, event_key: int, trigger: dict[str, Any]) -> None:
        exists = self.txn.get_unstored(self._event_triggers, scope_key, event_key) is not None \
            if self._issued_in_transaction(event_key) else self.txn.exists(self._event_triggers, scope_key, event_key)
        if not exists:
            self._count_event_triggers(scope_key, 1, event_key)
        self.txn.put(self._event_triggers, (scope_key, event_key), trigger)

    def remove_event_trigger(self, scope_key: int, event_key: int) -> None:
        if self.txn.exists(self._event_triggers, scope_key, event_key):
            self._count_event_triggers(scope_key, -1, event_key)
            self.txn.delete(self._event_triggers, scope_key, event_key)

    def _count_event_triggers(self, scope_key: int, change: int, event_key: int) -> None:
        """Keep the scope's count of pending triggers, and the key of the newest one (what a scope with
        one trigger looks up instead of scanning)."""
        instance = self.element_instance(scope_key)
        if instance is not None and instance.event_trigger_count is not None:
            instance.event_trigger_count += change
            if change > 0:
                instance.newest_trigger_key = event_key
            elif instance.newest_trigger_key == event_key:
                instance.newest_trigger_key = None
            self.put_element_instance(instance)

    def event_triggers(self, scope_key: int) -> list[tuple[int, dict[str, Any]]]:
        """(event key, trigger) of the events triggered on ``scope_key`` and not consumed yet, oldest first."""
        return [(k[1], v) for k, v in self.txn.items(self._event_triggers, scope_key)]  # type: ignore[misc]

    def set_interrupted(self, scope_key: int, element_id: str) -> None:
        self.txn.put(self._interrupted, (scope_key,), element_id)

    def interrupting_element(self, scope_key: int) -> str | None:
        """The interrupting event that triggered on ``scope_key`` (it takes no other interrupting one)."""
        return self.txn.get(self._interrupted, scope_key)  # type: ignore[no-any-return]

    def remove_event_scope(self, scope_key: int) -> None:
        for key in list(self.txn.keys(self._event_triggers, scope_key)):
            self.txn.delete(self._event_triggers, *key)
        self.txn.delete(self._interrupted, scope_key)

    # -- signal subscriptions ------------------------------------------------------------------------

    @staticmethod
    def _signal_owner(record: dict[str, Any]) -> int:
        """Whose subscriptions a signal subscription is listed under: its catch event's element instance,
        or (a signal start event) its process definition, negated so the two never meet."""
        element_key = record.get("catchEventInstanceKey", -1)
        return element_key if element_key > 0 else -record["processDefinitionKey"]

    def put_signal_subscription(self, key: int, record: dict[str, Any]) -> None:
        self.txn.put(self._signal_subscriptions, (record.get("tenantId", ""), record["signalName"], key), record)
        self.txn.put(self._signal_owners, (self._signal_owner(record), key), record)

    def remove_signal_subscription(self, key: int, record: dict[str, Any]) -> None:
        self.txn.delete(self._signal_subscriptions, record.get("tenantId", ""), record["signalName"], key)
        self.txn.delete(self._signal_owners, self._signal_owner(record), key)

    def signal_subscriptions(self, signal_name: str, tenant_id: str) -> list[tuple[int, dict[str, Any]]]:
        """(subscription key, record) of every open subscription to ``signal_name``, oldest first."""
        return [(k[2], v) for k, v in self.txn.items(self._signal_subscriptions, tenant_id, signal_name)]  # type: ignore[misc]

    def signal_subscriptions_of(self, owner_key: int) -> list[tuple[int, dict[str, Any]]]:
        """The subscriptions an element instance (or, negated, a process definition's start events) holds."""
        return [(k[1], v) for k, v in self.txn.items(self._signal_owners, owner_key)]  # type: ignore[misc]

    # -- exporters ---------------------------------------------------------------------------------

    def exporter_position(self, exporter_id: str) -> int:
        value = self.txn.get(self._exporter_positions, exporter_id)
        return -1 if value is None else value

    def set_exporter_position(self, exporter_id: str, position: int) -> None:
        self.txn.put(self._exporter_positions, (exporter_id,), position)

    # -- user tasks and event triggers ------------------------------------------------------------

    def user_task(self, key: int) -> UserTask | None:
        stored = self.txn.get(self._user_tasks, key)
        return None if stored is None else UserTask.from_stored(key, stored)

    def put_user_task(self, task: UserTask) -> None:
        self.txn.put(self._user_tasks, (task.key,), task.to_stored())

    def remove_user_task(self, key: int) -> None:
        self.txn.delete(self._user_tasks, key)

    def event_trigger(self, element_instance_key: int) -> dict[str, Any] | None:
        """{"key", "record"} of the oldest PROCESS_EVENT triggered on the element instance for the element
        itself (a script result, a listener job's variables, a caught event) and not consumed yet."""
        instance = self.element_instance(element_instance_key)
        if instance is None or instance.event_trigger_count == 0:
            return None
        newest = instance.newest_trigger_key
        if instance.event_trigger_count == 1 and newest is not None:
            only = self.txn.get(self._event_triggers, element_instance_key, newest)  # the one trigger: no scan
            pending = [(newest, only)] if only is not None else []
        else:
            pending = self.event_triggers(element_instance_key)
        for event_key, trigger in pending:
            if trigger["elementId"] == instance.element_id:
                return {"key": event_key, "record": {
                    "scopeKey": element_instance_key, "targetElementId": trigger["elementId"],
                    "variables": trigger["variables"], "processDefinitionKey": instance.process_definition_key,
                    "processInstanceKey": instance.process_instance_key,
                    "tenantId": instance.value.get("tenantId", "<default>")}}
        return None

    # -- multi-instance bodies -------------------------------------------------------------------

    def multi_instance_body(self, key: int) -> MultiInstanceBodyState | None:
        stored = self.txn.get(self._multi_instance_bodies, key)
        return None if stored is None else MultiInstanceBodyState.from_stored(key, stored)

    def put_multi_instance_body(self, body: MultiInstanceBodyState) -> None:
        self.txn.put(self._multi_instance_bodies, (body.key,), body.to_stored())

    def remove_multi_instance_body(self, key: int) -> None:
        self.txn.delete(self._multi_instance_bodies, key)

    def loop_counter(self, element_instance_key: int) -> int:
        """The loopCounter of an inner instance of a multi-instance body (0 for other elements)."""
        return self.txn.get(self._loop_counters, element_instance_key) or 0

    def set_loop_counter(self, element_instance_key: int, counter: int) -> None:
        self.txn.put(self._loop_counters, (element_instance_key,), counter)

    def remove_loop_counter(self, element_instance_key: int) -> None:
        self.txn.delete(self._loop_counters, element_instance_key)

    # -- compensation subscriptions ----------------------------------------------------------------

    def put_compensation_subscription(self, key: int, record: dict[str, Any]) -> None:
        self._possibly_filled[self._compensation_subscriptions] = True
        self.txn.put(self._compensation_subscriptions, (record["processInstanceKey"], key), record)

    def remove_compensation_subscription(self, key: int, record: dict[str, Any]) -> None:
        self.txn.delete(self._compensation_subscriptions, record["processInstanceKey"], key)

    def compensation_subscriptions(self, process_instance_key: int) -> list[tuple[int, dict[str, Any]]]:
        """(subscription key, record) of every compensation subscription of the process instance (completed
        compensable activities not compensated yet, and those being compensated), oldest first."""
        if not self._may_hold(self._compensation_subscriptions):
            return []
        return [(k[1], v) for k, v in self.txn.items(self._compensation_subscriptions,  # type: ignore[misc]
                                                     process_instance_key)]

    # -- forms -------------------------------------------------------------------------------------

    def put_form(self, key: int, record: dict[str, Any]) -> None:
        """Store a deployed form version and index it by version, deployment and version tag."""
        tenant, form_id, version = record["tenantId"], record["formId"], record["version"]
        self.txn.put(self._forms, (key,), record)
        self.txn.put(self._form_by_version, (tenant, form_id, version), key)
        if version > (self.txn.get(self._highest_versions, "form", tenant, form_id) or 0):
            self.txn.put(self._highest_versions, ("form", tenant, form_id), version)
        if version > self.latest_form_version(form_id, tenant):
            self.txn.put(self._form_versions, (tenant, form_id), version)
        deployment_key = record.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key > 0:
            self.txn.put(self._form_by_deployment, (tenant, form_id, deployment_key), key)
        tag = record.get("versionTag") or ""
        if tag:
            current = self.txn.get(self._form_by_version_tag, tenant, form_id, tag)
            current_version = -1 if current is None else (self.form(current) or {}).get("version", -1)
            if version > current_version:
                self.txn.put(self._form_by_version_tag, (tenant, form_id, tag), key)

    def form(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._forms, key)  # type: ignore[no-any-return]

    def latest_form_version(self, form_id: str, tenant_id: str) -> int:
        return self.txn.get(self._form_versions, tenant_id, form_id) or 0

    def latest_form(self, form_id: str, tenant_id: str) -> dict[str, Any] | None:
        version = self.latest_form_version(form_id, tenant_id)
        key = self.txn.get(self._form_by_version, tenant_id, form_id, version) if version else None
        return None if key is None else self.form(key)

    def form_by_deployment(self, form_id: str, deployment_key: int, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._form_by_deployment, tenant_id, form_id, deployment_key)
        return None if key is None else self.form(key)

    def form_by_version_tag(self, form_id: str, version_tag: str, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._form_by_version_tag, tenant_id, form_id, version_tag)
        return None if key is None else self.form(key)

    # -- decisions ---------------------------------------------------------------------------------

    def put_decision_requirements(self, key: int, record: dict[str, Any]) -> None:
        """Store a deployed decision requirements graph version; a higher version becomes the latest."""
        tenant, drg_id = record["tenantId"], record["decisionRequirementsId"]
        self.txn.put(self._decision_requirements, (key,), record)
        self._raise_highest_version(("drg", tenant, drg_id), record["decisionRequirementsVersion"])
        latest = self.latest_decision_requirements(drg_id, tenant)
        if latest is None or record["decisionRequirementsVersion"] > latest["decisionRequirementsVersion"]:
            self.txn.put(self._latest_decision_requirements, (tenant, drg_id), key)

    def decision_requirements(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._decision_requirements, key)  # type: ignore[no-any-return]

    def latest_decision_requirements(self, drg_id: str, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._latest_decision_requirements, tenant_id, drg_id)
        return None if key is None else self.decision_requirements(key)

    def put_decision(self, key: int, record: dict[str, Any]) -> None:
        """Store a deployed decision version and index it by its graph, deployment and version tag."""
        tenant, decision_id = record["tenantId"], record["decisionId"]
        self.txn.put(self._decisions, (key,), record)
        self._raise_highest_version(("decision", tenant, decision_id), record["version"])
        self.txn.put(self._decisions_by_requirements, (record["decisionRequirementsKey"], decision_id), key)
        latest = self.latest_decision(decision_id, tenant)
        if latest is None or record["version"] > latest["version"]:
            self.txn.put(self._latest_decisions, (tenant, decision_id), key)
        deployment_key = record.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key >= 0:
            self.txn.put(self._decision_by_deployment, (tenant, decision_id, deployment_key), key)
        tag = record.get("versionTag") or ""
        if tag:
            current = self.txn.get(self._decision_by_version_tag, tenant, decision_id, tag)
            current_version = -1 if current is None else (self.decision(current) or {}).get("version", -1)
            if record["version"] > current_version:
                self.txn.put(self._decision_by_version_tag, (tenant, decision_id, tag), key)

    def decision(self, key: int) -> dict[str, Any] | None:
        return self.txn.get(self._decisions, key)  # type: ignore[no-any-return]

    def latest_decision(self, decision_id: str, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._latest_decisions, tenant_id, decision_id)
        return None if key is None else self.decision(key)

    def decisions_of_requirements(self, drg_key: int) -> list[dict[str, Any]]:
        """The decisions of one decision requirements graph version, by decision id."""
        return [record for _key, decision_key in self.txn.items(self._decisions_by_requirements, drg_key)
                if (record := self.decision(decision_key)) is not None]

    def decision_by_deployment(self, decision_id: str, deployment_key: int, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._decision_by_deployment, tenant_id, decision_id, deployment_key)
        return None if key is None else self.decision(key)

    def decision_by_version_tag(self, decision_id: str, version_tag: str, tenant_id: str) -> dict[str, Any] | None:
        key = self.txn.get(self._decision_by_version_tag, tenant_id, decision_id, version_tag)
        return None if key is None else self.decision(key)

    # -- deleted resources (RESOURCE_DELETION) ----------------------------------------------------

    def has_instances_of_process(self, process_definition_key: int) -> bool:
        """Whether any element instance still runs in a version of a process (a scan: deletions are rare)."""
        return any(stored.get("record", {}).get("processDefinitionKey") == process_definition_key
                   for _key, stored in self.txn.items(self._elements))

    def process_version_before(self, bpmn_process_id: str, version: int) -> int | None:
        """The highest deployed version of a process below ``version``, if any is left."""
        below = [key[1] for key in self.txn.keys(self._process_by_version, bpmn_process_id)
                 if isinstance(key[1], int) and key[1] < version]
        return max(below) if below else None

    def delete_process(self, key: int) -> None:
        """Forget a process version: the previous one left (if any) becomes the latest again."""
        stored = self.process(key)
        if stored is None:
            return
        pid, version = stored["bpmnProcessId"], stored["version"]
        self.txn.delete(self._processes, key)
        self.txn.delete(self._process_by_version, pid, version)
        deployment_key = stored.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key > 0:
            self.txn.delete(self._process_by_deployment, pid, deployment_key)
        tag = stored.get("versionTag") or ""
        if tag and self.txn.get(self._process_by_version_tag, pid, tag) == key:
            self.txn.delete(self._process_by_version_tag, pid, tag)
            tagged = [(other["version"], other_key) for other_key in self._process_keys(pid)
                      if (other := self.process(other_key)) is not None and other.get("versionTag") == tag]
            if tagged:
                self.txn.put(self._process_by_version_tag, (pid, tag), max(tagged)[1])
        if self.latest_version(pid) == version:
            previous = self.process_version_before(pid, version)
            if previous is None:
                self.txn.delete(self._process_versions, pid)
                self.txn.delete(self._process_digests, pid)
            else:
                self.txn.put(self._process_versions, (pid,), previous)
                previous_key = self.process_key_by_version(pid, previous)
                previous_record = None if previous_key is None else self.process(previous_key)
                if previous_record is not None:
                    self.txn.put(self._process_digests, (pid,), previous_record["checksum"])

    def next_process_version(self, bpmn_process_id: str) -> int:
        """The version a new deployment of a process gets: versions of deleted ones are not reused."""
        highest = self.txn.get(self._highest_versions, "process", bpmn_process_id) or 0
        return max(highest, self.latest_version(bpmn_process_id)) + 1

    def next_form_version(self, form_id: str, tenant_id: str) -> int:
        """The version a new deployment of a form gets: versions of deleted ones are not reused."""
        highest = self.txn.get(self._highest_versions, "form", tenant_id, form_id) or 0
        return max(highest, self.latest_form_version(form_id, tenant_id)) + 1

    def next_decision_requirements_version(self, drg_id: str, tenant_id: str) -> int:
        """The version a new deployment of a decision requirements graph gets (deleted ones not reused)."""
        latest = self.latest_decision_requirements(drg_id, tenant_id)
        highest = self.txn.get(self._highest_versions, "drg", tenant_id, drg_id) or 0
        return max(highest, 0 if latest is None else latest["decisionRequirementsVersion"]) + 1

    def next_decision_version(self, decision_id: str, tenant_id: str) -> int:
        """The version a new deployment of a decision gets (deleted ones not reused)."""
        latest = self.latest_decision(decision_id, tenant_id)
        highest = self.txn.get(self._highest_versions, "decision", tenant_id, decision_id) or 0
        return max(highest, 0 if latest is None else latest["version"]) + 1

    def _raise_highest_version(self, key: tuple[str, ...], version: int) -> None:
        if version > (self.txn.get(self._highest_versions, *key) or 0):
            self.txn.put(self._highest_versions, key, version)

    def _process_keys(self, bpmn_process_id: str) -> list[int]:
        return [key for _version, key in self.txn.items(self._process_by_version, bpmn_process_id)]

    def delete_form(self, key: int) -> None:
        """Forget a form version: the previous one left (if any) becomes the latest again."""
        stored = self.form(key)
        if stored is None:
            return
        tenant, form_id, version = stored["tenantId"], stored["formId"], stored["version"]
        self.txn.delete(self._forms, key)
        self.txn.delete(self._form_by_version, tenant, form_id, version)
        deployment_key = stored.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key > 0:
            self.txn.delete(self._form_by_deployment, tenant, form_id, deployment_key)
        remaining = [(parts[2], form_key) for parts, form_key in self.txn.items(self._form_by_version, tenant, form_id)]
        tag = stored.get("versionTag") or ""
        if tag and self.txn.get(self._form_by_version_tag, tenant, form_id, tag) == key:
            self.txn.delete(self._form_by_version_tag, tenant, form_id, tag)
            tagged = [(v, k) for v, k in remaining if (self.form(k) or {}).get("versionTag") == tag]
            if tagged:
                self.txn.put(self._form_by_version_tag, (tenant, form_id, tag), max(tagged)[1])
        if self.latest_form_version(form_id, tenant) == version:
            if remaining:
                self.txn.put(self._form_versions, (tenant, form_id), max(remaining)[0])
            else:
                self.txn.delete(self._form_versions, tenant, form_id)

    def delete_decision(self, key: int) -> None:
        """Forget a decision version: the highest version left (if any) becomes the latest again."""
        stored = self.decision(key)
        if stored is None:
            return
        tenant, decision_id = stored["tenantId"], stored["decisionId"]
        self.txn.delete(self._decisions, key)
        self.txn.delete(self._decisions_by_requirements, stored["decisionRequirementsKey"], decision_id)
        deployment_key = stored.get("deploymentKey", -1)
        if deployment_key is not None and deployment_key >= 0:
            self.txn.delete(self._decision_by_deployment, tenant, decision_id, deployment_key)
        # the versions left: through their graphs (a decision is always one graph's)
        remaining = [record for _k, graph in self.txn.items(self._decision_requirements)
                     if graph.get("tenantId") == tenant
                     for record in self.decisions_of_requirements(_k[0])  # type: ignore[arg-type]
                     if record["decisionId"] == decision_id]
        tag = stored.get("versionTag") or ""
        if tag and self.txn.get(self._decision_by_version_tag, tenant, decision_id, tag) == key:
            self.txn.delete(self._decision_by_version_tag, tenant, decision_id, tag)
            tagged = [(r["version"], r["decisionKey"]) for r in remaining if r.get("versionTag") == tag]
            if tagged:
                self.txn.put(self._decision_by_version_tag, (tenant, decision_id, tag), max(tagged)[1])
        if self.txn.get(self._latest_decisions, tenant, decision_id) == key:
            if remaining:
                latest = max(remaining, key=lambda r: r["version"])
                self.txn.put(self._latest_decisions, (tenant, decision_id), latest["decisionKey"])
            else:
                self.txn.delete(self._latest_decisions, tenant, decision_id)

    def delete_decision_requirements(self, key: int) -> None:
        """Forget a decision requirements graph version (its decisions go by their own events first)."""
        stored = self.decision_requirements(key)
        if stored is None:
            return
        tenant, drg_id = stored["tenantId"], stored["decisionRequirementsId"]
        self.txn.delete(self._decision_requirements, key)
        if self.txn.get(self._latest_decision_requirements, tenant, drg_id) == key:
            remaining = [graph for _k, graph in self.txn.items(self._decision_requirements)
                         if graph.get("tenantId") == tenant and graph.get("decisionRequirementsId") == drg_id]
            if remaining:
                latest = max(remaining, key=lambda g: g["decisionRequirementsVersion"])
                self.txn.put(self._latest_decision_requirements, (tenant, drg_id), latest["decisionRequirementsKey"])
            else:
                self.txn.delete(self._latest_decision_requirements, tenant, drg_id)

    # -- runtime instructions ----------------------------------------------------------------------

    def runtime_instructions(self, process_instance_key: int, element_id: str) -> list[dict[str, Any]]:
        """The runtime instructions given at the creation of a process instance that name ``element_id``
        as their ``afterElementId``, in the order given (Zeebe's getRuntimeInstructionsForElementId)."""
        if not self._may_hold(self._runtime_instructions):
            return []
        stored = self.txn.get(self._runtime_instructions, process_instance_key)
        if not stored:
            return []
        return [instruction for instruction in stored if instruction.get("afterElementId") == element_id]

    def set_runtime_instructions(self, process_instance_key: int, instructions: list[dict[str, Any]] | None) -> None:
        if instructions:
            self._possibly_filled[self._runtime_instructions] = True
            self.txn.put(self._runtime_instructions, (process_instance_key,), instructions)
        elif self._may_hold(self._runtime_instructions):
            self.txn.delete(self._runtime_instructions, process_instance_key)

    def _may_hold(self, cf: ColumnFamily) -> bool:
        """Whether ``cf`` (one of the families in ``_possibly_filled``) may hold a row."""
        possible = self._possibly_filled.get(cf)
        if possible is None:
            possible = self._possibly_filled[cf] = next(iter(self.txn.keys(cf)), None) is not None
        return possible

    def forget_derived(self) -> None:
        """After a failed transaction: forget what was derived from state that may have been rolled back."""
        self._possibly_filled.clear()

    # -- whole-state comparison (replay tests) -----------------------------------------------------

    def dump(self) -> dict[str, list[tuple[Any, Any]]]:
        """Every column family's content (tests compare a processed and a replayed state)."""
        result = {}
        for name in COLUMN_FAMILIES:
            if name == "exporter_positions":  # exporter progress, not event-sourced state
                continue
            cf = self.store.family(name)
            result[name] = list(self.txn.items(cf))
        return result
