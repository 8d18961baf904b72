"""Test kit for exporters and the director: in-memory ports, a hand-driven controller and realistic
record sequences. Not imported by ``zeebe_trio.exporters``; third-party exporters may use it.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import trio

from zeebe_trio.protocol import (
    NO_KEY,
    IncidentIntent,
    Intent,
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    MessageSubscriptionIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    SignalIntent,
    SignalSubscriptionIntent,
    TimerIntent,
    UserTaskIntent,
    ValueType,
    VariableIntent,
    encode_key,
)

from ._api import Exporter, ExporterContext

# -- ports ------------------------------------------------------------------------------------------


class InMemoryPositionStore:
    """``ExporterPositionStore`` backed by a dict (survives a director restart if you keep it)."""

    def __init__(self, positions: Mapping[str, int] | None = None) -> None:
        self.positions: dict[str, int] = dict(positions or {})
        self._changed = trio.Event()

    def get(self, exporter_id: str) -> int:
        return self.positions.get(exporter_id, -1)

    def set(self, exporter_id: str, position: int) -> None:
        self.positions[exporter_id] = position
        self._changed.set()
        self._changed = trio.Event()

    async def wait_position(self, exporter_id: str, position: int) -> None:
        """Return once ``exporter_id`` has acknowledged ``position`` or more."""
        while self.get(exporter_id) < position:
            await self._changed.wait()
        await trio.lowlevel.checkpoint()


class InMemoryCommittedLog:
    """``CommittedRecordReader`` over a list; ``commit`` makes records visible and wakes readers."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self.records: list[Record] = []
        self._changed = trio.Event()
        self.reads = 0
        self.commit(records)

    def commit(self, records: Iterable[Record]) -> None:
        for record in records:
            if self.records and record.position <= self.records[-1].position:
                raise ValueError(f"position {record.position} is not after {self.records[-1].position}")
            self.records.append(record)
        self._changed.set()
        self._changed = trio.Event()

    async def read_after(self, position: int, max_records: int) -> list[Record]:
        self.reads += 1
        while True:
            start = bisect.bisect_right(self.records, position, key=lambda record: record.position)
            found = self.records[start:start + max_records]
            if found:
                await trio.lowlevel.checkpoint()
                return found
            await self._changed.wait()


# -- hand-driven controller -------------------------------------------------------------------------


@dataclass
class ManualTask:
    due: float
    task: Callable[[], Awaitable[None]]
    done: bool = False

    def cancel(self) -> None:
        self.done = True


@dataclass
class ManualController:
    """An ``ExporterController`` whose clock and scheduled tasks the test drives by hand."""

    position: int = -1
    now: float = 0.0
    acknowledged: list[int] = field(default_factory=list)
    tasks: list[ManualTask] = field(default_factory=list)

    @property
    def last_exported_position(self) -> int:
        return self.position

    def update_last_exported_position(self, position: int) -> None:
        self.acknowledged.append(position)
        self.position = max(self.position, position)

    def schedule_delayed_task(self, delay: float, task: Callable[[], Awaitable[None]]) -> ManualTask:
        handle = ManualTask(self.now + delay, task)
        self.tasks.append(handle)
        return handle

    @property
    def pending(self) -> list[ManualTask]:
        return [task for task in self.tasks if not task.done]

    def next_due(self) -> float:
        return min((task.due for task in self.pending), default=math.inf)

    async def advance(self, seconds: float) -> int:
        """Move the clock forward, running due tasks in due order; returns how many ran."""
        target = self.now + seconds
        ran = 0
        while (due := self.next_due()) <= target:
            task = min(self.pending, key=lambda item: item.due)
            self.now = due
            task.done = True
            await task.task()
            ran += 1
        self.now = target
        return ran


class ExporterHarness:
    """Drives one exporter through configure / open / export / close like the director does."""

    def __init__(self, exporter: Exporter, args: Mapping[str, Any], *, partition_id: int = 1,
                 exporter_id: str = "under-test", position: int = -1) -> None:
        self.exporter = exporter
        self.context = ExporterContext(exporter_id, partition_id, dict(args), logging.getLogger(exporter_id))
        self.controller = ManualController(position=position)

    def configure(self) -> ExporterContext:
        self.exporter.configure(self.context)
        return self.context

    async def open(self) -> None:
        await self.exporter.open(self.controller)

    async def export(self, records: Iterable[Record]) -> list[Record]:
        """Export the records the exporter's filter accepts; returns them."""
        accepted = [record for record in records if self.context.record_filter.accepts(record)]
        for record in accepted:
            await self.exporter.export(record)
        return accepted

    async def close(self) -> None:
        await self.exporter.close()


# -- realistic records ------------------------------------------------------------------------------

BASE_TIMESTAMP = 1_735_722_000_000  # 2025-01-01T09:00:00Z in epoch milliseconds


class RecordBuilder:
    """Builds positioned, timestamped records for one partition, like the engine writes them."""

    def __init__(self, partition_id: int = 1, *, start_position: int = 1,
                 start_timestamp: int = BASE_TIMESTAMP, tenant_id: str = "<default>") -> None:
        self.partition_id = partition_id
        self._positions = itertools.count(start_position)
        self._keys = itertools.count(1)
        self.timestamp = start_timestamp
        self.tenant_id = tenant_id
        self.records: list[Record] = []
        self._variable_keys: dict[tuple[int, str], int] = {}
        self._values: dict[int, dict[str, Any]] = {}  # the latest value of timers, subscriptions, user tasks

    def new_key(self) -> int:
        return encode_key(self.partition_id, next(self._keys))

    def tick(self, milliseconds: int) -> None:
        self.timestamp += milliseconds

    def record(self, value_type: ValueType, intent: Intent, value: dict[str, Any], *, key: int = NO_KEY,
               record_type: RecordType | None = None, source_position: int = -1, **extra: Any) -> Record:
        if record_type is None:
            record_type = RecordType.EVENT if intent.is_event else RecordType.COMMAND
        record = Record(
            record_type=record_type, value_type=value_type, intent=intent, value=value, key=key,
            position=next(self._positions), source_position=source_position, timestamp=self.timestamp,
            partition_id=self.partition_id, **extra,
        )
        self.records.append(record)
        return record

    def deploy_process(self, bpmn_process_id: str, version: int = 1) -> int:
        key = self.new_key()
        self.record(ValueType.PROCESS, ProcessIntent.CREATED, {
            "bpmnProcessId": bpmn_process_id, "version": version, "processDefinitionKey": key,
            "resourceName": f"{bpmn_process_id}.bpmn", "checksum": "", "resource": "",
            "tenantId": self.tenant_id,
        }, key=key)
        return key

    def _element(self, intent: ProcessInstanceIntent, key: int, common: dict[str, Any], element_id: str,
                 element_type: str, flow_scope_key: int) -> Record:
        return self.record(ValueType.PROCESS_INSTANCE, intent, {
            **common, "elementId": element_id, "bpmnElementType": element_type, "flowScopeKey": flow_scope_key,
            "bpmnEventType": "UNSPECIFIED",
        }, key=key)

    def process_instance(
        self,
        bpmn_process_id: str,
        process_definition_key: int,
        *,
        tasks: Iterable[str] = ("charge",),
        worker: str = "worker-1",
        fail_first_attempt: bool = False,
        incident: bool = False,
        complete: bool = True,
        variables: Mapping[str, Any] | None = None,
        step_ms: int = 10,
    ) -> int:
        """One instance: start event, one service task (job) per task id, end event; returns its key.

        ``fail_first_attempt`` fails each job once (retries 3 -> 2); ``incident`` fails it with no
        retries, raises an incident and resolves it; ``complete=False`` leaves the instance waiting
        on its first job.
        """
        pi_key = self.new_key()
        common = {"bpmnProcessId": bpmn_process_id, "version": 1, "processDefinitionKey": process_definition_key,
                  "processInstanceKey": pi_key, "parentProcessInstanceKey": -1, "parentElementInstanceKey": -1,
                  "tenantId": self.tenant_id}
        PI = ProcessInstanceIntent
        creation = {"bpmnProcessId": bpmn_process_id, "version": -1, "processDefinitionKey": -1,
                    "variables": dict(variables or {}), "tenantId": self.tenant_id}
        command = self.record(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, creation)
        self.record(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED,
                    {**creation, "version": 1, "processDefinitionKey": process_definition_key,
                     "processInstanceKey": pi_key}, key=pi_key, source_position=command.position)
        self._element(PI.ELEMENT_ACTIVATING, pi_key, common, bpmn_process_id, "PROCESS", -1)
        self._element(PI.ELEMENT_ACTIVATED, pi_key, common, bpmn_process_id, "PROCESS", -1)
        for name, value in (variables or {}).items():
            self.variable(name, value, scope_key=pi_key, process_instance_key=pi_key, common=common)
        start_key = self.new_key()
        for intent in (PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED, PI.ELEMENT_COMPLETING, PI.ELEMENT_COMPLETED):
            self._element(intent, start_key, common, "start", "START_EVENT", pi_key)
        for task_id in tasks:
            self.tick(step_ms)
            task_key = self.new_key()
            self._element(PI.ELEMENT_ACTIVATING, task_key, common, task_id, "SERVICE_TASK", pi_key)
            self._element(PI.ELEMENT_ACTIVATED, task_key, common, task_id, "SERVICE_TASK", pi_key)
            job_key = self.new_key()
            job = {"type": task_id, "worker": "", "retries": 3, "deadline": -1, "errorMessage": "",
                   "errorCode": "", "customHeaders": {}, "variables": {}, "elementId": task_id,
                   "elementInstanceKey": task_key, "bpmnProcessId": bpmn_process_id,
                   "processDefinitionVersion": 1, "processDefinitionKey": process_definition_key,
                   "processInstanceKey": pi_key, "tenantId": self.tenant_id}
            self.record(ValueType.JOB, JobIntent.CREATED, dict(job), key=job_key)
            if not complete:
                return pi_key
            self._activate(job_key, job, worker, step_ms)
            if fail_first_attempt:
                self.tick(step_ms)
                self.record(ValueType.JOB, JobIntent.FAILED,
                            {**job, "worker": worker, "retries": 2, "errorMessage": "card declined"}, key=job_key)
                job["retries"] = 2
                self._activate(job_key, job, worker, step_ms)
            if incident:
                self.tick(step_ms)
                self.record(ValueType.JOB, JobIntent.FAILED,
                            {**job, "worker": worker, "retries": 0, "errorMessage": "no route to host"},
                            key=job_key)
                incident_key = self.new_key()
                incident_value = {"errorType": "JOB_NO_RETRIES", "errorMessage": "no route to host",
                                  "bpmnProcessId": bpmn_process_id, "processDefinitionKey": process_definition_key,
                                  "processInstanceKey": pi_key, "elementId": task_id,
                                  "elementInstanceKey": task_key, "jobKey": job_key,
                                  "variableScopeKey": task_key, "tenantId": self.tenant_id}
                self.record(ValueType.INCIDENT, IncidentIntent.CREATED, incident_value, key=incident_key)
                self.tick(60_000)
                self.record(ValueType.JOB, JobIntent.RETRIES_UPDATED, {**job, "retries": 1}, key=job_key)
                self.record(ValueType.INCIDENT, IncidentIntent.RESOLVED, incident_value, key=incident_key)
                job["retries"] = 1
                self._activate(job_key, job, worker, step_ms)
            self.tick(step_ms)
            self.record(ValueType.JOB, JobIntent.COMPLETE, {"variables": {"paid": True}}, key=job_key)
            self.record(ValueType.JOB, JobIntent.COMPLETED, {**job, "worker": worker,
                                                            "variables": {"paid": True}}, key=job_key)
            self.variable("paid", True, scope_key=pi_key, process_instance_key=pi_key, common=common)
            self._element(PI.ELEMENT_COMPLETING, task_key, common, task_id, "SERVICE_TASK", pi_key)
            self._element(PI.ELEMENT_COMPLETED, task_key, common, task_id, "SERVICE_TASK", pi_key)
        end_key = self.new_key()
        for intent in (PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED, PI.ELEMENT_COMPLETING, PI.ELEMENT_COMPLETED):
            self._element(intent, end_key, common, "end", "END_EVENT", pi_key)
        self.tick(step_ms)
        self._element(PI.ELEMENT_COMPLETING, pi_key, common, bpmn_process_id, "PROCESS", -1)
        self._element(PI.ELEMENT_COMPLETED, pi_key, common, bpmn_process_id, "PROCESS", -1)
        return pi_key

    def _activate(self, job_key: int, job: dict[str, Any], worker: str, step_ms: int) -> None:
        self.tick(step_ms)
        activated = {**job, "worker": worker, "deadline": self.timestamp + 300_000}
        self.record(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATED, {
            "type": job["type"], "worker": worker, "timeout": 300_000, "maxJobsToActivate": 32,
            "jobKeys": [job_key], "jobs": [activated], "truncated": False, "tenantIds": [self.tenant_id],
        }, key=self.new_key())

    def variable(self, name: str, value: Any, *, scope_key: int, process_instance_key: int,
                 common: Mapping[str, Any] | None = None) -> Record:
        import json

        existing = self._variable_keys.get((scope_key, name))
        key = existing if existing is not None else self.new_key()
        self._variable_keys[(scope_key, name)] = key
        common = common or {}
        return self.record(ValueType.VARIABLE, VariableIntent.UPDATED if existing else VariableIntent.CREATED, {
            "name": name, "value": json.dumps(value), "scopeKey": scope_key,
            "processInstanceKey": process_instance_key,
            "processDefinitionKey": common.get("processDefinitionKey", -1),
            "bpmnProcessId": common.get("bpmnProcessId", ""), "tenantId": self.tenant_id,
        }, key=key)

    def publish_message(self, name: str, correlation_key: str, *, ttl_ms: int = 60_000,
                        expire: bool = False) -> int:
        key = self.new_key()
        value = {"name": name, "correlationKey": correlation_key, "messageId": f"msg-{key}",
                 "timeToLive": ttl_ms, "deadline": self.timestamp + ttl_ms, "variables": {"amount": 42},
                 "tenantId": self.tenant_id}
        self.record(ValueType.MESSAGE, MessageIntent.PUBLISH, {**value, "deadline": -1},
                    record_type=RecordType.COMMAND)
        self.record(ValueType.MESSAGE, MessageIntent.PUBLISHED, value, key=key)
        if expire:
            self.tick(ttl_ms)
            self.record(ValueType.MESSAGE, MessageIntent.EXPIRED, value, key=key)
        return key


    # -- BPMN events: timers, message and signal subscriptions, user tasks -----------------------------
    # ``scope`` is what the waiting element knows of its instance: processInstanceKey,
    # processDefinitionKey and bpmnProcessId (``element_scope`` builds it).

    def element_scope(self, process_instance_key: int, process_definition_key: int,
                      bpmn_process_id: str) -> dict[str, Any]:
        return {"processInstanceKey": process_instance_key, "processDefinitionKey": process_definition_key,
                "bpmnProcessId": bpmn_process_id, "tenantId": self.tenant_id}

    def timer(self, scope: Mapping[str, Any], *, element_instance_key: int, target_element_id: str,
              due_in_ms: int, repetitions: int = 1) -> int:
        """TIMER CREATED for a catch or boundary event (a timer start event has no instance: pass
        processInstanceKey -1 and element_instance_key -1); returns the timer's key."""
        key = self.new_key()
        value = {"elementInstanceKey": element_instance_key, "processInstanceKey": scope["processInstanceKey"],
                 "processDefinitionKey": scope["processDefinitionKey"], "dueDate": self.timestamp + due_in_ms,
                 "repetitions": repetitions, "targetElementId": target_element_id, "tenantId": self.tenant_id}
        self._values[key] = value
        self.record(ValueType.TIMER, TimerIntent.CREATED, dict(value), key=key)
        return key

    def trigger_timer(self, key: int) -> None:
        """The due timer fires: the TRIGGER command the due-date checker writes, then TRIGGERED."""
        value = self._values[key]
        self.timestamp = max(self.timestamp, value["dueDate"])
        command = self.record(ValueType.TIMER, TimerIntent.TRIGGER, dict(value), key=key)
        self.record(ValueType.TIMER, TimerIntent.TRIGGERED, dict(value), key=key, source_position=command.position)

    def cancel_timer(self, key: int) -> None:
        """The element left before the timer was due (TIMER CANCELED, an event of that element's processing)."""
        self.record(ValueType.TIMER, TimerIntent.CANCELED, dict(self._values[key]), key=key)

    def open_message_subscription(self, scope: Mapping[str, Any], *, element_instance_key: int, element_id: str,
                                  message_name: str, correlation_key: str,
                                  interrupting: bool = True) -> tuple[int, int]:
        """Both sides of a message catch: PROCESS_MESSAGE_SUBSCRIPTION CREATING, MESSAGE_SUBSCRIPTION
        CREATE/CREATED (the message side), PROCESS_MESSAGE_SUBSCRIPTION CREATE/CREATED. Returns the
        message subscription's key and the process message subscription's key."""
        common = {"processInstanceKey": scope["processInstanceKey"], "elementInstanceKey": element_instance_key,
                  "processDefinitionKey": scope["processDefinitionKey"], "bpmnProcessId": scope["bpmnProcessId"],
                  "messageName": message_name, "correlationKey": correlation_key, "messageKey": -1,
                  "interrupting": interrupting, "variables": {}, "tenantId": self.tenant_id}
        process_key = self.new_key()
        process_value = {**common, "elementId": element_id}
        self._values[process_key] = process_value
        self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.CREATING,
                    dict(process_value), key=process_key)
        create = self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.CREATE, dict(common))
        key = self.new_key()
        self._values[key] = dict(common)
        self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.CREATED, dict(common), key=key,
                    source_position=create.position)
        confirm = self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.CREATE,
                              dict(process_value), key=process_key)
        self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.CREATED,
                    dict(process_value), key=process_key, source_position=confirm.position)
        return key, process_key

    def correlate_message_subscription(self, keys: tuple[int, int], message_key: int,
                                       variables: Mapping[str, Any] | None = None) -> None:
        """A published message reaches the subscription: MESSAGE_SUBSCRIPTION CORRELATING, the process
        side's CORRELATE/CORRELATED, then the message side's CORRELATE/CORRELATED."""
        key, process_key = keys
        value = {**self._values[key], "messageKey": message_key, "variables": dict(variables or {})}
        process_value = {**self._values[process_key], "messageKey": message_key, "variables": dict(variables or {})}
        self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.CORRELATING, dict(value), key=key)
        command = self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.CORRELATE,
                              dict(process_value), key=process_key)
        self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.CORRELATED,
                    dict(process_value), key=process_key, source_position=command.position)
        command = self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.CORRELATE, dict(value), key=key)
        self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.CORRELATED, dict(value), key=key,
                    source_position=command.position)

    def close_message_subscription(self, keys: tuple[int, int]) -> None:
        """The waiting element left without (or after a non-interrupting) correlation: the process side's
        DELETING, the message side's DELETE/DELETED, the process side's DELETE/DELETED."""
        key, process_key = keys
        self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.DELETING,
                    dict(self._values[process_key]), key=process_key)
        command = self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.DELETE,
                              dict(self._values[key]), key=key)
        self.record(ValueType.MESSAGE_SUBSCRIPTION, MessageSubscriptionIntent.DELETED, dict(self._values[key]),
                    key=key, source_position=command.position)
        command = self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.DELETE,
                              dict(self._values[process_key]), key=process_key)
        self.record(ValueType.PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent.DELETED,
                    dict(self._values[process_key]), key=process_key, source_position=command.position)

    def signal_subscription(self, signal_name: str, *, process_definition_key: int, bpmn_process_id: str,
                            catch_event_id: str, catch_event_instance_key: int = -1) -> int:
        """SIGNAL_SUBSCRIPTION CREATED: a start event's (deployment, no instance key) or a waiting catch
        event's; returns its key."""
        key = self.new_key()
        value = {"signalName": signal_name, "catchEventId": catch_event_id,
                 "catchEventInstanceKey": catch_event_instance_key, "bpmnProcessId": bpmn_process_id,
                 "processDefinitionKey": process_definition_key, "tenantId": self.tenant_id}
        self._values[key] = value
        self.record(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.CREATED, dict(value), key=key)
        return key

    def delete_signal_subscription(self, key: int) -> None:
        self.record(ValueType.SIGNAL_SUBSCRIPTION, SignalSubscriptionIntent.DELETED, dict(self._values[key]), key=key)

    def broadcast_signal(self, signal_name: str, variables: Mapping[str, Any] | None = None) -> Record:
        """SIGNAL BROADCAST (the client's command) and BROADCASTED; returns the BROADCASTED event. The
        caller writes what the broadcast triggers (catch events' subscriptions deleted, ...)."""
        value = {"signalName": signal_name, "variables": dict(variables or {}), "tenantId": self.tenant_id}
        command = self.record(ValueType.SIGNAL, SignalIntent.BROADCAST, dict(value))
        return self.record(ValueType.SIGNAL, SignalIntent.BROADCASTED, dict(value), key=self.new_key(),
                           source_position=command.position)

    def user_task(self, scope: Mapping[str, Any], *, element_instance_key: int, element_id: str,
                  candidate_groups: Iterable[str] = (), candidate_users: Iterable[str] = (), due_date: str = "",
                  priority: int = 50) -> int:
        """USER_TASK CREATING and CREATED for a zeebe:userTask; returns the user task's key."""
        key = self.new_key()
        value = {"userTaskKey": key, "assignee": "", "candidateGroupsList": list(candidate_groups),
                 "candidateUsersList": list(candidate_users), "dueDate": due_date, "followUpDate": "",
                 "formKey": -1, "externalFormReference": "", "customHeaders": {}, "changedAttributes": [],
                 "action": "", "creationTimestamp": self.timestamp, "elementId": element_id,
                 "elementInstanceKey": element_instance_key, "bpmnProcessId": scope["bpmnProcessId"],
                 "processDefinitionVersion": 1, "processDefinitionKey": scope["processDefinitionKey"],
                 "processInstanceKey": scope["processInstanceKey"], "priority": priority, "variables": {},
                 "tenantId": self.tenant_id}
        self._values[key] = value
        self.record(ValueType.USER_TASK, UserTaskIntent.CREATING, dict(value), key=key)
        self.record(ValueType.USER_TASK, UserTaskIntent.CREATED, dict(value), key=key)
        return key

    def _user_task_transition(self, key: int, command: UserTaskIntent, transitional: UserTaskIntent,
                              final: UserTaskIntent, changes: Mapping[str, Any], action: str) -> None:
        value = {**self._values[key], **changes, "changedAttributes": sorted(set(changes) - {"variables"}),
                 "action": action}
        request = self.record(ValueType.USER_TASK, command, {**value, "variables": {}}, key=key)
        self.record(ValueType.USER_TASK, transitional, dict(value), key=key, source_position=request.position)
        self.record(ValueType.USER_TASK, final, dict(value), key=key, source_position=request.position)
        self._values[key] = {**value, "variables": {}}

    def assign_user_task(self, key: int, assignee: str) -> None:
        """USER_TASK ASSIGN (the client's command), ASSIGNING and ASSIGNED; ``""`` unassigns."""
        self._user_task_transition(key, UserTaskIntent.ASSIGN, UserTaskIntent.ASSIGNING, UserTaskIntent.ASSIGNED,
                                   {"assignee": assignee}, "assign")

    def update_user_task(self, key: int, **changes: Any) -> None:
        """USER_TASK UPDATE, UPDATING and UPDATED with some of Zeebe's attributes (dueDate, priority, ...)."""
        self._user_task_transition(key, UserTaskIntent.UPDATE, UserTaskIntent.UPDATING, UserTaskIntent.UPDATED,
                                   changes, "update")

    def complete_user_task(self, key: int, variables: Mapping[str, Any] | None = None) -> None:
        """USER_TASK COMPLETE (the client's command), COMPLETING and COMPLETED."""
        self._user_task_transition(key, UserTaskIntent.COMPLETE, UserTaskIntent.COMPLETING,
                                   UserTaskIntent.COMPLETED, {"variables": dict(variables or {})}, "complete")

    def cancel_user_task(self, key: int) -> None:
        """The element was terminated: USER_TASK CANCELING and CANCELED."""
        value = dict(self._values[key])
        self.record(ValueType.USER_TASK, UserTaskIntent.CANCELING, dict(value), key=key)
        self.record(ValueType.USER_TASK, UserTaskIntent.CANCELED, dict(value), key=key)


def realistic_records(instances: int, *, partition_id: int = 1) -> Iterator[Record]:
    """A deployment followed by ``instances`` process instances with a mix of outcomes."""
    builder = RecordBuilder(partition_id)
    definition = builder.deploy_process("order")
    for number in range(instances):
        builder.process_instance(
            "order", definition, tasks=("reserve", "charge"),
            fail_first_attempt=number % 10 == 3, incident=number % 50 == 7,
            variables={"orderId": number, "customer": {"id": number % 97, "tier": "gold"}},
        )
        yield from builder.records
        builder.records.clear()
