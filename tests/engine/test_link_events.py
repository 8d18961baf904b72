"""Link events and none intermediate throw events: a link throw event completes and activates the catch
event of its name in its flow scope, which passes the token on; a none throw event passes it on at
once. Checked record for record as Zeebe's ``LinkEventTest`` and ``IntermediateThrowEventTest`` do."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from zeebe_trio.engine.bpmn import BpmnValidationError, parse_bpmn
from zeebe_trio.engine.bpmn.model import (
    ExecutableCatchEvent,
    ExecutableIntermediateThrowEvent,
    LinkEventDefinition,
    transform_process,
)
from zeebe_trio.protocol import ProcessInstanceIntent, Record, RecordType, ValueType
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_gateways_events as g

PI = ProcessInstanceIntent
THROW, CATCH = "INTERMEDIATE_THROW_EVENT", "INTERMEDIATE_CATCH_EVENT"


class Harness(EngineHarness):
    def deploy(self, name: str, resource: bytes) -> Record | None:
        response = super().deploy(name, resource)
        assert response is not None and response.record_type is RecordType.EVENT, response
        return response


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with Harness() as h:
        yield h


def through(element_type: str, element_id: str) -> list[tuple[object, str, str]]:
    """An event that does not wait: once activated it completes through a COMPLETE_ELEMENT command."""
    return [(intent, element_type, element_id) for intent in
            (PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED, PI.COMPLETE_ELEMENT, PI.ELEMENT_COMPLETING,
             PI.ELEMENT_COMPLETED)]


def taken(flow_id: str) -> tuple[object, str, str]:
    return (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", flow_id)


PROCESS_DONE = [(PI.ELEMENT_COMPLETING, "PROCESS", "p"), (PI.ELEMENT_COMPLETED, "PROCESS", "p")]

LINKED = b.process(
    "p", b.start(), b.flow("to_throw", "start", "throw"), g.intermediate_throw("throw", g.link_definition("LinkA")),
    b.intermediate_catch("catch", g.link_definition("LinkA")), b.flow("to_end", "catch", "end"), b.end())


def test_a_link_throw_event_activates_the_catch_event_of_its_name(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", LINKED)
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    at = seen.index((PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_throw"))
    assert seen[at:] == [
        taken("to_throw"), (PI.ACTIVATE_ELEMENT, THROW, "throw"), *through(THROW, "throw"),
        (PI.ACTIVATE_ELEMENT, CATCH, "catch"), *through(CATCH, "catch"),
        taken("to_end"), (PI.ACTIVATE_ELEMENT, "END_EVENT", "end"), *through("END_EVENT", "end"),
        (PI.COMPLETE_ELEMENT, "PROCESS", "p"), *PROCESS_DONE,
    ]


def test_link_events_carry_the_link_event_type_and_the_process_as_flow_scope(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", LINKED)
    pik = harness.create_instance("p")
    records = harness.records().process_instance_records(pik)
    for element_id in ("throw", "catch"):
        mine = records.with_element_id(element_id)
        assert {r.value["bpmnEventType"] for r in mine} == {"LINK"}
        assert {r.value["flowScopeKey"] for r in mine} == {pik}


def test_several_throw_events_can_link_to_one_catch_event(harness: EngineHarness) -> None:
    # Zeebe's LinkEventTest.testEventLinkMultipleSources
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_a", "fork", "throwA"), g.intermediate_throw("throwA", g.link_definition("LinkA")),
        b.flow("to_b", "fork", "throwB"), g.intermediate_throw("throwB", g.link_definition("LinkA")),
        b.intermediate_catch("catch", g.link_definition("LinkA")), b.flow("to_end", "catch", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = harness.records().only_events().process_instance_records(pik).element_tuples()
    assert [i for it, t, i in seen if it is PI.ELEMENT_COMPLETED and t != "SEQUENCE_FLOW"] == [
        "start", "fork", "throwA", "throwB", "catch", "catch", "end", "end", "p"]
    assert seen[-2:] == PROCESS_DONE


def test_a_link_in_a_subprocess_stays_in_the_subprocess(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_sub", "start", "sub"),
        b.sub_process("sub", b.start("sub_start"), b.flow("to_throw", "sub_start", "throw"),
                      g.intermediate_throw("throw", g.link_definition("L")),
                      b.intermediate_catch("catch", g.link_definition("L")),
                      b.flow("to_sub_end", "catch", "sub_end"), b.end("sub_end")),
        b.flow("to_end", "sub", "end"), b.end()))
    pik = harness.create_instance("p")
    events = harness.records().only_events().process_instance_records(pik)
    sub_key = next(r.key for r in events if r.value["elementId"] == "sub")
    assert {r.value["flowScopeKey"] for r in events if r.value["elementId"] == "catch"} == {sub_key}
    seen = events.element_tuples()
    assert seen[seen.index((PI.ELEMENT_COMPLETED, THROW, "throw")) + 1:][:5] == [
        *[t for t in through(CATCH, "catch") if t[0] is not PI.COMPLETE_ELEMENT], taken("to_sub_end")]
    assert seen[-2:] == PROCESS_DONE


def test_the_throw_event_is_not_the_end_of_its_path(harness: EngineHarness) -> None:
    # between the throw event's completion and the catch event's activation the process has no child;
    # it must not complete there (the jump is a token on its way)
    harness.deploy("p.bpmn", LINKED)
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    assert seen.count((PI.COMPLETE_ELEMENT, "PROCESS", "p")) == 1
    assert seen.index((PI.COMPLETE_ELEMENT, "PROCESS", "p")) > seen.index((PI.ELEMENT_COMPLETED, "END_EVENT", "end"))


def test_a_parallel_branch_ending_during_the_jump_does_not_complete_the_process(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_throw", "fork", "throw"), g.intermediate_throw("throw", g.link_definition("L")),
        b.flow("to_other", "fork", "other"), b.end("other"),
        b.intermediate_catch("catch", g.link_definition("L")), b.flow("to_task", "catch", "task"),
        b.service_task("task", "work"), b.flow("to_end", "task", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    assert (PI.ELEMENT_COMPLETED, "END_EVENT", "other") in seen
    assert (PI.COMPLETE_ELEMENT, "PROCESS", "p") not in seen
    assert (PI.ELEMENT_ACTIVATED, "SERVICE_TASK", "task") in seen
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert harness.process_instance_records(pik)[-2:] == PROCESS_DONE


def test_a_link_throw_event_applies_its_output_mappings(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_throw", "start", "throw"),
        g.intermediate_throw("throw", g.link_definition("L"), mappings='<zeebe:output source="=x + 1" target="y"/>'),
        b.intermediate_catch("catch", g.link_definition("L")), b.flow("to_end", "catch", "end"), b.end()))
    pik = harness.create_instance("p", {"x": 1})
    variables = {r.value["name"]: json.loads(r.value["value"]) for r in harness.records().with_value_type(
        ValueType.VARIABLE) if r.value["processInstanceKey"] == pik}
    assert variables == {"x": 1, "y": 2}


# -- none intermediate throw events -----------------------------------------------------------------


def test_a_none_intermediate_throw_event_passes_the_token_on(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_throw", "start", "throw"), g.intermediate_throw("throw"),
        b.flow("to_end", "throw", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    at = seen.index((PI.ACTIVATE_ELEMENT, THROW, "throw"))
    assert seen[at:] == [
        (PI.ACTIVATE_ELEMENT, THROW, "throw"), *through(THROW, "throw"), taken("to_end"),
        (PI.ACTIVATE_ELEMENT, "END_EVENT", "end"), *through("END_EVENT", "end"),
        (PI.COMPLETE_ELEMENT, "PROCESS", "p"), *PROCESS_DONE,
    ]
    assert {r.value["bpmnEventType"] for r in harness.records().process_instance_records(pik)
            .with_element_id("throw")} == {"NONE"}


def test_a_none_throw_event_applies_output_mappings_but_no_input_mappings(harness: EngineHarness) -> None:
    # Zeebe's NoneIntermediateThrowEventBehavior has no onActivate: the input mapping is never applied
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_throw", "start", "throw"),
        g.intermediate_throw("throw", mappings='<zeebe:input source="=100" target="local"/>'
                                               '<zeebe:output source="=x * 2" target="doubled"/>'),
        b.flow("to_end", "throw", "end"), b.end()))
    pik = harness.create_instance("p", {"x": 4})
    variables = {r.value["name"]: json.loads(r.value["value"]) for r in harness.records().with_value_type(
        ValueType.VARIABLE) if r.value["processInstanceKey"] == pik}
    assert variables == {"x": 4, "doubled": 8}


# -- the model and deployment -----------------------------------------------------------------------


def test_the_model_links_each_throw_event_to_its_catch_event() -> None:
    [parsed] = parse_bpmn("p.bpmn", LINKED)
    process = transform_process(parsed)
    throw, catch = process.flow_node("throw"), process.flow_node("catch")
    assert isinstance(throw, ExecutableIntermediateThrowEvent) and isinstance(catch, ExecutableCatchEvent)
    assert isinstance(throw.event_definition, LinkEventDefinition)
    assert throw.event_definition.name == "LinkA" and throw.event_definition.catch_event is catch
    assert isinstance(catch.event_definition, LinkEventDefinition) and catch.event_definition.catch_event is None
    assert throw.event_type == catch.event_type == "LINK"


def test_a_throw_event_without_its_catch_event_in_the_same_scope_is_refused() -> None:
    with pytest.raises(BpmnValidationError) as info:
        parse_bpmn("p.bpmn", b.process(
            "p", b.start(), b.flow("to_throw", "start", "throw"), g.intermediate_throw("throw", g.link_definition("A")),
            b.sub_process("sub", b.start("sub_start"), b.flow("f", "sub_start", "catch"),
                          b.intermediate_catch("catch", g.link_definition("A")))))
    assert "can't find a catch link event for the throw link event with the name 'A'" in str(info.value)
