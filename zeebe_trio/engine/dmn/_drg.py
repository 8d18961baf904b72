"""A parsed DMN resource, the decision requirements graph, and its entry point for evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..feel import Monotonic
from ._evaluator import evaluate_decision
from ._model import BusinessKnowledgeModel, Decision
from ._result import DecisionResult

__all__ = ["DecisionRequirements"]


@dataclass(frozen=True, slots=True)
class DecisionRequirements:
    """The ``definitions`` of a DMN resource (its id and name are the decision requirements id and
    name), its decisions by id, in document order, and the business knowledge models they invoke."""

    id: str
    name: str
    namespace: str
    resource_name: str
    decisions: dict[str, Decision] = field(default_factory=dict)
    knowledge_models: dict[str, BusinessKnowledgeModel] = field(default_factory=dict)

    def evaluate(self, decision_id: str, variables: Mapping[str, Any], *,
                 now: Callable[[], datetime] | None = None, monotonic: Monotonic | None = None) -> DecisionResult:
        """Evaluate a decision (its required decisions first); see ``_evaluator``. ``now`` is the clock
        of FEEL's ``now()``/``today()``, ``monotonic`` turns on the FEEL time budget."""
        return evaluate_decision(self.decisions, decision_id, variables, now=now, monotonic=monotonic,
                                 knowledge_models=self.knowledge_models)
