"""The element processors, one per kind of element, in one table by element type.

Adding an element kind is a model class, a transformer and a processor here (one table line).
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import BpmnElementType as T

from .._model import JOB_WORKER_ELEMENT_TYPES
from ..behaviors import (
    DecisionBehavior,
    EscalationBehavior,
    EventTriggerBehavior,
    ExpressionBehavior,
    IncidentBehavior,
    JobBehavior,
    SignalSubscriber,
    StateTransitionBehavior,
    UserTaskBehavior,
    VariableBehavior,
)
from ._processor import BpmnElementProcessor, FlowNodeProcessor
from .containers import (
    DEFAULT_MAX_PROCESS_DEPTH,
    AdHocSubProcessInnerInstanceProcessor,
    AdHocSubProcessProcessor,
    CallActivityProcessor,
    EventSubProcessProcessor,
    MultiInstanceBodyProcessor,
    ProcessProcessor,
    SubProcessProcessor,
)
from .events import (
    BoundaryEventProcessor,
    CompensationThrowEventProcessor,
    EscalationThrowEventProcessor,
    EventProcessorByKind,
    IntermediateCatchEventProcessor,
    IntermediateThrowEventProcessor,
    LinkCatchEventProcessor,
    LinkThrowEventProcessor,
    SignalThrowEventProcessor,
    StartEventProcessor,
    TerminateEndEventProcessor,
    ThrowingEndEventProcessor,
)
from .gateways import (
    EventBasedGatewayProcessor,
    ExclusiveGatewayProcessor,
    InclusiveGatewayProcessor,
    ParallelGatewayProcessor,
)
from .tasks import (
    BusinessRuleTaskProcessor,
    JobWorkerTaskProcessor,
    ReceiveTaskProcessor,
    ScriptTaskProcessor,
    UndefinedTaskProcessor,
    UserTaskProcessor,
)

__all__ = ["DEFAULT_MAX_PROCESS_DEPTH", "BpmnElementProcessor", "FlowNodeProcessor", "element_processors"]


def element_processors(transitions: StateTransitionBehavior, variables: VariableBehavior,
                       incidents: IncidentBehavior, jobs: JobBehavior,
                       expressions: ExpressionBehavior, triggers: EventTriggerBehavior, *,
                       max_process_depth: int = DEFAULT_MAX_PROCESS_DEPTH,
                       signals: SignalSubscriber | None = None,
                       decisions: DecisionBehavior | None = None) -> dict[T, BpmnElementProcessor[Any]]:
    common = (transitions, variables, incidents)
    undefined_task = UndefinedTaskProcessor(*common)
    job_worker = JobWorkerTaskProcessor(*common, jobs)
    end_event = ThrowingEndEventProcessor(*common, triggers)  # none and error end events
    catch_event = IntermediateCatchEventProcessor(*common, triggers)  # the events that wait for a trigger
    table: dict[T, BpmnElementProcessor[Any]] = {
        T.PROCESS: ProcessProcessor(*common),
        T.START_EVENT: StartEventProcessor(*common),
        T.END_EVENT: EventProcessorByKind(transitions, {
            None: end_event, "error": end_event, "terminate": TerminateEndEventProcessor(*common),
            "message": job_worker}),
        T.INTERMEDIATE_THROW_EVENT: EventProcessorByKind(transitions, {
            None: IntermediateThrowEventProcessor(*common), "link": LinkThrowEventProcessor(*common),
            "message": job_worker}),
        T.INTERMEDIATE_CATCH_EVENT: EventProcessorByKind(transitions, {
            "link": LinkCatchEventProcessor(*common), "timer": catch_event, "message": catch_event}),
        T.TASK: undefined_task,
        T.MANUAL_TASK: undefined_task,
        T.EXCLUSIVE_GATEWAY: ExclusiveGatewayProcessor(*common, expressions),
        T.PARALLEL_GATEWAY: ParallelGatewayProcessor(*common),
        T.SUB_PROCESS: SubProcessProcessor(*common),
        T.CALL_ACTIVITY: CallActivityProcessor(*common, expressions, max_process_depth=max_process_depth),
        T.EVENT_SUB_PROCESS: EventSubProcessProcessor(*common),
        T.BOUNDARY_EVENT: BoundaryEventProcessor(*common),
        T.INCLUSIVE_GATEWAY: InclusiveGatewayProcessor(*common, expressions),
        T.RECEIVE_TASK: ReceiveTaskProcessor(*common, triggers),
        T.MULTI_INSTANCE_BODY: MultiInstanceBodyProcessor(*common, expressions),
    }
    for element_type in JOB_WORKER_ELEMENT_TYPES:
        table[element_type] = job_worker
    table[T.SCRIPT_TASK] = ScriptTaskProcessor(*common, jobs, expressions)
    table[T.BUSINESS_RULE_TASK] = BusinessRuleTaskProcessor(*common, jobs, expressions,
                                                            decisions or DecisionBehavior(expressions.monotonic))
    table[T.USER_TASK] = UserTaskProcessor(*common, jobs, UserTaskBehavior(expressions))
    # signals, escalations, event-based gateways
    escalation_throw = EscalationThrowEventProcessor(*common, EscalationBehavior(triggers))
    _add_kind(table, T.INTERMEDIATE_THROW_EVENT, "escalation", escalation_throw)
    _add_kind(table, T.END_EVENT, "escalation", escalation_throw)
    _add_kind(table, T.INTERMEDIATE_CATCH_EVENT, "signal", catch_event)
    if signals is not None:
        signal_throw = SignalThrowEventProcessor(*common, signals)
        _add_kind(table, T.INTERMEDIATE_THROW_EVENT, "signal", signal_throw)
        _add_kind(table, T.END_EVENT, "signal", signal_throw)
    table[T.EVENT_BASED_GATEWAY] = EventBasedGatewayProcessor(*common, triggers)
    # compensation throw events
    _add_kind(table, T.INTERMEDIATE_THROW_EVENT, "compensation",
              CompensationThrowEventProcessor(*common, input_mappings=False))
    _add_kind(table, T.END_EVENT, "compensation", CompensationThrowEventProcessor(*common))
    table[T.AD_HOC_SUB_PROCESS] = AdHocSubProcessProcessor(*common, expressions)
    table[T.AD_HOC_SUB_PROCESS_INNER_INSTANCE] = AdHocSubProcessInnerInstanceProcessor(*common)
    return table


def _add_kind(table: dict[T, BpmnElementProcessor[Any]], element_type: T, kind: str,
              processor: BpmnElementProcessor[Any]) -> None:
    by_kind = table[element_type]
    assert isinstance(by_kind, EventProcessorByKind), element_type
    by_kind.kinds[kind] = processor
