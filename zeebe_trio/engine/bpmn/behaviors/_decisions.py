"""Deployed decisions: finding the version a request or a business rule task names, evaluating it,
and the DECISION_EVALUATION record value of the result (Zeebe's ``DecisionBehavior``).

The parsed decision requirements graphs are derived data, kept by DRG key and rebuilt from the stored
DMN resource whenever they miss (like the process cache): no snapshot needs them and replay cannot
disagree with them. Lookup failures read as Zeebe's ("Expected to evaluate decision 'x', but no
decision found for id 'x'").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from zeebe_trio.protocol import DecisionEvaluationIntent

from ..._batch import Batch
from ...dmn import DecisionRequirements, DecisionResult, DmnParseError, EvaluatedDecision, parse_dmn
from ...feel import Monotonic
from ..model import record_value
from ._variables import to_json_text

__all__ = ["DecisionBehavior", "DecisionLookupError"]


class DecisionLookupError(LookupError):
    """No deployed decision (or graph) for what was asked; the message is Zeebe's."""


class DecisionBehavior:
    """``monotonic`` is the clock of the FEEL time budget (as for every other expression)."""

    def __init__(self, monotonic: Monotonic | None = None, max_entries: int = 256) -> None:
        self.monotonic = monotonic
        self._max_entries = max_entries
        self._parsed: dict[int, DecisionRequirements] = {}

    # -- the parsed graphs ------------------------------------------------------------------------

    def remember(self, drg_key: int, parsed: DecisionRequirements) -> None:
        if len(self._parsed) >= self._max_entries:
            self._parsed.pop(next(iter(self._parsed)))
        self._parsed[drg_key] = parsed

    def clear(self) -> None:
        self._parsed.clear()

    def parsed_requirements(self, batch: Batch, decision: Mapping[str, Any]) -> DecisionRequirements:
        key = decision["decisionRequirementsKey"]
        parsed = self._parsed.get(key)
        if parsed is not None:
            return parsed
        stored = batch.state.decision_requirements(key)
        if stored is None:
            raise DecisionLookupError(f"Expected to evaluate decision '{decision['decisionId']}', but no drg found for"
                                      f" id '{decision['decisionRequirementsId']}'")
        try:
            parsed = parse_dmn(stored["resourceName"], stored["resource"])
        except DmnParseError as error:  # it was deployed, so it parsed then: a parser change since
            raise DecisionLookupError(f"Expected to evaluate decision '{decision['decisionId']}', but its stored"
                                      f" resource no longer parses: {error}") from None
        self.remember(key, parsed)
        return parsed

    # -- lookups ----------------------------------------------------------------------------------

    @staticmethod
    def latest(batch: Batch, decision_id: str, tenant_id: str) -> dict[str, Any]:
        found = batch.state.latest_decision(decision_id, tenant_id)
        if found is None:
            raise DecisionLookupError(f"Expected to evaluate decision '{decision_id}', but no decision found for id"
                                      f" '{decision_id}'")
        return found

    @staticmethod
    def by_key(batch: Batch, decision_key: int, tenant_id: str) -> dict[str, Any]:
        found = batch.state.decision(decision_key)
        if found is None or found.get("tenantId") != tenant_id:
            raise DecisionLookupError(f"Expected to evaluate decision '{decision_key}', but no decision found for key"
                                      f" '{decision_key}'")
        return found

    @staticmethod
    def by_deployment(batch: Batch, decision_id: str, deployment_key: int, tenant_id: str) -> dict[str, Any]:
        found = batch.state.decision_by_deployment(decision_id, deployment_key, tenant_id)
        if found is None:
            raise DecisionLookupError(
                f"Expected to evaluate decision '{decision_id}' with binding type 'deployment', but no such decision"
                f" found in the deployment with key {deployment_key} which contained the current process. To resolve"
                " this incident, migrate the process instance to a process definition that is deployed together"
                " with the intended decision to evaluate.")
        return found

    @staticmethod
    def by_version_tag(batch: Batch, decision_id: str, version_tag: str, tenant_id: str) -> dict[str, Any]:
        found = batch.state.decision_by_version_tag(decision_id, version_tag, tenant_id)
        if found is None:
            raise DecisionLookupError(
                f"Expected to evaluate decision with id '{decision_id}' and version tag '{version_tag}', but no such"
                " decision found. To resolve this incident, deploy a decision with the given id and version tag.")
        return found

    # -- evaluation -------------------------------------------------------------------------------

    def evaluate(self, batch: Batch, decision: Mapping[str, Any], variables: Mapping[str, Any]) -> DecisionResult:
        """Evaluate ``decision`` (a DECISION record value); DecisionLookupError if its graph is gone."""
        drg = self.parsed_requirements(batch, decision)
        result = drg.evaluate(decision["decisionId"], variables, now=batch.now_datetime, monotonic=self.monotonic)
        try:
            return _as_record_values(result)
        except OverflowError:
            return DecisionResult(result.decision_id, None, (), decision["decisionId"],
                                  f"Expected to evaluate decision '{decision['decisionId']}', but it produced a"
                                  " number too large for a variable (beyond a double's range)")

    @staticmethod
    def evaluation_event(batch: Batch, decision: Mapping[str, Any], result: DecisionResult, evaluation_key: int,
                         **process_fields: Any) -> tuple[DecisionEvaluationIntent, dict[str, Any]]:
        """The DECISION_EVALUATION EVALUATED (or FAILED) event value of ``result``; ``process_fields``
        name the process instance of a business rule task (processInstanceKey, elementId, ...)."""
        tenant = decision["tenantId"]
        versions = {d["decisionId"]: (d["decisionKey"], d["version"])
                    for d in batch.state.decisions_of_requirements(decision["decisionRequirementsKey"])}
        evaluated = [_evaluated_decision(entry, versions.get(entry.decision_id, (-1, -1)), tenant,
                                         f"{evaluation_key}-{index}")
                     for index, entry in enumerate(result.evaluated_decisions, start=1)]
        value: dict[str, Any] = {
            "decisionKey": decision["decisionKey"],
            "decisionId": decision["decisionId"],
            "decisionName": decision.get("decisionName", ""),
            "decisionVersion": decision["version"],
            "decisionRequirementsId": decision["decisionRequirementsId"],
            "decisionRequirementsKey": decision["decisionRequirementsKey"],
            "decisionOutput": "null" if result.failed else to_json_text(result.decision_output),
            "variables": {},
            "bpmnProcessId": "",
            "processDefinitionKey": -1,
            "processInstanceKey": -1,
            "elementId": "",
            "elementInstanceKey": -1,
            "evaluatedDecisions": evaluated,
            "evaluationFailureMessage": result.failure_message,
            "failedDecisionId": result.failed_decision_id,
            "tenantId": tenant,
        }
        value.update(process_fields)
        intent = DecisionEvaluationIntent.FAILED if result.failed else DecisionEvaluationIntent.EVALUATED
        return intent, value


def _as_record_values(result: DecisionResult) -> DecisionResult:
    """``result`` with its FEEL numbers as records hold them (integers, else doubles)."""
    def decision(entry: EvaluatedDecision) -> EvaluatedDecision:
        return dataclasses.replace(
            entry, decision_output=record_value(entry.decision_output),
            evaluated_inputs=tuple(dataclasses.replace(i, input_value=record_value(i.input_value))
                                   for i in entry.evaluated_inputs),
            matched_rules=tuple(dataclasses.replace(rule, evaluated_outputs=tuple(
                dataclasses.replace(o, output_value=record_value(o.output_value)) for o in rule.evaluated_outputs))
                for rule in entry.matched_rules))

    return dataclasses.replace(result, decision_output=record_value(result.decision_output),
                               evaluated_decisions=tuple(decision(e) for e in result.evaluated_decisions))


def _evaluated_decision(entry: EvaluatedDecision, key_and_version: tuple[int, int], tenant: str,
                        instance_key: str) -> dict[str, Any]:
    return {
        "decisionId": entry.decision_id,
        "decisionName": entry.decision_name,
        "decisionKey": key_and_version[0],
        "decisionVersion": key_and_version[1],
        "decisionType": entry.decision_type.value,
        "decisionOutput": to_json_text(entry.decision_output),
        "evaluatedInputs": [{"inputId": i.input_id, "inputName": i.input_name,
                             "inputValue": to_json_text(i.input_value)} for i in entry.evaluated_inputs],
        "matchedRules": [{"ruleId": rule.rule_id, "ruleIndex": rule.rule_index,
                          "evaluatedOutputs": [{"outputId": o.output_id, "outputName": o.output_name,
                                                "outputValue": to_json_text(o.output_value)}
                                               for o in rule.evaluated_outputs]}
                         for rule in entry.matched_rules],
        "tenantId": tenant,
        "decisionEvaluationInstanceKey": instance_key,
    }
