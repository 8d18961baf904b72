"""Appliers of deleted resources: PROCESS, DECISION, DECISION_REQUIREMENTS and FORM DELETED take a
version out of its column families (the previous version left becomes the latest again);
RESOURCE_DELETION DELETING/DELETED and PROCESS DELETING record the deletion and change no state.

PROCESS DELETING changes nothing here: Zeebe marks the process pending deletion, but it rejects the
deletion while instances run, so DELETED always follows in the same batch.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    DecisionIntent,
    DecisionRequirementsIntent,
    FormIntent,
    ProcessIntent,
    Record,
    ResourceDeletionIntent,
    ValueType,
)

from ..state import EngineState
from ._registry import EventAppliers, no_state_change


def _process_deleted(state: EngineState, record: Record) -> None:
    state.delete_process(record.value["processDefinitionKey"])


def _decision_deleted(state: EngineState, record: Record) -> None:
    state.delete_decision(record.value["decisionKey"])


def _decision_requirements_deleted(state: EngineState, record: Record) -> None:
    state.delete_decision_requirements(record.value["decisionRequirementsKey"])


def _form_deleted(state: EngineState, record: Record) -> None:
    state.delete_form(record.value["formKey"])


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETING, no_state_change)
    appliers.register(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETED, no_state_change)
    appliers.register(ValueType.PROCESS, ProcessIntent.DELETING, no_state_change)
    appliers.register(ValueType.PROCESS, ProcessIntent.DELETED, _process_deleted)
    appliers.register(ValueType.DECISION, DecisionIntent.DELETED, _decision_deleted, version=2)
    appliers.register(ValueType.DECISION_REQUIREMENTS, DecisionRequirementsIntent.DELETED,
                      _decision_requirements_deleted)
    appliers.register(ValueType.FORM, FormIntent.DELETED, _form_deleted, version=2)
