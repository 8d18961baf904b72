"""DEPLOYMENT.CREATE: parse, validate and store BPMN, DMN and form resources; new versions only for changed ones.

Records follow the resources' order (PROCESS CREATED, DECISION_REQUIREMENTS and DECISION CREATED, FORM
CREATED), then DEPLOYMENT CREATED lists every process, decision and form, as Zeebe's
``DeploymentCreateProcessor`` writes them (DMN resources: ``_decisions``). A deployment whose every
resource equals the latest version of its process or form (for a form: same checksum and resource
name, as Zeebe compares them) writes no PROCESS/FORM records and lists the existing versions as
duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    DeploymentIntent,
    FormIntent,
    ProcessIntent,
    Record,
    RejectionType,
    ValueType,
    excerpt,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from .._limits import deployment_problems
from .._processes import ProcessCache
from ..bpmn import BpmnValidationError, element_label, parse_bpmn, rejection_lines, resource_label
from ..bpmn.behaviors import DecisionBehavior, ElementFailure, SignalSubscriber, TimerSubscriber
from ..bpmn.model import (
    CompileProblems,
    ExecutableProcess,
    ExecutableTimer,
    deployment_binding_problems,
    transform_process,
)
from ._decisions import (
    DMN_SUFFIX,
    DmnResource,
    DmnResourceError,
    deploy_dmn,
    is_latest_dmn,
    parse_dmn_resource,
)
from ._distribution import DEPLOYMENT_QUEUE, CommandDistributionBehavior
from ._forms import (
    FORM_SUFFIX,
    FormResource,
    FormResourceError,
    form_metadata,
    parse_form,
)

_BPMN_SUFFIXES = (".bpmn", ".xml")
#: Zeebe 8.8 writes FORM CREATED in record version 2 (the version that added the deployment key)
FORM_RECORD_VERSION = 2


#: (batch, process, its key, the previous version's key, tenant): opens the message start events
StartEventSubscriptions = Callable[[Batch, ExecutableProcess, int, "int | None", str], None]


def _reject(batch: Batch, command: Record, errors: list[str]) -> None:
    batch.reject(command, RejectionType.INVALID_ARGUMENT,
                 "Expected to deploy new resources, but encountered the following errors:\n" + "\n".join(errors))


class DeploymentProcessors:
    def __init__(self, processes: ProcessCache, timers: TimerSubscriber | None = None,
                 signals: SignalSubscriber | None = None,
                 message_start_events: StartEventSubscriptions | None = None,
                 decisions: DecisionBehavior | None = None,
                 distribution: CommandDistributionBehavior | None = None) -> None:
        self.decisions = decisions or DecisionBehavior()
        self.distribution = distribution
        self.signals = signals
        self.message_start_events = message_start_events
        self.processes = processes
        self.timers = timers

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, self.create_deployment)

    def create_deployment(self, batch: Batch, command: Record) -> None:
        distributed = self.distribution is not None and self.distribution.is_distributed(batch, command)
        if distributed and self.distribution is not None and self.distribution.received_before(batch, command):
            self.distribution.acknowledge(batch, command)  # a copy sent again: processed once already
            return
        resources = command.value.get("resources") or []
        if not resources:
            batch.reject(command, RejectionType.INVALID_ARGUMENT, "Expected to deploy at least one resource, but none given")
            return
        tenant = command.value.get("tenantId") or DEFAULT_TENANT
        errors: list[str] = []
        parsed: list[tuple[str, bytes, str, Any]] = []  # (resource name, bytes, checksum, compiled)
        forms: list[FormResource] = []
        # in the order of the resources: a process (a tuple of ``parsed``) or a form
        written: list[tuple[str, bytes, str, Any] | FormResource | DmnResource] = []
        dmns: list[DmnResource] = []
        seen_ids: dict[str, str] = {}
        seen_form_ids: dict[str, str] = {}
        seen_drg_ids: dict[str, str] = {}
        seen_decision_ids: dict[str, str] = {}
        for resource in resources:
            name = resource.get("resourceName") or ""
            data = resource.get("resource") or b""
            if name.lower().endswith(DMN_SUFFIX):
                problem = self._add_dmn(name, data, seen_drg_ids, seen_decision_ids, dmns, written)
                if problem:
                    errors.append(problem)
                continue
            if name.lower().endswith(FORM_SUFFIX):
                try:
                    form = parse_form(name, data, tenant)
                except FormResourceError as error:
                    errors.append(str(error))
                    continue
                if form.form_id in seen_form_ids:
                    errors.append("Expected the form ids to be unique within a deployment but found a duplicated id"
                                  f" {excerpt(form.form_id)} in the resources {resource_label(seen_form_ids[form.form_id])}"
                                  f" and {resource_label(name)}.")
                    continue
                seen_form_ids[form.form_id] = name
                forms.append(form)
                written.append(form)
                continue
            if not name.lower().endswith(_BPMN_SUFFIXES):
                kind = excerpt(name.rsplit(".", 1)[-1], 20) if "." in name else "(no extension)"
                errors.append(f"{resource_label(name)}: resources of type {kind} are not supported yet by"
                              " zeebe-trio; deploy BPMN files ending in .bpmn or .xml, decisions ending in .dmn, or forms"
                              " ending in .form")
                continue
            try:
                models = parse_bpmn(name, data)
            except BpmnValidationError as error:
                errors.append(str(error))
                continue
            checksum = hashlib.md5(data, usedforsecurity=False).hexdigest()
            compile_problems: list[str] = []  # of every process in this resource, listed within one bound
            for model in models:
                try:
                    compiled = transform_process(model)
                except CompileProblems as problems:
                    compile_problems.extend(problems.problems)
                    continue
                too_long = deployment_problems(model, element_label("process", model.bpmn_process_id, model.name),
                                               _node_label)
                if too_long:
                    compile_problems.extend(too_long)
                    continue
                if model.bpmn_process_id in seen_ids:
                    errors.append(f"Duplicated process id in resources {resource_label(seen_ids[model.bpmn_process_id])}"
                                  f" and {resource_label(name)}")
                    continue
                seen_ids[model.bpmn_process_id] = name
                parsed.append((name, data, checksum, compiled))
                written.append(parsed[-1])
            if compile_problems:
                errors.extend(rejection_lines(name, compile_problems))
        for name in dict.fromkeys(name for name, *_ in parsed):
            deployed = {"process": seen_ids, "form": seen_form_ids, "decision": seen_decision_ids}
            binding_problems = [problem for n, _data, _checksum, compiled in parsed if n == name
                                for problem in deployment_binding_problems(compiled, deployed)]
            if binding_problems:
                errors.extend(rejection_lines(name, binding_problems))
        if errors:
            _reject(batch, command, errors)
            return

        state = batch.state
        # As Zeebe: an unchanged resource is a duplicate only when the whole deployment is; otherwise
        # every resource gets a new version, so that the processes of one deployment are versioned
        # together (what a call activity's 'deployment' binding relies on).
        duplicates_only = all(
            state.latest_version(compiled.bpmn_process_id)
            and state.latest_digest(compiled.bpmn_process_id) == checksum
            for _name, _data, checksum, compiled in parsed) and all(
            _is_latest_form(state.latest_form(form.form_id, tenant), form) for form in forms) and all(
            is_latest_dmn(batch, dmn, tenant) for dmn in dmns)
        # A distributed deployment keeps the keys the deployment partition gave it and its resources.
        planned = _planned_keys(command.value) if distributed else None
        deployment_key = command.key if distributed else batch.next_key()
        metadata = []
        forms_metadata = []
        decisions_metadata: list[dict[str, Any]] = []
        requirements_metadata: list[dict[str, Any]] = []
        for entry in written:
            if isinstance(entry, DmnResource):
                with _keys_from(batch, planned, ("drg", entry.graph.id)):
                    drg, decisions = deploy_dmn(batch, entry, deployment_key, tenant, self.decisions,
                                                duplicate=duplicates_only)
                requirements_metadata.append(drg)
                decisions_metadata.extend(decisions)
                continue
            if isinstance(entry, FormResource):
                with _keys_from(batch, planned, ("form", entry.form_id)):
                    forms_metadata.append(self._deploy_form(batch, entry, deployment_key, tenant,
                                                            duplicate=duplicates_only))
                continue
            name, data, checksum, compiled = entry
            pid = compiled.bpmn_process_id
            latest = state.latest_version(pid)
            if duplicates_only:
                key = state.process_key_by_version(pid, latest)
                metadata.append(_metadata(pid, latest, key, name, checksum, tenant, duplicate=True))
                continue
            with _keys_from(batch, planned, ("process", pid)):
                key = batch.next_key()
            version = state.next_process_version(pid)
            batch.event(ValueType.PROCESS, ProcessIntent.CREATED, key, {
                **_metadata(pid, version, key, name, checksum, tenant, duplicate=False),
                "resource": data,
                "versionTag": compiled.version_tag or "",
                "deploymentKey": deployment_key,
            })
            self.processes.put(key, compiled)
            previous = state.process_key_by_version(pid, latest) if latest else None
            if not distributed:  # as Zeebe: timer start events fire on the deployment partition only
                self._subscribe_timer_start_events(batch, compiled, key, previous, tenant)
            self._subscribe_start_events(batch, compiled, key, previous, tenant)
            metadata.append(_metadata(pid, version, key, name, checksum, tenant, duplicate=False))
        created = batch.event(ValueType.DEPLOYMENT, DeploymentIntent.CREATED, deployment_key, {
            "resources": [{"resourceName": r.get("resourceName"), "resource": r.get("resource")} for r in resources],
            "processesMetadata": metadata,
            "decisionsMetadata": decisions_metadata,
            "decisionRequirementsMetadata": requirements_metadata,
            "formMetadata": forms_metadata,
            "tenantId": tenant,
            "deploymentKey": deployment_key,
        })
        batch.respond(command, created)
        if self.distribution is None:
            return
        if distributed:
            self.distribution.acknowledge(batch, command)
        else:
            self.distribution.distribute(batch, deployment_key, ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                                         created.value, queue=DEPLOYMENT_QUEUE)


    @staticmethod
    def _add_dmn(name: str, data: bytes, seen_drg_ids: dict[str, str], seen_decision_ids: dict[str, str],
                 dmns: list[DmnResource], written: list[Any]) -> str | None:
        """Parse a DMN resource into ``dmns``/``written``; the rejection line if it cannot be deployed."""
        try:
            dmn = parse_dmn_resource(name, data)
        except DmnResourceError as error:
            return str(error)
        drg_id = dmn.graph.id
        if drg_id in seen_drg_ids:
            return ("Expected the decision requirements ids to be unique within a deployment but found a duplicated"
                    f" id {excerpt(drg_id)} in the resources {resource_label(seen_drg_ids[drg_id])} and"
                    f" {resource_label(name)}.")
        for decision_id in dmn.graph.decisions:
            if decision_id in seen_decision_ids:
                return ("Expected the decision ids to be unique within a deployment but found a duplicated id"
                        f" {excerpt(decision_id)} in the resources {resource_label(seen_decision_ids[decision_id])}"
                        f" and {resource_label(name)}.")
        seen_drg_ids[drg_id] = name
        seen_decision_ids.update(dict.fromkeys(dmn.graph.decisions, name))
        dmns.append(dmn)
        written.append(dmn)
        return None

    @staticmethod
    def _deploy_form(batch: Batch, form: FormResource, deployment_key: int, tenant: str, *,
                     duplicate: bool) -> dict[str, Any]:
        """FORM CREATED for a new version of ``form``, or (``duplicate``) the latest version's metadata."""
        if duplicate:
            latest = batch.state.latest_form(form.form_id, tenant) or {}
            return form_metadata(form, latest["formKey"], latest["version"], latest["deploymentKey"], tenant,
                                 duplicate=True)
        key = batch.next_key()
        version = batch.state.next_form_version(form.form_id, tenant)
        metadata = form_metadata(form, key, version, deployment_key, tenant, duplicate=False)
        batch.event(ValueType.FORM, FormIntent.CREATED, key, {**metadata, "resource": form.resource},
                    version=FORM_RECORD_VERSION)
        return metadata

    def open_start_events(self, batch: Batch, process: ExecutableProcess, key: int, tenant: str, *,
                          timers: bool = True) -> None:
        """Open the timers and subscriptions of a version's start events (a version that becomes the
        latest again when the one after it is deleted); ``timers=False`` on a partition that received the
        deletion by distribution (timer start events live on the deployment partition only)."""
        if timers:
            self._subscribe_timer_start_events(batch, process, key, None, tenant)
        self._subscribe_start_events(batch, process, key, None, tenant)

    def _subscribe_start_events(self, batch: Batch, process: ExecutableProcess, key: int, previous_key: int | None,
                                tenant: str) -> None:
        """A new version's timer start events replace the previous version's (Zeebe: only the latest
        version of a process starts by timer; then its signal and message start events' subscriptions, likewise)."""
        if self.signals is not None:
            self.signals.subscribe_start_events(batch, process, key, previous_key, tenant)
        if self.message_start_events is not None:
            self.message_start_events(batch, process, key, previous_key, tenant)

    def _subscribe_timer_start_events(self, batch: Batch, process: ExecutableProcess, key: int,
                                      previous_key: int | None, tenant: str) -> None:
        if self.timers is None:
            return
        if previous_key is not None:
            self.timers.cancel_timers(batch, -previous_key)
        owner = {"processDefinitionKey": key, "tenantId": tenant}
        for start in process.start_events:
            definition = start.event_definition
            if not isinstance(definition, ExecutableTimer):
                continue
            try:
                timer = self.timers.timer_definition(batch, definition, -1)
            except ElementFailure:
                continue  # an expression that gives no timer without an instance's variables never fires
            self.timers.create_timer(batch, timer, timer.first_due(batch.now), start.id, -1, owner,
                                     -1 if timer.repetitions is None else timer.repetitions)


def _planned_keys(value: dict[str, Any]) -> dict[tuple[str, str], list[int]]:
    """The keys the deployment partition issued for a deployment's resources, from its metadata, by
    (kind, id): a decision requirements graph's key is followed by its decisions' keys, in order."""
    planned: dict[tuple[str, str], list[int]] = {}
    for process in value.get("processesMetadata") or []:
        if not process.get("isDuplicate"):
            planned[("process", process["bpmnProcessId"])] = [process["processDefinitionKey"]]
    for form in value.get("formMetadata") or []:
        if not form.get("isDuplicate"):
            planned[("form", form["formId"])] = [form["formKey"]]
    decisions = value.get("decisionsMetadata") or []
    for drg in value.get("decisionRequirementsMetadata") or []:
        if not drg.get("isDuplicate"):
            drg_key = drg["decisionRequirementsKey"]
            planned[("drg", drg["decisionRequirementsId"])] = [drg_key] + [
                decision["decisionKey"] for decision in decisions if decision.get("decisionRequirementsKey") == drg_key]
    return planned


@contextmanager
def _keys_from(batch: Batch, planned: dict[tuple[str, str], list[int]] | None, entry: tuple[str, str]) -> Iterator[None]:
    """Within the block, ``batch.next_key()`` hands out the planned keys of ``entry`` (a distributed
    deployment), then fresh ones; without a plan it is left alone."""
    if planned is None:
        yield
        return
    keys = list(planned.get(entry, ()))
    fresh = batch.next_key
    batch.next_key = lambda: keys.pop(0) if keys else fresh()
    try:
        yield
    finally:
        batch.next_key = fresh


def _is_latest_form(latest: dict[str, Any] | None, form: FormResource) -> bool:
    return (latest is not None and latest.get("checksum") == form.checksum
            and latest.get("resourceName") == form.resource_name)


def _node_label(node: Any) -> str:
    return element_label(node.element_type.name.lower().replace("_", " "), node.id, node.name)


def _metadata(pid: str, version: int, key: int | None, name: str, checksum: str, tenant: str,
              *, duplicate: bool) -> dict[str, Any]:
    return {
        "bpmnProcessId": pid,
        "version": version,
        "processDefinitionKey": key,
        "resourceName": name,
        "checksum": checksum,
        "isDuplicate": duplicate,
        "tenantId": tenant,
    }
