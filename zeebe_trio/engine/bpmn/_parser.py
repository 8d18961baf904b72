"""BPMN 2.0 XML -> ExecutableProcess, validated like Zeebe validates a deployment.

The rules follow Zeebe's design-time validators (``io.camunda.zeebe.model.bpmn.validation.zeebe``:
DefinitionsValidator, ProcessValidator, FlowElementValidator, FlowNodeValidator,
SequenceFlowValidator, ExclusiveGatewayValidator, EndEventValidator, the taskDefinition and
extension element validators, ...) and its runtime ones (ZeebeTaskHeadersValidator, the static
parts of ZeebeExpressionValidator), restricted to the elements zeebe-trio executes. Every element
outside that subset is reported once as "not supported yet"; its content is not inspected. Problems
name elements by kind, id and name (see ``_errors``); the list of supported elements is a hint that
a rejection states once per resource, however many elements it names.

Each process is read in one pass over its direct children, so parsing is linear in the file size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from ._errors import ID_EXCERPT_LIMIT, BpmnValidationError, Problem, excerpt, references, tag_in_words
from ._model import (
    DEFAULT_JOB_RETRIES,
    EXECUTABLE_ELEMENT_TYPES,
    ElementType,
    ExecutableProcess,
    FlowElement,
    FlowNode,
    Mapping,
    SequenceFlow,
)
from ._xml import BPMN_NS, ZEEBE_NS, bpmn, load_definitions, zeebe

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
    "adHocSubProcess": ElementType.UNSPECIFIED,
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

# Zeebe extension elements that would change how a supported element behaves; silently
# ignoring them would run the process differently from Zeebe, so they are refused for now.
_UNSUPPORTED_EXTENSIONS = {
    zeebe("executionListeners"): "execution listeners (zeebe:executionListeners)",
    zeebe("linkedResources"): "linked resources (zeebe:linkedResources)",
}

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
# Stated once per rejected resource (a Problem hint), however many unsupported elements it has.
_SUPPORTED_SUMMARY = (
    "zeebe-trio supports only none start and end events, undefined tasks (bpmn:task), manual tasks, "
    "job worker tasks (service, send, business rule and script tasks with a zeebe:taskDefinition), "
    "exclusive and parallel gateways and sequence flows; remove or replace the elements that are not "
    "supported yet"
)


def parse_bpmn(resource_name: str, data: bytes) -> list[ExecutableProcess]:
    """Parse a BPMN 2.0 resource into its executable processes.

    Raises BpmnValidationError, naming the resource and every problem, if the bytes are not safe,
    well-formed BPMN 2.0 XML or if any executable process breaks a deployment rule.
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
    for process_element in executable:
        builder = _ProcessBuilder(resource_name, process_element)
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
    supported: bool = True
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    extensions: dict[str, list[etree._Element]] = field(default_factory=dict)
    event_definitions: list[str] = field(default_factory=list)
    loop: str | None = None


class _ProcessBuilder:
    def __init__(self, resource_name: str, element: etree._Element) -> None:
        self.resource_name = resource_name
        self.element = element
        self.process_id = element.get("id") or None
        self.process_name = element.get("name")
        self.problems: list[Problem] = []

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
        for tag, what in _UNSUPPORTED_EXTENSIONS.items():
            if tag in extensions:
                self._problem(f"{what} on the process are not supported yet by zeebe-trio")
        input_mappings, output_mappings = self._io_mappings(self.element, extensions)
        version_tag_elements = extensions.get(zeebe("versionTag"), [])
        version_tag = (version_tag_elements[0].get("value") or None) if version_tag_elements else None

        nodes: dict[str, _RawNode] = {}
        flow_elements: list[etree._Element] = []
        for child in self.element:
            if not isinstance(child.tag, str):
                continue
            local = _FLOW_NODE_TAGS.get(child.tag)
            if local is not None:
                node = self._read_node(child, local)
                if node is not None:
                    nodes[node.id] = node
            elif child.tag == bpmn("sequenceFlow"):
                flow_elements.append(child)
            # Everything else (lanes, artifacts, data objects, documentation, extensions in
            # other namespaces, ...) does not take part in execution and is ignored.

        flows = [flow for flow in (self._read_flow(e, nodes) for e in flow_elements) if flow is not None]
        for flow in flows:
            if flow.source_ref in nodes:
                nodes[flow.source_ref].outgoing.append(flow.id)
            if flow.target_ref in nodes:
                nodes[flow.target_ref].incoming.append(flow.id)
        flows_by_id = {flow.id: flow for flow in flows}

        start_event_id = self._check_start_events(nodes)
        built: dict[str, FlowElement] = {}
        for node in nodes.values():
            flow_node = self._finish_node(node, flows_by_id)
            if flow_node is not None:
                built[flow_node.id] = flow_node
        for flow in flows:
            built.setdefault(flow.id, flow)

        if self.problems or process_id is None or start_event_id is None:
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
        )

    # -- flow nodes -------------------------------------------------------------------------

    def _read_node(self, element: etree._Element, tag: str) -> _RawNode | None:
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
        if tag == "subProcess" and (element.get("triggeredByEvent") or "").strip().lower() == "true":
            element_type = ElementType.EVENT_SUB_PROCESS
        node = _RawNode(element=element, tag=tag, id=element_id, element_type=element_type)
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag in _EVENT_DEFINITION_TAGS:
                node.event_definitions.append(_EVENT_DEFINITION_TAGS[child.tag])
            elif child.tag in _LOOP_TAGS:
                node.loop = _LOOP_TAGS[child.tag]
            elif child.tag == bpmn("extensionElements"):
                node.extensions = self._extensions(element, child)
        node.supported = self._check_supported(node)
        return node

    def _check_supported(self, node: _RawNode) -> bool:
        """Report, once, why an element cannot run on zeebe-trio; True if it can.

        The element's label already says its kind (``timer boundary event``), so an element of an
        unsupported kind gets the short reason plus the supported-elements hint, stated once per file.
        """
        element, tag = node.element, node.tag
        if node.element_type not in EXECUTABLE_ELEMENT_TYPES or node.event_definitions:
            self._problem(_NOT_SUPPORTED, element, hint=_SUPPORTED_SUMMARY)
            return False
        reason: str | None = None
        if node.loop is not None:
            reason = f"{node.loop} is not supported yet by zeebe-trio"
        elif (element.get("isForCompensation") or "").strip().lower() == "true":
            reason = "compensation handlers (isForCompensation) are not supported yet by zeebe-trio"
        elif tag in _JOB_WORKER_ALTERNATIVES:
            alternative = _JOB_WORKER_ALTERNATIVES[tag]
            has_alternative = zeebe(alternative) in node.extensions
            has_task_definition = zeebe("taskDefinition") in node.extensions
            if has_alternative and not has_task_definition:
                reason = (
                    f"zeebe:{alternative} is not supported yet by zeebe-trio; "
                    "only its job worker form (zeebe:taskDefinition) is"
                )
        if reason is None:
            for ext_tag, what in _UNSUPPORTED_EXTENSIONS.items():
                if ext_tag in node.extensions:
                    reason = f"{what} are not supported yet by zeebe-trio"
                    break
        if reason is None:
            return True
        self._problem(reason, element)
        return False

    def _finish_node(self, node: _RawNode, flows: dict[str, SequenceFlow]) -> FlowNode | None:
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
        if node.element_type is ElementType.EXCLUSIVE_GATEWAY:
            default_flow = self._check_exclusive_gateway(node, flows)

        job_type = job_retries = None
        headers: tuple[tuple[str, str], ...] = ()
        if tag in ("serviceTask", *_JOB_WORKER_ALTERNATIVES):
            job_type, job_retries = self._task_definition(node)
            headers = self._task_headers(node)

        input_mappings, output_mappings = self._io_mappings(element, node.extensions)
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
        )

    def _check_start_events(self, nodes: dict[str, _RawNode]) -> str | None:
        start_events = [n for n in nodes.values() if n.tag == "startEvent"]
        none_start_events = [n for n in start_events if not n.event_definitions]
        if not start_events:
            self._problem(
                "has no start event; add a none start event (a bpmn:startEvent without event definition)"
            )
            return None
        if len(none_start_events) > 1:
            self._problem(
                f"must have exactly one none start event, found {len(none_start_events)}: "
                f"{references((n.id, n.element.get('name')) for n in none_start_events)}; remove all but one"
            )
            return None
        if not none_start_events:
            # Each of the other start events was already reported as not supported.
            return None
        return none_start_events[0].id

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

    # -- zeebe extensions -------------------------------------------------------------------

    def _extensions(
        self, owner: etree._Element, extension_elements: etree._Element | None = None
    ) -> dict[str, list[etree._Element]]:
        if extension_elements is None:
            extension_elements = owner.find(bpmn("extensionElements"))
            if extension_elements is None:
                return {}
        found: dict[str, list[etree._Element]] = {}
        for child in extension_elements:
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{ZEEBE_NS}}}"):
                found.setdefault(child.tag, []).append(child)
        return found

    def _task_definition(self, node: _RawNode) -> tuple[str | None, str | None]:
        element, tag = node.element, node.tag
        definitions = node.extensions.get(zeebe("taskDefinition"), [])
        if len(definitions) != 1:
            if tag == "serviceTask":
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

    def _read_flow(self, element: etree._Element, nodes: dict[str, _RawNode]) -> SequenceFlow | None:
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
            elif ref not in nodes:
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
