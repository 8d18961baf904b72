"""Decisions: DMN resources as DEPLOYMENT.CREATE reads and writes them, and DECISION_EVALUATION.EVALUATE.

A ``.dmn`` resource is one decision requirements graph (its ``definitions``) and its decisions. As
Zeebe's ``DmnResourceTransformer``: the graph is a duplicate when the latest version of its id has the
same resource name and checksum and every decision's latest version belongs to that graph; a decision
is a duplicate when its latest version belongs to the graph's (unchanged) version. Records:
DECISION_REQUIREMENTS CREATED, then DECISION CREATED per decision, in document order.

EVALUATE finds the decision by id (its latest version) or key, evaluates it with the command's
variables and writes DECISION_EVALUATION EVALUATED or FAILED (the response either way, as Zeebe's
``DecisionEvaluationEvaluteProcessor``); an unknown decision is an INVALID_ARGUMENT rejection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    DecisionEvaluationIntent,
    DecisionIntent,
    DecisionRequirementsIntent,
    Record,
    RejectionType,
    ValueType,
    excerpt,
)

from .._batch import Batch
from .._command_processors import CommandProcessors
from .._limits import MAX_ID_LENGTH
from ..bpmn import resource_label
from ..bpmn.behaviors import DecisionBehavior, DecisionLookupError
from ..dmn import DecisionRequirements, DmnParseError, parse_dmn

__all__ = ["DMN_SUFFIX", "DECISION_RECORD_VERSION", "DecisionEvaluationProcessors", "DmnResource",
           "DmnResourceError", "deploy_dmn", "is_latest_dmn", "parse_dmn_resource"]

DMN_SUFFIX = ".dmn"
#: Zeebe 8.8 writes DECISION CREATED in record version 2 (the version that added the deployment key)
DECISION_RECORD_VERSION = 2
_NO_IDENTIFIER = "Expected either a decision id or a valid decision key, but none provided"


class DmnResourceError(ValueError):
    """A ``.dmn`` resource that cannot be deployed; the message is one or more rejection lines."""


@dataclass(frozen=True, slots=True)
class DmnResource:
    resource_name: str
    resource: bytes
    checksum: str
    graph: DecisionRequirements


def parse_dmn_resource(resource_name: str, resource: bytes) -> DmnResource:
    """The decision requirements graph of a DMN resource; DmnResourceError naming every problem."""
    try:
        graph = parse_dmn(resource_name, resource)
    except DmnParseError as error:
        raise DmnResourceError(str(error)) from None
    label = resource_label(resource_name)
    if len(graph.id) > MAX_ID_LENGTH:
        raise DmnResourceError(f"The ID of a DRG must not be longer than the configured max-id-length of"
                               f" {MAX_ID_LENGTH} characters, but was {excerpt(graph.id)} in resource {label}")
    for decision_id in graph.decisions:
        if len(decision_id) > MAX_ID_LENGTH:
            raise DmnResourceError(f"The ID of a decision must not be longer than the configured max-id-length of"
                                   f" {MAX_ID_LENGTH} characters, but was {excerpt(decision_id)} in resource {label}")
    checksum = hashlib.md5(resource, usedforsecurity=False).hexdigest()
    return DmnResource(resource_name, resource, checksum, graph)


def is_latest_dmn(batch: Batch, dmn: DmnResource, tenant: str) -> bool:
    """Whether ``dmn`` equals the latest version of its graph (Zeebe's duplicate check)."""
    latest = batch.state.latest_decision_requirements(dmn.graph.id, tenant)
    if latest is None or latest.get("checksum") != dmn.checksum or latest.get("resourceName") != dmn.resource_name:
        return False
    drg_key = latest["decisionRequirementsKey"]
    return all((batch.state.latest_decision(decision_id, tenant) or {}).get("decisionRequirementsKey") == drg_key
               for decision_id in dmn.graph.decisions)


def _requirements_metadata(dmn: DmnResource, key: int, version: int, tenant: str, *,
                           duplicate: bool) -> dict[str, Any]:
    """A DEPLOYMENT record's ``decisionRequirementsMetadata`` entry."""
    return {
        "decisionRequirementsId": dmn.graph.id,
        "decisionRequirementsName": dmn.graph.name,
        "decisionRequirementsVersion": version,
        "decisionRequirementsKey": key,
        "namespace": dmn.graph.namespace,
        "resourceName": dmn.resource_name,
        "checksum": dmn.checksum,
        "isDuplicate": duplicate,
        "tenantId": tenant,
    }


def deploy_dmn(batch: Batch, dmn: DmnResource, deployment_key: int, tenant: str, decisions: DecisionBehavior, *,
               duplicate: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write the records of ``dmn`` (none for a ``duplicate`` deployment); its graph's and its decisions'
    DEPLOYMENT metadata."""
    state = batch.state
    if duplicate:
        latest = state.latest_decision_requirements(dmn.graph.id, tenant) or {}
        drg_key = latest["decisionRequirementsKey"]
        metadata = _requirements_metadata(dmn, drg_key, latest["decisionRequirementsVersion"], tenant,
                                          duplicate=True)
        decision_metadata = [{**(state.latest_decision(decision_id, tenant) or {}), "isDuplicate": True}
                             for decision_id in dmn.graph.decisions]
        return metadata, decision_metadata
    drg_key = batch.next_key()
    version = state.next_decision_requirements_version(dmn.graph.id, tenant)
    metadata = _requirements_metadata(dmn, drg_key, version, tenant, duplicate=False)
    batch.event(ValueType.DECISION_REQUIREMENTS, DecisionRequirementsIntent.CREATED, drg_key,
                {**metadata, "resource": dmn.resource, "deploymentKey": deployment_key})
    decisions.remember(drg_key, dmn.graph)
    decision_metadata = []
    for decision in dmn.graph.decisions.values():
        key = batch.next_key()
        value = {
            "decisionId": decision.id,
            "decisionName": decision.name,
            "version": state.next_decision_version(decision.id, tenant),
            "versionTag": decision.version_tag or "",
            "decisionKey": key,
            "decisionRequirementsId": dmn.graph.id,
            "decisionRequirementsKey": drg_key,
            "isDuplicate": False,
            "tenantId": tenant,
            "deploymentKey": deployment_key,
        }
        batch.event(ValueType.DECISION, DecisionIntent.CREATED, key, value, version=DECISION_RECORD_VERSION)
        decision_metadata.append(value)
    return metadata, decision_metadata


class DecisionEvaluationProcessors:
    def __init__(self, decisions: DecisionBehavior) -> None:
        self.decisions = decisions

    def register(self, processors: CommandProcessors) -> None:
        processors.add(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE, self.evaluate)

    def evaluate(self, batch: Batch, command: Record) -> None:
        value = command.value
        tenant = value.get("tenantId") or DEFAULT_TENANT
        decision_id = value.get("decisionId") or ""
        decision_key = value.get("decisionKey", -1)
        if decision_key is None:
            decision_key = -1
        try:
            if decision_id:
                decision = self.decisions.latest(batch, decision_id, tenant)
            elif decision_key > -1:
                decision = self.decisions.by_key(batch, decision_key, tenant)
            else:
                raise DecisionLookupError(_NO_IDENTIFIER)
            result = self.decisions.evaluate(batch, decision, value.get("variables") or {})
        except DecisionLookupError as error:
            batch.reject(command, RejectionType.INVALID_ARGUMENT, str(error))
            return
        key = batch.next_key()
        intent, event = self.decisions.evaluation_event(batch, decision, result, key)
        batch.respond(command, batch.event(ValueType.DECISION_EVALUATION, intent, key, event))
