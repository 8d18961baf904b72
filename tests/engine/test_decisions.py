"""Decisions, record for record (Zeebe's ``DecisionDeploymentTest``, ``EvaluateDecisionTest`` and
``BusinessRuleTaskTest``): a ``.dmn`` deploys as DECISION_REQUIREMENTS CREATED and one DECISION CREATED
per decision (record version 2) before DEPLOYMENT CREATED, versioned per id with duplicate detection;
DECISION_EVALUATION.EVALUATE answers EVALUATED or FAILED; a business rule task with a
zeebe:calledDecision evaluates the decision when it activates and completes with the output as its
result variable, or waits in a resolvable CALLED_DECISION_ERROR / DECISION_EVALUATION_ERROR incident."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    DecisionEvaluationIntent,
    DecisionIntent,
    DecisionRequirementsIntent,
    DeploymentIntent,
    IncidentIntent,
    ProcessInstanceIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_decisions import business_rule_task, decision_table, dmn, literal_decision

PI = ProcessInstanceIntent
PRICING = dmn(
    decision_table("discount", "total", [("< 100", "0"), (">= 100", "10")], name="Discount"),
    literal_decision("price", "total - discount", name="Price", requires=("discount",), version_tag="v1"),
    drg_id="pricing", name="Pricing")
PRICING_V2 = dmn(
    decision_table("discount", "total", [("< 50", "0"), (">= 50", "5")], name="Discount"),
    literal_decision("price", "total - discount", name="Price", requires=("discount",), version_tag="v2"),
    drg_id="pricing", name="Pricing")
STRICT = dmn(decision_table("strict", "x", [("> 0", "1"), ("> 1", "2")], name="Strict"), drg_id="strictness")


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def deploy(harness: EngineHarness, *resources: tuple[str, bytes]) -> Record:
    response = harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE,
                             {"resources": [{"resourceName": name, "resource": data} for name, data in resources]})
    assert response is not None
    return response


def deployed(harness: EngineHarness, *resources: tuple[str, bytes]) -> Record:
    response = deploy(harness, *resources)
    assert response.record_type is RecordType.EVENT, response.rejection_reason
    return response


def rejection(harness: EngineHarness, *resources: tuple[str, bytes]) -> str:
    response = deploy(harness, *resources)
    assert response.record_type is RecordType.COMMAND_REJECTION, response
    assert response.rejection_type is RejectionType.INVALID_ARGUMENT
    return response.rejection_reason


def evaluate(harness: EngineHarness, **value: Any) -> Record:
    response = harness.write(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE, value)
    assert response is not None
    return response


def of_type(harness: EngineHarness, value_type: ValueType) -> list[Record]:
    return list(harness.records().with_value_type(value_type).only_events())


def process_with(task: str, process_id: str = "p") -> bytes:
    return b.process(process_id, b.start(), b.flow("f1", "start", "task"), task, b.flow("f2", "task", "end"), b.end())


# -- deployment -------------------------------------------------------------------------------------------


def test_a_dmn_deploys_as_its_graph_and_decisions_before_deployment_created(harness: EngineHarness) -> None:
    deployment = deployed(harness, ("pricing.dmn", PRICING))
    assert [(r.record_type, r.value_type, r.intent) for r in harness.records()] == [
        (RecordType.COMMAND, ValueType.DEPLOYMENT, DeploymentIntent.CREATE),
        (RecordType.EVENT, ValueType.DECISION_REQUIREMENTS, DecisionRequirementsIntent.CREATED),
        (RecordType.EVENT, ValueType.DECISION, DecisionIntent.CREATED),
        (RecordType.EVENT, ValueType.DECISION, DecisionIntent.CREATED),
        (RecordType.EVENT, ValueType.DEPLOYMENT, DeploymentIntent.CREATED),
    ]
    [graph] = of_type(harness, ValueType.DECISION_REQUIREMENTS)
    requirements_metadata = {
        "decisionRequirementsId": "pricing", "decisionRequirementsName": "Pricing",
        "decisionRequirementsVersion": 1, "decisionRequirementsKey": graph.key,
        "namespace": "http://camunda.org/schema/1.0/dmn", "resourceName": "pricing.dmn",
        "checksum": md5(PRICING), "isDuplicate": False, "tenantId": "<default>",
    }
    assert graph.value == {**requirements_metadata, "resource": PRICING, "deploymentKey": deployment.key}
    assert graph.key == deployment.key + 1
    discount, price = of_type(harness, ValueType.DECISION)
    assert [d.record_version for d in (discount, price)] == [2, 2]
    assert discount.value == {
        "decisionId": "discount", "decisionName": "Discount", "version": 1, "versionTag": "",
        "decisionKey": discount.key, "decisionRequirementsId": "pricing", "decisionRequirementsKey": graph.key,
        "isDuplicate": False, "tenantId": "<default>", "deploymentKey": deployment.key,
    }
    assert (price.key, price.value["versionTag"]) == (graph.key + 2, "v1")
    assert deployment.value["decisionsMetadata"] == [discount.value, price.value]
    assert deployment.value["decisionRequirementsMetadata"] == [requirements_metadata]


def test_redeploying_the_same_dmn_is_a_duplicate_without_records(harness: EngineHarness) -> None:
    first = deployed(harness, ("pricing.dmn", PRICING))
    second = deployed(harness, ("pricing.dmn", PRICING))
    assert len(of_type(harness, ValueType.DECISION_REQUIREMENTS)) == 1
    assert second.value["decisionRequirementsMetadata"] == [
        {**first.value["decisionRequirementsMetadata"][0], "isDuplicate": True}]
    assert second.value["decisionsMetadata"] == [
        {**metadata, "isDuplicate": True} for metadata in first.value["decisionsMetadata"]]


def test_a_changed_dmn_deploys_new_versions_of_its_graph_and_decisions(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING))
    second = deployed(harness, ("pricing.dmn", PRICING_V2))
    assert [r.value["decisionRequirementsVersion"] for r in of_type(harness, ValueType.DECISION_REQUIREMENTS)] == [1, 2]
    assert [(r.value["decisionId"], r.value["version"]) for r in of_type(harness, ValueType.DECISION)] == [
        ("discount", 1), ("price", 1), ("discount", 2), ("price", 2)]
    assert {m["deploymentKey"] for m in second.value["decisionsMetadata"]} == {second.key}


def test_an_unchanged_dmn_is_versioned_again_with_a_changed_process(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(business_rule_task("task", "price"))))
    second = deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(business_rule_task("task", "discount"))))
    assert [m["decisionRequirementsVersion"] for m in second.value["decisionRequirementsMetadata"]] == [2]
    assert [(m["version"], m["isDuplicate"]) for m in second.value["decisionsMetadata"]] == [(2, False), (2, False)]


def test_the_same_decision_id_twice_in_a_deployment_is_rejected(harness: EngineHarness) -> None:
    other = dmn(literal_decision("discount", "1"), drg_id="other")
    assert rejection(harness, ("pricing.dmn", PRICING), ("other.dmn", other)) == (
        "Expected to deploy new resources, but encountered the following errors:\n"
        "Expected the decision ids to be unique within a deployment but found a duplicated id 'discount' in the"
        " resources 'pricing.dmn' and 'other.dmn'.")


def test_the_same_graph_id_twice_in_a_deployment_is_rejected(harness: EngineHarness) -> None:
    other = dmn(literal_decision("other", "1"), drg_id="pricing")
    assert rejection(harness, ("pricing.dmn", PRICING), ("other.dmn", other)) == (
        "Expected to deploy new resources, but encountered the following errors:\n"
        "Expected the decision requirements ids to be unique within a deployment but found a duplicated id"
        " 'pricing' in the resources 'pricing.dmn' and 'other.dmn'.")


def test_a_dmn_that_does_not_parse_is_rejected_naming_the_resource(harness: EngineHarness) -> None:
    reason = rejection(harness, ("broken.dmn", dmn(literal_decision("d", "1 +"))))
    assert reason.startswith("Expected to deploy new resources, but encountered the following errors:\n'broken.dmn': ")
    assert not of_type(harness, ValueType.DECISION)


def test_a_deployment_binding_to_a_decision_missing_from_the_deployment_is_rejected(harness: EngineHarness) -> None:
    task = business_rule_task("task", "price", binding_type="deployment")
    assert rejection(harness, ("p.bpmn", process_with(task))) == (
        "Expected to deploy new resources, but encountered the following errors:\n"
        "'p.bpmn': process 'p': business rule task 'task': Expected to find decision with id 'price' in current"
        " deployment, but not found; deploy the decision together with this process, or bind the business rule"
        " task to the 'latest' version of the decision")
    deployed(harness, ("p.bpmn", process_with(task)), ("pricing.dmn", PRICING))


# -- DECISION_EVALUATION.EVALUATE -------------------------------------------------------------------------


def test_evaluating_a_decision_by_id_writes_evaluated_with_every_evaluated_decision(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING))
    discount, price = of_type(harness, ValueType.DECISION)
    response = evaluate(harness, decisionId="price", variables={"total": 150})
    [event] = of_type(harness, ValueType.DECISION_EVALUATION)
    assert response == event
    assert (event.intent, event.key) == (DecisionEvaluationIntent.EVALUATED, price.key + 1)
    assert event.value == {
        "decisionKey": price.key, "decisionId": "price", "decisionName": "Price", "decisionVersion": 1,
        "decisionRequirementsId": "pricing", "decisionRequirementsKey": price.value["decisionRequirementsKey"],
        "decisionOutput": "140", "variables": {}, "bpmnProcessId": "", "processDefinitionKey": -1,
        "processInstanceKey": -1, "elementId": "", "elementInstanceKey": -1,
        "evaluatedDecisions": [
            {"decisionId": "discount", "decisionName": "Discount", "decisionKey": discount.key, "decisionVersion": 1,
             "decisionType": "DECISION_TABLE", "decisionOutput": "10",
             "evaluatedInputs": [{"inputId": "discount_input", "inputName": "Input", "inputValue": "150"}],
             "matchedRules": [{"ruleId": "discount_rule2", "ruleIndex": 2, "evaluatedOutputs": [
                 {"outputId": "discount_output", "outputName": "result", "outputValue": "10"}]}],
             "tenantId": "<default>", "decisionEvaluationInstanceKey": f"{event.key}-1"},
            {"decisionId": "price", "decisionName": "Price", "decisionKey": price.key, "decisionVersion": 1,
             "decisionType": "LITERAL_EXPRESSION", "decisionOutput": "140", "evaluatedInputs": [],
             "matchedRules": [], "tenantId": "<default>", "decisionEvaluationInstanceKey": f"{event.key}-2"},
        ],
        "evaluationFailureMessage": "", "failedDecisionId": "", "tenantId": "<default>",
    }


def test_evaluating_by_id_takes_the_latest_version_and_by_key_the_named_one(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING))
    deployed(harness, ("pricing.dmn", PRICING_V2))
    first_price = of_type(harness, ValueType.DECISION)[1]
    latest = evaluate(harness, decisionId="price", variables={"total": 60})
    assert (latest.value["decisionVersion"], latest.value["decisionOutput"]) == (2, "55")
    by_key = evaluate(harness, decisionKey=first_price.key, variables={"total": 60})
    assert (by_key.value["decisionVersion"], by_key.value["decisionOutput"]) == (1, "60")


def test_a_failed_evaluation_writes_failed_with_the_failure(harness: EngineHarness) -> None:
    deployed(harness, ("strict.dmn", STRICT))
    response = evaluate(harness, decisionId="strict", variables={"x": 5})
    assert response.intent is DecisionEvaluationIntent.FAILED
    assert response.value["failedDecisionId"] == "strict"
    assert response.value["decisionOutput"] == "null"
    assert response.value["evaluationFailureMessage"].startswith("Expected to evaluate decision 'strict', but ")
    [evaluated] = response.value["evaluatedDecisions"]
    assert [rule["ruleIndex"] for rule in evaluated["matchedRules"]] == [1, 2]


@pytest.mark.parametrize(("value", "reason"), [
    ({"decisionId": "nope"}, "Expected to evaluate decision 'nope', but no decision found for id 'nope'"),
    ({"decisionKey": 123}, "Expected to evaluate decision '123', but no decision found for key '123'"),
    ({}, "Expected either a decision id or a valid decision key, but none provided"),
])
def test_evaluating_an_unknown_decision_is_rejected(harness: EngineHarness, value: dict[str, Any], reason: str) -> None:
    response = evaluate(harness, **value)
    assert (response.record_type, response.rejection_type, response.rejection_reason) == (
        RecordType.COMMAND_REJECTION, RejectionType.INVALID_ARGUMENT, reason)
    assert not of_type(harness, ValueType.DECISION_EVALUATION)


# -- business rule tasks ----------------------------------------------------------------------------------


def task_records(harness: EngineHarness) -> list[tuple[str, str, str]]:
    records = harness.records().only_events().skip_until(
        lambda r: r.value.get("elementId") == "task" and r.intent is PI.ELEMENT_ACTIVATING)
    return [(r.value_type.name, r.intent.name, r.value.get("elementId") or r.value.get("name", "")) for r in records]


def variable(harness: EngineHarness, name: str) -> str:
    return [r.value["value"] for r in of_type(harness, ValueType.VARIABLE) if r.value["name"] == name][-1]


def test_a_business_rule_task_evaluates_its_decision_and_completes_with_the_result(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(business_rule_task("task", "price", "cost"))))
    pik = harness.create_instance("p", {"total": 200})
    assert task_records(harness)[:9] == [
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "task"),
        ("DECISION_EVALUATION", "EVALUATED", "task"),
        ("PROCESS_EVENT", "TRIGGERING", ""),
        ("PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "task"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETING", "task"),
        ("PROCESS_EVENT", "TRIGGERED", ""),
        ("VARIABLE", "CREATED", "cost"),
        ("PROCESS_INSTANCE", "ELEMENT_COMPLETED", "task"),
        ("PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "f2"),
    ]
    assert variable(harness, "cost") == "190"
    [evaluation] = of_type(harness, ValueType.DECISION_EVALUATION)
    task_key = next(r.key for r in harness.records().process_instance_records(pik) if r.value["elementId"] == "task")
    process_key = of_type(harness, ValueType.PROCESS)[0].key
    assert {k: evaluation.value[k] for k in ("bpmnProcessId", "processDefinitionKey", "processInstanceKey",
                                             "elementId", "elementInstanceKey", "decisionOutput")} == {
        "bpmnProcessId": "p", "processDefinitionKey": process_key, "processInstanceKey": pik,
        "elementId": "task", "elementInstanceKey": task_key, "decisionOutput": "190"}
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_a_business_rule_task_sees_its_input_mappings_and_applies_its_output_mappings(harness: EngineHarness) -> None:
    mappings = '<zeebe:input source="=amount" target="total"/><zeebe:output source="=cost * 2" target="double"/>'
    task = business_rule_task("task", "price", "cost", mappings=mappings)
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(task)))
    harness.create_instance("p", {"amount": 100})
    assert variable(harness, "double") == "180"


def test_a_feel_decision_id_is_evaluated(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(business_rule_task("task", "=which", "out"))))
    harness.create_instance("p", {"which": "discount", "total": 500})
    assert variable(harness, "out") == "10"


def test_binding_types_pick_the_version(harness: EngineHarness) -> None:
    tasks = b.process("p", b.start(), b.flow("f1", "start", "task"),
                      business_rule_task("task", "price", "byDeployment", binding_type="deployment"),
                      b.flow("f2", "task", "tagged"),
                      business_rule_task("tagged", "price", "byTag", binding_type="versionTag", version_tag="v1"),
                      b.flow("f3", "tagged", "latest"), business_rule_task("latest", "price", "byLatest"),
                      b.flow("f4", "latest", "end"), b.end())
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", tasks))
    deployed(harness, ("pricing.dmn", PRICING_V2))
    harness.create_instance("p", {"total": 60})
    assert [variable(harness, name) for name in ("byDeployment", "byTag", "byLatest")] == ["60", "60", "55"]


def test_a_missing_decision_is_a_called_decision_error_resolved_once_deployed(harness: EngineHarness) -> None:
    deployed(harness, ("p.bpmn", process_with(business_rule_task("task", "price", "cost"))))
    pik = harness.create_instance("p", {"total": 10})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert (incident.value["errorType"], incident.value["errorMessage"]) == (
        "CALLED_DECISION_ERROR", "Expected to evaluate decision 'price', but no decision found for id 'price'")
    assert not of_type(harness, ValueType.DECISION_EVALUATION)
    deployed(harness, ("pricing.dmn", PRICING))
    harness.resolve_incident(incident.key)
    assert variable(harness, "cost") == "10"
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_a_missing_version_tag_is_a_called_decision_error(harness: EngineHarness) -> None:
    task = business_rule_task("task", "price", binding_type="versionTag", version_tag="v9")
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(task)))
    pik = harness.create_instance("p", {"total": 10})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert (incident.value["errorType"], incident.value["errorMessage"]) == (
        "CALLED_DECISION_ERROR", "Expected to evaluate decision with id 'price' and version tag 'v9', but no such"
        " decision found. To resolve this incident, deploy a decision with the given id and version tag.")


def test_a_failed_evaluation_is_a_decision_evaluation_error_resolved_with_new_variables(harness: EngineHarness) -> None:
    deployed(harness, ("strict.dmn", STRICT), ("p.bpmn", process_with(business_rule_task("task", "strict", "out"))))
    pik = harness.create_instance("p", {"x": 5})
    [failed] = of_type(harness, ValueType.DECISION_EVALUATION)
    assert failed.intent is DecisionEvaluationIntent.FAILED
    assert failed.value["processInstanceKey"] == pik
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert (incident.value["errorType"], incident.value["errorMessage"]) == (
        "DECISION_EVALUATION_ERROR", failed.value["evaluationFailureMessage"])
    assert incident.value["elementId"] == "task"
    harness.set_variables(pik, {"x": 1})
    harness.resolve_incident(incident.key)
    assert [r.intent for r in of_type(harness, ValueType.DECISION_EVALUATION)] == [
        DecisionEvaluationIntent.FAILED, DecisionEvaluationIntent.EVALUATED]
    assert variable(harness, "out") == "1"
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED


def test_a_decision_id_expression_that_gives_no_string_is_an_extract_value_error(harness: EngineHarness) -> None:
    deployed(harness, ("pricing.dmn", PRICING), ("p.bpmn", process_with(business_rule_task("task", "=which"))))
    pik = harness.create_instance("p", {"which": 3})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert (incident.value["errorType"], incident.value["errorMessage"]) == (
        "EXTRACT_VALUE_ERROR", "Expected result of the expression 'which' to be 'STRING', but was 'NUMBER'.")


def test_a_business_rule_task_with_a_task_definition_is_still_a_job(harness: EngineHarness) -> None:
    task = ('<bpmn:businessRuleTask id="task"><bpmn:extensionElements><zeebe:taskDefinition type="rules"/>'
            "</bpmn:extensionElements></bpmn:businessRuleTask>")
    deployed(harness, ("p.bpmn", process_with(task)))
    harness.create_instance("p")
    assert [job.value["type"] for job in harness.jobs()] == ["rules"]


def test_decimal_outputs_are_doubles_in_records_and_variables(harness: EngineHarness) -> None:
    rates = dmn(decision_table("rate", "kind", [('"a"', "2.5"), ('"b"', "0.1 * 3")]), drg_id="rates")
    deployed(harness, ("rates.dmn", rates), ("p.bpmn", process_with(business_rule_task("task", "rate", "rate"))))
    harness.create_instance("p", {"kind": "a"})
    assert variable(harness, "rate") == "2.5"
    response = evaluate(harness, decisionId="rate", variables={"kind": "b"})
    assert response.value["decisionOutput"] == "0.3"  # FEEL's decimal 0.3, as a double
    rule = response.value["evaluatedDecisions"][0]["matchedRules"][0]
    assert rule["evaluatedOutputs"][0]["outputValue"] == response.value["decisionOutput"]


def test_a_multi_instance_business_rule_task_evaluates_once_per_element(harness: EngineHarness) -> None:
    task = ('<bpmn:businessRuleTask id="task"><bpmn:extensionElements>'
            '<zeebe:calledDecision decisionId="double" resultVariable="r"/></bpmn:extensionElements>'
            '<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics'
            ' inputCollection="=xs" inputElement="x" outputCollection="rs" outputElement="=r"/>'
            "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:businessRuleTask>")
    deployed(harness, ("double.dmn", dmn(literal_decision("double", "x * 2"), drg_id="doubling")),
             ("p.bpmn", process_with(task)))
    pik = harness.create_instance("p", {"xs": [1, 2, 3]})
    assert [r.value["decisionOutput"] for r in of_type(harness, ValueType.DECISION_EVALUATION)] == ["2", "4", "6"]
    assert variable(harness, "rs") == "[2,4,6]"
    assert harness.records().process_instance_records(pik).only_events()[-1].intent is PI.ELEMENT_COMPLETED
