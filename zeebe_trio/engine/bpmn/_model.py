"""The immutable, executable process model that the parser produces and the engine runs.

Expressions (job types, retries, conditions, mapping sources) stay raw strings here, exactly as
written in the BPMN file; the engine compiles them at deploy time.
"""

from __future__ import annotations

import collections.abc as abc
from dataclasses import dataclass
from types import MappingProxyType

from zeebe_trio.protocol import BpmnElementType as ElementType

__all__ = [
    "ElementType",
    "EXECUTABLE_ELEMENT_TYPES",
    "JOB_WORKER_ELEMENT_TYPES",
    "DEFAULT_JOB_RETRIES",
    "Mapping",
    "FlowNode",
    "SequenceFlow",
    "TimerEventDefinition",
    "MessageEventDefinition",
    "SignalEventDefinition",
    "ErrorEventDefinition",
    "EscalationEventDefinition",
    "CompensateEventDefinition",
    "LinkEventDefinition",
    "TerminateEventDefinition",
    "ConditionalEventDefinition",
    "EventDefinition",
    "MultiInstanceLoop",
    "CalledElement",
    "CalledDecision",
    "UserTaskDefinition",
    "ScriptDefinition",
    "ExecutionListener",
    "FlowElement",
    "ExecutableProcess",
]

DEFAULT_JOB_RETRIES = "3"

#: Element types that zeebe-trio can execute. The parser's gating itself is ``_support.SUPPORTED`` (its
#: element keys are these types; a test keeps the two in step).
EXECUTABLE_ELEMENT_TYPES: frozenset[ElementType] = frozenset(
    {
        ElementType.PROCESS,
        ElementType.MULTI_INSTANCE_BODY,
        ElementType.START_EVENT,
        ElementType.END_EVENT,
        ElementType.TASK,
        ElementType.MANUAL_TASK,
        ElementType.SERVICE_TASK,
        ElementType.SEND_TASK,
        ElementType.BUSINESS_RULE_TASK,
        ElementType.SCRIPT_TASK,
        ElementType.EXCLUSIVE_GATEWAY,
        ElementType.PARALLEL_GATEWAY,
        ElementType.SUB_PROCESS,
        ElementType.EVENT_SUB_PROCESS,
        ElementType.INTERMEDIATE_CATCH_EVENT,
        ElementType.BOUNDARY_EVENT,
        ElementType.SEQUENCE_FLOW,
        ElementType.CALL_ACTIVITY,
        ElementType.INCLUSIVE_GATEWAY,
        ElementType.INTERMEDIATE_THROW_EVENT,
        ElementType.INTERMEDIATE_CATCH_EVENT,
        ElementType.USER_TASK,
        ElementType.EVENT_BASED_GATEWAY,
        ElementType.RECEIVE_TASK,
        ElementType.AD_HOC_SUB_PROCESS,
    }
)

#: Element types executed as jobs (they always carry a ``job_type``). Send, business rule and
#: script tasks only reach the model in their job worker form (with a zeebe:taskDefinition).
JOB_WORKER_ELEMENT_TYPES: frozenset[ElementType] = frozenset(
    {
        ElementType.SERVICE_TASK,
        ElementType.SEND_TASK,
        ElementType.BUSINESS_RULE_TASK,
        ElementType.SCRIPT_TASK,
    }
)


@dataclass(frozen=True, slots=True)
class Mapping:
    """One zeebe:input or zeebe:output of a zeebe:ioMapping, attribute text kept as written."""

    source: str
    target: str


# -- event definitions ---------------------------------------------------------------------------
# One frozen class per kind. Referenced root elements (bpmn:message, bpmn:signal, bpmn:error,
# bpmn:escalation) are resolved into their names and codes; None means the attribute (or the
# reference) is missing, which the validator reports wherever Zeebe requires it.


@dataclass(frozen=True, slots=True)
class TimerEventDefinition:
    """A bpmn:timerEventDefinition: the text of its timeDuration, timeDate or timeCycle (static or '=...')."""

    time_duration: str | None = None
    time_date: str | None = None
    time_cycle: str | None = None

    @property
    def kind(self) -> str:
        return "timer"


@dataclass(frozen=True, slots=True)
class MessageEventDefinition:
    """The referenced bpmn:message's name and its zeebe:subscription correlationKey.

    Also the message of a receive task (its messageRef)."""

    message_name: str | None = None
    correlation_key: str | None = None

    @property
    def kind(self) -> str:
        return "message"


@dataclass(frozen=True, slots=True)
class SignalEventDefinition:
    signal_name: str | None = None

    @property
    def kind(self) -> str:
        return "signal"


@dataclass(frozen=True, slots=True)
class ErrorEventDefinition:
    """``error_code`` None on a catch event catches every error; the variables are the zeebe:error
    extension's errorCodeVariable / errorMessageVariable (catch events only)."""

    error_code: str | None = None
    error_code_variable: str | None = None
    error_message_variable: str | None = None

    @property
    def kind(self) -> str:
        return "error"


@dataclass(frozen=True, slots=True)
class EscalationEventDefinition:
    """``escalation_code`` None on a catch event catches every escalation."""

    escalation_code: str | None = None

    @property
    def kind(self) -> str:
        return "escalation"


@dataclass(frozen=True, slots=True)
class CompensateEventDefinition:
    """``activity_ref`` None compensates the whole scope; BPMN's waitForCompletion defaults to true."""

    activity_ref: str | None = None
    wait_for_completion: bool = True

    @property
    def kind(self) -> str:
        return "compensation"


@dataclass(frozen=True, slots=True)
class LinkEventDefinition:
    name: str = ""

    @property
    def kind(self) -> str:
        return "link"


@dataclass(frozen=True, slots=True)
class TerminateEventDefinition:
    @property
    def kind(self) -> str:
        return "terminate"


@dataclass(frozen=True, slots=True)
class ConditionalEventDefinition:
    """The bpmn:condition text; read, not necessarily executable."""

    condition: str | None = None

    @property
    def kind(self) -> str:
        return "conditional"


EventDefinition = (
    TimerEventDefinition
    | MessageEventDefinition
    | SignalEventDefinition
    | ErrorEventDefinition
    | EscalationEventDefinition
    | CompensateEventDefinition
    | LinkEventDefinition
    | TerminateEventDefinition
    | ConditionalEventDefinition
)


# -- activity characteristics ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MultiInstanceLoop:
    """bpmn:multiInstanceLoopCharacteristics with its zeebe:loopCharacteristics (and the bpmn
    completionCondition child)."""

    is_sequential: bool = False
    input_collection: str | None = None
    input_element: str | None = None
    output_collection: str | None = None
    output_element: str | None = None
    completion_condition: str | None = None


@dataclass(frozen=True, slots=True)
class CalledElement:
    """A call activity's zeebe:calledElement. ``binding_type`` is 'latest', 'deployment' or 'versionTag'."""

    process_id: str
    binding_type: str = "latest"
    version_tag: str | None = None
    propagate_all_child_variables: bool = True
    propagate_all_parent_variables: bool = True


@dataclass(frozen=True, slots=True)
class CalledDecision:
    """A business rule task's zeebe:calledDecision (its non-job form)."""

    decision_id: str
    result_variable: str
    binding_type: str = "latest"
    version_tag: str | None = None


@dataclass(frozen=True, slots=True)
class UserTaskDefinition:
    """A bpmn:userTask's Zeebe extensions. ``zeebe_user_task`` is True with zeebe:userTask (a
    Camunda user task), False for the job worker form."""

    zeebe_user_task: bool = False
    assignee: str | None = None
    candidate_groups: str | None = None
    candidate_users: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    form_key: str | None = None
    form_id: str | None = None
    external_reference: str | None = None
    binding_type: str = "latest"
    version_tag: str | None = None
    priority: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptDefinition:
    """A script task's zeebe:script (its non-job form): a FEEL expression and where its result goes."""

    expression: str
    result_variable: str


@dataclass(frozen=True, slots=True)
class ExecutionListener:
    """One zeebe:executionListener: a job of ``job_type`` at the element's ``event_type`` ('start'/'end')."""

    event_type: str
    job_type: str
    retries: str = DEFAULT_JOB_RETRIES


@dataclass(frozen=True, slots=True)
class FlowNode:
    """An event, task or gateway.

    ``incoming``/``outgoing`` are sequence flow ids in document order, derived from the flows'
    ``sourceRef``/``targetRef`` (as Zeebe's transformer does), not from ``bpmn:incoming`` children.
    """

    id: str
    element_type: ElementType
    name: str | None = None
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    input_mappings: tuple[Mapping, ...] = ()
    output_mappings: tuple[Mapping, ...] = ()
    # Job workers only (see JOB_WORKER_ELEMENT_TYPES); None everywhere else.
    job_type: str | None = None
    job_retries: str | None = None
    task_headers: tuple[tuple[str, str], ...] = ()
    # Exclusive gateways only: the flow taken when no condition holds. Its condition, if any,
    # is ignored (Zeebe accepts such files and never evaluates it).
    default_flow: str | None = None
    # -- added with the breadth of the syntax layer; every one defaults to "absent" ---------------
    # The containing subProcess / adHocSubProcess / event sub process; None at process level.
    flow_scope_id: str | None = None
    event_definition: EventDefinition | None = None
    # Boundary events: the activity they are attached to, and whether they interrupt it.
    attached_to: str | None = None
    cancel_activity: bool = True
    # Start events of event sub processes (isInterrupting).
    interrupting: bool = True
    # subProcess triggeredByEvent="true" (element_type EVENT_SUB_PROCESS).
    triggered_by_event: bool = False
    multi_instance: MultiInstanceLoop | None = None
    called_element: CalledElement | None = None
    called_decision: CalledDecision | None = None
    user_task: UserTaskDefinition | None = None
    script: ScriptDefinition | None = None
    execution_listeners: tuple[ExecutionListener, ...] = ()
    # bpmn:adHocSubProcess (element_type AD_HOC_SUB_PROCESS): its zeebe:adHoc attributes (raw text),
    # completionCondition and cancelRemainingInstances.
    ad_hoc: bool = False
    active_elements_collection: str | None = None
    completion_condition: str | None = None
    cancel_remaining_instances: bool = True
    ad_hoc_output_collection: str | None = None
    ad_hoc_output_element: str | None = None
    # bpmn:documentation and zeebe:properties (name, value or None), as an ad-hoc subprocess lists them.
    documentation: str | None = None
    properties: tuple[tuple[str, str | None], ...] = ()
    # Activities only: isForCompensation="true" (a compensation handler).
    is_for_compensation: bool = False
    # Compensation boundary events only: the compensation handler its bpmn:association points to.
    compensation_handler_id: str | None = None

    @property
    def event_kind(self) -> str | None:
        """'timer', 'message', ... or None for a none event (and every non-event)."""
        return None if self.event_definition is None else self.event_definition.kind

    @property
    def is_job_worker(self) -> bool:
        return self.job_type is not None


@dataclass(frozen=True, slots=True)
class SequenceFlow:
    id: str
    source_ref: str
    target_ref: str
    # Raw conditionExpression text with surrounding whitespace removed, e.g. "= x > 5".
    condition: str | None = None
    name: str | None = None

    @property
    def element_type(self) -> ElementType:
        return ElementType.SEQUENCE_FLOW


FlowElement = FlowNode | SequenceFlow


@dataclass(frozen=True, eq=False)
class ExecutableProcess:
    """One executable ``bpmn:process``: its flow nodes and sequence flows by id.

    The process element itself is not in ``elements``; its own data lives on this object.
    ``elements`` is flat: it holds the elements nested in (event) sub processes too, each with its
    ``flow_scope_id``. ``start_event_id`` is the process-level none start event; it is None only for
    a process that starts by message, timer or signal alone (which the default gating refuses).
    """

    bpmn_process_id: str
    name: str | None
    resource_name: str
    elements: abc.Mapping[str, FlowElement]
    start_event_id: str | None
    input_mappings: tuple[Mapping, ...] = ()
    output_mappings: tuple[Mapping, ...] = ()
    version_tag: str | None = None
    execution_listeners: tuple[ExecutionListener, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.elements, MappingProxyType):
            object.__setattr__(self, "elements", MappingProxyType(dict(self.elements)))

    @property
    def element_type(self) -> ElementType:
        return ElementType.PROCESS

    def element(self, element_id: str) -> FlowElement:
        try:
            return self.elements[element_id]
        except KeyError:
            raise KeyError(
                f"process '{self.bpmn_process_id}' ({self.resource_name}) has no element '{element_id}'"
            ) from None

    def flow_node(self, element_id: str) -> FlowNode:
        element = self.element(element_id)
        if not isinstance(element, FlowNode):
            raise KeyError(f"element '{element_id}' of process '{self.bpmn_process_id}' is not a flow node")
        return element

    def sequence_flow(self, flow_id: str) -> SequenceFlow:
        element = self.element(flow_id)
        if not isinstance(element, SequenceFlow):
            raise KeyError(f"element '{flow_id}' of process '{self.bpmn_process_id}' is not a sequence flow")
        return element

    def outgoing_flows(self, node_id: str) -> tuple[SequenceFlow, ...]:
        return tuple(self.sequence_flow(flow_id) for flow_id in self.flow_node(node_id).outgoing)

    def flow_nodes(self) -> tuple[FlowNode, ...]:
        return tuple(e for e in self.elements.values() if isinstance(e, FlowNode))

    def start_events(self) -> tuple[FlowNode, ...]:
        """The process-level start events (none, message, timer, signal) in document order."""
        return tuple(
            n
            for n in self.flow_nodes()
            if n.element_type is ElementType.START_EVENT and n.flow_scope_id is None
        )

    def children(self, scope_id: str | None) -> tuple[FlowNode, ...]:
        """The flow nodes directly inside ``scope_id`` (None: the process level)."""
        return tuple(n for n in self.flow_nodes() if n.flow_scope_id == scope_id)

    def sequence_flows(self) -> tuple[SequenceFlow, ...]:
        return tuple(e for e in self.elements.values() if isinstance(e, SequenceFlow))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExecutableProcess):
            return NotImplemented
        return (
            self.bpmn_process_id == other.bpmn_process_id
            and self.name == other.name
            and self.resource_name == other.resource_name
            and dict(self.elements) == dict(other.elements)
            and self.start_event_id == other.start_event_id
            and self.input_mappings == other.input_mappings
            and self.output_mappings == other.output_mappings
            and self.version_tag == other.version_tag
            and self.execution_listeners == other.execution_listeners
        )

    __hash__ = object.__hash__
