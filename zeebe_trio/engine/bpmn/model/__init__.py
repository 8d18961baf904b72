"""The executable process model: element classes, event definitions and compiled expressions.

``transform_process`` turns a parsed process into an ``ExecutableProcess``, the linked graph of
``Executable*`` elements that the element processors run.
"""

from ._ad_hoc import AD_HOC_INNER_INSTANCE_POSTFIX, ExecutableAdHocSubProcess
from ._business_rule_task import (
    ExecutableBusinessRuleTask,
    transform_business_rule_task,
)
from ._call_activity import ExecutableCallActivity
from ._compensation import ExecutableCompensation, compensation_boundary_event
from ._definitions import (
    EventDefinition,
    ExecutableError,
    ExecutableEscalation,
    ExecutableMessage,
    ExecutableSignal,
    ExecutableTimer,
    LinkEventDefinition,
    TerminateEventDefinition,
)
from ._deployment_bindings import deployment_binding_problems
from ._elements import (
    ExecutableActivity,
    ExecutableBoundaryEvent,
    ExecutableCatchEvent,
    ExecutableElement,
    ExecutableEndEvent,
    ExecutableExclusiveGateway,
    ExecutableFlowElementContainer,
    ExecutableFlowNode,
    ExecutableIntermediateThrowEvent,
    ExecutableJobWorkerTask,
    ExecutableParallelGateway,
    ExecutableProcess,
    ExecutableSequenceFlow,
    ExecutableStartEvent,
    ExecutionListenerJob,
    JobWorkerProperties,
)
from ._event_based_gateway import ExecutableEventBasedGateway, is_after_event_based_gateway
from ._expression import CompileProblems, EvaluationError, Expression, MappingRule, record_value
from ._inclusive_gateway import ExecutableInclusiveGateway
from ._message_throw import ExecutableJobWorkerEvent
from ._multi_instance import ExecutableMultiInstanceBody, LoopCharacteristics
from ._receive_task import ExecutableReceiveTask
from ._tasks import USER_TASK_JOB_TYPE, ExecutableScriptTask, ExecutableUserTask, UserTaskProperties
from ._transform import TRANSFORMERS, transform_process

__all__ = [
    "TRANSFORMERS",
    "CompileProblems",
    "EvaluationError",
    "EventDefinition",
    "ExecutableError",
    "ExecutableEscalation",
    "ExecutableMessage",
    "ExecutableSignal",
    "ExecutableTimer",
    "ExecutableActivity",
    "ExecutableBoundaryEvent",
    "ExecutableCallActivity",
    "ExecutableCatchEvent",
    "ExecutableElement",
    "ExecutableEndEvent",
    "ExecutableExclusiveGateway",
    "ExecutableFlowElementContainer",
    "ExecutableFlowNode",
    "ExecutableInclusiveGateway",
    "ExecutableEventBasedGateway",
    "ExecutableReceiveTask",
    "ExecutableJobWorkerEvent",
    "ExecutableIntermediateThrowEvent",
    "ExecutableJobWorkerTask",
    "ExecutableParallelGateway",
    "ExecutableProcess",
    "ExecutableSequenceFlow",
    "ExecutableStartEvent",
    "Expression",
    "JobWorkerProperties",
    "LinkEventDefinition",
    "MappingRule",
    "deployment_binding_problems",
    "record_value",
    "transform_business_rule_task",
    "ExecutableBusinessRuleTask",
    "TerminateEventDefinition",
    "transform_process",
    "USER_TASK_JOB_TYPE",
    "ExecutableScriptTask",
    "ExecutableUserTask",
    "ExecutionListenerJob",
    "UserTaskProperties",
    "is_after_event_based_gateway",
    "ExecutableMultiInstanceBody",
    "LoopCharacteristics",
    "ExecutableCompensation",
    "compensation_boundary_event",
    "AD_HOC_INNER_INSTANCE_POSTFIX",
    "ExecutableAdHocSubProcess",
]
