"""Ad-hoc subprocesses (the BPMN implementation type), record for record as Zeebe 8.8 writes them
(Zeebe's ``AdHocSubProcessTest``): activation of the elements that ``activeElementsCollection`` names,
each in an inner instance of its own, the completion condition and cancelRemainingInstances, the output
collection, incidents, boundary events, cancellation and a multi-instance ad-hoc subprocess. The harness
compares the replayed state with the processing state after every command."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    AdHocSubProcessInstructionIntent,
    ErrorType,
    IncidentIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_ad_hoc import ad_hoc_process, ad_hoc_sub_process, task, user_task
from zeebe_trio.testing.bpmn_multi_instance import multi_instance
from zeebe_trio.testing.bpmn_tasks import execution_listeners

PI = ProcessInstanceIntent
AD_HOC = "AD_HOC_SUB_PROCESS"
INNER = "AD_HOC_SUB_PROCESS_INNER_INSTANCE"
INNER_ID = "ad-hoc#innerInstance"


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def after_activation(harness: EngineHarness, pik: int, since: int = 0) -> list[tuple[object, str, str]]:
    """The instance's process instance records (commands too) from the ad-hoc subprocess's ACTIVATE_ELEMENT
    on (or from record ``since`` of the instance)."""
    seen = harness.process_instance_records(pik)
    if since:
        return seen[since:]
    return seen[seen.index((PI.ACTIVATE_ELEMENT, AD_HOC, "ad-hoc")):]


def variables(harness: EngineHarness) -> list[tuple[str, str, object, int]]:
    return [(r.intent.name, r.value["name"], json.loads(r.value["value"]), r.value["scopeKey"])
            for r in harness.records().only_events().with_value_type(ValueType.VARIABLE)]


def element_key(harness: EngineHarness, pik: int, element_id: str, index: int = 0) -> int:
    activated = [r.key for r in harness.records().only_events().process_instance_records(pik).with_element_id(element_id)
                 if r.intent is PI.ELEMENT_ACTIVATED]
    return activated[index]


ACTIVATE_AD_HOC = [(PI.ACTIVATE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_ACTIVATING, AD_HOC, "ad-hoc"),
                   (PI.ELEMENT_ACTIVATED, AD_HOC, "ad-hoc")]
NEW_INNER = [(PI.ELEMENT_ACTIVATING, INNER, INNER_ID), (PI.ELEMENT_ACTIVATED, INNER, INNER_ID)]
COMPLETE_INNER = [(PI.COMPLETE_ELEMENT, INNER, INNER_ID), (PI.ELEMENT_COMPLETING, INNER, INNER_ID),
                  (PI.ELEMENT_COMPLETED, INNER, INNER_ID)]


def activate_task(element_id: str, element_type: str = "TASK") -> list[tuple[object, str, str]]:
    """An element that does not wait (an undefined task, a none event, a boundary event), once its
    ACTIVATE_ELEMENT command is processed: activated, then the COMPLETE_ELEMENT command Zeebe 8.8 writes
    for it (``BpmnStateTransitionBehavior.completeElement``), processed after the follow-up commands
    written before it."""
    return [(PI.ELEMENT_ACTIVATING, element_type, element_id), (PI.ELEMENT_ACTIVATED, element_type, element_id),
            (PI.COMPLETE_ELEMENT, element_type, element_id)]


def complete_task(element_id: str, element_type: str = "TASK") -> list[tuple[object, str, str]]:
    """The same element once its COMPLETE_ELEMENT command is processed."""
    return [(PI.ELEMENT_COMPLETING, element_type, element_id), (PI.ELEMENT_COMPLETED, element_type, element_id)]


def run_task(element_id: str, element_type: str = "TASK") -> list[tuple[object, str, str]]:
    """Such an element when no other command is queued before its COMPLETE_ELEMENT."""
    return [*activate_task(element_id, element_type), *complete_task(element_id, element_type)]


COMPLETE_AD_HOC_AND_PROCESS = [
    (PI.COMPLETE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_COMPLETING, AD_HOC, "ad-hoc"),
    (PI.ELEMENT_COMPLETED, AD_HOC, "ad-hoc"),
    (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_end"), (PI.ACTIVATE_ELEMENT, "END_EVENT", "end"),
    *run_task("end", "END_EVENT"),
    (PI.COMPLETE_ELEMENT, "PROCESS", "process"), (PI.ELEMENT_COMPLETING, "PROCESS", "process"),
    (PI.ELEMENT_COMPLETED, "PROCESS", "process")]


# -- activation ------------------------------------------------------------------------------------


def test_the_listed_elements_run_each_in_an_inner_instance_of_their_own_and_then_the_sub_process_completes(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), task("B"), task("C", name="Check"), active_elements="=activateElements")))
    pik = harness.create_instance("process", {"activateElements": ["A", "C"]})

    assert after_activation(harness, pik) == [
        *ACTIVATE_AD_HOC,
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"),
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "C"),
        *activate_task("A"), *activate_task("C"),
        *complete_task("A"), (PI.COMPLETE_ELEMENT, INNER, INNER_ID),
        *complete_task("C"), (PI.COMPLETE_ELEMENT, INNER, INNER_ID),
        (PI.ELEMENT_COMPLETING, INNER, INNER_ID), (PI.ELEMENT_COMPLETED, INNER, INNER_ID),
        (PI.ELEMENT_COMPLETING, INNER, INNER_ID), (PI.ELEMENT_COMPLETED, INNER, INNER_ID),
        *COMPLETE_AD_HOC_AND_PROCESS,
    ]
    ad_hoc = element_key(harness, pik, "ad-hoc")
    inner = [element_key(harness, pik, INNER_ID, i) for i in (0, 1)]
    flow_scopes = {r.value["elementId"]: r.value["flowScopeKey"]
                   for r in harness.records().only_events().process_instance_records(pik)
                   if r.intent is PI.ELEMENT_ACTIVATED}
    assert (flow_scopes["ad-hoc"], flow_scopes["A"], flow_scopes["C"]) == (pik, inner[0], inner[1])
    assert all(r.value["flowScopeKey"] == ad_hoc and r.value["bpmnEventType"] == "UNSPECIFIED"
               for r in harness.records().process_instance_records(pik).with_element_id(INNER_ID))
    # what it can activate, as its own variable (named elements with their name)
    assert ("CREATED", "adHocSubProcessElements",
            [{"elementId": "A"}, {"elementId": "B"}, {"elementId": "C", "elementName": "Check"}], ad_hoc) \
        in variables(harness)


def test_the_elements_variable_tells_each_activitys_name_documentation_and_properties(
        harness: EngineHarness) -> None:
    documented = ('<bpmn:task id="Simple_Task" name="Simple Task"><bpmn:documentation>The Simple Task documentation'
                  "</bpmn:documentation><bpmn:extensionElements><zeebe:properties>"
                  '<zeebe:property name="someProperty" value="someValue"/><zeebe:property name="empty" value=""/>'
                  '<zeebe:property name="blank" value="   "/></zeebe:properties></bpmn:extensionElements></bpmn:task>')
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", documented, task("Follow_Up"), b.flow("to_follow_up", "Simple_Task", "Follow_Up"), task("Plain"))))
    pik = harness.create_instance("process")

    [(_, _, elements, _)] = [v for v in variables(harness) if v[1] == "adHocSubProcessElements"]
    assert elements == [  # an element with incoming flows is none of them
        {"elementId": "Simple_Task", "elementName": "Simple Task", "documentation": "The Simple Task documentation",
         "properties": {"someProperty": "someValue", "empty": None, "blank": "   "}},
        {"elementId": "Plain"},
    ]
    assert element_key(harness, pik, "ad-hoc") > 0


@pytest.mark.parametrize("collection", [None, "=[]", ""], ids=["no-expression", "empty-list", "blank"])
def test_without_elements_to_activate_the_sub_process_stays_active(harness: EngineHarness,
                                                                   collection: str | None) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", task("A"), active_elements=collection)))
    pik = harness.create_instance("process")

    assert after_activation(harness, pik) == ACTIVATE_AD_HOC
    assert harness.incidents(pik) == []


def test_sequence_flows_between_inner_elements_are_followed_inside_the_inner_instance(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A1"), b.flow("a1_a2", "A1", "A2"), task("A2"), task("B"), active_elements='=["A1"]')))
    pik = harness.create_instance("process")

    assert after_activation(harness, pik) == [
        *ACTIVATE_AD_HOC, *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A1"), *run_task("A1"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "a1_a2"), (PI.ACTIVATE_ELEMENT, "TASK", "A2"), *run_task("A2"),
        *COMPLETE_INNER, *COMPLETE_AD_HOC_AND_PROCESS,
    ]


def test_an_element_with_incoming_flows_is_no_ad_hoc_activity(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A1"), b.flow("a1_a2", "A1", "A2"), task("A2"), active_elements='=["A2"]')))
    pik = harness.create_instance("process")

    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == "Failed to activate ad-hoc elements. No BPMN elements found with ids: 'A2'."


def test_input_mappings_of_the_sub_process_can_compute_what_it_activates(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), task("B"), active_elements="=activateElements",
        mappings='<zeebe:input source="=append(activateElements, &quot;B&quot;)" target="activateElements"/>')))
    pik = harness.create_instance("process", {"activateElements": ["A"]})

    assert after_activation(harness, pik)[:9] == [
        *ACTIVATE_AD_HOC, *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"), *NEW_INNER,
        (PI.ACTIVATE_ELEMENT, "TASK", "B")]
    ad_hoc = element_key(harness, pik, "ad-hoc")
    assert ("CREATED", "activateElements", ["A", "B"], ad_hoc) in variables(harness)


# -- completion ------------------------------------------------------------------------------------


def test_a_met_completion_condition_terminates_the_remaining_inner_instances_and_completes(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), b.service_task("ServiceTask", "work"), active_elements='=["A", "ServiceTask"]',
        completion_condition="=true")))
    pik = harness.create_instance("process")

    assert after_activation(harness, pik) == [
        *ACTIVATE_AD_HOC,
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"),
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "SERVICE_TASK", "ServiceTask"),
        *activate_task("A"),
        (PI.ELEMENT_ACTIVATING, "SERVICE_TASK", "ServiceTask"), (PI.ELEMENT_ACTIVATED, "SERVICE_TASK", "ServiceTask"),
        *complete_task("A"), (PI.COMPLETE_ELEMENT, INNER, INNER_ID),
        (PI.ELEMENT_COMPLETING, INNER, INNER_ID), (PI.ELEMENT_COMPLETED, INNER, INNER_ID),
        (PI.TERMINATE_ELEMENT, INNER, INNER_ID), (PI.ELEMENT_TERMINATING, INNER, INNER_ID),
        (PI.TERMINATE_ELEMENT, "SERVICE_TASK", "ServiceTask"), (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "ServiceTask"),
        (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "ServiceTask"), (PI.ELEMENT_TERMINATED, INNER, INNER_ID),
        *COMPLETE_AD_HOC_AND_PROCESS,
    ]
    assert harness.activate_jobs("work") == []  # the job was canceled with its task


def test_without_cancel_remaining_instances_a_met_condition_waits_for_the_active_elements(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), b.service_task("ServiceTask", "work"), active_elements='=["A", "ServiceTask"]',
        completion_condition="=true", cancel_remaining_instances=False)))
    pik = harness.create_instance("process")
    before = len(harness.process_instance_records(pik))
    assert after_activation(harness, pik)[-2:] == [(PI.ELEMENT_COMPLETING, INNER, INNER_ID),
                                                   (PI.ELEMENT_COMPLETED, INNER, INNER_ID)]

    [job] = harness.activate_jobs("work")
    harness.complete_job(job)

    assert after_activation(harness, pik, before) == [
        (PI.COMPLETE_ELEMENT, "SERVICE_TASK", "ServiceTask"), (PI.ELEMENT_COMPLETING, "SERVICE_TASK", "ServiceTask"),
        (PI.ELEMENT_COMPLETED, "SERVICE_TASK", "ServiceTask"), *COMPLETE_INNER, *COMPLETE_AD_HOC_AND_PROCESS,
    ]


def test_a_false_completion_condition_keeps_the_sub_process_active_until_a_later_completion_meets_it(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), b.service_task("ServiceTask", "work"), active_elements='=["A", "ServiceTask"]',
        completion_condition="=condition")))
    pik = harness.create_instance("process", {"condition": False})
    before = len(harness.process_instance_records(pik))
    assert (PI.ELEMENT_COMPLETED, AD_HOC, "ad-hoc") not in harness.process_instance_records(pik)

    [job] = harness.activate_jobs("work")
    harness.complete_job(job, {"condition": True})

    assert after_activation(harness, pik, before) == [
        (PI.COMPLETE_ELEMENT, "SERVICE_TASK", "ServiceTask"), (PI.ELEMENT_COMPLETING, "SERVICE_TASK", "ServiceTask"),
        (PI.ELEMENT_COMPLETED, "SERVICE_TASK", "ServiceTask"), *COMPLETE_INNER, *COMPLETE_AD_HOC_AND_PROCESS,
    ]


def test_with_a_false_condition_the_sub_process_stays_active_after_its_last_element(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), active_elements='=["A"]', completion_condition="=false")))
    pik = harness.create_instance("process")

    assert after_activation(harness, pik) == [
        *ACTIVATE_AD_HOC, *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"), *run_task("A"), *COMPLETE_INNER]
    with harness.read() as state:
        ad_hoc = state.element_instance(element_key(harness, pik, "ad-hoc"))
        assert ad_hoc is not None and ad_hoc.is_active and ad_hoc.child_count == 0


def test_the_output_collection_gathers_each_inner_instances_output_element(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", b.service_task("A", "a"), b.service_task("B", "b"), task("C"), active_elements='=["A", "B"]',
        output_collection="results", output_element="=result")))
    pik = harness.create_instance("process")
    [job_a] = harness.activate_jobs("a")
    harness.complete_job(job_a, {"result": "a"})
    [job_b] = harness.activate_jobs("b")
    harness.complete_job(job_b, {"result": "b"})

    ad_hoc = element_key(harness, pik, "ad-hoc")
    inner = [element_key(harness, pik, INNER_ID, i) for i in (0, 1)]
    assert variables(harness)[1:] == [
        ("CREATED", "results", [], ad_hoc),
        ("CREATED", "result", None, inner[0]), ("CREATED", "result", None, inner[1]),
        ("UPDATED", "result", "a", inner[0]), ("UPDATED", "results", ["a"], ad_hoc),
        ("UPDATED", "result", "b", inner[1]), ("UPDATED", "results", ["a", "b"], ad_hoc),
        ("CREATED", "results", ["a", "b"], pik),
    ]
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_output_mappings_of_the_sub_process_see_what_its_elements_did(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", b.service_task("A", "a", mappings='<zeebe:output source="=append(result, 1)" target="result"/>'),
        b.service_task("B", "b", mappings='<zeebe:output source="=append(result, 2)" target="result"/>'),
        active_elements='=["A", "B"]',
        mappings='<zeebe:input source="=[]" target="result"/><zeebe:output source="=result" target="adHocResult"/>')))
    pik = harness.create_instance("process")
    for job_type in ("a", "b"):
        [job] = harness.activate_jobs(job_type)
        harness.complete_job(job)

    assert ("CREATED", "adHocResult", [1, 2], pik) in variables(harness)


# -- incidents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    (["A", "X", "Y"], "No BPMN elements found with ids: 'X', 'Y'."),
    ("A", "Expected result of the expression 'toActivate' to be 'ARRAY', but was 'STRING'."),
    (["A", 1], "Expected result of the expression 'toActivate' to be 'ARRAY' containing 'STRING' items, but was"
               " 'ARRAY' containing at least one non-'STRING' item."),
], ids=["unknown-ids", "not-a-list", "not-strings"])
def test_an_active_elements_collection_that_names_no_activities_is_an_incident_resolved_once_it_does(
        harness: EngineHarness, value: object, message: str) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), b.service_task("B", "work"), active_elements="=toActivate")))
    pik = harness.create_instance("process", {"toActivate": value})

    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    ad_hoc = harness.records().only_events().process_instance_records(pik).with_element_id("ad-hoc")[-1]
    assert ad_hoc.intent is PI.ELEMENT_ACTIVATING
    assert (incident.value["errorType"], incident.value["errorMessage"], incident.value["elementInstanceKey"]) == (
        ErrorType.EXTRACT_VALUE_ERROR.value, "Failed to activate ad-hoc elements. " + message, ad_hoc.key)

    harness.set_variables(pik, {"toActivate": ["B"]})
    harness.resolve_incident(incident.key)

    assert after_activation(harness, pik)[-6:] == [
        (PI.ELEMENT_ACTIVATED, AD_HOC, "ad-hoc"), *NEW_INNER, (PI.ACTIVATE_ELEMENT, "SERVICE_TASK", "B"),
        (PI.ELEMENT_ACTIVATING, "SERVICE_TASK", "B"), (PI.ELEMENT_ACTIVATED, "SERVICE_TASK", "B")]


def test_a_missing_active_elements_variable_is_an_incident_that_names_it(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", task("A"), active_elements="=toActivate")))
    pik = harness.create_instance("process")

    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        "Failed to activate ad-hoc elements. Expected result of the expression 'toActivate' to be 'ARRAY', but was"
        " 'NULL'. The evaluation reported the following warnings:\n"
        "[NO_VARIABLE_FOUND] No variable found with name 'toActivate'")


def test_a_completion_condition_that_is_not_boolean_is_an_incident_on_the_inner_instance(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), active_elements='=["A"]', completion_condition="=done")))
    pik = harness.create_instance("process")

    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    inner = element_key(harness, pik, INNER_ID)
    assert (incident.value["elementId"], incident.value["elementInstanceKey"], incident.value["errorType"]) == (
        INNER_ID, inner, ErrorType.EXTRACT_VALUE_ERROR.value)
    assert incident.value["errorMessage"] == (
        "Failed to evaluate completion condition. Expected result of the expression 'done' to be 'BOOLEAN', but was"
        " 'NULL'. The evaluation reported the following warnings:\n[NO_VARIABLE_FOUND] No variable found with name"
        " 'done'")
    assert after_activation(harness, pik)[-2:] == [(PI.COMPLETE_ELEMENT, INNER, INNER_ID),
                                                   (PI.ELEMENT_COMPLETING, INNER, INNER_ID)]

    harness.set_variables(pik, {"done": True})
    harness.resolve_incident(incident.key)

    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_an_inner_instance_cannot_be_activated_by_command(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", user_task("A"), active_elements='=["A"]')))
    pik = harness.create_instance("process")
    ad_hoc = harness.records().only_events().process_instance_records(pik).with_element_id("ad-hoc")[-1]
    value = {**ad_hoc.value, "elementId": INNER_ID, "bpmnElementType": INNER, "flowScopeKey": ad_hoc.key}

    harness.write(ValueType.PROCESS_INSTANCE, PI.ACTIVATE_ELEMENT, value, key=ad_hoc.key + 1000)

    [rejection] = harness.records().only_rejections().with_value_type(ValueType.PROCESS_INSTANCE)
    assert rejection.rejection_type is RejectionType.INVALID_STATE
    assert rejection.rejection_reason.startswith("An ACTIVATE command is not supported for an inner instance")


# -- leaving early ---------------------------------------------------------------------------------


def test_an_interrupting_boundary_event_terminates_the_inner_instances_and_takes_its_path(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(
        ad_hoc_sub_process("ad-hoc", b.service_task("A", "work"), active_elements='=["A"]'),
        b.boundary("timeout", "ad-hoc", b.timer_definition(duration="PT1M")), b.flow("to_late", "timeout", "late"),
        b.end("late")))
    pik = harness.create_instance("process")
    before = len(harness.process_instance_records(pik))

    harness.advance(60_000)

    assert after_activation(harness, pik, before) == [
        (PI.TERMINATE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_TERMINATING, AD_HOC, "ad-hoc"),
        (PI.TERMINATE_ELEMENT, INNER, INNER_ID), (PI.ELEMENT_TERMINATING, INNER, INNER_ID),
        (PI.TERMINATE_ELEMENT, "SERVICE_TASK", "A"), (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "A"),
        (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "A"), (PI.ELEMENT_TERMINATED, INNER, INNER_ID),
        (PI.ELEMENT_TERMINATED, AD_HOC, "ad-hoc"),
        (PI.ACTIVATE_ELEMENT, "BOUNDARY_EVENT", "timeout"), *run_task("timeout", "BOUNDARY_EVENT"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_late"), (PI.ACTIVATE_ELEMENT, "END_EVENT", "late"),
        *run_task("late", "END_EVENT"),
        (PI.COMPLETE_ELEMENT, "PROCESS", "process"), (PI.ELEMENT_COMPLETING, "PROCESS", "process"),
        (PI.ELEMENT_COMPLETED, "PROCESS", "process"),
    ]


def test_canceling_the_instance_terminates_the_inner_instances_first(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", user_task("A"), active_elements='=["A"]')))
    pik = harness.create_instance("process")
    before = len(harness.process_instance_records(pik))

    harness.cancel(pik)

    # the CANCEL command is among the instance's records (as Zeebe's engine test client writes it); no element
    assert after_activation(harness, pik, before) == [
        (PI.CANCEL, "", ""), (PI.CANCELING, "PROCESS", "process"),
        (PI.TERMINATE_ELEMENT, "PROCESS", "process"), (PI.ELEMENT_TERMINATING, "PROCESS", "process"),
        (PI.TERMINATE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_TERMINATING, AD_HOC, "ad-hoc"),
        (PI.TERMINATE_ELEMENT, INNER, INNER_ID), (PI.ELEMENT_TERMINATING, INNER, INNER_ID),
        (PI.TERMINATE_ELEMENT, "USER_TASK", "A"), (PI.ELEMENT_TERMINATING, "USER_TASK", "A"),
        (PI.ELEMENT_TERMINATED, "USER_TASK", "A"), (PI.ELEMENT_TERMINATED, INNER, INNER_ID),
        (PI.ELEMENT_TERMINATED, AD_HOC, "ad-hoc"), (PI.ELEMENT_TERMINATED, "PROCESS", "process"),
    ]


def test_a_terminated_ad_hoc_sub_process_resolves_the_incident_of_its_inner_instance(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), active_elements='=["A"]', completion_condition="=done")))
    pik = harness.create_instance("process")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)

    harness.cancel(pik)

    assert [r.key for r in harness.incidents(pik, IncidentIntent.RESOLVED)] == [incident.key]
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_TERMINATED, "PROCESS", "process")


# -- multi-instance --------------------------------------------------------------------------------


def test_a_multi_instance_ad_hoc_sub_process_activates_per_item_what_its_item_names(harness: EngineHarness) -> None:
    loop = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics'
            ' inputCollection="=activateElements" inputElement="element"/></bpmn:extensionElements>'
            "</bpmn:multiInstanceLoopCharacteristics>")
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), task("B"), active_elements="=[element]", loop=loop)))
    pik = harness.create_instance("process", {"activateElements": ["A", "B"]})

    seen = harness.process_instance_records(pik)
    body = "MULTI_INSTANCE_BODY"
    assert seen[seen.index((PI.ACTIVATE_ELEMENT, body, "ad-hoc")):] == [
        (PI.ACTIVATE_ELEMENT, body, "ad-hoc"), (PI.ELEMENT_ACTIVATING, body, "ad-hoc"),
        (PI.ELEMENT_ACTIVATED, body, "ad-hoc"),
        *ACTIVATE_AD_HOC, *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"),
        (PI.ACTIVATE_ELEMENT, AD_HOC, "ad-hoc"),
        *activate_task("A"),
        (PI.ELEMENT_ACTIVATING, AD_HOC, "ad-hoc"), (PI.ELEMENT_ACTIVATED, AD_HOC, "ad-hoc"),
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "B"),
        *complete_task("A"), (PI.COMPLETE_ELEMENT, INNER, INNER_ID),
        *activate_task("B"),
        (PI.ELEMENT_COMPLETING, INNER, INNER_ID), (PI.ELEMENT_COMPLETED, INNER, INNER_ID),
        (PI.COMPLETE_ELEMENT, AD_HOC, "ad-hoc"),
        *complete_task("B"), (PI.COMPLETE_ELEMENT, INNER, INNER_ID),
        (PI.ELEMENT_COMPLETING, AD_HOC, "ad-hoc"), (PI.ELEMENT_COMPLETED, AD_HOC, "ad-hoc"),
        (PI.ELEMENT_COMPLETING, INNER, INNER_ID), (PI.ELEMENT_COMPLETED, INNER, INNER_ID),
        (PI.COMPLETE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_COMPLETING, AD_HOC, "ad-hoc"),
        (PI.ELEMENT_COMPLETED, AD_HOC, "ad-hoc"),
        (PI.COMPLETE_ELEMENT, body, "ad-hoc"), (PI.ELEMENT_COMPLETING, body, "ad-hoc"),
        (PI.ELEMENT_COMPLETED, body, "ad-hoc"),
        *COMPLETE_AD_HOC_AND_PROCESS[3:],
    ]
    inner = [element_key(harness, pik, INNER_ID, i) for i in (0, 1)]
    tasks = [(r.value["elementId"], r.value["flowScopeKey"])
             for r in harness.records().only_events().process_instance_records(pik)
             if r.intent is PI.ELEMENT_ACTIVATED and r.value["bpmnElementType"] == "TASK"]
    assert tasks == [("A", inner[0]), ("B", inner[1])]


# -- deployment ------------------------------------------------------------------------------------


def test_an_ad_hoc_sub_process_with_an_end_event_is_rejected(harness: EngineHarness) -> None:
    response = harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", task("A"), b.end("inner_end"))))

    assert response is not None and response.rejection_type is RejectionType.INVALID_ARGUMENT
    assert "an ad-hoc sub process must not contain end events; remove them" in response.rejection_reason


# -- AD_HOC_SUB_PROCESS_INSTRUCTION ACTIVATE -------------------------------------------------------


def activate_by_command(harness: EngineHarness, ad_hoc_key: object, *elements: dict[str, object]) -> Record:
    response = harness.write(ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION, AdHocSubProcessInstructionIntent.ACTIVATE,
                             {"adHocSubProcessInstanceKey": ad_hoc_key, "activateElements": list(elements)})
    assert response is not None
    return response


def test_a_client_activates_elements_of_a_running_ad_hoc_sub_process_with_their_variables(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", b.service_task("A", "a"), task("B"), completion_condition="=done = true")))
    pik = harness.create_instance("process")
    ad_hoc = element_key(harness, pik, "ad-hoc")
    before = len(harness.process_instance_records(pik))

    response = activate_by_command(harness, ad_hoc, {"elementId": "A", "variables": {"x": 1}}, {"elementId": "B"})

    assert (response.record_type, response.intent) == (RecordType.EVENT, AdHocSubProcessInstructionIntent.ACTIVATED)
    assert after_activation(harness, pik, before) == [
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "SERVICE_TASK", "A"), *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "B"),
        (PI.ELEMENT_ACTIVATING, "SERVICE_TASK", "A"), (PI.ELEMENT_ACTIVATED, "SERVICE_TASK", "A"),
        *run_task("B"), *COMPLETE_INNER,  # done is not true yet
    ]
    instruction = [(r.record_type, r.intent) for r in
                   harness.records().with_value_type(ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION)]
    assert instruction == [(RecordType.COMMAND, AdHocSubProcessInstructionIntent.ACTIVATE),
                           (RecordType.EVENT, AdHocSubProcessInstructionIntent.ACTIVATED)]
    first_inner = element_key(harness, pik, INNER_ID)
    assert ("CREATED", "x", 1, first_inner) in variables(harness)

    [job] = harness.activate_jobs("a")
    harness.complete_job(job, {"done": True})
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_activating_elements_by_command_is_refused_with_zeebes_reasons(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), b.flow("a_b", "A", "B"), task("B"), active_elements="=toActivate")))
    pik = harness.create_instance("process", {"toActivate": ["A"]})  # runs A, B and completes
    harness.deploy("waits.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", user_task("A")), process_id="waits"))
    waiting = element_key(harness, harness.create_instance("waits"), "ad-hoc")
    harness.deploy("stuck.bpmn", ad_hoc_process(ad_hoc_sub_process("ad-hoc", task("A"), active_elements="=missing"),
                                                process_id="stuck"))
    stuck_pik = harness.create_instance("stuck")
    stuck = harness.records().only_events().process_instance_records(stuck_pik).with_element_id("ad-hoc")[-1].key
    gone = element_key(harness, pik, "ad-hoc")

    cases = [
        (gone, [{"elementId": "A"}], RejectionType.NOT_FOUND,
         f"Expected to activate activities for ad-hoc sub-process but no ad-hoc sub-process instance found with key"
         f" '{gone}'."),
        (pik, [{"elementId": "A"}], RejectionType.NOT_FOUND,  # the process instance is no ad-hoc subprocess
         f"Expected to activate activities for ad-hoc sub-process but no ad-hoc sub-process instance found with key"
         f" '{pik}'."),
        (stuck, [{"elementId": "A"}], RejectionType.INVALID_STATE,
         f"Expected to activate activities for ad-hoc sub-process with key '{stuck}', but it is not active."),
        (waiting, [{"elementId": "A"}, {"elementId": "A"}], RejectionType.INVALID_ARGUMENT,
         f"Expected to activate activities for ad-hoc sub-process with key '{waiting}', but duplicate activities were"
         " given."),
        (waiting, [{"elementId": "A"}, {"elementId": "X"}, {"elementId": "Y"}], RejectionType.NOT_FOUND,
         f"Expected to activate activities for ad-hoc sub-process with key '{waiting}', but the given elements [X, Y]"
         " do not exist."),
    ]
    for key, elements, rejection_type, reason in cases:
        response = activate_by_command(harness, key, *elements)
        assert (response.record_type, response.rejection_type, response.rejection_reason) == (
            RecordType.COMMAND_REJECTION, rejection_type, reason)
    # nothing was activated by the refused commands
    assert harness.records().with_value_type(ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION).only_events() == []


# -- execution listeners and inner boundary events -------------------------------------------------


def test_a_start_listener_of_the_sub_process_can_set_what_it_activates(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", task("A"), task("B"), active_elements="=activateElements",
        extensions=execution_listeners(("start", "start-EL")))))
    pik = harness.create_instance("process")
    [job] = harness.activate_jobs("start-EL")

    harness.complete_job(job, {"activateElements": ["A", "B"]})

    assert after_activation(harness, pik)[:10] == [
        (PI.ACTIVATE_ELEMENT, AD_HOC, "ad-hoc"), (PI.ELEMENT_ACTIVATING, AD_HOC, "ad-hoc"),
        (PI.COMPLETE_EXECUTION_LISTENER, AD_HOC, "ad-hoc"), (PI.ELEMENT_ACTIVATED, AD_HOC, "ad-hoc"),
        *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "A"), *NEW_INNER, (PI.ACTIVATE_ELEMENT, "TASK", "B")]
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_an_interrupting_boundary_event_of_an_inner_element_continues_inside_its_inner_instance(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", b.service_task("A", "work"), b.boundary("late", "A", b.timer_definition(duration="PT1M")),
        b.flow("late_to_B", "late", "B"), task("B"), active_elements='=["A"]')))
    pik = harness.create_instance("process")
    before = len(harness.process_instance_records(pik))

    harness.advance(60_000)

    assert after_activation(harness, pik, before) == [
        (PI.TERMINATE_ELEMENT, "SERVICE_TASK", "A"), (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "A"),
        (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "A"),
        (PI.ACTIVATE_ELEMENT, "BOUNDARY_EVENT", "late"), *run_task("late", "BOUNDARY_EVENT"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "late_to_B"), (PI.ACTIVATE_ELEMENT, "TASK", "B"), *run_task("B"),
        *COMPLETE_INNER, *COMPLETE_AD_HOC_AND_PROCESS,
    ]
    inner = element_key(harness, pik, INNER_ID)
    assert all(r.value["flowScopeKey"] == inner
               for r in harness.records().process_instance_records(pik).with_element_id("late"))


def test_multi_instance_and_subprocess_activities_run_in_their_inner_instances(harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", multi_instance(task("A"), input_collection="=[1,2]"), task("B"),
        b.sub_process("S", b.start("s_start"), b.flow("s1", "s_start", "s_end"), b.end("s_end")),
        active_elements='=["A", "S"]')))
    pik = harness.create_instance("process")

    inner = [element_key(harness, pik, INNER_ID, i) for i in (0, 1)]
    scopes = [(r.value["elementId"], r.value["bpmnElementType"], r.value["flowScopeKey"])
              for r in harness.records().only_events().process_instance_records(pik)
              if r.intent is PI.ELEMENT_ACTIVATED and r.value["elementId"] in ("A", "S")]
    body = element_key(harness, pik, "A")
    assert scopes == [("A", "MULTI_INSTANCE_BODY", inner[0]), ("S", "SUB_PROCESS", inner[1]),
                      ("A", "TASK", body), ("A", "TASK", body)]
    assert harness.process_instance_records(pik)[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_an_interrupting_event_subprocess_terminates_the_inner_instances_then_runs_and_completes_it(
        harness: EngineHarness) -> None:
    harness.deploy("ad-hoc.bpmn", ad_hoc_process(ad_hoc_sub_process(
        "ad-hoc", b.service_task("W", "work"),
        b.sub_process("esp", b.start("esp_start", b.timer_definition(duration="PT1M")),
                      b.flow("e1", "esp_start", "esp_end"), b.end("esp_end"), triggered_by_event=True),
        active_elements='=["W"]')))
    pik = harness.create_instance("process")
    before = len(harness.process_instance_records(pik))

    harness.advance(60_000)

    esp = "EVENT_SUB_PROCESS"
    assert after_activation(harness, pik, before) == [
        (PI.TERMINATE_ELEMENT, INNER, INNER_ID), (PI.ELEMENT_TERMINATING, INNER, INNER_ID),
        (PI.TERMINATE_ELEMENT, "SERVICE_TASK", "W"), (PI.ELEMENT_TERMINATING, "SERVICE_TASK", "W"),
        (PI.ELEMENT_TERMINATED, "SERVICE_TASK", "W"), (PI.ELEMENT_TERMINATED, INNER, INNER_ID),
        (PI.ACTIVATE_ELEMENT, esp, "esp"), (PI.ELEMENT_ACTIVATING, esp, "esp"), (PI.ELEMENT_ACTIVATED, esp, "esp"),
        (PI.ACTIVATE_ELEMENT, "START_EVENT", "esp_start"), *run_task("esp_start", "START_EVENT"),
        (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "e1"), (PI.ACTIVATE_ELEMENT, "END_EVENT", "esp_end"),
        *run_task("esp_end", "END_EVENT"),
        (PI.COMPLETE_ELEMENT, esp, "esp"), (PI.ELEMENT_COMPLETING, esp, "esp"), (PI.ELEMENT_COMPLETED, esp, "esp"),
        *COMPLETE_AD_HOC_AND_PROCESS,
    ]
