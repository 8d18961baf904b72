"""Command processors, one per (value type, intent), grouped by the entity they act on.

Each group is a class built with the behaviours it needs and registers its processors in the
engine's ``CommandProcessors`` table. PROCESS_INSTANCE element commands belong to the BPMN
dispatcher (``engine.bpmn.BpmnStreamProcessor``).
"""

from ._ad_hoc_instructions import AdHocSubProcessInstructionProcessors
from ._decisions import DecisionEvaluationProcessors
from ._deployment import DeploymentProcessors
from ._distribution import (
    DEPLOYMENT_QUEUE,
    REDISTRIBUTION_INTERVAL_MS,
    CommandDistributionBehavior,
    CommandDistributionProcessors,
    CommandRedistributor,
)
from ._documents import VariableDocumentProcessors
from ._incidents import IncidentProcessors
from ._jobs import JobProcessors
from ._message_subscription_migration import MessageSubscriptionMigrationProcessors
from ._messages import MessageProcessors
from ._migration import ProcessInstanceMigrationProcessors
from ._modification import ProcessInstanceModificationProcessors
from ._multi_instance_batch import MultiInstanceBatchProcessors
from ._pending_subscriptions import PendingSubscriptionChecker
from ._process_instances import ProcessInstanceProcessors
from ._resource_deletion import ResourceDeletionProcessors
from ._signals import SignalProcessors
from ._terminate_batch import TerminateBatchProcessors
from ._timers import TimerProcessors
from ._user_tasks import UserTaskProcessors

__all__ = [
    "DecisionEvaluationProcessors",
    "DeploymentProcessors",
    "IncidentProcessors",
    "JobProcessors",
    "MessageProcessors",
    "MultiInstanceBatchProcessors",
    "ProcessInstanceProcessors",
    "SignalProcessors",
    "TimerProcessors",
    "VariableDocumentProcessors",
    "UserTaskProcessors",
    "TerminateBatchProcessors",
    "AdHocSubProcessInstructionProcessors",
    "ProcessInstanceModificationProcessors",
    "ProcessInstanceMigrationProcessors",
    "ResourceDeletionProcessors",
    "MessageSubscriptionMigrationProcessors",
    "DEPLOYMENT_QUEUE",
    "REDISTRIBUTION_INTERVAL_MS",
    "CommandDistributionBehavior",
    "CommandDistributionProcessors",
    "CommandRedistributor",
    "PendingSubscriptionChecker",
]
