"""Behaviours shared by the element processors, each handed in explicitly where it is needed.

- ``StateTransitionBehavior``: lifecycle events, sequence flows, telling containers of their children;
- ``VariableBehavior``: variable merges, input and output mappings;
- ``ExpressionBehavior``: evaluating compiled expressions in a scope;
- ``JobBehavior``: jobs of job worker elements and their activation;
- ``IncidentBehavior``: writing and resolving incidents;
- ``CatchEventBehavior`` / ``EventTriggerBehavior``: event subscriptions (timers, ...), what a trigger
  does, and where a thrown error is caught (up the call tree too);
- ``SignalSubscriber``: signal subscriptions (the "signal" subscriber) and broadcasts;
- ``EscalationBehavior``: where a thrown escalation is caught, and ESCALATED / NOT_ESCALATED;
- ``RuntimeInstructionBehavior``: the runtime instructions given at creation (terminate the process
  instance after an element), carried out by ``StateTransitionBehavior`` as elements end.

A step that fails on the process's data raises ``ElementFailure``; only the lifecycle dispatcher
(``BpmnStreamProcessor``) turns it into an incident.
"""

from ._child_activation import ChildActivationCallback
from ._context import ElementContext
from ._decisions import DecisionBehavior, DecisionLookupError
from ._element_activation import (
    ActivationPlan,
    ActivationPlanner,
    ActivationRefused,
    ElementActivationBehavior,
)
from ._escalations import EscalationBehavior
from ._events import CatchEventBehavior, ErrorCatch, EventSubscriber, EventTriggerBehavior, TimerSubscriber
from ._expressions import ExpressionBehavior, ScopeVariables
from ._failure import ElementFailure
from ._incidents import IncidentBehavior
from ._jobs import JobBehavior
from ._messages import MessageSubscriber
from ._process_events import ProcessEventBehavior
from ._runtime_instructions import TERMINATE_PROCESS_INSTANCE, RuntimeInstructionBehavior
from ._signals import SignalSubscriber
from ._transitions import (
    CalledProcessCallbacks,
    ContainerCallbacks,
    RootInstanceListener,
    StateTransitionBehavior,
)
from ._user_tasks import UserTaskBehavior
from ._variables import VariableBehavior, to_json_text

__all__ = [
    "DecisionBehavior",
    "DecisionLookupError",
    "CalledProcessCallbacks",
    "CatchEventBehavior",
    "ErrorCatch",
    "EventSubscriber",
    "EventTriggerBehavior",
    "TimerSubscriber",
    "SignalSubscriber",
    "EscalationBehavior",
    "ContainerCallbacks",
    "ElementContext",
    "ElementFailure",
    "ExpressionBehavior",
    "IncidentBehavior",
    "JobBehavior",
    "MessageSubscriber",
    "ScopeVariables",
    "RootInstanceListener",
    "StateTransitionBehavior",
    "VariableBehavior",
    "to_json_text",
    "UserTaskBehavior",
    "ProcessEventBehavior",
    "ChildActivationCallback",
    "ActivationPlan",
    "ActivationPlanner",
    "ActivationRefused",
    "ElementActivationBehavior",
    "RuntimeInstructionBehavior",
    "TERMINATE_PROCESS_INSTANCE",
]
