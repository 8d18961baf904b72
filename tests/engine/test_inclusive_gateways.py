"""Inclusive gateways: the fork takes every flow whose condition holds (else the default flow), the join
activates once no token can still reach it through an untaken incoming flow; checked record for record
as Zeebe's ``InclusiveGatewayTest`` does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.engine.bpmn import parse_bpmn
from zeebe_trio.engine.bpmn.model import ExecutableInclusiveGateway, transform_process
from zeebe_trio.protocol import (
    IncidentIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_gateways_events as g

PI = ProcessInstanceIntent
T = "INCLUSIVE_GATEWAY"


class Harness(EngineHarness):
    def deploy(self, name: str, resource: bytes) -> Record | None:
        response = super().deploy(name, resource)
        assert response is not None and response.record_type is RecordType.EVENT, response
        return response


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with Harness() as h:
        yield h


def events(harness: EngineHarness, pik: int) -> list[tuple[object, str, str]]:
    return harness.records().only_events().process_instance_records(pik).element_tuples()


def ids(harness: EngineHarness, pik: int, intent: ProcessInstanceIntent, element_type: str | None = None) -> list[str]:
    return [i for it, t, i in events(harness, pik) if it is intent and (element_type is None or t == element_type)]


def completed(harness: EngineHarness, pik: int) -> bool:
    return (PI.ELEMENT_COMPLETED, "PROCESS", "p") in events(harness, pik)


def through(element_type: str, element_id: str) -> list[tuple[object, str, str]]:
    return [(intent, element_type, element_id) for intent in
            (PI.ELEMENT_ACTIVATING, PI.ELEMENT_ACTIVATED, PI.ELEMENT_COMPLETING, PI.ELEMENT_COMPLETED)]


def taken(flow_id: str) -> tuple[object, str, str]:
    return (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", flow_id)


# Zeebe's INCLUSIVE_PROCESS: three branches on contains(str, ...), s3 the default.
SPLIT = b.process(
    "p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork", default="s3"),
    b.flow("s1", "fork", "task1", '= contains(str, "a")'), g.manual_task("task1"), b.flow("f1", "task1", "end1"),
    b.end("end1"),
    b.flow("s2", "fork", "task2", '= contains(str, "b")'), g.manual_task("task2"), b.flow("f2", "task2", "end2"),
    b.end("end2"),
    b.flow("s3", "fork", "task3", "= 1"), g.manual_task("task3"), b.flow("f3", "task3", "end3"), b.end("end3"))


# -- fork -------------------------------------------------------------------------------------------


def test_a_fork_takes_every_flow_whose_condition_is_true_in_document_order(harness: EngineHarness) -> None:
    harness.deploy("split.bpmn", SPLIT)
    pik = harness.create_instance("p", {"str": "a,b"})
    seen = events(harness, pik)
    fork = seen.index((PI.ELEMENT_ACTIVATING, T, "fork"))
    assert seen[fork:fork + 6] == [*through(T, "fork"), taken("s1"), taken("s2")]
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "END_EVENT") == ["end1", "end2"]
    assert completed(harness, pik)


@pytest.mark.parametrize(("text", "ends"), [("a", ["end1"]), ("b", ["end2"]), ("a,c", ["end1"]),
                                            ("a,b,c", ["end1", "end2"])])
def test_the_default_flow_is_not_taken_when_a_condition_holds(harness: EngineHarness, text: str,
                                                              ends: list[str]) -> None:
    harness.deploy("split.bpmn", SPLIT)
    pik = harness.create_instance("p", {"str": text})
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "END_EVENT") == ends
    assert completed(harness, pik)


def test_without_a_true_condition_the_default_flow_is_taken_and_its_condition_never_evaluated(
        harness: EngineHarness) -> None:
    harness.deploy("split.bpmn", SPLIT)  # the default flow's condition "= 1" is not a boolean
    pik = harness.create_instance("p", {"str": "d"})
    seen = events(harness, pik)
    fork = seen.index((PI.ELEMENT_ACTIVATING, T, "fork"))
    assert seen[fork:fork + 5] == [*through(T, "fork"), taken("s3")]
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "END_EVENT") == ["end3"]
    assert not harness.incidents(pik)


def test_without_a_default_flow_every_true_condition_is_taken(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork"),
        b.flow("s1", "fork", "end1", '= contains(str, "a")'), b.end("end1"),
        b.flow("s2", "fork", "end2", '= contains(str, "b")'), b.end("end2"),
        b.flow("s3", "fork", "end3", "= true"), b.end("end3")))
    pik = harness.create_instance("p", {"str": "a,b"})
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "END_EVENT") == ["end1", "end2", "end3"]


def test_a_gateway_with_one_flow_passes_the_token_on(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process("p", b.start(), b.flow("flow1", "start", "inclusive"),
                                       g.inclusive_gateway("inclusive"), b.flow("flow2", "inclusive", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = events(harness, pik)
    assert seen[seen.index((PI.ELEMENT_ACTIVATING, T, "inclusive")):] == [
        *through(T, "inclusive"), taken("flow2"), *through("END_EVENT", "end"),
        (PI.ELEMENT_COMPLETING, "PROCESS", "p"), (PI.ELEMENT_COMPLETED, "PROCESS", "p")]


def test_a_gateway_without_outgoing_flows_ends_the_path_of_its_scope(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process("p", b.start(), b.flow("flow1", "start", "inclusive"),
                                       g.inclusive_gateway("inclusive")))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    at = seen.index((PI.ELEMENT_COMPLETED, T, "inclusive"))
    assert seen[at + 1] == (PI.COMPLETE_ELEMENT, "PROCESS", "p")
    assert completed(harness, pik)


# -- incidents --------------------------------------------------------------------------------------

SINGLE_FALSE = b.process("p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork"),
                         b.flow("s1", "fork", "end", "= x > 0"), b.end())


def test_no_true_condition_and_no_default_flow_is_a_condition_incident(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", SINGLE_FALSE)
    pik = harness.create_instance("p", {"x": 0})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    activating = next(r for r in harness.records().only_events().process_instance_records(pik)
                      if r.intent is PI.ELEMENT_ACTIVATING and r.value["elementId"] == "fork")
    assert incident.value["errorType"] == "CONDITION_ERROR"
    assert incident.value["errorMessage"] == \
        "Expected at least one condition to evaluate to true, or to have a default flow"
    assert incident.value["elementId"] == "fork"
    assert incident.value["elementInstanceKey"] == activating.key
    assert incident.value["variableScopeKey"] == activating.key
    assert events(harness, pik)[-1] == (PI.ELEMENT_ACTIVATING, T, "fork")

    harness.set_variables(pik, {"x": 1})
    harness.resolve_incident(incident.key)
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "END_EVENT") == ["end"]
    assert completed(harness, pik)


@pytest.mark.parametrize(("condition", "found"), [("= x", "NUMBER"), ('= "yes"', "STRING"), ("= missing", "NULL")])
def test_a_condition_that_is_not_a_boolean_is_an_incident(harness: EngineHarness, condition: str, found: str) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork"),
        b.flow("s1", "fork", "end1", "= true"), b.end("end1"), b.flow("s2", "fork", "end2", condition), b.end("end2")))
    pik = harness.create_instance("p", {"x": 1})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    shown = condition.removeprefix("= ")
    assert incident.value["errorMessage"] == f"Expected result of the expression '{shown}' to be 'BOOLEAN', but was '{found}'."
    assert not [t for t in events(harness, pik) if t[0] is PI.SEQUENCE_FLOW_TAKEN and t[2] in ("s1", "s2")]


def test_resolving_the_incident_of_a_join_and_fork_in_one_gateway_takes_the_true_flows(harness: EngineHarness) -> None:
    # Zeebe's shouldResolveIncident: `foo > 0` without foo is null, not a boolean
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("j1", "fork", "join"), b.flow("j2", "fork", "join"), g.inclusive_gateway("join"),
        b.flow("t1", "join", "task1", "= foo > 0"), b.service_task("task1", "type1"),
        b.flow("t2", "join", "task2", "= foo > 5"), b.service_task("task2", "type2")))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    harness.set_variables(pik, {"foo": 10})
    harness.resolve_incident(incident.key)
    assert ids(harness, pik, PI.ELEMENT_ACTIVATED, "SERVICE_TASK") == ["task1", "task2"]


# -- join -------------------------------------------------------------------------------------------


def rejections(harness: EngineHarness, pik: int) -> list[str]:
    return [r.rejection_reason for r in harness.records().only_rejections().process_instance_records(pik)]


def test_a_join_after_a_parallel_fork_activates_once_for_both_tokens(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("joinFlow1", "fork", "join"), b.flow("joinFlow2", "fork", "join"), g.inclusive_gateway("join"),
        b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    fork_done = seen.index((PI.ELEMENT_COMPLETED, "PARALLEL_GATEWAY", "fork"))
    assert seen[fork_done + 1:fork_done + 7] == [
        taken("joinFlow1"), (PI.ACTIVATE_ELEMENT, T, "join"), taken("joinFlow2"), (PI.ACTIVATE_ELEMENT, T, "join"),
        (PI.ELEMENT_ACTIVATING, T, "join"), (PI.ELEMENT_ACTIVATED, T, "join")]
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]
    [rejection] = harness.records().only_rejections().process_instance_records(pik)
    assert rejection.rejection_type is RejectionType.INVALID_STATE
    assert rejection.rejection_reason == \
        "Expected to be able to activate inclusive gateway 'join', but the inclusive gateway way already activated."
    assert completed(harness, pik)


def test_a_join_activates_when_the_other_branches_were_not_taken(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork"),
        b.flow("joinFlow1", "fork", "join", "= a > 0"), b.flow("joinFlow2", "fork", "join", "= a &lt; 0"),
        g.inclusive_gateway("join"), b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p", {"a": 10})
    seen = events(harness, pik)
    assert [t for t in seen if t[0] is PI.SEQUENCE_FLOW_TAKEN] == [taken("to_fork"), taken("joinFlow1"), taken("to_end")]
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == ["fork", "join"]
    assert not rejections(harness, pik)
    assert completed(harness, pik)


def test_a_join_activates_after_the_satisfied_branches_only(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.inclusive_gateway("fork"),
        b.flow("joinFlow1", "fork", "join", "= a > 0"), b.flow("joinFlow2", "fork", "join", "= a > 5"),
        b.flow("joinFlow3", "fork", "join", "= a > 100"), g.inclusive_gateway("join"),
        b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p", {"a": 10})
    seen = events(harness, pik)
    assert taken("joinFlow3") not in seen
    assert seen.index(taken("joinFlow2")) < seen.index((PI.ELEMENT_ACTIVATING, T, "join"))
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["fork", "join"]
    assert completed(harness, pik)


WAITS_FOR_TASK = b.process(
    "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
    b.flow("joinFlow1", "fork", "join"), b.flow("to_task", "fork", "task"), b.service_task("task", "work"),
    b.flow("joinFlow2", "task", "join"), g.inclusive_gateway("join"), b.flow("to_end", "join", "end"), b.end())


def test_a_join_waits_for_an_active_element_that_can_still_reach_it(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", WAITS_FOR_TASK)
    pik = harness.create_instance("p")
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == []
    assert rejections(harness, pik) == [
        "Expected to be able to activate inclusive gateway 'join', but not all satisfied sequence flows have been taken."]
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    seen = events(harness, pik)
    assert seen[seen.index((PI.ELEMENT_COMPLETED, "SERVICE_TASK", "task")):] == [
        (PI.ELEMENT_COMPLETED, "SERVICE_TASK", "task"), taken("joinFlow2"), *through(T, "join"), taken("to_end"),
        *through("END_EVENT", "end"), (PI.ELEMENT_COMPLETING, "PROCESS", "p"), (PI.ELEMENT_COMPLETED, "PROCESS", "p")]


def test_a_token_on_its_way_to_an_element_that_can_reach_the_join_keeps_it_waiting(harness: EngineHarness) -> None:
    # the fork takes joinFlow1 before to_task: when the join's ACTIVATE_ELEMENT is processed, the task is
    # not activated yet, only the token of to_task is on its way to it
    harness.deploy("p.bpmn", WAITS_FOR_TASK)
    pik = harness.create_instance("p")
    seen = harness.process_instance_records(pik)
    assert seen.index((PI.ACTIVATE_ELEMENT, T, "join")) < seen.index((PI.ELEMENT_ACTIVATING, "SERVICE_TASK", "task"))
    assert ids(harness, pik, PI.ELEMENT_ACTIVATED, T) == []


def test_an_element_in_a_loop_without_a_path_to_the_join_does_not_hold_it(harness: EngineHarness) -> None:
    # Zeebe's shouldJoinGatewayIfActiveElementWithLoopNoPathToGateway
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_1", "fork", "task-1"), g.manual_task("task-1"), b.flow("j1", "task-1", "join"),
        b.flow("to_2", "fork", "task-2"), g.manual_task("task-2"), b.flow("j2", "task-2", "join"),
        g.inclusive_gateway("join"), b.flow("to_end1", "join", "end-1"), b.end("end-1"),
        b.flow("to_3", "fork", "task-3"), b.service_task("task-3", "test"), b.flow("to_x", "task-3", "exclusive"),
        '<bpmn:exclusiveGateway id="exclusive"/>', b.flow("to_end2", "exclusive", "end-2", "= a > 1"), b.end("end-2"),
        b.flow("again", "exclusive", "task-3", "= a &lt;= 1")))
    pik = harness.create_instance("p", {"a": 5})
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]  # while task-3 is still active
    seen = events(harness, pik)
    assert seen.index((PI.ELEMENT_COMPLETED, "MANUAL_TASK", "task-2")) < seen.index((PI.ELEMENT_ACTIVATING, T, "join"))
    [job] = harness.activate_jobs("test")
    harness.complete_job(job)
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]
    assert completed(harness, pik)


def test_an_element_in_a_loop_with_a_path_to_the_join_holds_it(harness: EngineHarness) -> None:
    # Zeebe's shouldJoinGatewayIfActiveElementWithLoopHasPathToGateway
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_1", "fork", "task-1"), g.manual_task("task-1"), b.flow("j1", "task-1", "join"),
        b.flow("to_2", "fork", "task-2"), b.service_task("task-2", "test"), b.flow("to_x", "task-2", "exclusive"),
        '<bpmn:exclusiveGateway id="exclusive"/>', b.flow("j2", "exclusive", "join", "= a > 1"),
        b.flow("again", "exclusive", "task-2", "= a &lt;= 1"),
        g.inclusive_gateway("join"), b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p", {"a": 5})
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == []
    [job] = harness.activate_jobs("test")
    harness.complete_job(job)
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]
    assert completed(harness, pik)


def test_a_path_through_a_link_event_holds_the_join(harness: EngineHarness) -> None:
    # Zeebe's shouldJoinOnGatewayIfActiveLinkCatchEvent
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("to_1", "fork", "task-1"), g.manual_task("task-1"), b.flow("j1", "task-1", "join"),
        b.flow("to_2", "fork", "task-2"), b.service_task("task-2", "test"), b.flow("to_throw", "task-2", "throw"),
        g.intermediate_throw("throw", g.link_definition("link")),
        b.intermediate_catch("catch", g.link_definition("link")), b.flow("j2", "catch", "join"),
        g.inclusive_gateway("join"), b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p")
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == []
    [job] = harness.activate_jobs("test")
    harness.complete_job(job)
    seen = events(harness, pik)
    assert seen.index((PI.ELEMENT_COMPLETED, "INTERMEDIATE_CATCH_EVENT", "catch")) \
        < seen.index((PI.ELEMENT_ACTIVATING, T, "join"))
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]
    assert completed(harness, pik)


def test_one_gateway_joins_and_forks(harness: EngineHarness) -> None:
    # Zeebe's shouldMergeAndSplitInOneGateway
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("j1", "fork", "join"), b.flow("j2", "fork", "join"), g.inclusive_gateway("join"),
        b.flow("t1", "join", "task1", "= a > 0"), b.service_task("task1", "type1"),
        b.flow("t2", "join", "task2", "= a > 5"), b.service_task("task2", "type2")))
    pik = harness.create_instance("p", {"a": 10})
    assert ids(harness, pik, PI.ELEMENT_ACTIVATED, "SERVICE_TASK") == ["task1", "task2"]
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["join"]


def test_a_join_in_a_subprocess_looks_at_the_paths_of_the_subprocess(harness: EngineHarness) -> None:
    inner = (b.start("sub_start"), b.flow("to_fork", "sub_start", "fork"), g.inclusive_gateway("fork"),
             b.flow("a1", "fork", "task", "= x > 0"), b.service_task("task", "work"), b.flow("j1", "task", "join"),
             b.flow("a2", "fork", "join", "= x > 1"), b.flow("a3", "fork", "join", "= x > 100"),
             g.inclusive_gateway("join"), b.flow("to_sub_end", "join", "sub_end"), b.end("sub_end"))
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_sub", "start", "sub"), b.sub_process("sub", *inner),
        b.flow("to_end", "sub", "end"), b.end()))
    pik = harness.create_instance("p", {"x": 5})
    sub_key = next(r.key for r in harness.records().only_events().process_instance_records(pik)
                   if r.value["elementId"] == "sub")
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == ["fork"]
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    joined = [r for r in harness.records().only_events().process_instance_records(pik)
              if r.value["elementId"] == "join"]
    assert {r.value["flowScopeKey"] for r in joined} == {sub_key}
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, T) == ["fork", "join"]
    assert ids(harness, pik, PI.ELEMENT_COMPLETED, "SUB_PROCESS") == ["sub"]
    assert completed(harness, pik)


def test_a_subprocess_that_can_reach_the_join_holds_it(harness: EngineHarness) -> None:
    inner = (b.start("sub_start"), b.flow("to_task", "sub_start", "task"), b.service_task("task", "work"),
             b.flow("to_sub_end", "task", "sub_end"), b.end("sub_end"))
    harness.deploy("p.bpmn", b.process(
        "p", b.start(), b.flow("to_fork", "start", "fork"), g.parallel_gateway("fork"),
        b.flow("j1", "fork", "join"), b.flow("to_sub", "fork", "sub"), b.sub_process("sub", *inner),
        b.flow("j2", "sub", "join"), g.inclusive_gateway("join"), b.flow("to_end", "join", "end"), b.end()))
    pik = harness.create_instance("p")
    assert ids(harness, pik, PI.ELEMENT_ACTIVATING, T) == []
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    seen = events(harness, pik)
    assert seen.index((PI.ELEMENT_COMPLETED, "SUB_PROCESS", "sub")) < seen.index((PI.ELEMENT_ACTIVATING, T, "join"))
    assert completed(harness, pik)


def test_cancelling_an_instance_with_a_waiting_join_terminates_it(harness: EngineHarness) -> None:
    harness.deploy("p.bpmn", WAITS_FOR_TASK)
    pik = harness.create_instance("p")
    harness.cancel(pik)
    assert (PI.ELEMENT_TERMINATED, "PROCESS", "p") in events(harness, pik)
    with harness.read() as state:
        assert state.element_instance(pik) is None
        assert state.taken_flow_count(pik, "join", "joinFlow1") == 0


# -- the model --------------------------------------------------------------------------------------


def test_the_model_knows_from_where_each_incoming_flow_of_a_join_can_be_reached() -> None:
    [parsed] = parse_bpmn("p.bpmn", WAITS_FOR_TASK)
    join = transform_process(parsed).flow_node("join")
    assert isinstance(join, ExecutableInclusiveGateway) and join.is_join
    assert join.reached_from == {"joinFlow1": frozenset({"fork", "start"}),
                                 "joinFlow2": frozenset({"task", "fork", "start"})}
    assert join.default_flow is None


def test_a_default_flow_of_an_inclusive_gateway_is_in_the_model() -> None:
    [parsed] = parse_bpmn("split.bpmn", SPLIT)
    process = transform_process(parsed)
    fork = process.flow_node("fork")
    assert isinstance(fork, ExecutableInclusiveGateway) and not fork.is_join
    assert fork.default_flow is process.sequence_flow("s3")


def test_an_inclusive_gateway_deploys(harness: EngineHarness) -> None:
    response = harness.deploy("split.bpmn", SPLIT)
    assert response is not None and response.record_type is RecordType.EVENT
    assert response.value_type is ValueType.DEPLOYMENT
