"""Forms, record for record (Zeebe's ``FormDeploymentTest`` and the form cases of ``UserTaskTest``):
``.form`` resources deploy as FORM CREATED (record version 2) with versions per form id and duplicate
detection, the DEPLOYMENT record lists them in ``formMetadata``, and a user task's
``zeebe:formDefinition formId`` resolves to the deployed form's key by its binding type, raising
FORM_NOT_FOUND (resolvable once the form is deployed) when there is none."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from zeebe_trio.protocol import (
    DeploymentIntent,
    FormIntent,
    IncidentIntent,
    JobIntent,
    ProcessIntent,
    Record,
    RecordType,
    RejectionType,
    UserTaskIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_forms import form, form_user_task

FORM_ID = "Form_0w7r08e"
OTHER_FORM_ID = "Form_6s1b76p"


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def deploy(harness: EngineHarness, *resources: tuple[str, bytes], tenant: str | None = None) -> Record:
    value: dict[str, Any] = {"resources": [{"resourceName": name, "resource": data} for name, data in resources]}
    if tenant is not None:
        value["tenantId"] = tenant
    response = harness.write(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, value)
    assert response is not None
    return response


def deployed(harness: EngineHarness, *resources: tuple[str, bytes], tenant: str | None = None) -> Record:
    response = deploy(harness, *resources, tenant=tenant)
    assert response.record_type is RecordType.EVENT, response.rejection_reason
    return response


def rejection(harness: EngineHarness, *resources: tuple[str, bytes]) -> str:
    response = deploy(harness, *resources)
    assert response.record_type is RecordType.COMMAND_REJECTION, response
    assert response.rejection_type is RejectionType.INVALID_ARGUMENT
    return response.rejection_reason


def form_records(harness: EngineHarness) -> list[Record]:
    return list(harness.records().with_value_type(ValueType.FORM))


def process_with(task: str, process_id: str = "p") -> bytes:
    return b.process(process_id, b.start(), b.flow("f1", "start", "task"), task, b.flow("f2", "task", "end"), b.end())


def created_user_task(harness: EngineHarness) -> Record:
    return harness.records().with_value_type(ValueType.USER_TASK).with_intent(UserTaskIntent.CREATED)[-1]


# -- deployment -------------------------------------------------------------------------------------------


def test_a_form_deploys_as_form_created_before_deployment_created(harness: EngineHarness) -> None:
    resource = form(FORM_ID)
    deployment = deployed(harness, ("test-form-1.form", resource))

    kinds = [(r.record_type, r.value_type, r.intent) for r in harness.records()]
    assert kinds == [
        (RecordType.COMMAND, ValueType.DEPLOYMENT, DeploymentIntent.CREATE),
        (RecordType.EVENT, ValueType.FORM, FormIntent.CREATED),
        (RecordType.EVENT, ValueType.DEPLOYMENT, DeploymentIntent.CREATED),
    ]
    [created] = form_records(harness)
    metadata = {
        "formId": FORM_ID, "version": 1, "versionTag": "", "formKey": created.key,
        "resourceName": "test-form-1.form", "checksum": md5(resource), "isDuplicate": False,
        "tenantId": "<default>", "deploymentKey": deployment.key,
    }
    assert created.record_version == 2
    assert created.value == {**metadata, "resource": resource}
    assert deployment.value["formMetadata"] == [metadata]
    assert deployment.value["processesMetadata"] == []
    assert created.key == deployment.key + 1


def test_a_forms_version_tag_is_in_its_record_and_metadata(harness: EngineHarness) -> None:
    deployment = deployed(harness, ("tagged.form", form(FORM_ID, version_tag="v1.0")))
    [created] = form_records(harness)
    assert created.value["versionTag"] == "v1.0"
    assert deployment.value["formMetadata"][0]["versionTag"] == "v1.0"


def test_redeploying_the_same_form_is_a_duplicate_without_a_form_record(harness: EngineHarness) -> None:
    first = deployed(harness, ("test-form-1.form", form(FORM_ID)))
    second = deployed(harness, ("test-form-1.form", form(FORM_ID)))
    [metadata] = second.value["formMetadata"]
    original = first.value["formMetadata"][0]
    assert metadata == {**original, "isDuplicate": True}  # the first version's key and deployment key
    assert len(form_records(harness)) == 1
    third = deployed(harness, ("test-form-1.form", form(FORM_ID, label="Full name")))
    assert [(r.value["version"], r.value["deploymentKey"]) for r in form_records(harness)] == [
        (1, first.key), (2, third.key)]


def test_a_renamed_resource_with_the_same_content_is_a_new_version(harness: EngineHarness) -> None:
    deployed(harness, ("test-form-1.form", form(FORM_ID)))
    renamed = deployed(harness, ("renamed-test-form-1.form", form(FORM_ID)))
    assert [m["version"] for m in renamed.value["formMetadata"]] == [2]


def test_versions_count_per_form_id_not_per_resource_name(harness: EngineHarness) -> None:
    first = deployed(harness, ("test-form.form", form(FORM_ID)))
    second = deployed(harness, ("test-form.form", form(OTHER_FORM_ID)))
    assert [m["version"] for m in first.value["formMetadata"] + second.value["formMetadata"]] == [1, 1]


def test_a_new_version_keeps_an_existing_version_tag(harness: EngineHarness) -> None:
    deployed(harness, ("tagged.form", form(FORM_ID, version_tag="v1.0")))
    deployed(harness, ("tagged.form", form(FORM_ID, version_tag="v1.0", label="New")))
    assert [(r.value["version"], r.value["versionTag"]) for r in form_records(harness)] == [(1, "v1.0"), (2, "v1.0")]


def test_several_forms_deploy_in_resource_order(harness: EngineHarness) -> None:
    one, two = form(FORM_ID), form(OTHER_FORM_ID)
    deployment = deployed(harness, ("one.form", one), ("two.form", two))
    assert [(m["formId"], m["checksum"]) for m in deployment.value["formMetadata"]] == [
        (FORM_ID, md5(one)), (OTHER_FORM_ID, md5(two))]
    assert [r.value["formId"] for r in form_records(harness)] == [FORM_ID, OTHER_FORM_ID]


def test_an_unchanged_form_gets_a_new_version_when_deployed_with_a_changed_process(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(b.service_task("task", "work"))))
    again = deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(b.service_task("task", "other"))))
    assert [(m["version"], m["isDuplicate"]) for m in again.value["formMetadata"]] == [(2, False)]
    assert [(m["version"], m["isDuplicate"]) for m in again.value["processesMetadata"]] == [(2, False)]
    # records follow the resources' order
    assert [(r.value_type, r.intent) for r in harness.records().only_events()][-3:] == [
        (ValueType.FORM, FormIntent.CREATED), (ValueType.PROCESS, ProcessIntent.CREATED),
        (ValueType.DEPLOYMENT, DeploymentIntent.CREATED)]


def test_a_form_and_a_process_deployed_again_unchanged_are_both_duplicates(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(b.service_task("task", "work"))))
    count = len(harness.records())
    again = deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(b.service_task("task", "work"))))
    assert [m["isDuplicate"] for m in again.value["formMetadata"] + again.value["processesMetadata"]] == [True, True]
    assert [(r.value_type, r.intent) for r in harness.records()[count:]] == [
        (ValueType.DEPLOYMENT, DeploymentIntent.CREATE), (ValueType.DEPLOYMENT, DeploymentIntent.CREATED)]


def test_forms_are_versioned_per_tenant(harness: EngineHarness) -> None:
    first = deployed(harness, ("f.form", form(FORM_ID)), tenant="tenant1")
    second = deployed(harness, ("f.form", form(FORM_ID)), tenant="tenant2")
    assert [(r.value["version"], r.value["tenantId"]) for r in form_records(harness)] == [
        (1, "tenant1"), (1, "tenant2")]
    assert first.value["formMetadata"][0]["formKey"] != second.value["formMetadata"][0]["formKey"]


def test_a_form_without_an_id_is_rejected(harness: EngineHarness) -> None:
    assert rejection(harness, ("no-id.form", form(None))) == (
        "Expected to deploy new resources, but encountered the following errors:\n"
        "'no-id.form': Expected the form id to be present, but none given")


def test_a_form_with_a_blank_id_is_rejected(harness: EngineHarness) -> None:
    assert rejection(harness, ("blank.form", form("  "))).endswith(
        "'blank.form': Expected the form id to be filled, but it is blank")


def test_malformed_form_json_is_rejected(harness: EngineHarness) -> None:
    reason = rejection(harness, ("malformed.form", b"{not valid json"))
    assert reason.splitlines()[1].startswith("Failed to parse form JSON. 'malformed.form': ")
    assert rejection(harness, ("list.form", b"[1, 2]")).splitlines()[1] == (
        "Failed to parse form JSON. 'list.form': expected a JSON object, but found list")
    assert "'id' and 'versionTag' to be strings" in rejection(harness, ("obj.form", b'{"id": {"a": 1}}'))


def test_a_numeric_form_id_is_read_as_text(harness: EngineHarness) -> None:
    deployment = deployed(harness, ("n.form", b'{"id": 42}'))
    assert deployment.value["formMetadata"][0]["formId"] == "42"


def test_a_too_long_form_id_is_rejected(harness: EngineHarness) -> None:
    reason = rejection(harness, ("long.form", form("x" * 201)))
    assert reason.splitlines()[1].startswith(
        "The ID of a form must not be longer than the configured max-id-length of 200 characters, but was 'xxx")
    assert reason.endswith("in resource 'long.form'")


def test_two_forms_with_the_same_id_in_one_deployment_are_rejected(harness: EngineHarness) -> None:
    assert rejection(harness, ("a.form", form(FORM_ID)), ("b.form", form(FORM_ID, label="B"))).endswith(
        f"Expected the form ids to be unique within a deployment but found a duplicated id '{FORM_ID}' in the"
        " resources 'a.form' and 'b.form'.")
    assert form_records(harness) == []


def test_other_resource_types_are_still_rejected(harness: EngineHarness) -> None:
    assert rejection(harness, ("notes.txt", b"hello")).endswith(
        "'notes.txt': resources of type 'txt' are not supported yet by zeebe-trio; deploy BPMN files ending in"
        " .bpmn or .xml, decisions ending in .dmn, or forms ending in .form")


# -- user tasks -------------------------------------------------------------------------------------------


def test_a_camunda_user_task_gets_the_latest_forms_key(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(form_user_task("task", FORM_ID))))
    harness.create_instance("p")
    first_key = form_records(harness)[0].key
    assert created_user_task(harness).value["formKey"] == first_key
    deployed(harness, ("f.form", form(FORM_ID, label="v2")))
    harness.create_instance("p")
    assert created_user_task(harness).value["formKey"] == form_records(harness)[1].key != first_key
    creating = harness.records().with_value_type(ValueType.USER_TASK).with_intent(UserTaskIntent.CREATING)[-1]
    assert creating.value["formKey"] == form_records(harness)[1].key


def test_a_form_id_expression_is_evaluated_in_the_tasks_scope(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(form_user_task("task", "=formName"))))
    harness.create_instance("p", {"formName": FORM_ID})
    assert created_user_task(harness).value["formKey"] == form_records(harness)[0].key


def test_a_missing_form_raises_form_not_found_and_resolving_after_deploying_it_creates_the_task(
        harness: EngineHarness) -> None:
    deployed(harness, ("p.bpmn", process_with(form_user_task("task", FORM_ID))))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"
    assert incident.value["errorMessage"] == (
        f"Expected to find a form with id '{FORM_ID}', but no form with this id is found, at least a form with this"
        " id should be available. To resolve the Incident please deploy a form with the same id")
    assert harness.records().with_value_type(ValueType.USER_TASK) == []
    deployed(harness, ("f.form", form(FORM_ID)))
    count = len(harness.records())
    harness.resolve_incident(incident.key)
    assert [(r.record_type, r.value_type, r.intent.name) for r in harness.records()[count:]] == [
        (RecordType.COMMAND, ValueType.INCIDENT, "RESOLVE"),
        (RecordType.EVENT, ValueType.INCIDENT, "RESOLVED"),
        (RecordType.EVENT, ValueType.USER_TASK, "CREATING"),
        (RecordType.EVENT, ValueType.USER_TASK, "CREATED"),
        (RecordType.EVENT, ValueType.PROCESS_INSTANCE, "ELEMENT_ACTIVATED"),
    ]
    assert created_user_task(harness).value["formKey"] == form_records(harness)[0].key


def test_resolving_without_deploying_the_form_raises_a_new_incident(harness: EngineHarness) -> None:
    deployed(harness, ("p.bpmn", process_with(form_user_task("task", FORM_ID))))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    harness.resolve_incident(incident.key)
    assert [r.intent for r in harness.incidents(pik).only_events()] == [
        IncidentIntent.CREATED, IncidentIntent.RESOLVED, IncidentIntent.CREATED]


def test_deployment_binding_uses_the_form_deployed_with_the_process(harness: EngineHarness) -> None:
    task = form_user_task("task", FORM_ID, binding_type="deployment")
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(task)))
    deployed(harness, ("f.form", form(FORM_ID, label="newer")))
    harness.create_instance("p")
    assert [r.value["version"] for r in form_records(harness)] == [1, 2]
    assert created_user_task(harness).value["formKey"] == form_records(harness)[0].key


def test_deployment_binding_to_a_form_missing_from_the_deployment_is_rejected(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)))
    task = form_user_task("task", FORM_ID, binding_type="deployment")
    assert rejection(harness, ("p.bpmn", process_with(task))).splitlines()[1:] == [
        f"'p.bpmn': process 'p': user task 'task': Expected to find form with id '{FORM_ID}' in current deployment,"
        " but not found; deploy the form together with this process, or bind the user task to the 'latest' version"
        " of the form"]


def test_deployment_binding_with_an_expression_fails_at_run_time(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)))
    deployment = deployed(harness, ("p.bpmn", process_with(form_user_task("task", "=id", binding_type="deployment"))))
    pik = harness.create_instance("p", {"id": FORM_ID})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"
    assert incident.value["errorMessage"] == (
        f"Expected to use a form with id '{FORM_ID}' with binding type 'deployment', but no such form found in the"
        f" deployment with key {deployment.key} which contained the current process. To resolve this incident,"
        " migrate the process instance to a process definition that is deployed together with the intended form"
        " to use.")


def test_version_tag_binding_uses_the_latest_form_with_that_tag(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID, version_tag="v1")))
    deployed(harness, ("f.form", form(FORM_ID, version_tag="v1", label="second")))
    deployed(harness, ("f.form", form(FORM_ID, version_tag="v2")))
    task = form_user_task("task", FORM_ID, binding_type="versionTag", version_tag="v1")
    deployed(harness, ("p.bpmn", process_with(task)))
    harness.create_instance("p")
    assert created_user_task(harness).value["formKey"] == form_records(harness)[1].key


def test_version_tag_binding_without_such_a_form_raises_form_not_found(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID, version_tag="v1")))
    task = form_user_task("task", FORM_ID, binding_type="versionTag", version_tag="v9")
    deployed(harness, ("p.bpmn", process_with(task)))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        f"Expected to use a form with id '{FORM_ID}' and version tag 'v9', but no such form found. To resolve the"
        " incident, deploy a form with the given id and version tag.")


def test_a_form_of_another_tenant_is_not_found(harness: EngineHarness) -> None:
    deployed(harness, ("f.form", form(FORM_ID)), tenant="other")
    deployed(harness, ("p.bpmn", process_with(form_user_task("task", FORM_ID))))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"


def test_a_job_worker_user_task_gets_the_linked_forms_key_as_its_form_key_header(harness: EngineHarness) -> None:
    task = form_user_task("task", FORM_ID, zeebe_user_task=False)
    deployed(harness, ("f.form", form(FORM_ID)), ("p.bpmn", process_with(task)))
    harness.create_instance("p")
    job = harness.records().with_value_type(ValueType.JOB).with_intent(JobIntent.CREATED)[-1]
    assert job.value["type"] == "io.camunda.zeebe:userTask"
    assert job.value["customHeaders"] == {"io.camunda.zeebe:formKey": str(form_records(harness)[0].key)}


def test_a_job_worker_user_task_without_its_form_raises_form_not_found(harness: EngineHarness) -> None:
    deployed(harness, ("p.bpmn", process_with(form_user_task("task", FORM_ID, zeebe_user_task=False))))
    pik = harness.create_instance("p")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"
    assert harness.records().with_value_type(ValueType.JOB) == []
