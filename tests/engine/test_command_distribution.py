"""Command distribution across partitions, record for record as Zeebe 8.8 writes it
(``CreateDeploymentMultiplePartitionsTest``, ``CommandDistributionBehaviorTest``,
``BroadcastSignalMultiPartitionTest``, ``ResourceDeletionMultiPartitionTest``): a deployment, a signal
broadcast and a resource deletion reach every partition with the same keys and are acknowledged back;
a lost command is sent again by the redistribution; copies sent twice are processed once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zeebe_trio.engine.processing import REDISTRIBUTION_INTERVAL_MS, PendingSubscriptionChecker
from zeebe_trio.engine.state import DistributionState
from zeebe_trio.protocol import (
    CommandDistributionIntent,
    DeploymentIntent,
    ProcessInstanceIntent,
    ProcessMessageSubscriptionIntent,
    Record,
    RecordType,
    RejectionType,
    ResourceDeletionIntent,
    SignalIntent,
    ValueType,
    partition_for_correlation_key,
    partition_of,
)
from zeebe_trio.testing import MultiPartitionHarness, one_task_bpmn
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_decisions as d
from zeebe_trio.testing import bpmn_forms as f
from zeebe_trio.testing import bpmn_messages as m
from zeebe_trio.testing import bpmn_signals_escalations as s

CD = CommandDistributionIntent
SHOWN = {ValueType.DEPLOYMENT, ValueType.PROCESS, ValueType.COMMAND_DISTRIBUTION, ValueType.SIGNAL,
         ValueType.RESOURCE_DELETION}


@pytest.fixture
def cluster() -> Iterator[MultiPartitionHarness]:
    with MultiPartitionHarness(3) as h:
        yield h


def timeline(records: list[Record], since: int = 0) -> list[tuple[str, str, str, int | str]]:
    """(record type, value type, intent, the distribution's target/acknowledging partition or the
    process id) of the distribution-related records after position ``since``."""
    rows: list[tuple[str, str, str, int | str]] = []
    for record in records:
        if record.position <= since or record.value_type not in SHOWN:
            continue
        detail: int | str = ""
        if record.value_type is ValueType.COMMAND_DISTRIBUTION:
            detail = record.value.get("partitionId", "")
        elif record.value_type is ValueType.PROCESS:
            detail = record.value.get("bpmnProcessId", "")
        rows.append((record.record_type.name, record.value_type.name, record.intent.name, detail))
    return rows


def test_a_deployment_is_distributed_to_every_other_partition_and_acknowledged_back(
        cluster: MultiPartitionHarness) -> None:
    response = cluster.deploy("one.bpmn", one_task_bpmn("one"))
    assert response is not None and response.intent is DeploymentIntent.CREATED
    key = response.key
    assert partition_of(key) == 1
    assert timeline(cluster.records(1)) == [
        ("COMMAND", "DEPLOYMENT", "CREATE", ""),
        ("EVENT", "PROCESS", "CREATED", "one"),
        ("EVENT", "DEPLOYMENT", "CREATED", ""),
        ("EVENT", "COMMAND_DISTRIBUTION", "STARTED", 1),
        ("EVENT", "COMMAND_DISTRIBUTION", "ENQUEUED", 2),
        ("EVENT", "COMMAND_DISTRIBUTION", "DISTRIBUTING", 2),
        ("EVENT", "COMMAND_DISTRIBUTION", "ENQUEUED", 3),
        ("EVENT", "COMMAND_DISTRIBUTION", "DISTRIBUTING", 3),
        ("COMMAND", "COMMAND_DISTRIBUTION", "ACKNOWLEDGE", 2),
        ("EVENT", "COMMAND_DISTRIBUTION", "ACKNOWLEDGED", 2),
        ("COMMAND", "COMMAND_DISTRIBUTION", "ACKNOWLEDGE", 3),
        ("EVENT", "COMMAND_DISTRIBUTION", "ACKNOWLEDGED", 3),
        ("COMMAND", "COMMAND_DISTRIBUTION", "FINISH", 1),
        ("EVENT", "COMMAND_DISTRIBUTION", "FINISHED", 1),
    ]
    distribution = [r for r in cluster.records(1) if r.value_type is ValueType.COMMAND_DISTRIBUTION]
    assert {r.key for r in distribution} == {key}
    started = distribution[0].value
    assert (started["queueId"], started["valueType"], started["intent"]) == ("DEPLOYMENT", "DEPLOYMENT", "CREATE")
    assert started["commandValue"]["processesMetadata"][0]["bpmnProcessId"] == "one"
    process_key = response.value["processesMetadata"][0]["processDefinitionKey"]
    for partition_id in (2, 3):
        assert timeline(cluster.records(partition_id)) == [
            ("COMMAND", "DEPLOYMENT", "CREATE", ""),
            ("EVENT", "PROCESS", "CREATED", "one"),
            ("EVENT", "DEPLOYMENT", "CREATED", ""),
        ]
        records = cluster.records(partition_id)
        # the same keys as on the deployment partition
        assert records.with_value_type(ValueType.DEPLOYMENT).only_events()[0].key == key
        assert records.with_value_type(ValueType.PROCESS)[0].key == process_key
    with cluster.partition(1).read() as state:
        distributions = DistributionState(state)
        assert not distributions.has_pending(key) and distributions.distribution(key) is None


def test_instances_of_a_distributed_process_run_on_every_partition_with_keys_of_their_partition(
        cluster: MultiPartitionHarness) -> None:
    cluster.deploy("one.bpmn", one_task_bpmn("one", "work"))
    for partition_id in (1, 2, 3):
        pik = cluster.create_instance(partition_id, "one")
        assert partition_of(pik) == partition_id
        harness = cluster.partition(partition_id)
        [job_key] = harness.activate_jobs("work")
        assert partition_of(job_key) == partition_id
        harness.complete_job(job_key)
        assert harness.records().limit_to_process_instance_completed(pik)[-1].intent is \
            ProcessInstanceIntent.ELEMENT_COMPLETED


def test_a_lost_distribution_is_sent_again_by_the_redistribution_with_back_off(
        cluster: MultiPartitionHarness) -> None:
    cluster.lose(lambda receiver, command: receiver == 3 and command.value_type is ValueType.DEPLOYMENT)
    response = cluster.deploy("one.bpmn", one_task_bpmn("one"))
    assert response is not None
    assert len(cluster.lost) == 1
    assert not cluster.records(3).with_value_type(ValueType.DEPLOYMENT)
    assert not cluster.records(1).with_intent(CD.FINISHED)
    # the first cycle only notes the pending distribution; the second (10 s later) sends it again
    cluster.advance(REDISTRIBUTION_INTERVAL_MS)
    assert not cluster.records(3).with_value_type(ValueType.DEPLOYMENT)
    cluster.lose(lambda receiver, command: receiver == 3)  # and the retry is lost too
    cluster.advance(REDISTRIBUTION_INTERVAL_MS)
    assert len(cluster.lost) == 2
    # backing off: cycle 2 retries, cycle 3 does not, cycle 4 would
    cluster.advance(REDISTRIBUTION_INTERVAL_MS)
    created = cluster.records(3).with_value_type(ValueType.DEPLOYMENT).with_intent(DeploymentIntent.CREATED)
    assert len(created) == 1 and created[0].key == response.key
    assert len(cluster.records(1).with_intent(CD.FINISHED)) == 1
    before = len(cluster.delivered)
    cluster.advance(10 * REDISTRIBUTION_INTERVAL_MS)
    assert len(cluster.delivered) == before  # acknowledged: never sent again


def test_a_distributed_command_received_twice_is_processed_once_and_acknowledged_again(
        cluster: MultiPartitionHarness) -> None:
    response = cluster.deploy("one.bpmn", one_task_bpmn("one"))
    assert response is not None
    sent = next(command for _sender, receiver, command in cluster.delivered
                if receiver == 2 and command.value_type is ValueType.DEPLOYMENT)
    mark = cluster.partition(2).last_position
    cluster.partition(2).receive(sent)  # a copy the redistribution sent before the acknowledgement came
    cluster.partition(2).process_log()
    cluster.settle()
    again = cluster.records(2)[mark:]
    assert [(r.value_type, r.intent) for r in again] == [(ValueType.DEPLOYMENT, DeploymentIntent.CREATE)]
    # its second acknowledgement finds nothing pending on the deployment partition
    rejected = cluster.records(1).only_rejections()
    assert len(rejected) == 1 and rejected[0].intent is CD.ACKNOWLEDGE
    assert rejected[0].rejection_type is RejectionType.NOT_FOUND
    assert rejected[0].rejection_reason == (f"Expected to find pending distribution with key {response.key} for"
                                            " partition 2, but no pending distribution was found.")


def test_deployments_reach_a_partition_in_order_when_an_earlier_one_is_lost(
        cluster: MultiPartitionHarness) -> None:
    cluster.lose(lambda receiver, command: receiver == 2)
    first = cluster.deploy("a.bpmn", one_task_bpmn("a"))
    second = cluster.deploy("b.bpmn", one_task_bpmn("b"))
    assert first is not None and second is not None
    # the second waits in partition 2's queue behind the first: enqueued, not distributed
    second_to_2 = [r.intent for r in cluster.records(1).with_key(second.key)
                   if r.value_type is ValueType.COMMAND_DISTRIBUTION and r.value["partitionId"] == 2]
    assert second_to_2 == [CD.ENQUEUED]
    assert not cluster.records(2).with_value_type(ValueType.DEPLOYMENT)
    cluster.advance(2 * REDISTRIBUTION_INTERVAL_MS)
    deployed = [r.key for r in cluster.records(2).with_value_type(ValueType.DEPLOYMENT).only_events()]
    assert deployed == [first.key, second.key]
    assert len(cluster.records(1).with_intent(CD.FINISHED)) == 2


def test_a_signal_broadcast_reaches_catch_events_on_every_partition_but_start_events_on_the_first_only(
        cluster: MultiPartitionHarness) -> None:
    alert = s.signal("sig", "alert")
    catch = b.process("catch", b.start(), b.flow("f1", "start", "wait"),
                      b.intermediate_catch("wait", b.signal_definition("sig")), b.flow("f2", "wait", "end"), b.end(),
                      definitions=alert)
    starter = b.process("starter", b.start("start", b.signal_definition("sig")), b.flow("f1", "start", "end"),
                        b.end(), definitions=alert)
    cluster.deploy("catch.bpmn", catch)
    cluster.deploy("starter.bpmn", starter)
    waiting = {partition_id: cluster.create_instance(partition_id, "catch") for partition_id in (1, 2, 3)}
    response = cluster.broadcast_signal("alert", {"x": 1})
    assert response is not None and response.intent is SignalIntent.BROADCASTED
    for partition_id, pik in waiting.items():
        records = cluster.records(partition_id)
        broadcasted = records.with_value_type(ValueType.SIGNAL).with_intent(SignalIntent.BROADCASTED)
        assert [r.key for r in broadcasted] == [response.key]
        assert records.limit_to_process_instance_completed(pik)[-1].key == pik
    started = [r for partition_id in (1, 2, 3) for r in cluster.records(partition_id)
               if r.value_type is ValueType.PROCESS_INSTANCE and r.intent is ProcessInstanceIntent.ELEMENT_ACTIVATED
               and r.value.get("bpmnElementType") == "PROCESS" and r.value.get("bpmnProcessId") == "starter"]
    assert [partition_of(r.key) for r in started] == [1]
    signal_records = [(r.record_type, r.intent) for r in cluster.records(1)
                      if r.key == response.key and r.value_type is ValueType.COMMAND_DISTRIBUTION]
    assert signal_records == [
        (RecordType.EVENT, CD.STARTED), (RecordType.EVENT, CD.DISTRIBUTING), (RecordType.EVENT, CD.DISTRIBUTING),
        (RecordType.COMMAND, CD.ACKNOWLEDGE), (RecordType.EVENT, CD.ACKNOWLEDGED),
        (RecordType.COMMAND, CD.ACKNOWLEDGE), (RecordType.EVENT, CD.ACKNOWLEDGED),
        (RecordType.COMMAND, CD.FINISH), (RecordType.EVENT, CD.FINISHED),
    ]


def test_a_signal_distributed_twice_is_broadcast_once(cluster: MultiPartitionHarness) -> None:
    response = cluster.broadcast_signal("alert")
    assert response is not None
    sent = next(command for _sender, receiver, command in cluster.delivered
                if receiver == 3 and command.value_type is ValueType.SIGNAL)
    cluster.partition(3).receive(sent)
    cluster.partition(3).process_log()
    cluster.settle()
    assert len(cluster.records(3).with_value_type(ValueType.SIGNAL).with_intent(SignalIntent.BROADCASTED)) == 1


def test_a_resource_deletion_is_distributed_in_the_deployment_queue(cluster: MultiPartitionHarness) -> None:
    response = cluster.deploy("one.bpmn", one_task_bpmn("one"))
    assert response is not None
    process_key = response.value["processesMetadata"][0]["processDefinitionKey"]
    deleted = cluster.write(1, ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE,
                            {"resourceKey": process_key})
    assert deleted is not None and deleted.intent is ResourceDeletionIntent.DELETING
    for partition_id in (2, 3):
        assert timeline(cluster.records(partition_id))[3:] == [
            ("COMMAND", "RESOURCE_DELETION", "DELETE", ""),
            ("EVENT", "RESOURCE_DELETION", "DELETING", ""),
            ("EVENT", "PROCESS", "DELETING", "one"),
            ("EVENT", "PROCESS", "DELETED", "one"),
            ("EVENT", "RESOURCE_DELETION", "DELETED", ""),
        ]
        with cluster.partition(partition_id).read() as state:
            assert state.process(process_key) is None
    finished = cluster.records(1).with_intent(CD.FINISHED)
    assert [r.key for r in finished] == [response.key, deleted.key]


def test_a_message_published_on_its_partition_correlates_to_an_instance_on_another(
        cluster: MultiPartitionHarness) -> None:
    paid = m.message("paid-message", "paid", "=orderId")
    wait = b.process("wait", b.start(), b.flow("f1", "start", "catch"), m.message_catch("catch", "paid-message"),
                     b.flow("f2", "catch", "end"), b.end(), definitions=paid)
    cluster.deploy("wait.bpmn", wait)
    order = next(f"order-{n}" for n in range(100) if partition_for_correlation_key(f"order-{n}", 3) == 3)
    pik = cluster.create_instance(1, "wait", {"orderId": order})
    # the subscription opened on the message's partition
    subscription = cluster.records(3).with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()
    assert [r.intent.name for r in subscription] == ["CREATED"]
    cluster.publish_message(3, "paid", order, variables={"paid": True})
    assert cluster.records(1).limit_to_process_instance_completed(pik)[-1].key == pik
    assert [r.intent.name for r in cluster.records(3).with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()] \
        == ["CREATED", "CORRELATING", "CORRELATED"]


def test_a_message_start_event_creates_the_instance_on_the_partition_of_the_message(
        cluster: MultiPartitionHarness) -> None:
    start = m.message("start-message", "go")
    process = b.process("by-message", b.start("start", b.message_definition("start-message")),
                        b.flow("f1", "start", "end"), b.end(), definitions=start)
    cluster.deploy("by-message.bpmn", process)
    key = next(f"k-{n}" for n in range(100) if partition_for_correlation_key(f"k-{n}", 3) == 2)
    cluster.publish_message(2, "go", key)
    created = [partition_id for partition_id in (1, 2, 3)
               for r in cluster.records(partition_id).with_value_type(ValueType.PROCESS_INSTANCE)
               if r.intent is ProcessInstanceIntent.ELEMENT_COMPLETED and r.value.get("bpmnElementType") == "PROCESS"]
    assert created == [2]


def test_timer_start_events_are_created_on_the_deployment_partition_only(cluster: MultiPartitionHarness) -> None:
    ticking = b.process("ticking", b.start("start", b.timer_definition(cycle="R/PT1M")), b.flow("f1", "start", "end"),
                        b.end())
    cluster.deploy("ticking.bpmn", ticking)
    for partition_id, count in ((1, 1), (2, 0), (3, 0)):
        assert len(cluster.records(partition_id).with_value_type(ValueType.TIMER)) == count


def _order_on(partition_id: int) -> str:
    return next(f"order-{n}" for n in range(100) if partition_for_correlation_key(f"order-{n}", 3) == partition_id)


def _waiting_process() -> bytes:
    paid = m.message("paid-message", "paid", "=orderId")
    return b.process("wait", b.start(), b.flow("f1", "start", "catch"), m.message_catch("catch", "paid-message"),
                     b.flow("f2", "catch", "end"), b.end(), definitions=paid)


def test_a_lost_subscription_open_is_sent_again_while_the_subscription_is_creating(
        cluster: MultiPartitionHarness) -> None:
    cluster.deploy("wait.bpmn", _waiting_process())
    order = _order_on(3)
    cluster.lose(lambda receiver, command: command.value_type is ValueType.MESSAGE_SUBSCRIPTION)
    pik = cluster.create_instance(1, "wait", {"orderId": order})
    assert not cluster.records(3).with_value_type(ValueType.MESSAGE_SUBSCRIPTION)
    cluster.advance(2 * REDISTRIBUTION_INTERVAL_MS)  # seen pending at one check, sent again at the next
    assert [r.intent.name for r in cluster.records(3).with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()] \
        == ["CREATED"]
    assert [r.intent.name for r in cluster.records(1).with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION)
            .only_events()] == ["CREATING", "CREATED"]
    cluster.publish_message(3, "paid", order)
    assert cluster.records(1).limit_to_process_instance_completed(pik)[-1].key == pik


def test_a_lost_correlation_is_sent_again_until_the_instance_answers(cluster: MultiPartitionHarness) -> None:
    cluster.deploy("wait.bpmn", _waiting_process())
    order = _order_on(2)
    pik = cluster.create_instance(3, "wait", {"orderId": order})
    cluster.lose(lambda receiver, command: command.value_type is ValueType.PROCESS_MESSAGE_SUBSCRIPTION
                 and command.intent.name == "CORRELATE")
    cluster.publish_message(2, "paid", order)
    assert not cluster.records(3).with_value_type(ValueType.PROCESS_MESSAGE_SUBSCRIPTION).with_intent(
        ProcessMessageSubscriptionIntent.CORRELATED)
    cluster.advance(2 * REDISTRIBUTION_INTERVAL_MS)
    assert cluster.records(3).limit_to_process_instance_completed(pik)[-1].key == pik
    assert [r.intent.name for r in cluster.records(2).with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()] \
        == ["CREATED", "CORRELATING", "CORRELATED"]
    before = len(cluster.delivered)
    cluster.advance(3 * REDISTRIBUTION_INTERVAL_MS)
    assert len(cluster.delivered) == before  # answered: nothing pending is sent again


def test_a_distributed_deletion_refused_for_running_instances_does_not_hold_up_later_deployments(
        cluster: MultiPartitionHarness) -> None:
    response = cluster.deploy("one.bpmn", one_task_bpmn("one"))
    assert response is not None
    process_key = response.value["processesMetadata"][0]["processDefinitionKey"]
    running = cluster.create_instance(2, "one")
    cluster.write(1, ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE, {"resourceKey": process_key})
    [rejection] = cluster.records(2).only_rejections()
    assert rejection.rejection_type is RejectionType.INVALID_STATE
    with cluster.partition(2).read() as state:
        assert state.process(process_key) is not None and partition_of(running) == 2
    later = cluster.deploy("two.bpmn", one_task_bpmn("two"))
    assert later is not None
    assert [r.key for r in cluster.records(2).with_value_type(ValueType.DEPLOYMENT).only_events()] == \
        [response.key, later.key]


def test_a_receiving_partition_remembers_a_bounded_number_of_distributed_commands(
        cluster: MultiPartitionHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    from zeebe_trio.engine.state import _distribution

    monkeypatch.setattr(_distribution, "MAX_RECEIVED_PER_PARTITION", 2)
    keys = []
    for name in ("a", "b", "c"):
        response = cluster.broadcast_signal(name)
        assert response is not None
        keys.append(response.key)
    with cluster.partition(2).read() as state:
        distributions = DistributionState(state)
        assert [distributions.received(key) for key in keys] == [False, True, True]


def test_decisions_and_forms_are_distributed_with_the_keys_and_versions_of_the_deployment_partition(
        cluster: MultiPartitionHarness) -> None:
    resources = [{"resourceName": "rules.dmn", "resource": d.dmn(d.literal_decision("first", "1"),
                                                                  d.literal_decision("second", "2"))},
                 {"resourceName": "ask.form", "resource": f.form("ask")},
                 {"resourceName": "one.bpmn", "resource": one_task_bpmn("one")}]
    # the second deployment changes the process: every resource gets a new version, as in Zeebe
    for job_type in ("work", "other-work"):
        resources[2]["resource"] = one_task_bpmn("one", job_type)
        response = cluster.write(1, ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {"resources": resources})
        assert response is not None and response.intent is DeploymentIntent.CREATED

    def created(partition_id: int) -> list[tuple[str, int, int]]:
        return [(r.value_type.name, r.key, r.value.get("version", r.value.get("decisionRequirementsVersion", 0)))
                for r in cluster.records(partition_id).only_events()
                if r.value_type in (ValueType.DECISION, ValueType.DECISION_REQUIREMENTS, ValueType.FORM, ValueType.PROCESS)]

    on_first = created(1)
    assert [kind for kind, _key, _version in on_first].count("DECISION") == 4
    assert created(2) == on_first and created(3) == on_first
    with cluster.partition(3).read() as state:
        assert state.latest_form("ask", "<default>")["version"] == 2  # type: ignore[index]


def test_deleting_the_latest_version_opens_the_previous_versions_timer_start_event_on_the_first_partition_only(
        cluster: MultiPartitionHarness) -> None:
    first = b.process("ticking", b.start("start", b.timer_definition(cycle="R/PT1M")), b.flow("f1", "start", "end"),
                      b.end())
    second = b.process("ticking", b.start("start", b.timer_definition(cycle="R/PT2M")), b.flow("f1", "start", "end"),
                       b.end())
    cluster.deploy("ticking.bpmn", first)
    latest = cluster.deploy("ticking.bpmn", second)
    assert latest is not None
    cluster.write(1, ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE,
                  {"resourceKey": latest.value["processesMetadata"][0]["processDefinitionKey"]})
    timers = {partition_id: [r.intent.name for r in cluster.records(partition_id).with_value_type(ValueType.TIMER)]
              for partition_id in (1, 2, 3)}
    assert timers == {1: ["CREATED", "CANCELED", "CREATED", "CANCELED", "CREATED"], 2: [], 3: []}


def test_a_new_leader_finds_the_subscriptions_pending_before_it_started(cluster: MultiPartitionHarness) -> None:
    cluster.deploy("wait.bpmn", _waiting_process())
    cluster.lose(lambda receiver, command: command.value_type is ValueType.MESSAGE_SUBSCRIPTION)
    cluster.create_instance(1, "wait", {"orderId": _order_on(3)})
    engine = cluster.partition(1).engine
    engine.pending_subscriptions = PendingSubscriptionChecker()  # what a restarted partition starts with
    cluster.advance(2 * REDISTRIBUTION_INTERVAL_MS)
    assert [r.intent.name for r in cluster.records(3).with_value_type(ValueType.MESSAGE_SUBSCRIPTION).only_events()] \
        == ["CREATED"]
    cluster.advance(REDISTRIBUTION_INTERVAL_MS)  # the next check finds it answered and forgets it
    assert engine.pending_subscriptions.statistics() == {"pending_subscription_candidates": 0,
                                                         "subscription_commands_resent": 1}


def test_a_signal_thrown_by_an_instance_on_one_partition_reaches_catch_events_on_the_others(
        cluster: MultiPartitionHarness) -> None:
    alert = s.signal("sig", "alert")
    catch = b.process("catch", b.start(), b.flow("f1", "start", "wait"),
                      b.intermediate_catch("wait", b.signal_definition("sig")), b.flow("f2", "wait", "end"), b.end(),
                      definitions=alert)
    thrower = b.process("thrower", b.start(), b.flow("f1", "start", "shout"),
                        s.throw("shout", b.signal_definition("sig"), end=True), definitions=alert)
    cluster.deploy("catch.bpmn", catch)
    cluster.deploy("thrower.bpmn", thrower)
    waiting = {partition_id: cluster.create_instance(partition_id, "catch") for partition_id in (1, 3)}
    cluster.create_instance(2, "thrower")
    [broadcasted] = cluster.records(2).with_value_type(ValueType.SIGNAL).with_intent(SignalIntent.BROADCASTED)
    assert partition_of(broadcasted.key) == 2
    for partition_id, pik in waiting.items():
        assert cluster.records(partition_id).limit_to_process_instance_completed(pik)[-1].key == pik
    assert [r.key for r in cluster.records(2).with_intent(CD.FINISHED)] == [broadcasted.key]
