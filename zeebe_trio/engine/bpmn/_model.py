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
    "FlowElement",
    "ExecutableProcess",
]

DEFAULT_JOB_RETRIES = "3"

#: Element types that zeebe-trio can execute; any other element makes the deployment fail.
EXECUTABLE_ELEMENT_TYPES: frozenset[ElementType] = frozenset(
    {
        ElementType.PROCESS,
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
        ElementType.SEQUENCE_FLOW,
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
    """

    bpmn_process_id: str
    name: str | None
    resource_name: str
    elements: abc.Mapping[str, FlowElement]
    start_event_id: str
    input_mappings: tuple[Mapping, ...] = ()
    output_mappings: tuple[Mapping, ...] = ()
    version_tag: str | None = None

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
        )

    __hash__ = object.__hash__
