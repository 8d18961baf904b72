"""Intents per value type, with Zeebe's names and numeric codes.

Commands are verbs (``COMPLETE``), events are past participles (``COMPLETED``). ``is_event`` tells
which is which, exactly as Zeebe's ``Intent.isEvent()`` does.
"""

from __future__ import annotations

import enum

from ._enums import ValueType

_EVENT_NAMES: dict[type, frozenset[str]] = {}


class Intent(enum.IntEnum):
    """Base of every intent enum; members are IntEnums so the codec stores the code."""

    @property
    def is_event(self) -> bool:
        return self.name in _EVENT_NAMES[type(self)]


def _events(*names: str):  # type: ignore[no-untyped-def]
    """Class decorator: declares which members of an intent enum are events."""

    def register(cls: type[Intent]) -> type[Intent]:
        unknown = set(names) - set(cls.__members__)
        assert not unknown, f"{cls.__name__}: no members {sorted(unknown)}"
        _EVENT_NAMES[cls] = frozenset(names)
        return cls

    return register


@_events("CREATED", "COMPLETED", "TIMED_OUT", "FAILED", "RETRIES_UPDATED", "CANCELED", "ERROR_THROWN",
         "RECURRED_AFTER_BACKOFF", "YIELDED", "TIMEOUT_UPDATED", "MIGRATED")
class JobIntent(Intent):
    CREATED = 0
    COMPLETE = 1
    COMPLETED = 2
    TIME_OUT = 3
    TIMED_OUT = 4
    FAIL = 5
    FAILED = 6
    UPDATE_RETRIES = 7
    RETRIES_UPDATED = 8
    CANCEL = 9
    CANCELED = 10
    THROW_ERROR = 11
    ERROR_THROWN = 12
    RECUR_AFTER_BACKOFF = 13
    RECURRED_AFTER_BACKOFF = 14
    YIELD = 15
    YIELDED = 16
    UPDATE_TIMEOUT = 17
    TIMEOUT_UPDATED = 18
    MIGRATED = 19
    UPDATE = 20


@_events("ACTIVATED")
class JobBatchIntent(Intent):
    ACTIVATE = 0
    ACTIVATED = 1


@_events("SEQUENCE_FLOW_TAKEN", "ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
         "ELEMENT_COMPLETED", "ELEMENT_TERMINATING", "ELEMENT_TERMINATED", "ELEMENT_MIGRATED",
         "ANCESTOR_MIGRATED", "SEQUENCE_FLOW_DELETED", "CANCELING")
class ProcessInstanceIntent(Intent):
    CANCEL = 0
    SEQUENCE_FLOW_TAKEN = 1
    ELEMENT_ACTIVATING = 2
    ELEMENT_ACTIVATED = 3
    ELEMENT_COMPLETING = 4
    ELEMENT_COMPLETED = 5
    ELEMENT_TERMINATING = 6
    ELEMENT_TERMINATED = 7
    ACTIVATE_ELEMENT = 8
    COMPLETE_ELEMENT = 9
    TERMINATE_ELEMENT = 10
    ELEMENT_MIGRATED = 11
    COMPLETE_EXECUTION_LISTENER = 12
    ANCESTOR_MIGRATED = 13
    CONTINUE_TERMINATING_ELEMENT = 14
    SEQUENCE_FLOW_DELETED = 15
    CANCELING = 16


@_events("CREATED")
class ProcessInstanceCreationIntent(Intent):
    CREATE = 0
    CREATED = 1
    CREATE_WITH_AWAITING_RESULT = 2


@_events("COMPLETED")
class ProcessInstanceResultIntent(Intent):
    COMPLETED = 0


@_events("CREATED", "DISTRIBUTED", "FULLY_DISTRIBUTED")
class DeploymentIntent(Intent):
    CREATE = 0
    CREATED = 1
    DISTRIBUTE = 2
    DISTRIBUTED = 3
    FULLY_DISTRIBUTED = 4
    REQUEST = 5
    REDEPLOY = 6


@_events("CREATED", "DELETING", "DELETED")
class ProcessIntent(Intent):
    CREATED = 0
    DELETING = 1
    DELETED = 2


@_events("CREATED", "RESOLVED", "MIGRATED")
class IncidentIntent(Intent):
    CREATED = 0
    RESOLVE = 1
    RESOLVED = 2
    MIGRATED = 3


@_events("CREATED", "UPDATED", "MIGRATED", "CREATING", "UPDATING")
class VariableIntent(Intent):
    CREATED = 0
    UPDATED = 1
    MIGRATED = 2
    CREATING = 3
    UPDATING = 4


@_events("UPDATED", "UPDATING")
class VariableDocumentIntent(Intent):
    UPDATE = 0
    UPDATED = 1
    UPDATING = 2


@_events("PUBLISHED", "EXPIRED")
class MessageIntent(Intent):
    PUBLISH = 0
    PUBLISHED = 1
    EXPIRE = 2
    EXPIRED = 3


@_events("CREATED", "TRIGGERED", "CANCELED", "MIGRATED")
class TimerIntent(Intent):
    CREATED = 0
    TRIGGER = 1
    TRIGGERED = 2
    CANCEL = 3  # deprecated in Zeebe, kept for its number
    CANCELED = 4
    MIGRATED = 5


@_events("BROADCASTED")
class SignalIntent(Intent):
    BROADCAST = 0
    BROADCASTED = 1


@_events("CREATED")
class ErrorIntent(Intent):
    CREATED = 0


@_events("CREATED", "CORRELATING", "CORRELATED", "REJECTED", "DELETED", "MIGRATED")
class MessageSubscriptionIntent(Intent):
    """The subscription on the message's partition (the one the correlation key hashes to)."""

    CREATE = 0
    CREATED = 1
    CORRELATE = 2
    CORRELATED = 3
    REJECT = 4
    REJECTED = 5
    DELETE = 6
    DELETED = 7
    CORRELATING = 8
    MIGRATE = 9
    MIGRATED = 10


@_events("CREATING", "CREATED", "CORRELATED", "DELETING", "DELETED", "MIGRATING", "MIGRATED")
class ProcessMessageSubscriptionIntent(Intent):
    """The subscription on the process instance's partition (the waiting element's side)."""

    CREATING = 0
    CREATE = 1
    CREATED = 2
    CORRELATE = 3
    CORRELATED = 4
    DELETING = 5
    DELETE = 6
    DELETED = 7
    MIGRATING = 8
    MIGRATE = 9
    MIGRATED = 10


@_events("CREATED", "CORRELATED", "DELETED")
class MessageStartEventSubscriptionIntent(Intent):
    CREATED = 0
    CORRELATED = 1
    DELETED = 2


@_events("CREATED", "DELETED", "MIGRATED")
class SignalSubscriptionIntent(Intent):
    CREATED = 0
    DELETED = 1
    MIGRATED = 2


@_events("ESCALATED", "NOT_ESCALATED")
class EscalationIntent(Intent):
    ESCALATED = 0
    NOT_ESCALATED = 1


@_events("CREATING", "CREATED", "COMPLETING", "COMPLETED", "CANCELING", "CANCELED", "ASSIGNING", "ASSIGNED",
         "UPDATING", "UPDATED", "MIGRATED", "COMPLETION_DENIED", "CORRECTED", "ASSIGNMENT_DENIED", "CLAIMING",
         "UPDATE_DENIED")
class UserTaskIntent(Intent):
    CREATING = 0
    CREATED = 1
    COMPLETE = 2
    COMPLETING = 3
    COMPLETED = 4
    CANCELING = 5
    CANCELED = 6
    ASSIGN = 7
    ASSIGNING = 8
    ASSIGNED = 9
    CLAIM = 10
    UPDATE = 11
    UPDATING = 12
    UPDATED = 13
    MIGRATED = 14
    COMPLETE_TASK_LISTENER = 15
    DENY_TASK_LISTENER = 16
    COMPLETION_DENIED = 17
    CORRECTED = 18
    ASSIGNMENT_DENIED = 19
    CLAIMING = 20
    UPDATE_DENIED = 21
    CREATE = 22
    CANCEL = 23


@_events("CREATED", "TRIGGERED", "COMPLETED", "DELETED", "MIGRATED")
class CompensationSubscriptionIntent(Intent):
    CREATED = 0
    TRIGGERED = 1
    COMPLETED = 2
    DELETED = 3
    MIGRATED = 4


@_events("CORRELATED", "NOT_CORRELATED")
class MessageCorrelationIntent(Intent):
    """Correlating a message to a waiting instance, answered synchronously (no code 0 in Zeebe)."""

    CORRELATE = 1
    CORRELATED = 2
    NOT_CORRELATED = 3


@_events("TRIGGERING", "TRIGGERED")
class ProcessEventIntent(Intent):
    TRIGGERING = 0
    TRIGGERED = 1


@_events("ACTIVATING", "ACTIVATED")
class ProcessInstanceBatchIntent(Intent):
    TERMINATE = 0
    ACTIVATE = 1
    ACTIVATING = 2
    ACTIVATED = 3


@_events()
class MessageBatchIntent(Intent):
    EXPIRE = 0


@_events("ACTIVATED", "COMPLETED")
class AdHocSubProcessInstructionIntent(Intent):
    ACTIVATE = 0
    ACTIVATED = 1
    COMPLETE = 2
    COMPLETED = 3


@_events("CREATED", "DELETED")
class FormIntent(Intent):
    CREATED = 0
    DELETED = 1


@_events("MODIFIED")
class ProcessInstanceModificationIntent(Intent):
    MODIFY = 0
    MODIFIED = 1


@_events("MIGRATED")
class ProcessInstanceMigrationIntent(Intent):
    MIGRATE = 0
    MIGRATED = 1


@_events("CREATED", "DELETED")
class DecisionIntent(Intent):
    CREATED = 0
    DELETED = 1


@_events("CREATED", "DELETED")
class DecisionRequirementsIntent(Intent):
    CREATED = 0
    DELETED = 1


@_events("EVALUATED", "FAILED")
class DecisionEvaluationIntent(Intent):
    EVALUATED = 0
    FAILED = 1
    EVALUATE = 2


@_events("DELETING", "DELETED")
class ResourceDeletionIntent(Intent):
    DELETE = 0
    DELETING = 1
    DELETED = 2


@_events("INTERRUPTED")
class RuntimeInstructionIntent(Intent):
    """A runtime instruction given at creation took effect (an event only: the engine writes it)."""

    INTERRUPTED = 0


@_events("STARTED", "DISTRIBUTING", "ACKNOWLEDGED", "FINISHED", "ENQUEUED", "CONTINUATION_REQUESTED",
         "CONTINUATION_COMPLETED")
class CommandDistributionIntent(Intent):
    STARTED = 0
    DISTRIBUTING = 1
    ACKNOWLEDGE = 2
    ACKNOWLEDGED = 3
    FINISHED = 4
    ENQUEUED = 5
    CONTINUATION_REQUESTED = 6
    CONTINUATION_COMPLETED = 7
    FINISH = 8


INTENTS_BY_VALUE_TYPE: dict[ValueType, type[Intent]] = {
    ValueType.JOB: JobIntent,
    ValueType.JOB_BATCH: JobBatchIntent,
    ValueType.PROCESS_INSTANCE: ProcessInstanceIntent,
    ValueType.PROCESS_INSTANCE_CREATION: ProcessInstanceCreationIntent,
    ValueType.PROCESS_INSTANCE_RESULT: ProcessInstanceResultIntent,
    ValueType.DEPLOYMENT: DeploymentIntent,
    ValueType.PROCESS: ProcessIntent,
    ValueType.INCIDENT: IncidentIntent,
    ValueType.VARIABLE: VariableIntent,
    ValueType.VARIABLE_DOCUMENT: VariableDocumentIntent,
    ValueType.MESSAGE: MessageIntent,
    ValueType.TIMER: TimerIntent,
    ValueType.SIGNAL: SignalIntent,
    ValueType.ERROR: ErrorIntent,
    ValueType.MESSAGE_SUBSCRIPTION: MessageSubscriptionIntent,
    ValueType.PROCESS_MESSAGE_SUBSCRIPTION: ProcessMessageSubscriptionIntent,
    ValueType.MESSAGE_START_EVENT_SUBSCRIPTION: MessageStartEventSubscriptionIntent,
    ValueType.SIGNAL_SUBSCRIPTION: SignalSubscriptionIntent,
    ValueType.ESCALATION: EscalationIntent,
    ValueType.USER_TASK: UserTaskIntent,
    ValueType.COMPENSATION_SUBSCRIPTION: CompensationSubscriptionIntent,
    ValueType.MESSAGE_CORRELATION: MessageCorrelationIntent,
    ValueType.PROCESS_EVENT: ProcessEventIntent,
    ValueType.PROCESS_INSTANCE_BATCH: ProcessInstanceBatchIntent,
    ValueType.MESSAGE_BATCH: MessageBatchIntent,
    ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION: AdHocSubProcessInstructionIntent,
    ValueType.FORM: FormIntent,
    ValueType.PROCESS_INSTANCE_MODIFICATION: ProcessInstanceModificationIntent,
    ValueType.PROCESS_INSTANCE_MIGRATION: ProcessInstanceMigrationIntent,
    ValueType.DECISION: DecisionIntent,
    ValueType.DECISION_REQUIREMENTS: DecisionRequirementsIntent,
    ValueType.DECISION_EVALUATION: DecisionEvaluationIntent,
    ValueType.RESOURCE_DELETION: ResourceDeletionIntent,
    ValueType.RUNTIME_INSTRUCTION: RuntimeInstructionIntent,
    ValueType.COMMAND_DISTRIBUTION: CommandDistributionIntent,
}


def intent_for(value_type: ValueType, code: int) -> Intent:
    """The intent member for a value type and numeric code; ValueError names both if unknown."""
    try:
        return INTENTS_BY_VALUE_TYPE[value_type](code)
    except (KeyError, ValueError):
        raise ValueError(f"unknown intent code {code} for value type {value_type.name}") from None
