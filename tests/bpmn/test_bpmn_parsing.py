"""parse_bpmn: the model it builds and each deployment rule, on small inline BPMN files."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from zeebe_trio.engine.bpmn import (
    MAX_LISTED_PROBLEMS,
    BpmnValidationError,
    ElementType,
    ExecutableProcess,
    FlowNode,
    Mapping,
    SequenceFlow,
    parse_bpmn,
)
from zeebe_trio.engine.bpmn._support import Feature

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs">\n'
)


def definitions(body: str) -> bytes:
    return (HEADER + body + "\n</bpmn:definitions>").encode()


def process(body: str, process_id: str = "p", attrs: str = 'isExecutable="true"') -> bytes:
    return definitions(f'<bpmn:process id="{process_id}" {attrs}>{body}</bpmn:process>')


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
    )


def service_task(task_id: str = "charge", extensions: str = '<zeebe:taskDefinition type="charge"/>') -> str:
    return (
        f'<bpmn:serviceTask id="{task_id}" name="Charge">'
        f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:serviceTask>"
    )


START_TASK_END = (
    '<bpmn:startEvent id="start"/>'
    + service_task()
    + '<bpmn:endEvent id="end"/>'
    + flow("f1", "start", "charge")
    + flow("f2", "charge", "end")
)


# What zeebe-trio executed when the tests of unsupported elements were written: a fixed set, so that what
# they refuse, and the hint's wording, stay pinned while SUPPORTED widens.
HINT_FEATURES: frozenset[Feature] = frozenset(
    (element_type, None) for element_type in (
        ElementType.START_EVENT, ElementType.END_EVENT, ElementType.TASK, ElementType.MANUAL_TASK,
        ElementType.SERVICE_TASK, ElementType.SEND_TASK, ElementType.BUSINESS_RULE_TASK, ElementType.SCRIPT_TASK,
        ElementType.EXCLUSIVE_GATEWAY, ElementType.PARALLEL_GATEWAY, ElementType.SUB_PROCESS))


def parse_one(data: bytes, resource: str = "order.bpmn") -> ExecutableProcess:
    processes = parse_bpmn(resource, data)
    assert len(processes) == 1
    return processes[0]


def rejection(data: bytes, resource: str = "order.bpmn", **options: Any) -> BpmnValidationError:
    with pytest.raises(BpmnValidationError) as info:
        parse_bpmn(resource, data, **options)
    error = info.value
    assert error.resource_name == resource
    assert str(error).startswith(f"'{resource}'")
    # One line per problem (at most MAX_LISTED_PROBLEMS, then one counting the rest), then each
    # distinct hint once.
    lines = str(error).splitlines()
    listed = error.problems[:MAX_LISTED_PROBLEMS]
    hints = list(dict.fromkeys(p.hint for p in error.problems if p.hint))
    assert len(lines) == len(listed) + (len(error.problems) > len(listed)) + len(hints)
    assert lines[: len(listed)] == [p.describe(resource) for p in listed]
    assert lines[len(lines) - len(hints) :] == [f"'{resource}': {hint}" for hint in hints]
    return error


# -- the model ---------------------------------------------------------------------------------


def test_a_start_task_end_process_becomes_an_executable_process():
    p = parse_one(process(START_TASK_END, attrs='name="Order" isExecutable="true"'))
    assert p.bpmn_process_id == "p"
    assert p.name == "Order"
    assert p.resource_name == "order.bpmn"
    assert p.start_event_id == "start"
    assert set(p.elements) == {"start", "charge", "end", "f1", "f2"}
    charge = p.flow_node("charge")
    assert charge == FlowNode(
        id="charge",
        element_type=ElementType.SERVICE_TASK,
        name="Charge",
        incoming=("f1",),
        outgoing=("f2",),
        job_type="charge",
        job_retries="3",
    )
    assert charge.is_job_worker
    assert p.sequence_flow("f1") == SequenceFlow(id="f1", source_ref="start", target_ref="charge")
    assert p.outgoing_flows("charge") == (p.element("f2"),)
    assert p.element("start").element_type is ElementType.START_EVENT
    assert p.element("f1").element_type is ElementType.SEQUENCE_FLOW


def test_the_model_is_immutable():
    p = parse_one(process(START_TASK_END))
    with pytest.raises(TypeError):
        p.elements["x"] = p.element("start")  # type: ignore[index]
    with pytest.raises(AttributeError):
        p.flow_node("charge").job_type = "other"  # type: ignore[misc]


def test_parsing_is_deterministic():
    data = process(START_TASK_END)
    assert parse_one(data) == parse_one(data)


def test_unknown_element_id_names_process_and_element():
    p = parse_one(process(START_TASK_END))
    with pytest.raises(KeyError, match="'nope'"):
        p.element("nope")


def test_job_type_retries_and_headers_are_kept_raw_in_document_order():
    extensions = (
        '<zeebe:taskDefinition type="=&quot;charge-&quot; + region" retries="=order.retries"/>'
        '<zeebe:taskHeaders><zeebe:header key="b" value="2"/><zeebe:header key="a" value="1"/>'
        '<zeebe:header key="empty"/></zeebe:taskHeaders>'
    )
    body = START_TASK_END.replace(service_task(), service_task(extensions=extensions))
    charge = parse_one(process(body)).flow_node("charge")
    assert charge.job_type == '="charge-" + region'
    assert charge.job_retries == "=order.retries"
    assert charge.task_headers == (("b", "2"), ("a", "1"), ("empty", ""))


def test_io_mappings_of_tasks_and_process_are_kept_exactly():
    io = (
        '<zeebe:ioMapping><zeebe:input source="=order.total" target="total"/>'
        '<zeebe:input source="static" target="kind"/>'
        '<zeebe:output source="= result" target="order.charged"/></zeebe:ioMapping>'
    )
    body = START_TASK_END.replace(
        service_task(), service_task(extensions='<zeebe:taskDefinition type="charge"/>' + io)
    )
    body = f"<bpmn:extensionElements>{io}</bpmn:extensionElements>" + body
    p = parse_one(process(body))
    expected_inputs = (Mapping("=order.total", "total"), Mapping("static", "kind"))
    expected_outputs = (Mapping("= result", "order.charged"),)
    assert p.flow_node("charge").input_mappings == expected_inputs
    assert p.flow_node("charge").output_mappings == expected_outputs
    assert p.input_mappings == expected_inputs
    assert p.output_mappings == expected_outputs


def test_exclusive_gateway_with_conditions_and_default_flow():
    body = (
        '<bpmn:startEvent id="start"/>'
        '<bpmn:exclusiveGateway id="gw" default="f_else"/>'
        '<bpmn:endEvent id="big"/><bpmn:endEvent id="small"/>'
        + flow("f0", "start", "gw")
        + flow("f_big", "gw", "big", "= x &gt; 5")
        + flow("f_else", "gw", "small")
    )
    p = parse_one(process(body))
    gw = p.flow_node("gw")
    assert gw.element_type is ElementType.EXCLUSIVE_GATEWAY
    assert gw.default_flow == "f_else"
    assert gw.outgoing == ("f_big", "f_else")
    assert p.sequence_flow("f_big").condition == "= x > 5"
    assert p.sequence_flow("f_else").condition is None


def test_parallel_gateway_fork_and_join():
    body = (
        '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="fork"/>'
        '<bpmn:task id="a"/><bpmn:manualTask id="b"/><bpmn:parallelGateway id="join"/>'
        '<bpmn:endEvent id="end"/>'
        + flow("f0", "start", "fork")
        + flow("fa", "fork", "a")
        + flow("fb", "fork", "b")
        + flow("fa2", "a", "join")
        + flow("fb2", "b", "join")
        + flow("f9", "join", "end")
    )
    p = parse_one(process(body))
    assert p.flow_node("fork").outgoing == ("fa", "fb")
    assert p.flow_node("join").incoming == ("fa2", "fb2")
    assert p.flow_node("a").element_type is ElementType.TASK
    assert p.flow_node("b").element_type is ElementType.MANUAL_TASK
    assert not p.flow_node("a").is_job_worker


@pytest.mark.parametrize(
    ("tag", "element_type"),
    [
        ("sendTask", ElementType.SEND_TASK),
        ("businessRuleTask", ElementType.BUSINESS_RULE_TASK),
        ("scriptTask", ElementType.SCRIPT_TASK),
    ],
)
def test_send_business_rule_and_script_tasks_with_a_task_definition_are_job_workers(tag, element_type):
    task = (
        f'<bpmn:{tag} id="t"><bpmn:extensionElements><zeebe:taskDefinition type="work" retries="5"/>'
        f"</bpmn:extensionElements></bpmn:{tag}>"
    )
    body = '<bpmn:startEvent id="s"/>' + task + flow("f", "s", "t")
    node = parse_one(process(body)).flow_node("t")
    assert node.element_type is element_type
    assert (node.job_type, node.job_retries) == ("work", "5")


def test_ignored_content_does_not_matter():
    body = (
        "<bpmn:documentation>docs</bpmn:documentation>"
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
        "</bpmn:laneSet>"
        + START_TASK_END
        + '<bpmn:textAnnotation id="ta"><bpmn:text>note</bpmn:text></bpmn:textAnnotation>'
        '<bpmn:association id="as" sourceRef="charge" targetRef="ta"/>'
        '<bpmn:dataObject id="do"/><bpmn:dataObjectReference id="dor" dataObjectRef="do"/>'
        '<bpmn:extensionElements><other:thing xmlns:other="urn:other"/><zeebe:properties>'
        '<zeebe:property name="a" value="b"/></zeebe:properties></bpmn:extensionElements>'
    )
    p = parse_one(process(body))
    assert set(p.elements) == {"start", "charge", "end", "f1", "f2"}


def test_collaborations_deploy_their_executable_processes_and_ignore_message_flows():
    data = definitions(
        '<bpmn:collaboration id="c"><bpmn:participant id="pa" processRef="p"/>'
        '<bpmn:participant id="pb" processRef="q"/>'
        '<bpmn:messageFlow id="mf" sourceRef="charge" targetRef="pb"/></bpmn:collaboration>'
        f'<bpmn:process id="p" isExecutable="true">{START_TASK_END}</bpmn:process>'
        '<bpmn:process id="q" isExecutable="true"><bpmn:startEvent id="q_start"/></bpmn:process>'
        '<bpmn:process id="r" isExecutable="false"><bpmn:boundaryEvent id="ignored"/></bpmn:process>'
    )
    assert [p.bpmn_process_id for p in parse_bpmn("c.bpmn", data)] == ["p", "q"]


def test_processes_without_is_executable_are_not_deployed():
    data = definitions(
        f'<bpmn:process id="p" isExecutable="true">{START_TASK_END}</bpmn:process>'
        '<bpmn:process id="q"><bpmn:startEvent id="q_start"/></bpmn:process>'
    )
    assert [p.bpmn_process_id for p in parse_bpmn("c.bpmn", data)] == ["p"]


def test_the_error_survives_pickling():
    error = rejection(process("", attrs=""))
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)


# -- rules -------------------------------------------------------------------------------------


def test_a_file_without_executable_process_is_rejected():
    error = rejection(process(START_TASK_END, attrs='isExecutable="false"'))
    assert str(error) == (
        "'order.bpmn': must contain at least one executable process; "
        'set isExecutable="true" on the bpmn:process that should be deployed'
    )


def test_a_service_task_without_task_definition_is_rejected_with_a_complete_message():
    body = START_TASK_END.replace(service_task(), service_task(extensions=""))
    error = rejection(process(body, process_id="order-process"))
    assert str(error) == (
        "'order.bpmn': process 'order-process': service task 'charge' (\"Charge\"): "
        "must have a zeebe:taskDefinition with a non-empty type"
    )
    [problem] = error.problems
    assert (problem.process_id, problem.element_id, problem.element_type) == (
        "order-process",
        "charge",
        "serviceTask",
    )
    assert (problem.element_name, problem.element_kind) == ("Charge", "service task")


@pytest.mark.parametrize("type_attr", ['type=""', 'type="   "', "", 'type="="'])
def test_a_task_definition_needs_a_type(type_attr):
    body = START_TASK_END.replace(
        service_task(), service_task(extensions=f"<zeebe:taskDefinition {type_attr}/>")
    )
    error = rejection(process(body))
    assert "type" in str(error)
    assert "service task 'charge' (\"Charge\"): " in str(error)


def test_two_task_definitions_are_rejected():
    twice = '<zeebe:taskDefinition type="a"/><zeebe:taskDefinition type="b"/>'
    error = rejection(process(START_TASK_END.replace(service_task(), service_task(extensions=twice))))
    assert "exactly one zeebe:taskDefinition" in str(error)


@pytest.mark.parametrize("retries", ["abc", "-1", "1.5", "", "="])
def test_retries_must_be_a_number_or_an_expression(retries):
    extension = f'<zeebe:taskDefinition type="charge" retries="{retries}"/>'
    error = rejection(process(START_TASK_END.replace(service_task(), service_task(extensions=extension))))
    assert "retries" in str(error)


@pytest.mark.parametrize("retries", ["0", "10", "=x + 1"])
def test_numeric_or_expression_retries_are_accepted(retries):
    extension = f'<zeebe:taskDefinition type="charge" retries="{retries}"/>'
    p = parse_one(process(START_TASK_END.replace(service_task(), service_task(extensions=extension))))
    assert p.flow_node("charge").job_retries == retries


def test_reserved_and_duplicate_task_headers_are_rejected():
    extension = (
        '<zeebe:taskDefinition type="charge"/><zeebe:taskHeaders>'
        '<zeebe:header key="io.camunda.zeebe:x" value="1"/>'
        '<zeebe:header key="k" value="1"/><zeebe:header key="k" value="2"/></zeebe:taskHeaders>'
    )
    error = rejection(process(START_TASK_END.replace(service_task(), service_task(extensions=extension))))
    assert len(error.problems) == 2
    assert "reserved" in str(error)
    assert "duplicate entries for key 'k'" in str(error)


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ('<zeebe:output source="result" target="x"/>', "must have an expression as source"),
        ('<zeebe:input source="" target="x"/>', "non-empty source"),
        ('<zeebe:input source="=a" target=""/>', "non-empty target"),
        ('<zeebe:output source="=" target="x"/>', "empty source expression"),
    ],
)
def test_broken_io_mappings_are_rejected(mapping, expected):
    extension = f'<zeebe:taskDefinition type="charge"/><zeebe:ioMapping>{mapping}</zeebe:ioMapping>'
    error = rejection(process(START_TASK_END.replace(service_task(), service_task(extensions=extension))))
    assert expected in str(error)


@pytest.mark.parametrize(
    ("tag", "alternative"),
    [("sendTask", "publishMessage"), ("businessRuleTask", "calledDecision"), ("scriptTask", "script")],
)
def test_job_worker_capable_tasks_need_some_implementation(tag, alternative):
    body = f'<bpmn:startEvent id="s"/><bpmn:{tag} id="t"/>' + flow("f", "s", "t")
    error = rejection(process(body))
    assert f"either one zeebe:{alternative} or one zeebe:taskDefinition" in str(error)


def test_a_business_rule_task_calling_a_decision_is_refused_where_not_supported():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:businessRuleTask id="t"><bpmn:extensionElements>'
        '<zeebe:calledDecision decisionId="d" resultVariable="r"/></bpmn:extensionElements>'
        "</bpmn:businessRuleTask>" + flow("f", "s", "t")
    )
    error = rejection(process(body), supported=HINT_FEATURES)
    assert str(error) == (
        "'order.bpmn': process 'p': business rule task 't': zeebe:calledDecision is not supported yet by "
        "zeebe-trio; only its job worker form (zeebe:taskDefinition) is"
    )


def test_a_process_needs_a_start_event():
    error = rejection(process('<bpmn:task id="t"/>'))
    assert str(error) == (
        "'order.bpmn': process 'p': has no start event; "
        "add a none start event (a bpmn:startEvent without event definition)"
    )


def test_a_process_may_have_only_one_none_start_event():
    error = rejection(process('<bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/>'))
    assert "exactly one none start event, found 2: 's1', 's2'" in str(error)


@pytest.mark.parametrize(
    ("definition", "trigger"), [("messageEventDefinition", "message"), ("timerEventDefinition", "timer")]
)
def test_message_and_timer_start_events_are_not_supported_yet(definition, trigger):
    body = f'<bpmn:startEvent id="s"><bpmn:{definition} id="d"/></bpmn:startEvent>'
    error = rejection(process(body), supported=HINT_FEATURES)
    assert str(error).splitlines()[0] == (
        f"'order.bpmn': process 'p': {trigger} start event 's': is not supported yet by zeebe-trio"
    )
    assert len(error.problems) == 1


def test_end_events_must_not_have_outgoing_flows():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        + flow("f", "s", "e")
        + flow("g", "e", "e2")
    )
    error = rejection(process(body))
    assert "none end event 'e': end events must not have outgoing sequence flows" in str(error)


def test_unsupported_elements_are_reported_once_each():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:serviceTask id="t"><bpmn:extensionElements>'
        '<zeebe:taskDefinition type="x"/></bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>'
        '<bpmn:userTask id="u"/><bpmn:subProcess id="sp" triggeredByEvent="true"><bpmn:boundaryEvent id="inner"/>'
        '</bpmn:subProcess>'
        + flow("f1", "s", "t")
        + flow("f2", "b", "u", "=x")
        + flow("f3", "t", "sp")
    )
    error = rejection(process(body), supported=HINT_FEATURES)
    ids = [p.element_id for p in error.problems]
    assert ids == ["b", "u", "sp"]
    assert "process 'p': timer boundary event 'b': is not supported yet by zeebe-trio" in str(error)


def test_multi_instance_and_execution_listeners_are_not_supported_yet():
    # A fixed feature set without multi-instance (which the engine runs now), so the gating stays checked.
    body = (
        '<bpmn:startEvent id="s"/>'
        '<bpmn:serviceTask id="mi"><bpmn:extensionElements><zeebe:taskDefinition type="x"/>'
        "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics/></bpmn:serviceTask>"
        '<bpmn:task id="l"><bpmn:extensionElements><zeebe:executionListeners>'
        '<zeebe:executionListener eventType="start" type="y"/></zeebe:executionListeners>'
        "</bpmn:extensionElements></bpmn:task>"
    )
    error = rejection(process(body), supported=HINT_FEATURES)
    assert [p.element_id for p in error.problems] == ["mi", "l"]
    assert "multi-instance" in str(error)
    assert "execution listeners" in str(error)


def test_exclusive_gateway_flows_need_a_condition_or_to_be_the_default():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="a"/>'
        '<bpmn:endEvent id="b"/><bpmn:endEvent id="c"/>'
        + flow("f0", "s", "gw")
        + flow("fa", "gw", "a", "=x")
        + flow("fb", "gw", "b")
        + flow("fc", "gw", "c")
    )
    error = rejection(process(body))
    assert "exclusive gateway 'gw': the outgoing sequence flows 'fb', 'fc' must have a condition" in str(
        error
    )


def test_an_exclusive_gateway_with_a_single_unconditional_flow_is_fine():
    body = '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="a"/>'
    body += flow("f0", "s", "gw") + flow("fa", "gw", "a")
    assert parse_one(process(body)).flow_node("gw").default_flow is None


def test_the_default_flow_must_leave_the_gateway():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw" default="f0"/><bpmn:endEvent id="a"/>'
        + flow("f0", "s", "gw")
        + flow("fa", "gw", "a")
    )
    error = rejection(process(body))
    assert "the default flow 'f0' must be one of the gateway's outgoing sequence flows ('fa')" in str(error)


def test_conditions_are_only_allowed_on_flows_leaving_exclusive_gateways():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:endEvent id="a"/>'
        + flow("f0", "s", "fork", "=true")
        + flow("fa", "fork", "a", "=x")
    )
    error = rejection(process(body))
    assert [p.element_id for p in error.problems] == ["s", "fork"]
    assert "conditional sequence flows are only supported at exclusive gateways" in str(error)


@pytest.mark.parametrize("condition", ["x &gt; 5", "", "="])
def test_conditions_must_be_non_empty_expressions(condition):
    body = (
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw" default="fb"/><bpmn:endEvent id="a"/>'
        '<bpmn:endEvent id="b"/>'
        + flow("f0", "s", "gw")
        + flow("fa", "gw", "a", condition)
        + flow("fb", "gw", "b")
    )
    error = rejection(process(body))
    assert "process 'p': sequence flow 'fa': " in str(error)


def test_sequence_flow_references_must_resolve_within_the_process():
    data = definitions(
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        + flow("f1", "s", "elsewhere")
        + flow("f2", "s", "ghost")
        + '<bpmn:sequenceFlow id="f3" sourceRef="s"/>'
        + '</bpmn:process><bpmn:process id="q"><bpmn:task id="elsewhere"/></bpmn:process>'
    )
    error = rejection(data)
    text = str(error)
    assert (
        "sequence flow 'f1': its targetRef 'elsewhere' does not reference a flow node of this process" in text
    )
    assert "its targetRef 'ghost'" in text
    assert "sequence flow 'f3': is missing the required attribute targetRef" in text


def test_ids_must_be_unique_in_the_whole_resource():
    body = START_TASK_END + '<bpmn:task id="charge"/>'
    error = rejection(process(body))
    assert (
        "'order.bpmn': task 'charge': the id is used by more than one element (first by a 'serviceTask')"
        in str(error)
    )


def test_flow_elements_need_ids():
    error = rejection(process('<bpmn:startEvent id="s"/><bpmn:task name="nameless"/>'))
    assert (
        str(error)
        == "'order.bpmn': process 'p': task without id at line 3 (\"nameless\"): must have a non-empty id attribute"
    )


@pytest.mark.parametrize("bad_id", ["1order", "order process", "a:b"])
def test_the_process_id_must_be_a_valid_id(bad_id):
    error = rejection(process('<bpmn:startEvent id="s"/>', process_id=bad_id))
    assert f"process '{bad_id}': the id '{bad_id}' is not a valid BPMN id" in str(error)


def test_a_process_needs_an_id():
    data = definitions('<bpmn:process isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>')
    error = rejection(data)
    assert "process without id at line 3: must have a non-empty id" in str(error)


def test_all_problems_of_all_processes_are_reported_one_a_line():
    data = definitions(
        '<bpmn:process id="a" isExecutable="true"><bpmn:task id="t1"/></bpmn:process>'
        '<bpmn:process id="b" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:userTask id="u"/></bpmn:process>'
    )
    lines = str(rejection(data, supported=HINT_FEATURES)).splitlines()
    assert lines[0].startswith("'order.bpmn': process 'a': has no start event")
    assert lines[1] == "'order.bpmn': process 'b': user task 'u': is not supported yet by zeebe-trio"
    assert lines[2].startswith(SUPPORTED_HINT)
    assert len(lines) == 3


# -- how rejections name elements --------------------------------------------------------------

START_AND_TASK_ONLY = frozenset({(ElementType.START_EVENT, None), (ElementType.TASK, None)})
SUPPORTED_HINT = "'order.bpmn': zeebe-trio supports only none start and end events, undefined tasks"


def test_an_unsupported_element_is_named_by_kind_id_and_name():
    body = (
        '<bpmn:startEvent id="s"/>'
        + service_task()
        + '<bpmn:boundaryEvent id="Event_1x" name="Payment timed out" attachedToRef="charge">'
        "<bpmn:timerEventDefinition/></bpmn:boundaryEvent>" + flow("f1", "s", "charge")
    )
    error = rejection(process(body, attrs='name="Order" isExecutable="true"'), supported=HINT_FEATURES)
    lines = str(error).splitlines()
    assert lines[0] == (
        "'order.bpmn': process 'p' (\"Order\"): timer boundary event 'Event_1x' (\"Payment timed out\"): "
        "is not supported yet by zeebe-trio"
    )
    assert lines[1].startswith(SUPPORTED_HINT)
    [problem] = error.problems
    assert (problem.element_name, problem.element_kind) == ("Payment timed out", "timer boundary event")


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        (
            '<bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>',
            "timer boundary event",
        ),
        (
            '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>',
            "message intermediate catch event",
        ),
        ('<bpmn:startEvent id="x"><bpmn:signalEventDefinition/></bpmn:startEvent>', "signal start event"),
        ('<bpmn:endEvent id="x"><bpmn:errorEventDefinition/></bpmn:endEvent>', "error end event"),
        (
            '<bpmn:intermediateCatchEvent id="x"><bpmn:conditionalEventDefinition/></bpmn:intermediateCatchEvent>',
            "conditional intermediate catch event",
        ),
        (
            '<bpmn:intermediateThrowEvent id="x"><bpmn:escalationEventDefinition/></bpmn:intermediateThrowEvent>',
            "escalation intermediate throw event",
        ),
        (
            '<bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>',
            "compensation boundary event",
        ),
        (
            '<bpmn:intermediateCatchEvent id="x"><bpmn:linkEventDefinition name="l"/></bpmn:intermediateCatchEvent>',
            "link intermediate catch event",
        ),
        ('<bpmn:endEvent id="x"><bpmn:terminateEventDefinition/></bpmn:endEvent>', "terminate end event"),
        (
            '<bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>',
            "cancel boundary event",
        ),
        (
            '<bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:timerEventDefinition/>'
            "<bpmn:messageEventDefinition/></bpmn:boundaryEvent>",
            "multiple boundary event",
        ),
        (
            '<bpmn:intermediateCatchEvent id="x" parallelMultiple="true"><bpmn:signalEventDefinition/>'
            "<bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>",
            "parallel multiple intermediate catch event",
        ),
        ('<bpmn:boundaryEvent id="x" attachedToRef="t"/>', "none boundary event"),
        ('<bpmn:intermediateCatchEvent id="x"/>', "none intermediate catch event"),
        ('<bpmn:intermediateThrowEvent id="x"/>', "none intermediate throw event"),
        (
            '<bpmn:boundaryEvent id="x" attachedToRef="t" cancelActivity="false"><bpmn:messageEventDefinition/>'
            "</bpmn:boundaryEvent>",
            "non-interrupting message boundary event",
        ),
        # A reference to a definition declared inline is the same definition, not a second one.
        (
            '<bpmn:startEvent id="x"><bpmn:timerEventDefinition id="td"/>'
            "<bpmn:eventDefinitionRef>td</bpmn:eventDefinitionRef></bpmn:startEvent>",
            "timer start event",
        ),
        ('<bpmn:userTask id="x"/>', "user task"),
        ('<bpmn:subProcess id="x" triggeredByEvent="true"/>', "event sub process"),
        ('<bpmn:eventBasedGateway id="x"/>', "event-based gateway"),
    ],
)
def test_an_unsupported_element_says_its_kind_and_an_event_its_event_definition(element, kind):
    body = '<bpmn:startEvent id="s"/><bpmn:task id="t"/>' + element + flow("f", "s", "t")
    error = rejection(process(body), supported=HINT_FEATURES)
    assert [p.element_id for p in error.problems] == ["x"]
    assert str(error).splitlines()[0] == (
        f"'order.bpmn': process 'p': {kind} 'x': is not supported yet by zeebe-trio"
    )


def test_names_are_quoted_as_short_escaped_excerpts():
    name = "Wait for &quot;OK&quot;&#10;then&#9;go &#x202E;" + "x" * 200
    body = f'<bpmn:startEvent id="s"/><bpmn:userTask id="u" name="{name}"/>'
    error = rejection(process(body), supported=HINT_FEATURES)
    first = str(error).splitlines()[0]
    quoted = 'Wait for \\"OK\\"\\nthen\\tgo \\u202e' + "x" * 27 + "…"
    assert len(quoted) == 60
    assert (
        first
        == f"'order.bpmn': process 'p': user task 'u' (\"{quoted}\"): is not supported yet by zeebe-trio"
    )
    # The whole name stays available to programs.
    assert error.problems[0].element_name == 'Wait for "OK"\nthen\tgo \u202e' + "x" * 200


def test_blank_names_are_left_out():
    error = rejection(process('<bpmn:startEvent id="s"/><bpmn:userTask id="u" name="  "/>'), supported=HINT_FEATURES)
    assert (
        str(error).splitlines()[0]
        == "'order.bpmn': process 'p': user task 'u': is not supported yet by zeebe-trio"
    )


def test_the_supported_elements_are_listed_once_per_file_after_every_element_once():
    data = definitions(
        '<bpmn:process id="a" isExecutable="true"><bpmn:startEvent id="s1"/><bpmn:userTask id="u1" name="Approve"/>'
        '<bpmn:callActivity id="c1"/><bpmn:intermediateCatchEvent id="m1"><bpmn:messageEventDefinition/>'
        "</bpmn:intermediateCatchEvent></bpmn:process>"
        '<bpmn:process id="b" isExecutable="true"><bpmn:startEvent id="s2"><bpmn:signalEventDefinition/>'
        '</bpmn:startEvent><bpmn:receiveTask id="r2"/></bpmn:process>'
    )
    error = rejection(data, supported=HINT_FEATURES)
    assert str(error).splitlines() == [
        "'order.bpmn': process 'a': user task 'u1' (\"Approve\"): is not supported yet by zeebe-trio",
        "'order.bpmn': process 'a': call activity 'c1': is not supported yet by zeebe-trio",
        "'order.bpmn': process 'a': message intermediate catch event 'm1': is not supported yet by zeebe-trio",
        "'order.bpmn': process 'b': signal start event 's2': is not supported yet by zeebe-trio",
        "'order.bpmn': process 'b': receive task 'r2': is not supported yet by zeebe-trio",
        "'order.bpmn': zeebe-trio supports only none start and end events, undefined tasks (bpmn:task), "
        "manual tasks, job worker tasks (service, send, business rule and script tasks with a "
        "zeebe:taskDefinition), embedded sub processes, exclusive and parallel gateways and sequence flows; remove"
        " or replace the elements that are not supported yet",
    ]


def test_a_rejection_lists_at_most_twenty_problems_then_counts_the_rest():
    tasks = "".join(f'<bpmn:userTask id="u{i}" name="{"n" * 500}"/>' for i in range(100))
    error = rejection(process('<bpmn:startEvent id="s"/>' + tasks), supported=START_AND_TASK_ONLY)
    assert len(error.problems) == 100
    lines = str(error).splitlines()
    assert MAX_LISTED_PROBLEMS == 20
    assert len(lines) == 22
    assert [line.split("'")[5] for line in lines[:20]] == [f"u{i}" for i in range(20)]
    assert lines[20] == (
        "'order.bpmn': and 80 more problems (100 in all); fix the ones above and deploy again to see the rest"
    )
    assert lines[21].startswith("'order.bpmn': zeebe-trio supports only none start events, undefined tasks")
    assert max(len(line) for line in lines) < 400
    assert len(str(error)) < 20 * 200 + 1000


def test_lists_of_flows_give_their_names_and_are_bounded():
    targets = "".join(f'<bpmn:endEvent id="e{i}"/>' for i in range(30))
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" name="{"no" if i == 0 else ""}" sourceRef="gw" targetRef="e{i}"/>'
        for i in range(30)
    )
    body = '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw" name="Paid?"/>' + targets + flows
    body += flow("in", "s", "gw")
    error = rejection(process(body))
    listed = ", ".join(["'f0' (\"no\")", *(f"'f{i}'" for i in range(1, 20)), "and 10 more"])
    assert str(error) == (
        f"'order.bpmn': process 'p': exclusive gateway 'gw' (\"Paid?\"): the outgoing sequence flows {listed} "
        "must have a condition or be the default flow; add a conditionExpression or mark one as default"
    )


def test_values_from_the_file_are_quoted_as_short_escaped_excerpts():
    condition = "x &gt; 5 and&#10;" + "y" * 200
    body = (
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw" default="fb"/><bpmn:endEvent id="a"/>'
        '<bpmn:endEvent id="b"/>'
        + flow("f0", "s", "gw")
        + flow("fa", "gw", "a", condition)
        + flow("fb", "gw", "b")
    )
    text = str(rejection(process(body)))
    assert "\n" not in text
    excerpt = "x > 5 and\\n" + "y" * 48 + "…"
    assert len(excerpt) == 60
    assert f"found the static value '{excerpt}'; an expression starts with '=' (e.g. '=x > 5 and\\n" in text
    assert len(text) < 400


# -- unsafe or broken input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x00\xff\xfe garbage", "XML"),
        (b"<bpmn:definitions", "not well-formed XML"),
        (b"<definitions/>", "root element must be 'definitions' in namespace"),
        (b'<definitions xmlns="http://www.omg.org/spec/DMN/20191111/MODEL/"/>', "found 'definitions'"),
        (
            b'<bpmn:process xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="p"/>',
            "found 'process'",
        ),
    ],
)
def test_input_that_is_not_bpmn_is_rejected(data, expected):
    error = rejection(data)
    assert expected in str(error)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&lol9;" isExecutable="true"><bpmn:startEvent id="s" name="&lol9;"/></bpmn:process>
</bpmn:definitions>"""


def xxe(tmp_path_factory) -> bytes:
    secret = tmp_path_factory.mktemp("xxe") / "secret.txt"
    secret.write_text("TOP-SECRET")
    return f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"><bpmn:documentation>&xxe;</bpmn:documentation>
</bpmn:startEvent></bpmn:process></bpmn:definitions>""".encode()


def test_the_billion_laughs_entity_bomb_is_rejected():
    error = rejection(BILLION_LAUGHS)
    assert "DOCTYPE" in str(error) or "XML" in str(error)


def test_an_external_entity_is_never_read(tmp_path_factory):
    error = rejection(xxe(tmp_path_factory))
    assert "TOP-SECRET" not in str(error)
    assert "DOCTYPE" in str(error)


def test_an_external_dtd_is_rejected():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.invalid/x.dtd">'
        + HEADER.split("\n", 1)[1].encode()
        + b"</bpmn:definitions>"
    )
    assert "DOCTYPE" in str(rejection(data))
