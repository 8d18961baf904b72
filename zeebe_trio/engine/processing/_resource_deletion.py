"""RESOURCE_DELETION.DELETE: delete a deployed process, decision requirements graph or form by its key.

As Zeebe 8.8's ``ResourceDeletionDeleteProcessor`` writes it: RESOURCE_DELETION DELETING, then for a
process PROCESS DELETING (its start events' timers and subscriptions closed and the previous
version's opened, when it was the latest version) and PROCESS DELETED; for a decision requirements
graph DECISION DELETED per decision and DECISION_REQUIREMENTS DELETED; for a form FORM DELETED; then
RESOURCE_DELETION DELETED. The client is answered with the DELETING event.

A process version with instances still running is not deleted: the command is rejected with
INVALID_STATE (Zeebe rolls back what it wrote before finding them; we look first and write nothing).
An unknown key is rejected with NOT_FOUND.

With several partitions the deletion is distributed to every other partition in the deployments'
queue (after the deployment that created the resource), under the key of RESOURCE_DELETION DELETING;
each deletes its copy the same way and acknowledges. A partition that does not know the resource
(a copy sent again) rejects with NOT_FOUND and still acknowledges. One with instances of the process
still running rejects with INVALID_STATE and keeps its copy; unlike Zeebe (which leaves that
distribution unacknowledged, to be retried) it acknowledges too, because every later deployment to that
partition waits in the same queue behind it. When the deleted version was the latest, the previous
version's message and signal start events open again on every partition, its timer start events on the
deployment partition only (where deployments put them).
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    DecisionIntent,
    DecisionRequirementsIntent,
    FormIntent,
    MessageStartEventSubscriptionIntent,
    ProcessIntent,
    Record,
    RejectionType,
    ResourceDeletionIntent,
    ValueType,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import SignalSubscriber, TimerSubscriber
from ._decisions import DECISION_RECORD_VERSION
from ._deployment import FORM_RECORD_VERSION, DeploymentProcessors
from ._distribution import DEPLOYMENT_QUEUE, CommandDistributionBehavior


class ResourceDeletionProcessors:
    """``deployment`` opens the start events of a version that becomes the latest again, the way a
    deployment opens a new version's."""

    def __init__(self, deployment: DeploymentProcessors, timers: TimerSubscriber | None = None,
                 signals: SignalSubscriber | None = None,
                 distribution: CommandDistributionBehavior | None = None) -> None:
        self.deployment = deployment
        self.distribution = distribution
        self.timers = timers
        self.signals = signals

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE, self.delete_resource)

    def delete_resource(self, batch: Batch, command: Record) -> None:
        distribution = self.distribution
        distributed = distribution is not None and distribution.is_distributed(batch, command)
        if distributed and distribution is not None and distribution.received_before(batch, command):
            distribution.acknowledge(batch, command)
            return
        state = batch.state
        resource_key = command.value.get("resourceKey", -1)
        value = {**command.value, "resourceKey": resource_key,
                 "tenantId": command.value.get("tenantId") or DEFAULT_TENANT}
        value.setdefault("deleteHistory", False)
        process = state.process(resource_key) if isinstance(resource_key, int) else None
        drg = state.decision_requirements(resource_key) if isinstance(resource_key, int) else None
        form = state.form(resource_key) if isinstance(resource_key, int) else None
        if process is None and drg is None and form is None:
            batch.reject(command, RejectionType.NOT_FOUND,
                         f"Expected to delete resource but no resource found with key `{resource_key}`")
            if distributed and distribution is not None:
                distribution.acknowledge(batch, command)
            return
        if process is not None and state.has_instances_of_process(resource_key):
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to delete resource with key `{resource_key}` but there are still running"
                         " instances")
            if distributed and distribution is not None:
                # unlike Zeebe, acknowledged: the deployments queued behind it must not wait for these instances
                distribution.acknowledge(batch, command)
            return
        event_key = command.key if distributed else batch.next_key()
        deleting = batch.event(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETING, event_key, value)
        if process is not None:
            self._delete_process(batch, resource_key, process, distributed=distributed)
        elif drg is not None:
            self._delete_decision_requirements(batch, drg)
        elif form is not None:
            record = _pick(form, ("formId", "formKey", "tenantId", "resourceName", "resource", "checksum", "version",
                                  "versionTag", "deploymentKey"))
            batch.event(ValueType.FORM, FormIntent.DELETED, batch.next_key(), record, version=FORM_RECORD_VERSION)
        batch.event(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETED, event_key, value)
        if distribution is not None:
            if distributed:
                distribution.acknowledge(batch, command)
            else:
                distribution.distribute(batch, event_key, ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE,
                                        value, queue=DEPLOYMENT_QUEUE)
        batch.respond(command, deleting)

    def _delete_process(self, batch: Batch, key: int, process: dict[str, Any], *, distributed: bool = False) -> None:
        state = batch.state
        pid, version, tenant = process["bpmnProcessId"], process["version"], process.get("tenantId", DEFAULT_TENANT)
        # Zeebe leaves the checksum and the resource out of these events (the batch's size)
        record = {
            "bpmnProcessId": pid, "version": version, "processDefinitionKey": key,
            "resourceName": process.get("resourceName", ""), "checksum": "", "isDuplicate": False,
            "tenantId": tenant, "resource": b"", "versionTag": process.get("versionTag") or "",
            "deploymentKey": process.get("deploymentKey", -1),
        }
        batch.event(ValueType.PROCESS, ProcessIntent.DELETING, batch.next_key(), record)
        if state.latest_version(pid) == version:
            self._close_start_events(batch, key)
            previous_version = state.process_version_before(pid, version)
            previous_key = None if previous_version is None else state.process_key_by_version(pid, previous_version)
            previous = None if previous_key is None else state.processes.get(previous_key)
            if previous_key is not None and previous is not None:
                # timer start events live on the deployment partition only
                self.deployment.open_start_events(batch, previous, previous_key, tenant, timers=not distributed)
        batch.event(ValueType.PROCESS, ProcessIntent.DELETED, batch.next_key(), record)

    def _close_start_events(self, batch: Batch, key: int) -> None:
        """The timers, message and signal subscriptions of a process's start events (owned by the negated
        definition key, or carrying it)."""
        if self.timers is not None:
            self.timers.cancel_timers(batch, -key)
        for subscription in batch.state.message_start_subscriptions_of(key):
            batch.event(ValueType.MESSAGE_START_EVENT_SUBSCRIPTION, MessageStartEventSubscriptionIntent.DELETED,
                        subscription["subscriptionKey"],
                        {name: v for name, v in subscription.items() if name != "subscriptionKey"})
        if self.signals is not None:
            self.signals.close(batch, -key)

    @staticmethod
    def _delete_decision_requirements(batch: Batch, drg: dict[str, Any]) -> None:
        for decision in batch.state.decisions_of_requirements(drg["decisionRequirementsKey"]):
            record = _pick(decision, ("decisionId", "decisionName", "version", "versionTag", "decisionKey",
                                      "decisionRequirementsId", "decisionRequirementsKey", "tenantId", "deploymentKey"))
            batch.event(ValueType.DECISION, DecisionIntent.DELETED, batch.next_key(), record,
                        version=DECISION_RECORD_VERSION)
        record = _pick(drg, ("decisionRequirementsId", "decisionRequirementsName", "decisionRequirementsVersion",
                             "decisionRequirementsKey", "resourceName", "checksum", "resource", "tenantId"))
        batch.event(ValueType.DECISION_REQUIREMENTS, DecisionRequirementsIntent.DELETED, batch.next_key(), record)


def _pick(stored: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a stored record that Zeebe writes in its DELETED event."""
    return {name: stored[name] for name in names if name in stored}
