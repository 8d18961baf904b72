"""Appliers of DECISION and DECISION_REQUIREMENTS events: deployed versions enter the decision column
families. DECISION_EVALUATION events are an audit trail and change no state."""

from __future__ import annotations

from zeebe_trio.protocol import (
    DecisionEvaluationIntent,
    DecisionIntent,
    DecisionRequirementsIntent,
    Record,
    ValueType,
)

from ..state import EngineState
from ._registry import EventAppliers, no_state_change


def _decision_requirements_created(state: EngineState, record: Record) -> None:
    state.put_decision_requirements(record.key, record.value)


def _decision_created(state: EngineState, record: Record) -> None:
    state.put_decision(record.key, record.value)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.DECISION_REQUIREMENTS, DecisionRequirementsIntent.CREATED,
                      _decision_requirements_created)
    # version 1 (before 8.6) lacked the deployment key and the version tag; the applier reads both optionally
    appliers.register(ValueType.DECISION, DecisionIntent.CREATED, _decision_created)
    appliers.register(ValueType.DECISION, DecisionIntent.CREATED, _decision_created, version=2)
    appliers.register(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATED, no_state_change)
    appliers.register(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.FAILED, no_state_change)
