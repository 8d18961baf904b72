"""Multi-instance activities: the body and its inner instances, checked record for record against
Zeebe's ``MultiInstanceActivityTest``, ``MultiInstanceIncidentTest`` and ``MultiInstanceBodyProcessor``
(parallel and sequential bodies, loop variables, the output collection, the completion condition, an
empty collection, incidents and their resolution, cancellation). The harness compares the replayed
state with the processed one after every command."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from zeebe_trio.engine._engine import DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE
from zeebe_trio.protocol import (
    ErrorType,
    IncidentIntent,
    JobIntent,
    ProcessInstanceBatchIntent,
    ProcessInstanceIntent,
    RecordType,
    UserTaskIntent,
    ValueType,
    VariableIntent,
)
from zeebe_trio.testing import EngineHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_gateways_events as ge
from zeebe_trio.testing import bpmn_tasks as tasks
from zeebe_trio.testing.bpmn_call_activity import call_activity
from zeebe_trio.testing.bpmn_multi_instance import multi_instance, task

PI = ProcessInstanceIntent
BODY = "MULTI_INSTANCE_BODY"
SERVICE = "SERVICE_TASK"
ITEMS = [10, 20, 30]


def service_process(*, sequential: bool = False, completion_condition: str | None = None,
                    input_collection: str = "=items", output_element: str | None = "=result",
                    output_collection: str | None = "results") -> bytes:
    inner = multi_instance(b.service_task("task", "work"), input_collection=input_collection, input_element="item",
                           output_collection=output_collection, output_element=output_element,
                           completion_condition=completion_condition, sequential=sequential)
    return b.process("process", b.start(), b.flow("to_task", "start", "task"), inner,
                     b.flow("to_end", "task", "end"), b.end())


@pytest.fixture
def harness() -> Iterator[EngineHarness]:
    with EngineHarness() as h:
        yield h


def deploy(harness: EngineHarness, resource: bytes) -> None:
    response = harness.deploy("process.bpmn", resource)
    assert response is not None and response.record_type is RecordType.EVENT, response


def task_records(harness: EngineHarness, pik: int) -> list[tuple[object, str]]:
    """(intent, element type) of the records of element 'task' (the body and its inner instances)."""
    return [(intent, element_type) for intent, element_type, element_id
            in harness.records().process_instance_records(pik).element_tuples() if element_id == "task"]


def complete_jobs(harness: EngineHarness, count: int, results: list[object] | None = None) -> None:
    """Complete ``count`` jobs one at a time (activating them as they appear), with ``result`` variables."""
    for index in range(count):
        [job] = harness.activate_jobs("work", max_jobs=1)
        value = results[index] if results is not None else ITEMS[index] + index + 1
        harness.complete_job(job, {"result": value})


def variables(harness: EngineHarness, name: str) -> list[tuple[object, int, object]]:
    return [(r.intent, r.value["scopeKey"], json.loads(r.value["value"]))
            for r in harness.records().with_value_type(ValueType.VARIABLE) if r.value["name"] == name]


def keys_of(harness: EngineHarness, pik: int, element_type: str, intent: ProcessInstanceIntent) -> list[int]:
    return [r.key for r in harness.records().only_events().process_instance_records(pik)
            if r.value["bpmnElementType"] == element_type and r.intent is intent]


# -- the lifecycle ---------------------------------------------------------------------------------


def test_a_parallel_body_activates_every_inner_instance_at_once_then_completes_after_the_last(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": ITEMS})
    assert task_records(harness, pik) == [
        (PI.ACTIVATE_ELEMENT, BODY), (PI.ELEMENT_ACTIVATING, BODY), (PI.ELEMENT_ACTIVATED, BODY),
        (PI.ACTIVATE_ELEMENT, SERVICE), (PI.ELEMENT_ACTIVATING, SERVICE), (PI.ELEMENT_ACTIVATED, SERVICE),
        (PI.ACTIVATE_ELEMENT, SERVICE), (PI.ELEMENT_ACTIVATING, SERVICE), (PI.ELEMENT_ACTIVATED, SERVICE),
        (PI.ACTIVATE_ELEMENT, SERVICE), (PI.ELEMENT_ACTIVATING, SERVICE), (PI.ELEMENT_ACTIVATED, SERVICE),
    ]
    assert len(harness.jobs(pik, JobIntent.CREATED)) == 3
    complete_jobs(harness, 3)
    assert task_records(harness, pik)[12:] == [
        (PI.COMPLETE_ELEMENT, SERVICE), (PI.ELEMENT_COMPLETING, SERVICE), (PI.ELEMENT_COMPLETED, SERVICE),
    ] * 3 + [
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY),
    ]
    tuples = harness.records().only_events().process_instance_records(pik).element_tuples()
    assert tuples[-8:] == [
        (PI.ELEMENT_COMPLETED, BODY, "task"), (PI.SEQUENCE_FLOW_TAKEN, "SEQUENCE_FLOW", "to_end"),
        (PI.ELEMENT_ACTIVATING, "END_EVENT", "end"), (PI.ELEMENT_ACTIVATED, "END_EVENT", "end"),
        (PI.ELEMENT_COMPLETING, "END_EVENT", "end"), (PI.ELEMENT_COMPLETED, "END_EVENT", "end"),
        (PI.ELEMENT_COMPLETING, "PROCESS", "process"), (PI.ELEMENT_COMPLETED, "PROCESS", "process"),
    ]


def test_a_parallel_body_asks_for_its_inner_instances_with_process_instance_batch_commands(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": ITEMS})
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    batch = harness.records().with_value_type(ValueType.PROCESS_INSTANCE_BATCH)
    assert [(r.record_type, r.intent, r.value["index"]) for r in batch] == [
        (RecordType.COMMAND, ProcessInstanceBatchIntent.ACTIVATE, 3),
        (RecordType.COMMAND, ProcessInstanceBatchIntent.ACTIVATE, 2),
        (RecordType.COMMAND, ProcessInstanceBatchIntent.ACTIVATE, 1),
        (RecordType.EVENT, ProcessInstanceBatchIntent.ACTIVATED, 1),
    ]
    assert {r.value["batchElementInstanceKey"] for r in batch} == {body_key}
    assert {r.value["processInstanceKey"] for r in batch} == {pik}


def test_a_sequential_body_activates_the_next_inner_instance_when_one_completes(harness) -> None:
    deploy(harness, service_process(sequential=True))
    pik = harness.create_instance("process", {"items": ITEMS})
    assert task_records(harness, pik) == [
        (PI.ACTIVATE_ELEMENT, BODY), (PI.ELEMENT_ACTIVATING, BODY), (PI.ELEMENT_ACTIVATED, BODY),
        (PI.ACTIVATE_ELEMENT, SERVICE), (PI.ELEMENT_ACTIVATING, SERVICE), (PI.ELEMENT_ACTIVATED, SERVICE),
    ]
    complete_jobs(harness, 3)
    one_inner = [(PI.ACTIVATE_ELEMENT, SERVICE), (PI.ELEMENT_ACTIVATING, SERVICE), (PI.ELEMENT_ACTIVATED, SERVICE),
                 (PI.COMPLETE_ELEMENT, SERVICE), (PI.ELEMENT_COMPLETING, SERVICE), (PI.ELEMENT_COMPLETED, SERVICE)]
    assert task_records(harness, pik) == [
        (PI.ACTIVATE_ELEMENT, BODY), (PI.ELEMENT_ACTIVATING, BODY), (PI.ELEMENT_ACTIVATED, BODY),
        *one_inner * 3,
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY),
    ]
    assert not harness.records().with_value_type(ValueType.PROCESS_INSTANCE_BATCH)
    assert harness.records().limit_to_process_instance_completed(pik)[-1].value["bpmnElementType"] == "PROCESS"


def test_the_body_takes_the_activitys_place_in_the_flow_and_scopes_its_inner_instances(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": ITEMS})
    records = harness.records().only_events().process_instance_records(pik)
    body = next(r for r in records if r.value["bpmnElementType"] == BODY)
    assert body.value["flowScopeKey"] == pik and body.value["elementId"] == "task"
    assert body.value["bpmnEventType"] == "UNSPECIFIED"
    inner = [r for r in records if r.value["bpmnElementType"] == SERVICE]
    assert {r.value["flowScopeKey"] for r in inner} == {body.key}
    jobs = harness.jobs(pik, JobIntent.CREATED)
    assert {j.value["elementId"] for j in jobs} == {"task"}
    assert [j.value["elementInstanceKey"] for j in jobs] == keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)


def test_an_empty_collection_completes_the_body_at_once(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": []})
    assert task_records(harness, pik) == [
        (PI.ACTIVATE_ELEMENT, BODY), (PI.ELEMENT_ACTIVATING, BODY), (PI.ELEMENT_ACTIVATED, BODY),
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY),
    ]
    assert not harness.jobs(pik)
    assert [value for _intent, scope, value in variables(harness, "results") if scope == pik] == [[]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


# -- loop variables and the output collection ------------------------------------------------------


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_each_inner_instance_gets_its_item_and_loop_counter_as_local_variables(harness, sequential) -> None:
    deploy(harness, service_process(sequential=sequential))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 3)
    inner_keys = keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)
    assert variables(harness, "item") == [(VariableIntent.CREATED, key, item) for key, item in zip(inner_keys, ITEMS, strict=True)]
    assert variables(harness, "loopCounter") == [(VariableIntent.CREATED, key, n)
                                                 for n, key in enumerate(inner_keys, start=1)]
    # the output element's variable exists on each inner instance (null), so the job's result stays there
    assert [(intent, scope) for intent, scope, _ in variables(harness, "result")
            if intent is VariableIntent.CREATED] == [(VariableIntent.CREATED, key) for key in inner_keys]
    assert [value for intent, _, value in variables(harness, "result") if intent is VariableIntent.CREATED] == [None] * 3
    assert all(scope != pik for _, scope, _ in variables(harness, "item") + variables(harness, "result"))


def test_the_output_collection_fills_in_completion_order_and_reaches_the_flow_scope(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": ITEMS})
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    first, second, third = harness.activate_jobs("work")
    # the last inner instance completes first: its result goes to its own position
    for job, result in ((third, 33), (first, 11), (second, 22)):
        harness.complete_job(job, {"result": result})
    on_body = [(intent, value) for intent, scope, value in variables(harness, "results") if scope == body_key]
    assert on_body == [
        (VariableIntent.CREATED, [None, None, None]),
        (VariableIntent.UPDATED, [None, None, 33]),
        (VariableIntent.UPDATED, [11, None, 33]),
        (VariableIntent.UPDATED, [11, 22, 33]),
    ]
    assert [(intent, value) for intent, scope, value in variables(harness, "results") if scope == pik] == [
        (VariableIntent.CREATED, [11, 22, 33])]


def test_an_output_element_expression_is_evaluated_in_the_inner_instance(harness) -> None:
    deploy(harness, service_process(output_element="=number(string(loopCounter) + string(loopCounter))"))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 3)
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[11, 22, 33]]
    names = {r.value["name"] for r in harness.records().with_value_type(ValueType.VARIABLE)}
    assert names == {"items", "results", "item", "loopCounter", "result"}


def test_a_nested_output_element_creates_its_root_variable_on_each_inner_instance(harness) -> None:
    deploy(harness, service_process(output_element="=result.nested"))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 3, results=[{"nested": 1}, {"nested": 2}, {"nested": 3}])
    created = [value for intent, _, value in variables(harness, "result") if intent is VariableIntent.CREATED]
    assert created == [None, None, None]
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[1, 2, 3]]


def test_an_output_element_that_is_the_input_element_is_not_reset_to_null(harness) -> None:
    inner = multi_instance(b.service_task("task", "work"), input_collection="=items", input_element="item",
                           output_collection="results", output_element="=item")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 3)
    assert [value for _, _, value in variables(harness, "item")] == ITEMS
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [ITEMS]


def test_without_an_output_collection_nothing_reaches_the_process(harness) -> None:
    deploy(harness, service_process(output_collection=None, output_element=None))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 3)
    assert not variables(harness, "results")
    # no output element: nothing keeps the job's variables in the inner instance, they propagate
    assert variables(harness, "result") == [(VariableIntent.CREATED, pik, 11), (VariableIntent.UPDATED, pik, 22),
                                            (VariableIntent.UPDATED, pik, 33)]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_the_inner_activitys_input_mappings_see_its_item(harness) -> None:
    inner = multi_instance(b.service_task("task", "work", mappings='<zeebe:input source="=item * 2" target="doubled"/>'),
                           input_collection="=items", input_element="item")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    inner_keys = keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)
    assert variables(harness, "doubled") == [(VariableIntent.CREATED, key, item * 2)
                                             for key, item in zip(inner_keys, ITEMS, strict=True)]
    names = [r.value["name"] for r in harness.records().with_value_type(ValueType.VARIABLE)
             if r.value["scopeKey"] == inner_keys[0]]
    assert names == ["item", "loopCounter", "doubled"]


# -- the completion condition ----------------------------------------------------------------------


def test_a_true_completion_condition_terminates_the_other_parallel_instances_and_completes_the_body(harness) -> None:
    deploy(harness, service_process(completion_condition="=x"))
    pik = harness.create_instance("process", {"items": ITEMS, "x": True})
    complete_jobs(harness, 1)
    records = task_records(harness, pik)
    after = records[records.index((PI.ELEMENT_COMPLETED, SERVICE)) + 1:]
    assert after == [
        (PI.TERMINATE_ELEMENT, SERVICE), (PI.TERMINATE_ELEMENT, SERVICE),
        (PI.ELEMENT_TERMINATING, SERVICE), (PI.ELEMENT_TERMINATED, SERVICE),
        (PI.ELEMENT_TERMINATING, SERVICE), (PI.ELEMENT_TERMINATED, SERVICE),
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY),
    ]
    assert len(harness.jobs(pik, JobIntent.CANCELED)) == 2
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_a_true_completion_condition_ends_a_sequential_body_without_the_next_instance(harness) -> None:
    deploy(harness, service_process(sequential=True, completion_condition="=x"))
    pik = harness.create_instance("process", {"items": ITEMS, "x": True})
    complete_jobs(harness, 1)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)) == 1
    assert task_records(harness, pik)[-3:] == [
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY)]


def test_the_completion_condition_sees_the_inner_instances_variables(harness) -> None:
    deploy(harness, service_process(completion_condition="= item = 20"))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 2)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_TERMINATED)) == 1
    assert keys_of(harness, pik, BODY, PI.ELEMENT_COMPLETED)


def test_a_completion_condition_that_becomes_true_for_the_last_instance_completes_the_body(harness) -> None:
    deploy(harness, service_process(completion_condition="=x"))
    pik = harness.create_instance("process", {"items": [10, 20], "x": False})
    complete_jobs(harness, 1)
    harness.set_variables(pik, {"x": True})
    complete_jobs(harness, 1)
    assert not keys_of(harness, pik, SERVICE, PI.ELEMENT_TERMINATED)
    assert task_records(harness, pik)[-3:] == [
        (PI.COMPLETE_ELEMENT, BODY), (PI.ELEMENT_COMPLETING, BODY), (PI.ELEMENT_COMPLETED, BODY)]


@pytest.mark.parametrize(("sequential", "condition", "completed", "terminated"), [
    (False, "= numberOfInstances = 3", 1, 2),
    (True, "= numberOfInstances = 2", 2, 0),
    (False, "= numberOfActiveInstances = 1", 2, 1),
    (True, "= numberOfActiveInstances = 0", 1, 0),
    (False, "= numberOfCompletedInstances = 2", 2, 1),
    (True, "= numberOfCompletedInstances = 2", 2, 0),
    (False, "= numberOfTerminatedInstances = 0 and loopCounter = 1", 1, 2),
], ids=["instances-parallel", "instances-sequential", "active-parallel", "active-sequential",
        "completed-parallel", "completed-sequential", "terminated-parallel"])
def test_the_completion_condition_sees_the_bodys_counters(harness, sequential, condition, completed,
                                                          terminated) -> None:
    deploy(harness, service_process(sequential=sequential, completion_condition=condition))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, completed)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_COMPLETED)) == completed
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_TERMINATED)) == terminated
    assert keys_of(harness, pik, BODY, PI.ELEMENT_COMPLETED)


def test_a_completion_condition_that_is_not_boolean_is_an_incident_on_the_inner_instance(harness) -> None:
    deploy(harness, service_process(completion_condition="=x"))
    pik = harness.create_instance("process", {"items": ITEMS, "x": "yes"})
    complete_jobs(harness, 1)
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    [first] = keys_of(harness, pik, SERVICE, PI.ELEMENT_COMPLETING)
    assert incident.value["elementInstanceKey"] == first
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.value
    assert incident.value["errorMessage"] == "Expected result of the expression 'x' to be 'BOOLEAN', but was 'STRING'."
    harness.set_variables(pik, {"x": True})
    harness.resolve_incident(incident.key)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_TERMINATED)) == 2
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


# -- incidents -------------------------------------------------------------------------------------


def test_a_missing_input_collection_is_an_incident_on_the_body_resolved_once_it_is_set(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATING)
    assert incident.value["elementInstanceKey"] == body_key and incident.value["elementId"] == "task"
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.value
    assert incident.value["errorMessage"] == (
        "Expected result of the expression 'items' to be 'ARRAY', but was 'NULL'. The evaluation reported the"
        " following warnings:\n[NO_VARIABLE_FOUND] No variable found with name 'items'")
    assert task_records(harness, pik) == [(PI.ACTIVATE_ELEMENT, BODY), (PI.ELEMENT_ACTIVATING, BODY)]
    harness.set_variables(pik, {"items": [1, 2]})
    harness.resolve_incident(incident.key)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)) == 2
    complete_jobs(harness, 2, results=["a", "b"])
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [["a", "b"]]


def test_an_input_collection_that_is_not_a_list_is_an_incident_naming_its_type(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": "not-an-array-but-a-string"})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == "Expected result of the expression 'items' to be 'ARRAY', but was 'STRING'."


def test_a_sequential_body_reads_its_collection_again_after_each_inner_instance(harness) -> None:
    # As Zeebe does: the collection is evaluated anew when an inner instance completes, so a collection
    # that shrank to one item ends the body after the first inner instance.
    deploy(harness, service_process(sequential=True))
    pik = harness.create_instance("process", {"items": ITEMS})
    harness.set_variables(pik, {"items": [10]})
    complete_jobs(harness, 1)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)) == 1
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[11, None, None]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_an_output_collection_replaced_by_a_shorter_one_is_an_incident_resolved_after_fixing_it(harness) -> None:
    deploy(harness, service_process(sequential=True))
    pik = harness.create_instance("process", {"items": ITEMS})
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    harness.set_variables(body_key, {"results": []}, local=True)
    [job] = harness.activate_jobs("work")
    harness.complete_job(job, {"result": 1})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.EXTRACT_VALUE_ERROR.value
    assert incident.value["errorMessage"] == (
        "Unable to update an item in output collection 'results' at position 1 because the size of the collection"
        " is: 0. This may happen when multiple BPMN elements write to the same variable.")
    harness.set_variables(body_key, {"results": [None, None, None]}, local=True)
    harness.resolve_incident(incident.key)
    complete_jobs(harness, 2, results=[2, 3])
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[1, 2, 3]]


def test_an_output_collection_that_is_not_a_list_is_an_incident(harness) -> None:
    deploy(harness, service_process(sequential=True))
    pik = harness.create_instance("process", {"items": ITEMS})
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    harness.set_variables(body_key, {"results": "text"}, local=True)
    [job] = harness.activate_jobs("work")
    harness.complete_job(job, {"result": 1})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        "Unable to update an item in output collection 'results' because the type of the output collection is:"
        " STRING. This may happen when multiple BPMN elements write to the same variable.")


def test_a_parallel_body_over_more_items_than_a_scope_may_hold_is_an_incident(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": list(range(DEFAULT_MAX_ELEMENT_INSTANCES_PER_SCOPE + 1))})
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorType"] == ErrorType.UNKNOWN.value
    assert "max_element_instances_per_scope" in incident.value["errorMessage"]
    assert not keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATING)
    harness.set_variables(pik, {"items": ITEMS})
    harness.resolve_incident(incident.key)
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_ACTIVATED)) == 3


# -- termination -----------------------------------------------------------------------------------


def test_cancelling_terminates_the_inner_instances_then_the_body(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 2)
    harness.cancel(pik)
    records = task_records(harness, pik)
    assert records[records.index((PI.ELEMENT_TERMINATING, BODY)):] == [
        (PI.ELEMENT_TERMINATING, BODY), (PI.TERMINATE_ELEMENT, SERVICE),
        (PI.ELEMENT_TERMINATING, SERVICE), (PI.ELEMENT_TERMINATED, SERVICE),
        (PI.ELEMENT_TERMINATED, BODY),
    ]
    assert len(harness.jobs(pik, JobIntent.CANCELED)) == 1
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_TERMINATED


def test_cancelling_a_body_with_an_incident_resolves_the_incident(harness) -> None:
    deploy(harness, service_process())
    pik = harness.create_instance("process")
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    harness.cancel(pik)
    assert [r.key for r in harness.incidents(pik, IncidentIntent.RESOLVED)] == [incident.key]
    assert task_records(harness, pik)[-2:] == [(PI.ELEMENT_TERMINATING, BODY), (PI.ELEMENT_TERMINATED, BODY)]


# -- other activities ------------------------------------------------------------------------------


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_multi_instance_undefined_tasks_complete_each_inner_instance_at_once(harness, sequential) -> None:
    inner = multi_instance(task("task"), input_collection="=items", input_element="item",
                           output_collection="doubled", output_element="=item * 2", sequential=sequential)
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    assert [value for _, scope, value in variables(harness, "doubled") if scope == pik] == [[20, 40, 60]]
    assert len(keys_of(harness, pik, "TASK", PI.ELEMENT_COMPLETED)) == 3
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_a_multi_instance_subprocess_runs_its_flow_once_per_item(harness, sequential) -> None:
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "work"),
                        b.service_task("work", "work"), b.flow("s2", "work", "sub_end"), b.end("sub_end"))
    inner = multi_instance(sub, input_collection="=items", input_element="item", output_collection="results",
                           output_element="=result", sequential=sequential)
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "sub"), inner, b.flow("f2", "sub", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    subs = keys_of(harness, pik, "SUB_PROCESS", PI.ELEMENT_ACTIVATED)
    assert len(subs) == (1 if sequential else 3)
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    records = harness.records().only_events().process_instance_records(pik)
    assert {r.value["flowScopeKey"] for r in records if r.value["bpmnElementType"] == "SUB_PROCESS"} == {body_key}
    starts = [r for r in records if r.value["elementId"] == "sub_start"]
    assert {r.value["flowScopeKey"] for r in starts} <= set(subs)
    for index in range(3):
        [job] = harness.activate_jobs("work", max_jobs=1)
        job_record = harness.jobs(pik, JobIntent.CREATED)[index]
        assert job_record.value["elementId"] == "work"
        harness.complete_job(job, {"result": f"r{index}"})
    assert len(keys_of(harness, pik, "SUB_PROCESS", PI.ELEMENT_COMPLETED)) == 3
    # each subprocess sees its own item; the result goes to the subprocess's own 'result' variable
    assert [value for _, _, value in variables(harness, "item")] == ITEMS
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [["r0", "r1", "r2"]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_cancelling_a_multi_instance_subprocess_terminates_inside_out(harness) -> None:
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "work"),
                        b.service_task("work", "work"), b.flow("s2", "work", "sub_end"), b.end("sub_end"))
    inner = multi_instance(sub, input_collection="=items")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "sub"), inner, b.flow("f2", "sub", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": [1, 2]})
    harness.cancel(pik)
    terminated = [(r.value["bpmnElementType"], r.value["elementId"]) for r in harness.records().only_events()
                  .process_instance_records(pik) if r.intent is PI.ELEMENT_TERMINATED]
    assert terminated == [(SERVICE, "work"), ("SUB_PROCESS", "sub"), (SERVICE, "work"), ("SUB_PROCESS", "sub"),
                          (BODY, "sub"), ("PROCESS", "process")]


# -- deployment ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attributes", "expected"), [
    ({"input_collection": "items"}, "multi-instance inputCollection: expected an expression but found the static"
                                    " value 'items'"),
    ({"input_collection": "=items", "output_collection": "r", "output_element": "result"},
     "multi-instance outputElement: expected an expression but found the static value 'result'"),
    ({"input_collection": "=items +"}, "multi-instance inputCollection"),
])
def test_loop_expressions_that_are_not_expressions_are_refused_at_deployment(harness, attributes, expected) -> None:
    inner = multi_instance(b.service_task("task", "work"), **attributes)
    response = harness.deploy("process.bpmn", b.process("process", b.start(), b.flow("f1", "start", "task"), inner))
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert "service task 'task'" in response.rejection_reason and expected in response.rejection_reason


def test_loop_variable_names_too_long_to_key_a_variable_are_refused_at_deployment(harness) -> None:
    inner = multi_instance(b.service_task("task", "work"), input_collection="=items", input_element="i" * 600)
    response = harness.deploy("process.bpmn", b.process("process", b.start(), b.flow("f1", "start", "task"), inner))
    assert response is not None and response.record_type is RecordType.COMMAND_REJECTION
    assert "multi-instance loop: " in response.rejection_reason and "variable name" in response.rejection_reason


def test_a_static_completion_condition_deploys_and_is_an_incident_when_evaluated(harness) -> None:
    deploy(harness, service_process(completion_condition="true"))
    pik = harness.create_instance("process", {"items": ITEMS})
    complete_jobs(harness, 1)
    [incident] = harness.incidents(pik, IncidentIntent.CREATED)
    assert incident.value["errorMessage"] == (
        "Expected result of the expression 'true' to be 'BOOLEAN', but was 'STRING'.")


CHILD = b.process("child", b.start(), b.flow("c1", "start", "work"), b.service_task("work", "work"),
                  b.flow("c2", "work", "end"), b.end())


def call_process(*, sequential: bool) -> bytes:
    # With all child variables propagated, the child's copy of the output collection (it sees the
    # parent's variables) would come back too; an output mapping hands back only the result.
    call = call_activity("call", "child", propagate_child=False,
                         mappings='<zeebe:output source="=result" target="result"/>')
    inner = multi_instance(call, input_collection="=items", input_element="item", output_collection="results",
                           output_element="=result", sequential=sequential)
    return b.process("process", b.start(), b.flow("f1", "start", "call"), inner, b.flow("f2", "call", "end"), b.end())


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_a_multi_instance_call_activity_calls_one_child_process_per_item(harness, sequential) -> None:
    harness.deploy("child.bpmn", CHILD)
    deploy(harness, call_process(sequential=sequential))
    pik = harness.create_instance("process", {"items": ITEMS})
    assert len(keys_of(harness, pik, "CALL_ACTIVITY", PI.ELEMENT_ACTIVATED)) == (1 if sequential else 3)
    for index in range(3):
        [job] = harness.activate_jobs("work", max_jobs=1)
        harness.complete_job(job, {"result": f"r{index}"})
    assert len(keys_of(harness, pik, "CALL_ACTIVITY", PI.ELEMENT_COMPLETED)) == 3
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [["r0", "r1", "r2"]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_cancelling_a_multi_instance_call_activity_terminates_the_child_processes_first(harness) -> None:
    harness.deploy("child.bpmn", CHILD)
    deploy(harness, call_process(sequential=False))
    pik = harness.create_instance("process", {"items": [1, 2]})
    harness.cancel(pik)
    terminated = [(r.value["bpmnElementType"], r.value["elementId"]) for r in harness.records().only_events()
                  if r.value_type is ValueType.PROCESS_INSTANCE and r.intent is PI.ELEMENT_TERMINATED]
    assert terminated == [(SERVICE, "work"), ("PROCESS", "child"), ("CALL_ACTIVITY", "call")] * 2 + [
        (BODY, "call"), ("PROCESS", "process")]


# -- boundary events (they belong to the body) -----------------------------------------------------


def boundary_process(definition: str, *, interrupting: bool = True) -> bytes:
    inner = multi_instance(b.service_task("task", "work"), input_collection="=items", input_element="item")
    return b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                     b.end(), b.boundary("boundary", "task", definition, interrupting=interrupting),
                     b.flow("f3", "boundary", "after"), b.end("after"),
                     definitions='<bpmn:error id="failure" errorCode="FAILED"/>')


def test_a_timer_boundary_event_on_the_body_subscribes_once_and_interrupts_every_inner_instance(harness) -> None:
    deploy(harness, boundary_process(b.timer_definition(duration="PT1M")))
    pik = harness.create_instance("process", {"items": ITEMS})
    [body_key] = keys_of(harness, pik, BODY, PI.ELEMENT_ACTIVATED)
    timers = harness.records().with_value_type(ValueType.TIMER).only_events()
    assert [t.value["elementInstanceKey"] for t in timers] == [body_key]
    harness.advance(60_000)
    harness.run_due()
    terminated = [(element_type, element_id) for intent, element_type, element_id
                  in harness.records().only_events().process_instance_records(pik).element_tuples()
                  if intent is PI.ELEMENT_TERMINATED]
    assert terminated == [(SERVICE, "task")] * 3 + [(BODY, "task")]
    assert len(harness.jobs(pik, JobIntent.CANCELED)) == 3
    tuples = harness.records().only_events().process_instance_records(pik).element_tuples()
    assert (PI.ELEMENT_COMPLETED, "BOUNDARY_EVENT", "boundary") in tuples
    assert tuples[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")


def test_an_error_thrown_in_an_inner_instance_is_caught_by_the_bodys_boundary_event(harness) -> None:
    deploy(harness, boundary_process(b.error_definition("failure")))
    pik = harness.create_instance("process", {"items": ITEMS})
    first, *_ = harness.activate_jobs("work")
    harness.throw_error(first, "FAILED")
    tuples = harness.records().only_events().process_instance_records(pik).element_tuples()
    assert [(t, i) for intent, t, i in tuples if intent is PI.ELEMENT_TERMINATED] == [(SERVICE, "task")] * 3 + [
        (BODY, "task")]
    assert (PI.ELEMENT_COMPLETED, "BOUNDARY_EVENT", "boundary") in tuples
    assert tuples[-1] == (PI.ELEMENT_COMPLETED, "PROCESS", "process")
    assert not harness.incidents(pik)


def test_a_terminate_end_event_ends_only_its_own_inner_subprocess(harness) -> None:
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "fork"), ge.parallel_gateway("fork"),
                        b.flow("s2", "fork", "work"), b.service_task("work", "work"),
                        b.flow("s3", "fork", "stop"), b.end("stop", ge.terminate_definition()))
    inner = multi_instance(sub, input_collection="=items", input_element="item")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "sub"), inner, b.flow("f2", "sub", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": [1, 2]})
    assert len(keys_of(harness, pik, "SUB_PROCESS", PI.ELEMENT_COMPLETED)) == 2
    assert len(keys_of(harness, pik, SERVICE, PI.ELEMENT_TERMINATED)) == 2
    assert keys_of(harness, pik, BODY, PI.ELEMENT_COMPLETED)
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_an_inclusive_join_inside_a_multi_instance_subprocess_waits_for_its_own_branches(harness) -> None:
    sub = b.sub_process("sub", b.start("sub_start"), b.flow("s1", "sub_start", "split"), ge.inclusive_gateway("split"),
                        b.flow("s2", "split", "work", "=item > 1"), b.service_task("work", "work"),
                        b.flow("s3", "split", "join", "=true"), b.flow("s4", "work", "join"),
                        ge.inclusive_gateway("join"), b.flow("s5", "join", "sub_end"), b.end("sub_end"))
    inner = multi_instance(sub, input_collection="=items", input_element="item")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "sub"), inner, b.flow("f2", "sub", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": [1, 2]})
    # item 1 skips the task and its subprocess completes; item 2 waits at the join for its task
    assert len(keys_of(harness, pik, "SUB_PROCESS", PI.ELEMENT_COMPLETED)) == 1
    [job] = harness.activate_jobs("work")
    harness.complete_job(job)
    assert len(keys_of(harness, pik, "SUB_PROCESS", PI.ELEMENT_COMPLETED)) == 2
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


# -- user tasks and script tasks -------------------------------------------------------------------


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_a_multi_instance_script_task_evaluates_its_script_for_each_item(harness, sequential) -> None:
    inner = multi_instance(tasks.script_task("task", "=item * 10", "r"), input_collection="=items", input_element="item",
                           output_collection="results", output_element="=r", sequential=sequential)
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[100, 200, 300]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED


def test_a_multi_instance_camunda_user_task_creates_one_user_task_per_item(harness) -> None:
    inner = multi_instance(tasks.user_task("task", zeebe_user_task=True), input_collection="=items",
                           input_element="item", output_collection="results", output_element="=answer")
    deploy(harness, b.process("process", b.start(), b.flow("f1", "start", "task"), inner, b.flow("f2", "task", "end"),
                              b.end()))
    pik = harness.create_instance("process", {"items": ITEMS})
    created = harness.records().with_value_type(ValueType.USER_TASK).with_intent(UserTaskIntent.CREATED)
    assert len(created) == 3
    assert [r.value["elementInstanceKey"] for r in created] == keys_of(harness, pik, "USER_TASK", PI.ELEMENT_ACTIVATED)
    for index, record in enumerate(reversed(created)):
        response = harness.write(ValueType.USER_TASK, UserTaskIntent.COMPLETE, {"variables": {"answer": index}},
                                 key=record.key)
        assert response is not None and response.record_type is RecordType.EVENT
    assert [value for _, scope, value in variables(harness, "results") if scope == pik] == [[2, 1, 0]]
    assert harness.records().only_events().process_instance_records(pik)[-1].intent is PI.ELEMENT_COMPLETED
