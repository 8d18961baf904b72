"""The executable process model: one class per kind of element, linked into a graph.

This is what processors run, built once per deployed process by ``transform_process`` from the parsed
syntax (``engine.bpmn``). Unlike the syntax, it is linked: a flow node knows its incoming and outgoing
sequence flows and its flow scope, a container holds its child elements, start events and event
subprocesses, an activity holds the boundary events attached to it, and every expression is compiled.
The classes follow Zeebe's ``ExecutableFlowNode``/``ExecutableActivity``/``ExecutableFlowElementContainer``
hierarchy, so that a processor is written against the kind of element it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from zeebe_trio.protocol import BpmnElementType

from ._definitions import EventDefinition
from ._expression import Expression, MappingRule

__all__ = [
    "ExecutableActivity",
    "ExecutableBoundaryEvent",
    "ExecutableCatchEvent",
    "ExecutableElement",
    "ExecutableEndEvent",
    "ExecutableExclusiveGateway",
    "ExecutableFlowElementContainer",
    "ExecutableFlowNode",
    "ExecutableIntermediateThrowEvent",
    "ExecutableJobWorkerTask",
    "ExecutableParallelGateway",
    "ExecutableProcess",
    "ExecutableSequenceFlow",
    "ExecutableStartEvent",
    "ExecutionListenerJob",
    "JobWorkerProperties",
]


@dataclass(eq=False)
class ExecutableElement:
    id: str
    element_type: BpmnElementType
    name: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


@dataclass(eq=False, repr=False)
class ExecutableSequenceFlow(ExecutableElement):
    source: ExecutableFlowNode = None  # type: ignore[assignment]  # linked by the transformer
    target: ExecutableFlowNode = None  # type: ignore[assignment]
    condition: Expression | None = None


@dataclass(frozen=True, slots=True)
class ExecutionListenerJob:
    """One zeebe:executionListener: ``event_type`` is 'start' or 'end'; the listener runs as a job of
    ``job``'s type and retries (compiled in ``_tasks``)."""

    event_type: str
    job: JobWorkerProperties


@dataclass(eq=False, repr=False)
class ExecutableFlowNode(ExecutableElement):
    """An event, task, gateway or container. ``event_type`` is the record's ``bpmnEventType``."""

    incoming: list[ExecutableSequenceFlow] = field(default_factory=list)
    outgoing: list[ExecutableSequenceFlow] = field(default_factory=list)
    flow_scope: ExecutableFlowElementContainer | None = None
    inputs: tuple[MappingRule, ...] = ()
    outputs: tuple[MappingRule, ...] = ()
    event_type: str = "UNSPECIFIED"
    execution_listeners: tuple[ExecutionListenerJob, ...] = ()

    def listeners_of(self, event_type: str) -> tuple[ExecutionListenerJob, ...]:
        """The execution listeners of ``event_type`` ('start' or 'end'), in document order."""
        if not self.execution_listeners:  # the common case, on every lifecycle step
            return ()
        return tuple(listener for listener in self.execution_listeners if listener.event_type == event_type)

    @cached_property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        """The events this element waits for while it is active (itself for a catch event, its
        boundary events, the start events of its event subprocesses): its event subscriptions.
        Computed once, on first use after the transformer linked the model."""
        return []


@dataclass(eq=False, repr=False)
class ExecutableActivity(ExecutableFlowNode):
    """A task or a container: the elements that can carry boundary events."""

    boundary_events: list[ExecutableBoundaryEvent] = field(default_factory=list)

    @cached_property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        return list(self.boundary_events)


@dataclass(frozen=True, slots=True)
class JobWorkerProperties:
    """What a job worker element hands its job (zeebe:taskDefinition and zeebe:taskHeaders)."""

    job_type: Expression
    retries: Expression
    task_headers: tuple[tuple[str, str], ...] = ()


@dataclass(eq=False, repr=False)
class ExecutableJobWorkerTask(ExecutableActivity):
    """A service task, or a send, business rule or script task in its job worker form."""

    job: JobWorkerProperties = None  # type: ignore[assignment]  # always set by the transformer


@dataclass(eq=False, repr=False)
class ExecutableFlowElementContainer(ExecutableActivity):
    """An element holding a flow of its own: the process, later subprocesses."""

    children: list[ExecutableFlowNode] = field(default_factory=list)
    start_events: list[ExecutableStartEvent] = field(default_factory=list)
    event_sub_processes: list[ExecutableFlowElementContainer] = field(default_factory=list)

    @cached_property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        starts = [start for sub in self.event_sub_processes for start in sub.start_events]
        return [*self.boundary_events, *starts]

    @property
    def none_start_event(self) -> ExecutableStartEvent | None:
        for start in self.start_events:
            if start.event_definition is None:
                return start
        return None


@dataclass(eq=False, repr=False)
class ExecutableExclusiveGateway(ExecutableFlowNode):
    default_flow: ExecutableSequenceFlow | None = None


@dataclass(eq=False, repr=False)
class ExecutableParallelGateway(ExecutableFlowNode):
    @property
    def is_join(self) -> bool:
        """A join waits for a token on every incoming flow before it activates."""
        return len(self.incoming) > 1


@dataclass(eq=False, repr=False)
class ExecutableCatchEvent(ExecutableFlowNode):
    """An event that waits for its trigger; a none start event has no definition."""

    event_definition: EventDefinition | None = None

    @cached_property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        # after an event-based gateway the gateway holds the subscription, not the event
        return [self] if self.event_definition is not None and self.element_type.name == "INTERMEDIATE_CATCH_EVENT" \
            and not any(flow.source.element_type.name == "EVENT_BASED_GATEWAY" for flow in self.incoming) else []


@dataclass(eq=False, repr=False)
class ExecutableStartEvent(ExecutableCatchEvent):
    interrupting: bool = True


@dataclass(eq=False, repr=False)
class ExecutableBoundaryEvent(ExecutableCatchEvent):
    attached_to: ExecutableActivity = None  # type: ignore[assignment]  # linked by the transformer
    cancel_activity: bool = True


@dataclass(eq=False, repr=False)
class ExecutableEndEvent(ExecutableFlowNode):
    event_definition: EventDefinition | None = None


@dataclass(eq=False, repr=False)
class ExecutableIntermediateThrowEvent(ExecutableFlowNode):
    event_definition: EventDefinition | None = None


@dataclass(eq=False, repr=False)
class ExecutableProcess(ExecutableFlowElementContainer):
    """The root container: one deployed ``bpmn:process``, every element reachable by id."""

    bpmn_process_id: str = ""
    resource_name: str = ""
    version_tag: str | None = None
    elements: dict[str, ExecutableElement] = field(default_factory=dict)
    #: flow nodes found by (id, element type) before: every lifecycle step and applier looks one up
    _found: dict[tuple[str, BpmnElementType | None], ExecutableFlowNode] = field(
        default_factory=dict, init=False, compare=False)

    def element(self, element_id: str) -> ExecutableElement:
        try:
            return self.elements[element_id]
        except KeyError:
            raise KeyError(f"process '{self.bpmn_process_id}' ({self.resource_name}) has no element"
                           f" '{element_id}'") from None

    def flow_node(self, element_id: str, element_type: BpmnElementType | None = None) -> ExecutableFlowNode:
        """The flow node ``element_id``; with ``element_type``, the one of that type: a multi-instance
        activity's id names its body (MULTI_INSTANCE_BODY) and the inner activity it wraps."""
        found = self._found.get((element_id, element_type))
        if found is not None:
            return found
        self._found[element_id, element_type] = found = self._find_flow_node(element_id, element_type)
        return found

    def _find_flow_node(self, element_id: str, element_type: BpmnElementType | None) -> ExecutableFlowNode:
        element = self.element(element_id)
        if not isinstance(element, ExecutableFlowNode):
            raise KeyError(f"element '{element_id}' of process '{self.bpmn_process_id}' is not a flow node")
        if element_type is not None and element.element_type is not element_type:
            inner = getattr(element, "inner_activity", None)
            if isinstance(inner, ExecutableFlowNode) and inner.element_type is element_type:
                return inner
            raise KeyError(f"element '{element_id}' of process '{self.bpmn_process_id}' is a"
                           f" {element.element_type.name}, not a {element_type.name}")
        return element

    def sequence_flow(self, flow_id: str) -> ExecutableSequenceFlow:
        element = self.element(flow_id)
        if not isinstance(element, ExecutableSequenceFlow):
            raise KeyError(f"element '{flow_id}' of process '{self.bpmn_process_id}' is not a sequence flow")
        return element

    def flow_nodes(self) -> Iterator[ExecutableFlowNode]:
        return (e for e in self.elements.values() if isinstance(e, ExecutableFlowNode))
