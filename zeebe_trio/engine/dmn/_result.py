"""What an evaluation returns: the shape of Zeebe's DECISION_EVALUATION record and of the
EvaluateDecision response (``evaluatedDecisions`` with their inputs and matched rules).

Values are JSON-ready (``feel.to_json_value``): the records carry them as JSON. Field names are
Zeebe's in snake case (``decisionOutput`` -> ``decision_output``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._model import DecisionType

__all__ = ["DecisionResult", "EvaluatedDecision", "EvaluatedInput", "EvaluatedOutput", "MatchedRule"]


@dataclass(frozen=True, slots=True)
class EvaluatedInput:
    input_id: str
    input_name: str
    input_value: Any


@dataclass(frozen=True, slots=True)
class EvaluatedOutput:
    output_id: str
    output_name: str
    output_value: Any


@dataclass(frozen=True, slots=True)
class MatchedRule:
    rule_id: str
    rule_index: int  # 1-based, the row of the rule in its table
    evaluated_outputs: tuple[EvaluatedOutput, ...]


@dataclass(frozen=True, slots=True)
class EvaluatedDecision:
    """One decision of an evaluation. For a decision table the inputs and the matched rules (all the
    rules that matched, except for FIRST: only the first); for other decisions both are empty. A
    decision that failed has the output None."""

    decision_id: str
    decision_name: str
    decision_type: DecisionType
    decision_output: Any
    evaluated_inputs: tuple[EvaluatedInput, ...] = ()
    matched_rules: tuple[MatchedRule, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The result of evaluating a decision: its output and every decision evaluated on the way, in
    evaluation order (required decisions first, the decision itself last). On failure
    ``failed_decision_id`` is the decision that failed (the last one evaluated, or the decision asked
    for when none was) and ``failure_message`` reads as Zeebe's ("Expected to evaluate decision 'x',
    but ..."); both are empty strings on success."""

    decision_id: str
    decision_output: Any
    evaluated_decisions: tuple[EvaluatedDecision, ...]
    failed_decision_id: str = ""
    failure_message: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.failure_message)
