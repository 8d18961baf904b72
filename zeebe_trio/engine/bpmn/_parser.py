"""BPMN 2.0 XML -> ExecutableProcess, validated like Zeebe validates a deployment.

The rules follow Zeebe's design-time validators (``io.camunda.zeebe.model.bpmn.validation.zeebe``:
DefinitionsValidator, ProcessValidator, FlowElementValidator, FlowNodeValidator,
SequenceFlowValidator, ExclusiveGatewayValidator, EndEventValidator, the taskDefinition and
extension element validators, ...) and its runtime ones (ZeebeTaskHeadersValidator, the static
parts of ZeebeExpressionValidator; the event, gateway, sub process, multi-instance, call activity,
user task and listener validators for the elements beyond). The syntax layer reads every element
Zeebe 8.8 executes into the model; which of them a deployment may use is decided by the
``supported`` feature set (``_support``). Every element outside it is reported once as "not
supported yet"; its content (a sub process's elements included) is not inspected. Problems name
elements by kind, id and name (see ``_errors``); the list of supported elements is a hint that a
rejection states once per resource, however many elements it names.

A process is read in one pass over its elements (each sub process's children once, as a scope of
their own), then checked across elements scope by scope, so parsing stays linear in the file size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ._errors import ID_EXCERPT_LIMIT, BpmnValidationError, Problem, excerpt, references, tag_in_words
from ._model import (
    DEFAULT_JOB_RETRIES,
    CompensateEventDefinition,
    ElementType,
    EventDefinition,
    ExecutableProcess,
    ExecutionListener,
    FlowElement,
    FlowNode,
    LinkEventDefinition,
    Mapping,
    MessageEventDefinition,
    SequenceFlow,
    SignalEventDefinition,
    TimerEventDefinition,
)
from ._support import (
    AD_HOC_SUB_PROCESS,
    CALLED_DECISION,
    COMPENSATION_HANDLERS,
    EXECUTION_LISTENERS,
    MULTI_INSTANCE,
    SCRIPT_EXPRESSION,
    SUPPORTED,
    Feature,
    supported_summary,
)
from ._syntax_activities import (
    read_called_decision,
    read_called_element,
    read_execution_listeners,
    read_multi_instance,
    read_script,
    read_user_task,
    zeebe_extensions,
)
from ._syntax_events import RootElements, read_event_definition, read_message
from ._xml import BPMN_NS, bpmn, load_definitions, zeebe

__all__ = ["parse_bpmn"]

# BPMN flow node tags -> Zeebe element type (UNSPECIFIED: no Zeebe type at all).
_FLOW_NODE_TYPES: dict[str, ElementType] = {
    "startEvent": ElementType.START_EVENT,
    "endEvent": ElementType.END_EVENT,
    "intermediateCatchEvent": ElementType.INTERMEDIATE_CATCH_EVENT,
    "intermediateThrowEvent": ElementType.INTERMEDIATE_THROW_EVENT,
    "boundaryEvent": ElementType.BOUNDARY_EVENT,
    "implicitThrowEvent": ElementType.UNSPECIFIED,
    "task": ElementType.TASK,
    "serviceTask": ElementType.SERVICE_TASK,
    "sendTask": ElementType.SEND_TASK,
    "receiveTask": ElementType.RECEIVE_TASK,
    "userTask": ElementType.USER_TASK,
    "manualTask": ElementType.MANUAL_TASK,
    "scriptTask": ElementType.SCRIPT_TASK,
    "businessRuleTask": ElementType.BUSINESS_RULE_TASK,
    "callActivity": ElementType.CALL_ACTIVITY,
    "subProcess": ElementType.SUB_PROCESS,
    "adHocSubProcess": ElementType.AD_HOC_SUB_PROCESS,
    "transaction": ElementType.UNSPECIFIED,
    "exclusiveGateway": ElementType.EXCLUSIVE_GATEWAY,
    "parallelGateway": ElementType.PARALLEL_GATEWAY,
    "inclusiveGateway": ElementType.INCLUSIVE_GATEWAY,
    "eventBasedGateway": ElementType.EVENT_BASED_GATEWAY,
    "complexGateway": ElementType.UNSPECIFIED,
    "callChoreography": ElementType.UNSPECIFIED,
    "subChoreography": ElementType.UNSPECIFIED,
    "choreographyTask": ElementType.UNSPECIFIED,
}
_FLOW_NODE_TAGS = {bpmn(local): local for local in _FLOW_NODE_TYPES}

_EVENT_DEFINITION_TAGS = {
    bpmn(local): local
    for local in (
        "messageEventDefinition",
        "timerEventDefinition",
        "signalEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
        "compensateEventDefinition",
        "conditionalEventDefinition",
        "linkEventDefinition",
        "terminateEventDefinition",
        "cancelEventDefinition",
        "eventDefinitionRef",
    )
}

# Event definition tag -> the word the BPMN spec (and the Modeler) puts before the event's kind.
_EVENT_TRIGGERS = {
    bpmn("messageEventDefinition"): "message",
    bpmn("timerEventDefinition"): "timer",
    bpmn("signalEventDefinition"): "signal",
    bpmn("errorEventDefinition"): "error",
    bpmn("escalationEventDefinition"): "escalation",
    bpmn("compensateEventDefinition"): "compensation",
    bpmn("conditionalEventDefinition"): "conditional",
    bpmn("linkEventDefinition"): "link",
    bpmn("terminateEventDefinition"): "terminate",
    bpmn("cancelEventDefinition"): "cancel",
}

_EVENT_TAGS = {
    "startEvent": "start event",
    "endEvent": "end event",
    "intermediateCatchEvent": "intermediate catch event",
    "intermediateThrowEvent": "intermediate throw event",
    "boundaryEvent": "boundary event",
    "implicitThrowEvent": "implicit throw event",
}

# Kinds the tag alone does not spell (the others are the tag in words: serviceTask -> service task).
_ELEMENT_KINDS = {
    "adHocSubProcess": "ad-hoc sub process",
    "eventBasedGateway": "event-based gateway",
}

_MULTI_INSTANCE_TAG = bpmn("multiInstanceLoopCharacteristics")
_LOOP_TAGS = {
    bpmn("multiInstanceLoopCharacteristics"): "multi-instance (multiInstanceLoopCharacteristics)",
    bpmn("standardLoopCharacteristics"): "loops (standardLoopCharacteristics)",
}

_JOB_WORKER_ALTERNATIVES = {
    # tag -> the zeebe extension that is the alternative to zeebe:taskDefinition
    "sendTask": "publishMessage",
    "businessRuleTask": "calledDecision",
    "scriptTask": "script",
}

# The feature that allows the non-job form of a task (publishMessage has none: never allowed).
_ALTERNATIVE_FEATURES = {"script": SCRIPT_EXPRESSION, "calledDecision": CALLED_DECISION}

# Zeebe extension elements that would change how a supported element behaves; silently
# ignoring them would run the process differently from Zeebe, so they are refused unless their
# feature is supported (None: never).
_GATED_EXTENSIONS: dict[str, tuple[str, Feature | None]] = {
    zeebe("executionListeners"): ("execution listeners (zeebe:executionListeners)", EXECUTION_LISTENERS),
    zeebe("linkedResources"): ("linked resources (zeebe:linkedResources)", None),
}

# Flow nodes whose content is a scope of its own.
_SCOPE_TAGS = frozenset({"subProcess", "adHocSubProcess"})

_ACTIVITY_TAGS = frozenset(
    {
        "task",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "userTask",
        "manualTask",
        "scriptTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "adHocSubProcess",
    }
)

_GATEWAY_TYPES = frozenset(
    {
        ElementType.EXCLUSIVE_GATEWAY,
        ElementType.PARALLEL_GATEWAY,
        ElementType.INCLUSIVE_GATEWAY,
        ElementType.EVENT_BASED_GATEWAY,
    }
)

_COMPENSATION_HANDLER_TAGS = frozenset(
    {"serviceTask", "userTask", "sendTask", "scriptTask", "manualTask", "task"}
)

# Zeebe's rules for where each event kind may start or interrupt.
_PROCESS_START_KINDS = frozenset({"message", "timer", "signal", "conditional"})
_EVENT_SUB_PROCESS_START_KINDS = frozenset({"message", "timer", "error", "signal", "escalation"})


def _in_event_sub_process(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and parent.tag == bpmn("subProcess") and _is_true(parent.get("triggeredByEvent"))


def _compensation_event_sub_process_problem(start_event: etree._Element) -> str:
    """Zeebe's reason for refusing a compensation start event of an event subprocess."""
    sub_process = start_event.getparent()
    scope = sub_process.getparent() if sub_process is not None else None
    if scope is not None and scope.tag == bpmn("process"):
        return "a compensation event subprocess is not allowed on the process level; move it into a sub process"
    return (
        "start events in event subprocesses must be one of: message, timer, error, signal or escalation; "
        "compensation event subprocesses are not supported by Zeebe, use a compensation boundary event and handler"
    )


_NON_INTERRUPTING_KINDS = frozenset({"message", "timer", "signal", "escalation", "conditional"})

# Zeebe's Protocol.RESERVED_HEADER_NAME_PREFIX.
_RESERVED_HEADER_PREFIX = "io.camunda.zeebe:"

_OMG_NAMESPACE_PREFIX = "{http://www.omg.org/spec/"
_BPMN_PREFIX = f"{{{BPMN_NS}}}"

MAX_ID_LENGTH = 200
"""Characters of a BPMN model element's id. Ids become parts of state keys (a parallel join keys its
scope, gateway id and flow id together), which hold at most 511 bytes: 200 keeps ASCII ids within it."""

# xsd:ID, which Zeebe's schema validation enforces on every id: an XML NCName.
_NCNAME = re.compile(r"[^\W\d][\w.\-\u00b7\u0300-\u036f\u203f-\u2040]*\Z")

_NOT_SUPPORTED = "is not supported yet by zeebe-trio"


def parse_bpmn(
    resource_name: str, data: bytes, *, supported: frozenset[Feature] = SUPPORTED
) -> list[ExecutableProcess]:
    """Parse a BPMN 2.0 resource into its executable processes.

    Raises BpmnValidationError, naming the resource and every problem, if the bytes are not safe,
    well-formed BPMN 2.0 XML or if any executable process breaks a deployment rule. Elements whose
    feature is not in ``supported`` (see ``_support``) are refused as "not supported yet", with a hint
    (stated once per resource) listing what is.
    """
    root = load_definitions(resource_name, data)
    problems: list[Problem] = []
    _check_ids_unique(root, problems)
    _check_id_lengths(root, problems)

    executable = [child for child in root if child.tag == bpmn("process") and _is_executable(child)]
    if not executable:
        problems.append(
            Problem(
                "must contain at least one executable process; "
                'set isExecutable="true" on the bpmn:process that should be deployed'
            )
        )
    processes: list[ExecutableProcess] = []
    roots = RootElements(root)
    for process_element in executable:
        builder = _ProcessBuilder(resource_name, process_element, supported, roots)
        process = builder.build()
        problems.extend(builder.problems)
        if process is not None:
            processes.append(process)
    if problems:
        raise BpmnValidationError(resource_name, problems)
    return processes


def _is_executable(process_element: etree._Element) -> bool:
    # Zeebe reads the attribute with Boolean.parseBoolean: missing or anything but "true" is false.
    return (process_element.get("isExecutable") or "").strip().lower() == "true"


def _check_ids_unique(root: etree._Element, problems: list[Problem]) -> None:
    """Ids are xsd:IDs: unique across the whole document (diagram elements included)."""
    seen: dict[str, str] = {}
    reported: set[str] = set()
    for element in root.iter(tag=etree.Element):
        element_id = element.get("id")
        # Only the OMG schemas (BPMN model and diagram interchange) declare id as an xsd:ID;
        # an "id" on a foreign extension element is just an attribute.
        if element_id is None or not element.tag.startswith(_OMG_NAMESPACE_PREFIX):
            continue
        tag = etree.QName(element).localname
        if element_id in seen:
            if element_id not in reported:
                reported.add(element_id)
                problems.append(
                    Problem(
                        f"the id is used by more than one element (first by a '{seen[element_id]}'); "
                        "ids must be unique within the resource",
                        element_id=element_id,
                        element_type=tag,
                        element_name=element.get("name"),
                        element_kind=_element_kind(element),
                    )
                )
        else:
            seen[element_id] = tag


def _check_id_lengths(root: etree._Element, problems: list[Problem]) -> None:
    """Ids become part of records and state keys: at most ``MAX_ID_LENGTH`` characters (Zeebe's
    max-id-length check, with a limit its state keys can hold)."""
    for element in root.iter(tag=etree.Element):
        element_id = element.get("id")
        if element_id is None or len(element_id) <= MAX_ID_LENGTH or not element.tag.startswith(_BPMN_PREFIX):
            continue
        problems.append(
            Problem(
                f"IDs must not be longer than the max-id-length of {MAX_ID_LENGTH} characters, but this one"
                f" has {len(element_id)}",
                element_id=element_id,
                element_type=etree.QName(element).localname,
                element_name=element.get("name"),
                element_kind=_element_kind(element),
            )
        )


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _is_false(value: str | None) -> bool:
    return (value or "").strip().lower() == "false"


def _is_job_worker(node: _RawNode) -> bool:
    """Whether ``node`` runs as a job: service tasks; send, business rule and script tasks unless they
    use their non-job form alone; message throw and end events (Zeebe runs those as jobs too)."""
    if node.tag == "serviceTask":
        return True
    if node.tag in _JOB_WORKER_ALTERNATIVES:
        alternative = zeebe(_JOB_WORKER_ALTERNATIVES[node.tag])
        return not (alternative in node.extensions and zeebe("taskDefinition") not in node.extensions)
    return node.tag in ("endEvent", "intermediateThrowEvent") and node.kind == "message"


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _quoted(value: str) -> str:
    """A value from the file (a condition, a header key, ...) as a short, escaped, quoted excerpt."""
    return "'" + excerpt(value, quote="'") + "'"


def _quoted_id(value: str) -> str:
    return "'" + excerpt(value, ID_EXCERPT_LIMIT, quote="'") + "'"


def _element_kind(element: etree._Element) -> str:
    """What a Modeler user calls ``element``: ``timer boundary event``, ``event sub process``, ..."""
    tag = etree.QName(element).localname
    if tag in _EVENT_TAGS:
        return _event_kind(element, _EVENT_TAGS[tag])
    if tag == "subProcess" and (element.get("triggeredByEvent") or "").strip().lower() == "true":
        return "event sub process"
    return _ELEMENT_KINDS.get(tag) or tag_in_words(tag)


def _event_kind(element: etree._Element, base: str) -> str:
    # Definitions by id, so an eventDefinitionRef to a definition already inline counts once.
    triggers: dict[object, str] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _EVENT_TRIGGERS:
            triggers[child.get("id") or child] = _EVENT_TRIGGERS[child.tag]
        elif child.tag == bpmn("eventDefinitionRef"):
            ref = _text(child).rpartition(":")[2]
            triggers[ref or child] = _referenced_trigger(element, ref)
    if not triggers:
        trigger = "none"
    elif len(triggers) == 1:
        [trigger] = triggers.values()
    elif (element.get("parallelMultiple") or "").strip().lower() == "true":
        trigger = "parallel multiple"
    else:
        trigger = "multiple"
    interrupting_attribute = "cancelActivity" if base == "boundary event" else "isInterrupting"
    if (element.get(interrupting_attribute) or "").strip().lower() == "false":
        trigger = f"non-interrupting {trigger}"
    return f"{trigger} {base}"


def _referenced_trigger(event: etree._Element, ref: str) -> str:
    """The trigger of the event definition an eventDefinitionRef names (inline or in definitions)."""
    for candidate in (*event, *event.getroottree().getroot()):
        if isinstance(candidate.tag, str) and candidate.get("id") == ref and candidate.tag in _EVENT_TRIGGERS:
            return _EVENT_TRIGGERS[candidate.tag]
    return "referenced"


@dataclass
class _RawNode:
    element: etree._Element
    tag: str
    id: str
    element_type: ElementType
    scope_id: str | None = None
    supported: bool = True
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    extensions: dict[str, list[etree._Element]] = field(default_factory=dict)
    event_definitions: list[str] = field(default_factory=list)
    definition_elements: list[etree._Element] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    loop: str | None = None
    loop_element: etree._Element | None = None
    built: FlowNode | None = None

    @property
    def kind(self) -> str | None:
        return self.kinds[0] if self.kinds else None

    @property
    def name(self) -> str | None:
        return self.element.get("name")


class _ProcessBuilder:
    def __init__(
        self,
        resource_name: str,
        element: etree._Element,
        supported: frozenset[Feature] = SUPPORTED,
        roots: RootElements | None = None,
    ) -> None:
        self.resource_name = resource_name
        self.element = element
        self.process_id = element.get("id") or None
        self.process_name = element.get("name")
        self.problems: list[Problem] = []
        self.supported = supported
        self.hint = supported_summary(supported)
        self._association_sources: set[str] | None = None
        if roots is None:
            parent = element.getparent()
            roots = RootElements(element if parent is None else parent)
        self.roots = roots

    # -- problems ---------------------------------------------------------------------------

    def _problem(self, message: str, element: etree._Element | None = None, hint: str | None = None) -> None:
        if element is None:
            self.problems.append(
                Problem(message, process_id=self.process_id, process_name=self.process_name, hint=hint)
            )
            return
        self.problems.append(
            Problem(
                message,
                process_id=self.process_id,
                element_id=element.get("id") or None,
                element_type=etree.QName(element).localname,
                line=element.sourceline,
                element_name=element.get("name"),
                element_kind=_element_kind(element),
                process_name=self.process_name,
                hint=hint,
            )
        )

    # -- the pass ---------------------------------------------------------------------------

    def build(self) -> ExecutableProcess | None:
        process_id = self.process_id
        if process_id is None:
            self.problems.append(
                Problem(
                    "must have a non-empty id (it becomes the bpmnProcessId)",
                    element_type="process",
                    line=self.element.sourceline,
                    element_name=self.process_name,
                )
            )
        elif not _NCNAME.match(process_id):
            self._problem(
                f"the id {_quoted_id(process_id)} is not a valid BPMN id (an XML NCName: starts with a letter or "
                "'_', then letters, digits, '.', '-' or '_'); it is used as the bpmnProcessId"
            )

        extensions = self._extensions(self.element)
        for tag, (what, feature) in _GATED_EXTENSIONS.items():
            if tag in extensions and (feature is None or feature not in self.supported):
                self._problem(f"{what} on the process are not supported yet by zeebe-trio")
        input_mappings, output_mappings = self._io_mappings(self.element, extensions)
        version_tag_elements = extensions.get(zeebe("versionTag"), [])
        version_tag = (version_tag_elements[0].get("value") or None) if version_tag_elements else None
        process_listeners: tuple[ExecutionListener, ...] = ()
        if EXECUTION_LISTENERS in self.supported:
            process_listeners = self._execution_listeners(self.element, extensions)

        nodes: dict[str, _RawNode] = {}
        flow_elements: list[tuple[etree._Element, str | None]] = []
        self._read_scope(self.element, None, nodes, flow_elements)

        flows = [
            flow
            for flow in (self._read_flow(e, scope, nodes) for e, scope in flow_elements)
            if flow is not None
        ]
        for flow in flows:
            if flow.source_ref in nodes:
                nodes[flow.source_ref].outgoing.append(flow.id)
            if flow.target_ref in nodes:
                nodes[flow.target_ref].incoming.append(flow.id)
        flows_by_id = {flow.id: flow for flow in flows}

        has_start_event, start_event_id = self._check_start_events(nodes)
        built: dict[str, FlowElement] = {}
        for node in nodes.values():
            flow_node = self._finish_node(node, nodes, flows_by_id)
            if flow_node is not None:
                node.built = flow_node
                built[flow_node.id] = flow_node
        self._check_graph(nodes, flows_by_id)
        for flow in flows:
            built.setdefault(flow.id, flow)

        if self.problems or process_id is None or not has_start_event:
            return None
        return ExecutableProcess(
            bpmn_process_id=process_id,
            name=self.process_name,
            resource_name=self.resource_name,
            elements=built,
            start_event_id=start_event_id,
            input_mappings=input_mappings,
            output_mappings=output_mappings,
            version_tag=version_tag,
            execution_listeners=process_listeners,
        )

    def _read_scope(
        self,
        container: etree._Element,
        scope_id: str | None,
        nodes: dict[str, _RawNode],
        flow_elements: list[tuple[etree._Element, str | None]],
    ) -> None:
        """Read the flow nodes and sequence flows of one scope, and of the supported scopes inside it
        (the content of an unsupported sub process is not inspected)."""
        for child in container:
            if not isinstance(child.tag, str):
                continue
            local = _FLOW_NODE_TAGS.get(child.tag)
            if local is not None:
                node = self._read_node(child, local, scope_id)
                if node is not None:
                    nodes.setdefault(node.id, node)
                    if node.supported and local in _SCOPE_TAGS:
                        self._read_scope(child, node.id, nodes, flow_elements)
            elif child.tag == bpmn("sequenceFlow"):
                flow_elements.append((child, scope_id))
            # Everything else (lanes, artifacts, data objects, documentation, extensions in
            # other namespaces, ...) does not take part in execution and is ignored.

    # -- flow nodes -------------------------------------------------------------------------

    def _read_node(self, element: etree._Element, tag: str, scope_id: str | None = None) -> _RawNode | None:
        element_id = element.get("id") or ""
        if not element_id:
            self._problem("must have a non-empty id attribute", element)
            return None
        if not _NCNAME.match(element_id):
            self._problem(
                "the id is not a valid BPMN id (an XML NCName: starts with a letter or '_', then "
                "letters, digits, '.', '-' or '_')",
                element,
            )
        element_type = _FLOW_NODE_TYPES[tag]
        if tag == "subProcess" and _is_true(element.get("triggeredByEvent")):
            element_type = ElementType.EVENT_SUB_PROCESS
        node = _RawNode(element=element, tag=tag, id=element_id, element_type=element_type, scope_id=scope_id)
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag in _EVENT_DEFINITION_TAGS:
                node.event_definitions.append(_EVENT_DEFINITION_TAGS[child.tag])
                if child.tag in _EVENT_TRIGGERS:
                    node.definition_elements.append(child)
                    node.kinds.append(_EVENT_TRIGGERS[child.tag])
                else:  # an eventDefinitionRef: the syntax layer does not follow those
                    node.kinds.append("referenced")
            elif child.tag in _LOOP_TAGS:
                node.loop = _LOOP_TAGS[child.tag]
                node.loop_element = child
            elif child.tag == bpmn("extensionElements"):
                node.extensions = self._extensions(element, child)
        node.supported = self._check_supported(node)
        return node

    def _is_supported_element(self, node: _RawNode) -> bool:
        if node.tag == "adHocSubProcess":  # the element key or, as before it had a type, the flag
            allowed = AD_HOC_SUB_PROCESS in self.supported or (ElementType.AD_HOC_SUB_PROCESS, None) in self.supported
            return allowed and not node.kinds
        if node.element_type is ElementType.UNSPECIFIED:
            return False
        kinds: list[str | None] = list(node.kinds) or [None]
        return all((node.element_type, kind) in self.supported for kind in kinds)

    def _check_supported(self, node: _RawNode) -> bool:
        """Report, once, why an element cannot run on zeebe-trio; True if it can.

        The element's label already says its kind (``timer boundary event``), so an element of an
        unsupported kind gets the short reason plus the supported-elements hint, stated once per file.
        """
        element, tag = node.element, node.tag
        if tag == "startEvent" and node.kind == "compensation" and _in_event_sub_process(element):
            # Zeebe 8.8 deploys no compensation event subprocess (CompensationEventTest), for its own reasons
            self._problem(_compensation_event_sub_process_problem(element), element)
            return False
        if not self._is_supported_element(node):
            self._problem(_NOT_SUPPORTED, element, hint=self.hint)
            return False
        reason: str | None = None
        if tag == "adHocSubProcess" and zeebe("taskDefinition") in node.extensions:
            reason = (
                "ad-hoc sub processes with a zeebe:taskDefinition (the job worker form) are not supported yet by "
                "zeebe-trio"
            )
        elif node.loop is not None and (
            node.loop_element is None
            or node.loop_element.tag != _MULTI_INSTANCE_TAG
            or MULTI_INSTANCE not in self.supported
        ):
            reason = f"{node.loop} is not supported yet by zeebe-trio"
        elif _is_true(element.get("isForCompensation")) and COMPENSATION_HANDLERS not in self.supported:
            reason = "compensation handlers (isForCompensation) are not supported yet by zeebe-trio"
        elif tag in _JOB_WORKER_ALTERNATIVES:
            alternative = _JOB_WORKER_ALTERNATIVES[tag]
            has_alternative = zeebe(alternative) in node.extensions
            has_task_definition = zeebe("taskDefinition") in node.extensions
            if (
                has_alternative
                and not has_task_definition
                and _ALTERNATIVE_FEATURES.get(alternative, "") not in self.supported
            ):
                reason = (
                    f"zeebe:{alternative} is not supported yet by zeebe-trio; "
                    "only its job worker form (zeebe:taskDefinition) is"
                )
        if reason is None:
            for ext_tag, (what, feature) in _GATED_EXTENSIONS.items():
                if ext_tag in node.extensions and (feature is None or feature not in self.supported):
                    reason = f"{what} are not supported yet by zeebe-trio"
                    break
        if reason is None:
            return True
        self._problem(reason, element)
        return False

    def _finish_node(
        self, node: _RawNode, nodes: dict[str, _RawNode], flows: dict[str, SequenceFlow]
    ) -> FlowNode | None:
        if not node.supported:
            return None  # already reported, once
        element, tag = node.element, node.tag
        if tag == "endEvent" and node.outgoing:
            self._problem(
                "end events must not have outgoing sequence flows; remove them or use another element",
                element,
            )
        # Zeebe's FlowNodeValidator: only exclusive (and inclusive) gateways may have conditions.
        if node.element_type not in (ElementType.EXCLUSIVE_GATEWAY, ElementType.INCLUSIVE_GATEWAY):
            conditional = [f for f in node.outgoing if f in flows and flows[f].condition is not None]
            if conditional:
                self._problem(
                    "conditional sequence flows are only supported at exclusive gateways; remove the "
                    f"condition of {_flow_references(conditional, flows)} or route them through an "
                    "exclusive gateway",
                    element,
                )
        default_flow = None
        if node.element_type in (ElementType.EXCLUSIVE_GATEWAY, ElementType.INCLUSIVE_GATEWAY):
            default_flow = self._check_exclusive_gateway(node, flows)

        event_definition = self._event_definition(node, nodes)
        if tag in _ACTIVITY_TAGS and _is_true(element.get("isForCompensation")):
            self._check_compensation_handler(node)

        job_type = job_retries = None
        headers: tuple[tuple[str, str], ...] = ()
        if _is_job_worker(node):
            job_type, job_retries = self._task_definition(node)
            headers = self._task_headers(node)
        elif node.tag == "userTask":  # both forms: a Camunda user task's record carries them too
            headers = self._task_headers(node)

        input_mappings, output_mappings = self._io_mappings(element, node.extensions)
        extras = self._activity_details(node)
        listeners: tuple[ExecutionListener, ...] = ()
        if EXECUTION_LISTENERS in self.supported:
            listeners = self._execution_listeners(element, node.extensions, node)
        return FlowNode(
            id=node.id,
            element_type=node.element_type,
            name=element.get("name"),
            incoming=tuple(node.incoming),
            outgoing=tuple(node.outgoing),
            input_mappings=input_mappings,
            output_mappings=output_mappings,
            job_type=job_type,
            job_retries=job_retries,
            task_headers=headers,
            default_flow=default_flow,
            flow_scope_id=node.scope_id,
            event_definition=event_definition,
            execution_listeners=listeners,
            **extras,
        )

    def _check_start_events(self, nodes: dict[str, _RawNode]) -> tuple[bool, str | None]:
        """(whether the process has a start event at all, its none start event's id)."""
        start_events = [n for n in nodes.values() if n.tag == "startEvent" and n.scope_id is None]
        none_start_events = [n for n in start_events if not n.event_definitions]
        if not start_events:
            self._problem(
                "has no start event; add a none start event (a bpmn:startEvent without event definition)"
            )
            return False, None
        if len(none_start_events) > 1:
            self._problem(
                f"must have exactly one none start event, found {len(none_start_events)}: "
                f"{references((n.id, n.element.get('name')) for n in none_start_events)}; remove all but one"
            )
            return False, None
        if not none_start_events:
            # Reported as not supported unless the other start events are supported.
            return True, None
        return True, none_start_events[0].id

    def _check_exclusive_gateway(self, node: _RawNode, flows: dict[str, SequenceFlow]) -> str | None:
        element = node.element
        default_flow = element.get("default") or None
        if default_flow is not None and default_flow not in node.outgoing:
            self._problem(
                f"the default flow {_quoted_id(default_flow)} must be one of the gateway's outgoing sequence "
                f"flows ({_flow_references(node.outgoing, flows) or 'it has none'})",
                element,
            )
            default_flow = None
        if len(node.outgoing) > 1:
            missing = [
                f for f in node.outgoing if f != default_flow and f in flows and flows[f].condition is None
            ]
            if missing:
                self._problem(
                    f"the outgoing sequence flows {_flow_references(missing, flows)} must have a condition or be the "
                    "default flow; add a conditionExpression or mark one as default",
                    element,
                )
        return default_flow

    # -- events -----------------------------------------------------------------------------

    def _event_definition(self, node: _RawNode, nodes: dict[str, _RawNode]) -> EventDefinition | None:
        element, tag = node.element, node.tag
        if tag == "receiveTask":
            return self._message(node, element.get("messageRef"), needs_subscription=True)
        if tag not in _EVENT_TAGS:
            return None
        count = len(node.event_definitions)
        if tag in ("intermediateCatchEvent", "boundaryEvent"):
            if count != 1:
                self._problem(f"must have exactly one event definition, found {count}", element)
        elif count > 1:
            self._problem(f"must have at most one event definition, found {count}; keep one", element)
        kind = node.kind
        scope = nodes.get(node.scope_id) if node.scope_id is not None else None
        in_event_sub_process = scope is not None and scope.element_type is ElementType.EVENT_SUB_PROCESS
        interrupting = True
        if tag == "startEvent":
            interrupting = not _is_false(element.get("isInterrupting"))
            self._check_start_event_kind(node, scope)
        elif tag == "boundaryEvent":
            interrupting = not _is_false(element.get("cancelActivity"))
        if not interrupting and kind is not None and kind not in _NON_INTERRUPTING_KINDS:
            self._problem(
                f"a non-interrupting {kind} event is not allowed; only message, timer, signal, escalation and "
                "conditional events can be non-interrupting",
                element,
            )
        if not node.definition_elements:
            return None
        definition_element = node.definition_elements[0]
        definition = read_event_definition(
            definition_element, self.roots, lambda m: self._problem(m, element)
        )
        if isinstance(definition, TimerEventDefinition):
            self._check_timer_placement(node, definition, scope, interrupting)
        elif kind == "message":
            catching = tag in ("intermediateCatchEvent", "boundaryEvent") or (
                tag == "startEvent" and in_event_sub_process
            )
            if tag == "startEvent" or catching:
                definition = self._message(
                    node, definition_element.get("messageRef"), needs_subscription=catching
                )
            else:
                definition = self._message(node, definition_element.get("messageRef"), needs_reference=False)
        elif kind == "signal":
            if isinstance(definition, SignalEventDefinition) and not (definition.signal_name or "").strip():
                self._problem(
                    "must reference a bpmn:signal with a non-empty name (signalRef); signals are matched by name",
                    element,
                )
        elif kind in ("error", "escalation"):
            self._check_code(node, definition_element, kind)
        elif isinstance(definition, CompensateEventDefinition) and tag in (
            "endEvent",
            "intermediateThrowEvent",
        ):
            if definition.activity_ref is not None:
                self._check_compensation_target(node, definition.activity_ref, nodes)
            if not definition.wait_for_completion:
                what = "intermediate throwing event" if tag == "intermediateThrowEvent" else "end event"
                self._problem(
                    f"a compensation {what} waitForCompletion attribute must be true or not present; remove "
                    'waitForCompletion="false"',
                    element,
                )
        return definition

    def _check_compensation_target(
        self, node: _RawNode, activity_ref: str, nodes: dict[str, _RawNode]
    ) -> None:
        target = nodes.get(activity_ref)
        label = _quoted_id(activity_ref)
        if target is None or target.tag not in _ACTIVITY_TAGS:
            self._problem(
                f"the referenced compensation activity {label} doesn't exist; reference an activity of this scope "
                "or remove activityRef to compensate the whole scope",
                node.element,
            )
            return
        if target.scope_id != node.scope_id:
            self._problem(
                f"the referenced compensation activity {label} must be in the same scope as the compensation throw "
                "event",
                node.element,
            )
        has_compensation_boundary = any(
            n.tag == "boundaryEvent"
            and n.kind == "compensation"
            and (n.element.get("attachedToRef") or "").strip() == activity_ref
            for n in nodes.values()
            if n.scope_id == target.scope_id
        )
        if not has_compensation_boundary and target.element_type is not ElementType.SUB_PROCESS:
            self._problem(
                f"the referenced compensation activity {label} must have either a compensation boundary event or be "
                "a subprocess",
                node.element,
            )

    def _check_compensation_handler(self, node: _RawNode) -> None:
        element = node.element
        if node.tag not in _COMPENSATION_HANDLER_TAGS:
            self._problem(
                "a compensation task must be one of: service task, user task, send task, script task, manual task, "
                "or undefined task",
                element,
            )
        if node.incoming:
            self._problem(
                "a compensation handler should have no incoming sequence flows; remove them", element
            )
        if node.outgoing:
            self._problem(
                "a compensation handler should have no outgoing sequence flows; remove them", element
            )

    def _check_start_event_kind(self, node: _RawNode, scope: _RawNode | None) -> None:
        kind, element = node.kind, node.element
        if scope is None:
            if kind is not None and kind not in _PROCESS_START_KINDS:
                self._problem(
                    f"a {kind} start event is not allowed at the process level; process start events are none, "
                    "message, timer, signal or conditional start events (use an event sub process instead)",
                    element,
                )
        elif scope.element_type is ElementType.EVENT_SUB_PROCESS:
            if kind is None or kind not in _EVENT_SUB_PROCESS_START_KINDS:
                self._problem(
                    "start events in event subprocesses must be one of: message, timer, error, signal or escalation; "
                    "add one of these event definitions",
                    element,
                )
        elif kind is not None:
            self._problem(
                "start events in subprocesses must be of type none; remove the event definition", element
            )

    def _check_timer_placement(
        self, node: _RawNode, timer: TimerEventDefinition, scope: _RawNode | None, interrupting: bool
    ) -> None:
        element, tag = node.element, node.tag
        if [timer.time_duration, timer.time_date, timer.time_cycle].count(None) != 2:
            return  # not exactly one kind of time: reported with the definition
        if tag == "intermediateCatchEvent" and timer.time_duration is None and timer.time_date is None:
            self._problem(
                "an intermediate timer catch event must have either a time duration or a time date; "
                "a timeCycle only repeats at start and boundary events",
                element,
            )
        if tag == "startEvent" and scope is None and timer.time_date is None and timer.time_cycle is None:
            self._problem(
                "a timer start event must have either a time date or a time cycle; "
                "write a timeDate or a timeCycle instead of the timeDuration",
                element,
            )
        interrupting_here = tag == "boundaryEvent" or (
            tag == "startEvent" and scope is not None and scope.element_type is ElementType.EVENT_SUB_PROCESS
        )
        if interrupting_here and interrupting and timer.time_cycle is not None:
            self._problem(
                "an interrupting timer event with a time cycle is not allowed; make it non-interrupting or use "
                "a timeDuration or timeDate",
                element,
            )

    def _message(
        self,
        node: _RawNode,
        message_ref: str | None,
        *,
        needs_subscription: bool = False,
        needs_reference: bool = True,
    ) -> MessageEventDefinition:
        element = node.element
        definition, resolved, subscriptions = read_message(self.roots, message_ref)
        if not resolved:
            if needs_reference:
                if message_ref and message_ref.strip():
                    what = f"its messageRef {_quoted_id(message_ref.strip())} names no bpmn:message of the definitions"
                else:
                    what = "set its messageRef to a bpmn:message of the definitions"
                self._problem(f"must reference a message; {what}", element)
            return definition
        label = _quoted_id((message_ref or "").strip())
        if not (definition.message_name or "").strip():
            self._problem(
                f"the message {label} must have a non-empty name; messages are correlated by name", element
            )
        if needs_subscription:
            if subscriptions != 1:
                self._problem(
                    f"the message {label} must have exactly one zeebe:subscription extension element, found "
                    f"{subscriptions}; add one with a correlationKey",
                    element,
                )
            elif not (definition.correlation_key or "").strip():
                self._problem(
                    f"the zeebe:subscription of message {label} must have a non-empty correlationKey "
                    "(e.g. '=orderId')",
                    element,
                )
        return definition

    def _check_code(self, node: _RawNode, definition_element: etree._Element, kind: str) -> None:
        element, tag = node.element, node.tag
        root_tag, code_attribute = (
            ("error", "errorCode") if kind == "error" else ("escalation", "escalationCode")
        )
        ref_attribute = f"{root_tag}Ref"
        referenced = self.roots.find(root_tag, definition_element.get(ref_attribute))
        code = None if referenced is None else referenced.get(code_attribute)
        throwing = tag in ("endEvent", "intermediateThrowEvent")
        if throwing:
            if referenced is None:
                self._problem(
                    f"must reference a bpmn:{root_tag} ({ref_attribute}); add one with a non-empty {code_attribute}",
                    element,
                )
            elif not (code or "").strip():
                self._problem(
                    f"the referenced bpmn:{root_tag} must have a non-empty {code_attribute}; it is what catch "
                    "events match",
                    element,
                )
        elif code is not None and code.strip().startswith("="):
            self._problem(
                f"the {code_attribute} of the {kind} catch event is not allowed to be an expression, found "
                f"{_quoted(code)}; write the code itself",
                element,
            )

    # -- activities -------------------------------------------------------------------------

    def _activity_details(self, node: _RawNode) -> dict[str, Any]:
        """The FlowNode fields beyond the common ones, checked."""
        element, tag = node.element, node.tag
        details: dict[str, Any] = {}
        if tag == "boundaryEvent":
            attached_to = (element.get("attachedToRef") or "").strip() or None
            details["attached_to"] = attached_to
            details["cancel_activity"] = not _is_false(element.get("cancelActivity"))
            if attached_to is None:
                self._problem("must be attached to an activity; set its attachedToRef", element)
            if node.incoming:
                self._problem("boundary events cannot have incoming sequence flows; remove them", element)
            if node.kind == "compensation":
                details["compensation_handler_id"] = self._association_target(node.id)
        elif tag == "startEvent":
            details["interrupting"] = not _is_false(element.get("isInterrupting"))
        if node.element_type is ElementType.EVENT_SUB_PROCESS:
            details["triggered_by_event"] = True
        if tag in _ACTIVITY_TAGS and _is_true(element.get("isForCompensation")):
            details["is_for_compensation"] = True

        def report(message: str) -> None:
            self._problem(message, element)

        if node.loop_element is not None and node.loop_element.tag == _MULTI_INSTANCE_TAG:
            details["multi_instance"] = read_multi_instance(node.loop_element, report)
        if tag == "callActivity":
            details["called_element"] = read_called_element(node.extensions, report)
        elif tag == "businessRuleTask" and not _is_job_worker(node):
            details["called_decision"] = read_called_decision(node.extensions, report)
        elif tag == "scriptTask" and not _is_job_worker(node):
            details["script"] = read_script(node.extensions, report)
        elif tag == "userTask":
            details["user_task"] = read_user_task(node.extensions, report)
        elif tag == "adHocSubProcess":
            details["ad_hoc"] = True
            ad_hoc = node.extensions.get(zeebe("adHoc"), [])
            if ad_hoc:
                details["active_elements_collection"] = ad_hoc[0].get("activeElementsCollection") or None
                details["ad_hoc_output_collection"] = (ad_hoc[0].get("outputCollection") or "").strip() or None
                details["ad_hoc_output_element"] = ad_hoc[0].get("outputElement") or None
            condition = element.find(bpmn("completionCondition"))
            if condition is not None:
                details["completion_condition"] = _text(condition) or None
            details["cancel_remaining_instances"] = not _is_false(element.get("cancelRemainingInstances"))
        # what an ad-hoc subprocess tells of its activities (adHocSubProcessElements): documentation, properties
        documentation = element.find(bpmn("documentation"))
        if documentation is not None and "".join(documentation.itertext()):
            details["documentation"] = "".join(documentation.itertext())
        properties = node.extensions.get(zeebe("properties"), [])
        if properties:
            details["properties"] = tuple(
                (name, prop.get("value") or None)  # Zeebe reads an empty value as none
                for prop in properties[0] if prop.tag == zeebe("property") and (name := prop.get("name")))
        return details

    def _execution_listeners(
        self,
        element: etree._Element,
        extensions: dict[str, list[etree._Element]],
        node: _RawNode | None = None,
    ) -> tuple[ExecutionListener, ...]:
        listeners = read_execution_listeners(extensions, lambda message: self._problem_for(element, message))
        if node is None or not listeners:
            return listeners
        event_types = {listener.event_type for listener in listeners}
        # Zeebe's per-element limits: where an element completes the instant it starts (or never
        # completes normally), the listener that cannot run is refused.
        refused: tuple[str, str] | None = None
        if node.tag == "startEvent" and "start" in event_types:
            refused = ("start", "start events")
        elif node.tag == "boundaryEvent" and node.kind == "compensation":
            refused = ("'start' and 'end'", "compensation boundary events")
        elif node.tag == "boundaryEvent" and "start" in event_types:
            refused = ("start", "boundary events")
        elif node.element_type in _GATEWAY_TYPES and "end" in event_types:
            refused = ("end", "gateways")
        elif node.tag == "endEvent" and node.kind in ("error", "escalation") and "end" in event_types:
            refused = ("end", "error and escalation end events")
        elif node.tag == "intermediateThrowEvent" and node.kind == "escalation" and "end" in event_types:
            refused = ("end", "escalation intermediate throw events")
        if refused is not None:
            event_type, where = refused
            quoted = event_type if event_type.startswith("'") else f"'{event_type}'"
            self._problem(
                f"execution listeners of type {quoted} are not supported by {where}; remove them", element
            )
        return listeners

    # -- rules across elements ----------------------------------------------------------------

    def _check_graph(self, nodes: dict[str, _RawNode], flows: dict[str, SequenceFlow]) -> None:
        by_scope: dict[str | None, list[_RawNode]] = {}
        for node in nodes.values():
            if node.supported:
                by_scope.setdefault(node.scope_id, []).append(node)
        for scope_id, children in by_scope.items():
            owner = nodes.get(scope_id) if scope_id is not None else None
            boundaries: dict[str, list[_RawNode]] = {}
            event_sub_process_starts: list[_RawNode] = []
            for node in children:
                if node.tag == "boundaryEvent":
                    self._check_attachment(node, nodes)
                    boundaries.setdefault((node.element.get("attachedToRef") or "").strip(), []).append(node)
                elif node.tag in _SCOPE_TAGS:
                    self._check_sub_process(node)
                    if node.element_type is ElementType.EVENT_SUB_PROCESS:
                        event_sub_process_starts.extend(
                            n for n in by_scope.get(node.id, ()) if n.tag == "startEvent"
                        )
                elif node.element_type is ElementType.EVENT_BASED_GATEWAY:
                    self._check_event_based_gateway(node, nodes, flows)
            for activity_id, events in boundaries.items():
                activity = nodes.get(activity_id)
                if activity is not None and activity.supported:
                    self._check_catch_duplicates(activity, events)
                    if _is_true(activity.element.get("isForCompensation")):
                        self._problem(
                            "a compensation handler should have no boundary events; remove them",
                            activity.element,
                        )
            # An event sub process start event is caught in the scope around it, as boundary events are.
            self._check_catch_duplicates(owner, event_sub_process_starts)
            if scope_id is None:
                self._check_unique_names(None, [n for n in children if n.tag == "startEvent"])
            self._check_links(children)

    def _check_attachment(self, node: _RawNode, nodes: dict[str, _RawNode]) -> None:
        attached_to = (node.element.get("attachedToRef") or "").strip()
        if not attached_to:
            return  # reported with the node
        target = nodes.get(attached_to)
        if target is None or target.tag not in _ACTIVITY_TAGS or target.scope_id != node.scope_id:
            self._problem(
                f"must be attached to an activity of the same scope; its attachedToRef {_quoted_id(attached_to)} "
                "names none",
                node.element,
            )
            return
        if node.kind == "escalation" and target.tag not in ("subProcess", "callActivity"):
            self._problem(
                "an escalation boundary event should only be attached to a subprocess, or a call activity",
                node.element,
            )
        if node.kind == "compensation" and (node.outgoing or not self._has_association_from(node.id)):
            self._problem(
                "compensation boundary events must have a compensation association and no outgoing sequence flows; "
                "connect the compensation handler with an association",
                node.element,
            )
        elif node.kind == "compensation":
            handler = nodes.get(self._association_target(node.id) or "")
            is_handler = handler is not None and handler.tag in _ACTIVITY_TAGS \
                and _is_true(handler.element.get("isForCompensation"))
            if not is_handler:
                self._problem(
                    "the compensation boundary event must be connected to a compensation handler (an activity with "
                    'isForCompensation="true") by its association; point the association\'s targetRef at one',
                    node.element,
                )

    def _association_target(self, element_id: str) -> str | None:
        """The targetRef of the first bpmn:association from ``element_id`` (a compensation boundary
        event's handler), or None."""
        for association in self.element.iter(bpmn("association")):
            if (association.get("sourceRef") or "").strip() == element_id:
                return (association.get("targetRef") or "").strip() or None
        return None

    def _has_association_from(self, element_id: str) -> bool:
        if self._association_sources is None:
            self._association_sources = {
                (association.get("sourceRef") or "").strip()
                for association in self.element.iter(bpmn("association"))
            }
        return element_id in self._association_sources

    def _check_sub_process(self, node: _RawNode) -> None:
        all_children = [c for c in node.element if isinstance(c.tag, str) and c.tag in _FLOW_NODE_TAGS]
        start_events = [c for c in all_children if c.tag == bpmn("startEvent")]
        if node.tag == "adHocSubProcess":
            if start_events:
                self._problem(
                    "an ad-hoc sub process must not contain start events; remove them", node.element
                )
            if any(c.tag == bpmn("endEvent") for c in all_children):
                self._problem("an ad-hoc sub process must not contain end events; remove them", node.element)
            if not all_children:
                self._problem("an ad-hoc sub process must have at least one activity", node.element)
            return
        if len(start_events) != 1:
            self._problem(
                f"must have exactly one start event, found {len(start_events)}"
                + ("; add a none start event" if not start_events else "; remove all but one"),
                node.element,
            )
        if node.element_type is ElementType.EVENT_SUB_PROCESS and (node.incoming or node.outgoing):
            self._problem(
                "event sub processes cannot have incoming or outgoing sequence flows; remove them",
                node.element,
            )

    def _check_event_based_gateway(
        self, node: _RawNode, nodes: dict[str, _RawNode], flows: dict[str, SequenceFlow]
    ) -> None:
        element = node.element
        if len(node.outgoing) < 2:
            self._problem("an event-based gateway must have at least 2 outgoing sequence flows", element)
        targets = [
            nodes[flows[f].target_ref] for f in node.outgoing if f in flows and flows[f].target_ref in nodes
        ]
        invalid = [
            t
            for t in targets
            if t.tag != "intermediateCatchEvent"
            or len(t.event_definitions) != 1
            or t.kind not in ("message", "timer", "signal", "conditional")
        ]
        if invalid:
            self._problem(
                "an event-based gateway must not have an outgoing sequence flow to other elements than "
                "message/timer/signal/conditional intermediate catch events; it leads to "
                f"{references((t.id, t.name) for t in invalid)}",
                element,
            )
        shared = [t for t in targets if len(t.incoming) > 1]
        if shared:
            self._problem(
                "target elements of an event gateway must not have any additional incoming sequence flows other "
                f"than that from the event gateway: {references((t.id, t.name) for t in shared)}",
                element,
            )
        self._check_unique_names(node, [t for t in targets if t.built is not None])

    def _owner_problem(self, owner: _RawNode | None, message: str) -> None:
        if owner is None:
            self._problem(message)
        else:
            self._problem(message, owner.element)

    def _check_unique_names(self, owner: _RawNode | None, events: list[_RawNode]) -> None:
        """Messages and signals caught side by side (an event-based gateway's targets, an activity's
        boundary events, the event sub processes of a scope, the start events of a process) must
        differ in name, or a message could not tell which to trigger."""
        for kind, attribute in (("message", "message_name"), ("signal", "signal_name")):
            names = [
                getattr(e.built.event_definition, attribute, None)
                for e in events
                if e.built is not None and e.kind == kind
            ]
            seen: set[str] = set()
            duplicates: list[str] = []
            for name in names:
                if name and name in seen and name not in duplicates:
                    duplicates.append(name)
                seen.add(name or "")
            for name in duplicates:
                self._owner_problem(
                    owner,
                    f"multiple {kind} event definitions with the same name {_quoted(name)} are not allowed",
                )

    def _check_catch_duplicates(self, owner: _RawNode | None, events: list[_RawNode]) -> None:
        self._check_unique_names(owner, events)
        for kind, attribute in (("error", "error_code"), ("escalation", "escalation_code")):
            codes = [
                getattr(e.built.event_definition, attribute, None)
                for e in events
                if e.built is not None and e.kind == kind
            ]
            if codes.count(None) > 1:
                self._owner_problem(
                    owner,
                    f"the same scope can not contain more than one {kind} catch event without {kind} code; "
                    f"an {kind} catch event without {kind} code catches all {kind}s",
                )
            counts: dict[str, int] = {}
            for code in codes:
                if code is not None:
                    counts[code] = counts.get(code, 0) + 1
            for code, count in counts.items():
                if count > 1:
                    self._owner_problem(
                        owner,
                        f"multiple {kind} catch events with the same {kind} code {_quoted(code)} are not "
                        "supported on the same scope",
                    )

    def _check_links(self, nodes: list[_RawNode]) -> None:
        """Link catch names are unique in a scope, and every link throw has its catch there."""
        catch_names: set[str] = set()
        throws: list[tuple[_RawNode, str]] = []
        for node in nodes:
            definition = node.built.event_definition if node.built is not None else None
            if not isinstance(definition, LinkEventDefinition) or not definition.name:
                continue
            if node.tag == "intermediateThrowEvent":
                throws.append((node, definition.name))
            elif definition.name in catch_names:
                self._problem(
                    "multiple intermediate catch link event definitions with the same name "
                    f"{_quoted(definition.name)} are not allowed in one scope; rename one",
                    node.element,
                )
            else:
                catch_names.add(definition.name)
        for node, name in throws:
            if name not in catch_names:
                self._problem(
                    f"can't find a catch link event for the throw link event with the name {_quoted(name)} in the "
                    "same scope; add one or rename the link",
                    node.element,
                )

    # -- zeebe extensions -------------------------------------------------------------------

    def _extensions(
        self, owner: etree._Element, extension_elements: etree._Element | None = None
    ) -> dict[str, list[etree._Element]]:
        return zeebe_extensions(owner, extension_elements)

    def _task_definition(self, node: _RawNode) -> tuple[str | None, str | None]:
        element, tag = node.element, node.tag
        definitions = node.extensions.get(zeebe("taskDefinition"), [])
        if len(definitions) != 1:
            if tag in ("endEvent", "intermediateThrowEvent"):
                problem = (
                    "must have either one zeebe:publishMessage or one zeebe:taskDefinition extension "
                    "element; zeebe-trio runs message throw events as job workers, so add a "
                    "zeebe:taskDefinition with a type"
                )
            elif tag == "serviceTask":
                problem = (
                    "must have a zeebe:taskDefinition with a non-empty type"
                    if not definitions
                    else "must have exactly one zeebe:taskDefinition extension element"
                )
            else:
                alternative = _JOB_WORKER_ALTERNATIVES[tag]
                problem = (
                    f"must have either one zeebe:{alternative} or one zeebe:taskDefinition extension "
                    "element; zeebe-trio runs it as a job worker, so add a zeebe:taskDefinition with a type"
                )
            self._problem(problem, element)
            return None, None
        definition = definitions[0]
        job_type = (definition.get("type") or "").strip()
        if not job_type:
            self._problem("must have a zeebe:taskDefinition with a non-empty type", element)
        elif job_type.startswith("=") and not job_type[1:].strip():
            self._problem(
                "the zeebe:taskDefinition type is an empty expression; write a job type or an "
                "expression after '='",
                element,
            )
        retries = definition.get("retries")
        if retries is None:
            retries = DEFAULT_JOB_RETRIES
        retries = retries.strip()
        if retries.startswith("="):
            if not retries[1:].strip():
                self._problem(
                    "the zeebe:taskDefinition retries is an empty expression; write a number or an "
                    "expression after '='",
                    element,
                )
        elif not retries.isdecimal():
            self._problem(
                f"the zeebe:taskDefinition retries must be a number or an expression starting with '=', "
                f"found {_quoted(retries)}",
                element,
            )
        return job_type, retries

    def _task_headers(self, node: _RawNode) -> tuple[tuple[str, str], ...]:
        element = node.element
        header_lists = node.extensions.get(zeebe("taskHeaders"), [])
        if len(header_lists) > 1:
            self._problem("must have at most one zeebe:taskHeaders extension element; merge them", element)
        headers: list[tuple[str, str]] = []
        seen: set[str] = set()
        duplicated: list[str] = []
        for header_list in header_lists:
            for header in header_list:
                if header.tag != zeebe("header"):
                    continue
                key = header.get("key")
                if not key:
                    self._problem("every zeebe:header must have a non-empty key", element)
                    continue
                if key.startswith(_RESERVED_HEADER_PREFIX):
                    self._problem(
                        f"the task header key {_quoted(key)} starts with '{_RESERVED_HEADER_PREFIX}', which is "
                        "reserved for internal use; rename it",
                        element,
                    )
                if key in seen and key not in duplicated:
                    duplicated.append(key)
                seen.add(key)
                headers.append((key, header.get("value") or ""))
        for key in duplicated:
            self._problem(f"the task headers contain duplicate entries for key {_quoted(key)}", element)
        return tuple(headers)

    def _io_mappings(
        self, element: etree._Element, extensions: dict[str, list[etree._Element]]
    ) -> tuple[tuple[Mapping, ...], tuple[Mapping, ...]]:
        io_mappings = extensions.get(zeebe("ioMapping"), [])
        if len(io_mappings) > 1:
            self._problem_for(element, "must have at most one zeebe:ioMapping extension element; merge them")
        inputs: list[Mapping] = []
        outputs: list[Mapping] = []
        for io_mapping in io_mappings:
            for mapping in io_mapping:
                if mapping.tag == zeebe("input"):
                    kind, into = "input", inputs
                elif mapping.tag == zeebe("output"):
                    kind, into = "output", outputs
                else:
                    continue
                source = mapping.get("source")
                target = mapping.get("target")
                if not target or not target.strip():
                    self._problem_for(element, f"every zeebe:{kind} must have a non-empty target")
                    continue
                if source is None or not source.strip():
                    self._problem_for(
                        element,
                        f"the zeebe:{kind} with target {_quoted(target)} must have a non-empty source",
                    )
                    continue
                stripped = source.strip()
                if stripped.startswith("=") and not stripped[1:].strip():
                    self._problem_for(
                        element,
                        f"the zeebe:{kind} with target {_quoted(target)} has an empty source expression",
                    )
                    continue
                if kind == "output" and not stripped.startswith("="):
                    # Zeebe: output sources must be expressions (isNonStatic).
                    self._problem_for(
                        element,
                        f"the zeebe:output with target {_quoted(target)} must have an expression as source, "
                        f"found the static value {_quoted(source)}; write {_quoted('=' + stripped)}",
                    )
                    continue
                into.append(Mapping(source=source, target=target))
        return tuple(inputs), tuple(outputs)

    def _problem_for(self, element: etree._Element, message: str) -> None:
        if element is self.element:
            self._problem(message)
        else:
            self._problem(message, element)

    # -- sequence flows ---------------------------------------------------------------------

    def _read_flow(
        self, element: etree._Element, scope_id: str | None, nodes: dict[str, _RawNode]
    ) -> SequenceFlow | None:
        flow_id = element.get("id") or ""
        if not flow_id:
            self._problem("must have a non-empty id attribute", element)
            return None
        ok = True
        refs: dict[str, str] = {}
        for attribute in ("sourceRef", "targetRef"):
            ref = (element.get(attribute) or "").strip()
            refs[attribute] = ref
            if not ref:
                self._problem(f"is missing the required attribute {attribute}", element)
                ok = False
            elif ref not in nodes or nodes[ref].scope_id != scope_id:
                self._problem(
                    f"its {attribute} {_quoted_id(ref)} does not reference a flow node of this process; "
                    "connect flow nodes of the same process (and the same sub process) only",
                    element,
                )
                ok = False
        condition: str | None = None
        condition_element = element.find(bpmn("conditionExpression"))
        if condition_element is not None:
            condition = _text(condition_element)
            if not condition or (condition.startswith("=") and not condition[1:].strip()):
                self._problem(
                    "has an empty conditionExpression; write a FEEL expression like '=x > 5' or remove it",
                    element,
                )
                ok = False
            elif not condition.startswith("="):
                self._problem(
                    f"its condition must be an expression, found the static value {_quoted(condition)}; "
                    f"an expression starts with '=' (e.g. {_quoted('=' + condition)})",
                    element,
                )
                ok = False
        if not ok:
            return None
        return SequenceFlow(
            id=flow_id,
            source_ref=refs["sourceRef"],
            target_ref=refs["targetRef"],
            condition=condition,
            name=element.get("name"),
        )


def _flow_references(flow_ids: Iterable[str], flows: dict[str, SequenceFlow]) -> str:
    """The flows as ``'f1' ("yes"), 'f2'``: the names are the labels a Modeler user sees on them."""
    return references((f, flows[f].name if f in flows else None) for f in flow_ids)
