"""Deleting resources, record for record (Zeebe 8.8's ``ResourceDeletionDeleteProcessor`` and
``ResourceDeletionTest``): RESOURCE_DELETION DELETE by a process definition, decision requirements or
form key writes DELETING, the resource's own DELETED events and DELETED; the previous version becomes
the latest again (with its start events' timers and subscriptions); a process version with running
instances is not deleted (INVALID_STATE); an unknown key is NOT_FOUND."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.protocol import (
    DecisionEvaluationIntent,
    DeploymentIntent,
    MessageStartEventSubscriptionIntent,
    ProcessInstanceCreationIntent,
    Record,
    RecordType,
    RejectionType,
    ResourceDeletionIntent,
    SignalSubscriptionIntent,
    TimerIntent,
    ValueType,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m
from zeebe_trio.testing import bpmn_signals_escalations as s
from zeebe_trio.testing.bpmn_decisions import dmn, literal_decision
from zeebe_trio.testing.bpmn_forms import form


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def simple(process_id: str = "p", task: str = "work") -> bytes:
    return b.process(process_id, b.start(), b.flow("f1", "start", task), b.service_task(task, task),
                     b.flow("f2", task, "end"), b.end())


def deploy(harness: EngineHarness, name: str, resource: bytes) -> Record:
    response = harness.deploy(name, resource)
    assert response is not None and response.record_type is RecordType.EVENT, response
    return response


def process_key(deployment: Record, index: int = 0) -> int:
    return int(deployment.value["processesMetadata"][index]["processDefinitionKey"])


def delete(harness: EngineHarness, key: int) -> Record:
    response = harness.write(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE, {"resourceKey": key})
    assert response is not None
    return response


def records_after_delete(harness: EngineHarness) -> list[tuple[str, str, str]]:
    """(record type, value type, intent) from the last DELETE command on."""
    records = list(harness.records())
    start = max(i for i, r in enumerate(records)
                if r.value_type is ValueType.RESOURCE_DELETION and r.record_type is RecordType.COMMAND)
    return [(r.record_type.name, r.value_type.name, r.intent.name) for r in records[start:]]


def create_by_key(harness: EngineHarness, key: int) -> Record:
    response = harness.write(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                             {"processDefinitionKey": key, "variables": {}})
    assert response is not None
    return response


# -- processes ----------------------------------------------------------------------------------------------


def test_deleting_a_process_writes_deleting_then_the_process_deleted_then_deleted(harness: EngineHarness) -> None:
    key = process_key(deploy(harness, "p.bpmn", simple()))
    response = delete(harness, key)
    assert response.record_type is RecordType.EVENT
    assert response.intent is ResourceDeletionIntent.DELETING
    assert response.value["resourceKey"] == key
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("EVENT", "RESOURCE_DELETION", "DELETING"),
        ("EVENT", "PROCESS", "DELETING"),
        ("EVENT", "PROCESS", "DELETED"),
        ("EVENT", "RESOURCE_DELETION", "DELETED"),
    ]
    deleted = harness.records().with_value_type(ValueType.PROCESS).only_events()[-1].value
    assert deleted["processDefinitionKey"] == key
    assert deleted["bpmnProcessId"] == "p" and deleted["version"] == 1
    assert deleted["resource"] == b"" and deleted["checksum"] == ""
    final = harness.records().with_value_type(ValueType.RESOURCE_DELETION)[-1]
    assert final.intent is ResourceDeletionIntent.DELETED and final.key == response.key


def test_a_deleted_process_cannot_be_started_by_key_or_id(harness: EngineHarness) -> None:
    key = process_key(deploy(harness, "p.bpmn", simple()))
    delete(harness, key)
    by_key = create_by_key(harness, key)
    assert by_key.record_type is RecordType.COMMAND_REJECTION
    assert by_key.rejection_type is RejectionType.NOT_FOUND
    by_id = harness.write(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                          {"bpmnProcessId": "p", "version": -1, "variables": {}})
    assert by_id is not None and by_id.rejection_type is RejectionType.NOT_FOUND


def test_deleting_the_latest_version_makes_the_previous_one_latest_again(harness: EngineHarness) -> None:
    first = process_key(deploy(harness, "p.bpmn", simple(task="one")))
    second = process_key(deploy(harness, "p.bpmn", simple(task="two")))
    delete(harness, second)
    instance = harness.create_instance("p")
    created = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION).only_events()[-1]
    assert created.value["processDefinitionKey"] == first and created.value["version"] == 1
    assert instance == created.value["processInstanceKey"]
    # the same resource again is a duplicate of the version left
    again = deploy(harness, "p.bpmn", simple(task="one"))
    assert again.value["processesMetadata"][0]["isDuplicate"] is True
    assert process_key(again) == first


def test_deleting_an_older_version_leaves_the_latest(harness: EngineHarness) -> None:
    first = process_key(deploy(harness, "p.bpmn", simple(task="one")))
    second = process_key(deploy(harness, "p.bpmn", simple(task="two")))
    delete(harness, first)
    harness.create_instance("p")
    created = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_CREATION).only_events()[-1]
    assert created.value["processDefinitionKey"] == second
    versioned = harness.write(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                              {"bpmnProcessId": "p", "version": 1, "variables": {}})
    assert versioned is not None and versioned.rejection_type is RejectionType.NOT_FOUND


def test_a_process_with_running_instances_is_not_deleted(harness: EngineHarness) -> None:
    key = process_key(deploy(harness, "p.bpmn", simple()))
    instance = harness.create_instance("p")
    response = delete(harness, key)
    assert response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_type is RejectionType.INVALID_STATE
    assert response.rejection_reason == (
        f"Expected to delete resource with key `{key}` but there are still running instances")
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("COMMAND_REJECTION", "RESOURCE_DELETION", "DELETE"),
    ]
    # once the instance is gone, the process can be deleted
    harness.cancel(instance)
    assert delete(harness, key).record_type is RecordType.EVENT
    assert create_by_key(harness, key).rejection_type is RejectionType.NOT_FOUND


def test_running_instances_of_another_version_do_not_block_deletion(harness: EngineHarness) -> None:
    deploy(harness, "p.bpmn", simple(task="one"))
    harness.create_instance("p")
    second = process_key(deploy(harness, "p.bpmn", simple(task="two")))
    assert delete(harness, second).record_type is RecordType.EVENT


def test_deleting_the_latest_version_closes_its_timer_start_event_and_reopens_the_previous_ones(
        harness: EngineHarness) -> None:
    def ticking(task: str) -> bytes:
        return b.process("ticking", b.start("tick", b.timer_definition(cycle="R/PT1M")), b.flow("f", "tick", task),
                         b.service_task(task, task), b.flow("f2", task, "end"), b.end())
    first = process_key(deploy(harness, "t.bpmn", ticking("one")))
    second = process_key(deploy(harness, "t.bpmn", ticking("two")))
    delete(harness, second)
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("EVENT", "RESOURCE_DELETION", "DELETING"),
        ("EVENT", "PROCESS", "DELETING"),
        ("EVENT", "TIMER", "CANCELED"),
        ("EVENT", "TIMER", "CREATED"),
        ("EVENT", "PROCESS", "DELETED"),
        ("EVENT", "RESOURCE_DELETION", "DELETED"),
    ]
    timers = harness.records().with_value_type(ValueType.TIMER).only_events()
    assert timers.with_intent(TimerIntent.CANCELED)[-1].value["processDefinitionKey"] == second
    assert timers.with_intent(TimerIntent.CREATED)[-1].value["processDefinitionKey"] == first
    harness.advance(60_000)
    harness.run_due()
    started = harness.records().with_value_type(ValueType.PROCESS_INSTANCE).filter(
        lambda r: r.value.get("bpmnElementType") == "PROCESS")
    assert {r.value["processDefinitionKey"] for r in started} == {first}


def test_deleting_the_only_version_closes_its_message_and_signal_start_subscriptions(harness: EngineHarness) -> None:
    process = b.process("starts", b.start("by_message", b.message_definition("msg")), b.flow("f1", "by_message", "end"),
                        b.start("by_signal", b.signal_definition("sig")), b.flow("f2", "by_signal", "end"), b.end(),
                        definitions=m.message("msg", "go") + s.signal("sig", "alert"))
    key = process_key(deploy(harness, "starts.bpmn", process))
    delete(harness, key)
    after = records_after_delete(harness)
    assert after[:3] == [("COMMAND", "RESOURCE_DELETION", "DELETE"), ("EVENT", "RESOURCE_DELETION", "DELETING"),
                         ("EVENT", "PROCESS", "DELETING")]
    assert sorted(after[3:5]) == [("EVENT", "MESSAGE_START_EVENT_SUBSCRIPTION", "DELETED"),
                                  ("EVENT", "SIGNAL_SUBSCRIPTION", "DELETED")]
    assert after[5:] == [("EVENT", "PROCESS", "DELETED"), ("EVENT", "RESOURCE_DELETION", "DELETED")]
    assert harness.records().with_value_type(ValueType.MESSAGE_START_EVENT_SUBSCRIPTION).with_intent(
        MessageStartEventSubscriptionIntent.DELETED)[-1].value["processDefinitionKey"] == key
    assert harness.records().with_value_type(ValueType.SIGNAL_SUBSCRIPTION).with_intent(
        SignalSubscriptionIntent.DELETED)[-1].value["processDefinitionKey"] == key
    # a message no longer starts it
    harness.publish_message("go", "k")
    assert not harness.records().with_value_type(ValueType.PROCESS_INSTANCE).filter(
        lambda r: r.value.get("bpmnProcessId") == "starts")


# -- decisions and forms ------------------------------------------------------------------------------------


def test_deleting_decision_requirements_deletes_each_decision_then_the_graph(harness: EngineHarness) -> None:
    first = deploy(harness, "d.dmn", dmn(literal_decision("a", '"one"'), literal_decision("b", '"two"')))
    second = deploy(harness, "d.dmn", dmn(literal_decision("a", '"three"'), literal_decision("b", '"four"')))
    drg_key = second.value["decisionRequirementsMetadata"][0]["decisionRequirementsKey"]
    response = delete(harness, drg_key)
    assert response.intent is ResourceDeletionIntent.DELETING
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("EVENT", "RESOURCE_DELETION", "DELETING"),
        ("EVENT", "DECISION", "DELETED"),
        ("EVENT", "DECISION", "DELETED"),
        ("EVENT", "DECISION_REQUIREMENTS", "DELETED"),
        ("EVENT", "RESOURCE_DELETION", "DELETED"),
    ]
    deleted = harness.records().with_value_type(ValueType.DECISION).only_events()[-2:]
    assert [r.value["decisionId"] for r in deleted] == ["a", "b"]
    assert all(r.value["decisionRequirementsKey"] == drg_key and r.record_version == 2 for r in deleted)
    # the first version answers again
    evaluated = harness.write(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE,
                              {"decisionId": "a", "variables": {}})
    assert evaluated is not None and evaluated.record_type is RecordType.EVENT, evaluated.rejection_reason
    assert evaluated.value["decisionOutput"] == '"one"'
    first_key = first.value["decisionsMetadata"][0]["decisionKey"]
    assert evaluated.value["decisionKey"] == first_key


def test_deleting_a_form_writes_form_deleted_and_the_previous_version_is_latest_again(harness: EngineHarness) -> None:
    first = deploy(harness, "f.form", form("f", label="One"))
    second = deploy(harness, "f.form", form("f", label="Two"))
    form_key = second.value["formMetadata"][0]["formKey"]
    delete(harness, form_key)
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("EVENT", "RESOURCE_DELETION", "DELETING"),
        ("EVENT", "FORM", "DELETED"),
        ("EVENT", "RESOURCE_DELETION", "DELETED"),
    ]
    deleted = harness.records().with_value_type(ValueType.FORM).only_events()[-1]
    assert deleted.value["formKey"] == form_key and deleted.value["formId"] == "f" and deleted.record_version == 2
    with harness.read() as state:
        latest = state.latest_form("f", "<default>")
    assert latest is not None and latest["formKey"] == first.value["formMetadata"][0]["formKey"]


# -- rejections ---------------------------------------------------------------------------------------------


def test_deleting_an_unknown_key_is_rejected_as_not_found(harness: EngineHarness) -> None:
    response = delete(harness, 12345)
    assert response.record_type is RecordType.COMMAND_REJECTION
    assert response.rejection_type is RejectionType.NOT_FOUND
    assert response.rejection_reason == "Expected to delete resource but no resource found with key `12345`"
    assert records_after_delete(harness) == [
        ("COMMAND", "RESOURCE_DELETION", "DELETE"),
        ("COMMAND_REJECTION", "RESOURCE_DELETION", "DELETE"),
    ]


def test_deleting_a_resource_twice_is_rejected_as_not_found(harness: EngineHarness) -> None:
    key = process_key(deploy(harness, "p.bpmn", simple()))
    delete(harness, key)
    again = delete(harness, key)
    assert again.rejection_type is RejectionType.NOT_FOUND


def test_a_deployment_key_is_not_a_resource(harness: EngineHarness) -> None:
    deployment = deploy(harness, "p.bpmn", simple())
    assert deployment.intent is DeploymentIntent.CREATED
    assert delete(harness, deployment.key).rejection_type is RejectionType.NOT_FOUND


def test_a_new_deployment_after_deleting_the_latest_version_does_not_reuse_its_version(
        harness: EngineHarness) -> None:
    deploy(harness, "p.bpmn", simple(task="one"))
    second = process_key(deploy(harness, "p.bpmn", simple(task="two")))
    delete(harness, second)
    third = deploy(harness, "p.bpmn", simple(task="three"))
    assert third.value["processesMetadata"][0]["version"] == 3
    form_key = deploy(harness, "f.form", form("f", label="One")).value["formMetadata"][0]["formKey"]
    delete(harness, form_key)
    assert deploy(harness, "f.form", form("f", label="Two")).value["formMetadata"][0]["version"] == 2


def test_a_new_decision_deployment_after_deleting_the_latest_does_not_reuse_its_version(
        harness: EngineHarness) -> None:
    deploy(harness, "d.dmn", dmn(literal_decision("a", '"one"')))
    second = deploy(harness, "d.dmn", dmn(literal_decision("a", '"two"')))
    delete(harness, second.value["decisionRequirementsMetadata"][0]["decisionRequirementsKey"])
    third = deploy(harness, "d.dmn", dmn(literal_decision("a", '"three"')))
    assert third.value["decisionRequirementsMetadata"][0]["decisionRequirementsVersion"] == 3
    assert third.value["decisionsMetadata"][0]["version"] == 3
