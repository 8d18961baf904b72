"""Event appliers: one per (value type, intent, record version), the only code that changes engine state.

Used both while processing (``Batch.event`` applies each event as it is written) and while replaying
the log, so state built either way is identical. ``event_appliers()`` builds the complete registry.
"""

from zeebe_trio.protocol import AdHocSubProcessInstructionIntent, DeploymentIntent, SignalIntent, ValueType

from . import (
    _compensations,
    _decisions,
    _distribution,
    _escalations,
    _events,
    _forms,
    _incidents,
    _jobs,
    _message_subscriptions,
    _messages,
    _migration,
    _multi_instance,
    _process_instance,
    _resource_deletion,
    _runtime_instructions,
    _signals,
    _user_tasks,
    _variables,
)
from ._registry import Applier, EventAppliers, NoApplierError, no_state_change

__all__ = ["Applier", "EventAppliers", "NoApplierError", "event_appliers"]


def event_appliers() -> EventAppliers:
    appliers = EventAppliers()
    for module in (_process_instance, _variables, _jobs, _incidents, _messages, _events, _user_tasks, _message_subscriptions,
                   _multi_instance):
        module.register(appliers)
    for module in (_signals, _escalations):
        module.register(appliers)
    _compensations.register(appliers)
    _forms.register(appliers)
    _migration.register(appliers)
    _decisions.register(appliers)
    _resource_deletion.register(appliers)
    _runtime_instructions.register(appliers)
    # Events that record what happened and change no state of their own (the deployment's processes
    # arrive as PROCESS CREATED events; a broadcast reaches subscriptions through their own events).
    appliers.register(ValueType.DEPLOYMENT, DeploymentIntent.CREATED, no_state_change)
    appliers.register(ValueType.SIGNAL, SignalIntent.BROADCASTED, no_state_change)
    # the activated elements' own events carry the state
    appliers.register(ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION, AdHocSubProcessInstructionIntent.ACTIVATED,
                      no_state_change)
    _distribution.register(appliers)  # after the events it overrides on a receiving partition
    return appliers
