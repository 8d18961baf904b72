"""The DuckDB export of the BPMN event value types (schema 2): record sequences as the engine writes
them go through the real exporter into a real file, and the README's example queries answer."""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path

import pytest
import trio
from _duckdb_export import export
from zeebe_trio_duckdb import SCHEMA_VERSION, ExportStore, query

from zeebe_trio.exporters import create_exporter_director
from zeebe_trio.exporters.testing import (
    InMemoryCommittedLog,
    InMemoryPositionStore,
    RecordBuilder,
)
from zeebe_trio.protocol import (
    CompensationSubscriptionIntent,
    ErrorIntent,
    EscalationIntent,
    MessageStartEventSubscriptionIntent,
    UserTaskIntent,
    ValueType,
    decode_batch,
    encode_batch,
)

README = Path(__file__).parents[2] / "plugins" / "duckdb_exporter" / "README.md"
NEW_TABLES = ("timer_events", "message_subscription_events", "process_message_subscription_events",
              "message_start_event_subscription_events", "signal_subscription_events", "signal_events",
              "escalation_events", "user_task_events", "compensation_subscription_events", "error_events")


def readme_query(title: str) -> str:
    """The first SQL block after the README line that starts with ``title``."""
    text = README.read_text()
    start = text.index(f"\n{title}")
    block = re.search(r"```sql\n(.*?)```", text[start:], re.S)
    assert block is not None, title
    return block.group(1).strip().rstrip(";")


def rows(path: Path, sql: str) -> list[tuple]:
    return query(path, sql).rows


def now_ms() -> int:
    return int(time.time() * 1000)


def utc(ms: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)


def order_instance(builder: RecordBuilder) -> tuple[dict, int]:
    """A deployed 'order' process and the scope of one of its instances (the records of the instance
    itself are not needed by these views)."""
    definition = builder.deploy_process("order")
    return builder.element_scope(builder.new_key(), definition, "order"), definition


async def test_timers_go_from_created_to_triggered_or_canceled_and_the_next_hours_are_listed(tmp_path):
    builder = RecordBuilder(start_timestamp=now_ms())
    scope, definition = order_instance(builder)
    soon = builder.timer(scope, element_instance_key=builder.new_key(), target_element_id="reminder",
                         due_in_ms=30 * 60_000)
    later = builder.timer(scope, element_instance_key=builder.new_key(), target_element_id="escalate",
                          due_in_ms=3 * 3_600_000)
    canceled = builder.timer(scope, element_instance_key=builder.new_key(), target_element_id="timeout",
                             due_in_ms=10 * 60_000)
    fired = builder.timer(scope, element_instance_key=builder.new_key(), target_element_id="wait",
                          due_in_ms=1_000)
    due_soon = builder.records[-4].value["dueDate"]
    builder.tick(500)
    builder.cancel_timer(canceled)
    builder.trigger_timer(fired)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)

    states = dict(rows(path, "SELECT timer_key, state FROM timers"))
    assert states == {soon: "CREATED", later: "CREATED", canceled: "CANCELED", fired: "TRIGGERED"}
    assert rows(path, f"SELECT bpmn_process_id, process_definition_key, repetitions, triggered_at IS NOT NULL"
                      f" FROM timers WHERE timer_key = {fired}") == [("order", definition, 1, True)]
    assert rows(path, readme_query("Timers due in the next hour")) == [
        (soon, "order", "reminder", scope["processInstanceKey"], utc(due_soon))]
    # the history keeps the commands out: TRIGGER is in records only
    assert rows(path, f"SELECT intent FROM timer_events WHERE timer_key = {fired} ORDER BY position") == [
        ("CREATED",), ("TRIGGERED",)]


async def test_message_subscriptions_are_open_until_an_interrupting_correlation_or_their_deletion(tmp_path):
    builder = RecordBuilder()
    scope, _ = order_instance(builder)

    def subscribe(element_id: str, correlation_key: str, *, interrupting: bool = True) -> tuple[int, int]:
        return builder.open_message_subscription(
            scope, element_instance_key=builder.new_key(), element_id=element_id, message_name="payment",
            correlation_key=correlation_key, interrupting=interrupting)

    waiting = subscribe("wait-payment", "order-1")
    also_waiting = subscribe("wait-payment", "order-1")
    other = subscribe("wait-payment", "order-2")
    correlated = subscribe("wait-payment", "order-3")
    reminder = subscribe("payment-reminder", "order-4", interrupting=False)
    left = subscribe("wait-payment", "order-5")
    builder.tick(1_000)
    message = builder.publish_message("payment", "order-3")
    builder.correlate_message_subscription(correlated, message, {"amount": 10})
    builder.correlate_message_subscription(reminder, builder.publish_message("payment", "order-4"))
    builder.close_message_subscription(left)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)

    states = {key: rest for key, *rest in rows(
        path, "SELECT message_subscription_key, state, is_open, correlations FROM message_subscriptions")}
    assert states == {waiting[0]: ["CREATED", True, 0], also_waiting[0]: ["CREATED", True, 0],
                      other[0]: ["CREATED", True, 0], correlated[0]: ["CORRELATED", False, 1],
                      reminder[0]: ["CORRELATED", True, 1], left[0]: ["DELETED", False, 0]}
    assert rows(path, f"SELECT last_message_key, element_id FROM message_subscriptions"
                      f" WHERE message_subscription_key = {correlated[0]}") == [(message, None)]
    process_side = {key: rest for key, *rest in rows(
        path, "SELECT process_message_subscription_key, element_id, state, is_open"
              " FROM process_message_subscriptions")}
    assert process_side[correlated[1]] == ["wait-payment", "CORRELATED", False]
    assert process_side[left[1]] == ["wait-payment", "DELETED", False]
    assert process_side[waiting[1]] == ["wait-payment", "CREATED", True]
    assert rows(path, f"SELECT intent, variables->>'amount' FROM message_subscription_events"
                      f" WHERE message_subscription_key = {correlated[0]} ORDER BY position") == [
        ("CREATED", None), ("CORRELATING", "10"), ("CORRELATED", "10")]

    start = builder.records[0].timestamp
    assert rows(path, readme_query("Open message subscriptions by correlation key")) == [
        ("order-1", "payment", 2, utc(start)), ("order-2", "payment", 1, utc(start)),
        ("order-4", "payment", 1, utc(start))]


async def test_signals_count_the_subscriptions_open_when_they_were_broadcast(tmp_path):
    builder = RecordBuilder(start_timestamp=now_ms() - 2 * 86_400_000)
    definition = builder.deploy_process("order")
    builder.signal_subscription("closing", process_definition_key=definition, bpmn_process_id="order",
                                catch_event_id="start-on-closing")  # a start event: stays subscribed
    builder.broadcast_signal("closing")  # two days ago: not today
    builder.timestamp = now_ms()
    catches = [builder.signal_subscription("closing", process_definition_key=definition, bpmn_process_id="order",
                                           catch_event_id="wait-closing", catch_event_instance_key=builder.new_key())
               for _ in range(3)]
    builder.signal_subscription("holiday", process_definition_key=definition, bpmn_process_id="order",
                                catch_event_id="wait-holiday", catch_event_instance_key=builder.new_key())
    gone = builder.signal_subscription("closing", process_definition_key=definition, bpmn_process_id="order",
                                       catch_event_id="wait-closing", catch_event_instance_key=builder.new_key())
    builder.delete_signal_subscription(gone)  # its element was terminated before the broadcast
    today = builder.broadcast_signal("closing", {"reason": "end of day"})
    for key in catches:  # the broadcast triggered the catch events, which leave their subscriptions
        builder.delete_signal_subscription(key)
    builder.tick(1_000)
    again = builder.broadcast_signal("closing")  # only the start event is left
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)

    assert rows(path, readme_query("Signals broadcast today")) == [
        (today.key, "closing", utc(today.timestamp), 4), (again.key, "closing", utc(again.timestamp), 1)]
    assert rows(path, "SELECT state, count(*) FROM signal_subscriptions GROUP BY ALL ORDER BY 1") == [
        ("CREATED", 2), ("DELETED", 4)]
    assert rows(path, f"SELECT variables->>'reason' FROM signals WHERE signal_key = {today.key}") == [
        ("end of day",)]


async def test_user_tasks_follow_their_lifecycle_and_show_the_settled_assignee(tmp_path):
    builder = RecordBuilder()
    scope, _ = order_instance(builder)

    def task(element_id: str, **options) -> int:
        return builder.user_task(scope, element_instance_key=builder.new_key(), element_id=element_id, **options)

    urgent = task("approve", due_date="2025-01-01T10:00:00+01:00[Europe/Paris]", priority=80)
    normal = task("approve", priority=50)
    done = task("approve")
    someone_else = task("approve")
    unassigned = task("review", candidate_groups=["accounting"])
    canceled = task("approve")
    builder.tick(60_000)
    for key in (urgent, normal, done, canceled):
        builder.assign_user_task(key, "anna")
    builder.assign_user_task(someone_else, "bob")
    builder.update_user_task(normal, dueDate="2025-01-02T09:00:00Z", priority=90)
    builder.tick(60_000)
    builder.complete_user_task(done, {"approved": True})
    builder.cancel_user_task(canceled)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)

    assert rows(path, readme_query("Open user tasks assigned to `anna`")) == [
        (urgent, "order", "approve", scope["processInstanceKey"], datetime.datetime(2025, 1, 1, 9, 0), 80,
         utc(builder.records[0].timestamp + 60_000)),
        (normal, "order", "approve", scope["processInstanceKey"], datetime.datetime(2025, 1, 2, 9, 0), 90,
         utc(builder.records[0].timestamp + 60_000))]
    states = {key: rest for key, *rest in rows(path, "SELECT user_task_key, state, assignee FROM user_tasks")}
    assert states == {urgent: ["CREATED", "anna"], normal: ["CREATED", "anna"], done: ["COMPLETED", "anna"],
                      someone_else: ["CREATED", "bob"], unassigned: ["CREATED", None],
                      canceled: ["CANCELED", "anna"]}
    group_tasks, durations = (rows(path, sql.strip()) for sql in
                              readme_query("Open tasks a group may claim").split(";"))
    assert group_tasks == [(unassigned, "review", utc(builder.records[0].timestamp))]
    assert durations == [("order", "approve", 1, 120_000.0)]
    assert rows(path, f"SELECT intent, assignee, changed_attributes, action FROM user_task_events"
                      f" WHERE user_task_key = {done} ORDER BY position") == [
        ("CREATING", "", [], ""), ("CREATED", "", [], ""), ("ASSIGNING", "anna", ["assignee"], "assign"),
        ("ASSIGNED", "anna", ["assignee"], "assign"), ("COMPLETING", "anna", [], "complete"),
        ("COMPLETED", "anna", [], "complete")]


async def test_a_task_listeners_pending_assignment_is_not_the_assignee_until_assigned(tmp_path):
    builder = RecordBuilder()
    scope, _ = order_instance(builder)
    key = builder.user_task(scope, element_instance_key=builder.new_key(), element_id="approve")
    value = {**builder.records[-1].value, "assignee": "carl", "changedAttributes": ["assignee"], "action": "assign"}
    builder.record(ValueType.USER_TASK, UserTaskIntent.ASSIGN, value, key=key)
    builder.record(ValueType.USER_TASK, UserTaskIntent.ASSIGNING, value, key=key)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)
    assert rows(path, "SELECT state, assignee FROM user_tasks") == [("ASSIGNING", None)]
    builder.record(ValueType.USER_TASK, UserTaskIntent.ASSIGNMENT_DENIED, {**value, "assignee": ""}, key=key)
    await export(path, builder.records)
    assert rows(path, "SELECT state, assignee FROM user_tasks") == [("CREATED", None)]


async def test_escalations_compensations_errors_and_message_start_events_are_exported(tmp_path):
    builder = RecordBuilder()
    scope, definition = order_instance(builder)
    pi = scope["processInstanceKey"]
    builder.record(ValueType.ESCALATION, EscalationIntent.ESCALATED, {
        "processInstanceKey": pi, "escalationCode": "late", "throwElementId": "raise-late",
        "catchElementId": "on-late"}, key=builder.new_key())
    builder.record(ValueType.ESCALATION, EscalationIntent.NOT_ESCALATED, {
        "processInstanceKey": pi, "escalationCode": "unknown", "throwElementId": "raise-unknown",
        "catchElementId": ""}, key=builder.new_key())
    compensation_key = builder.new_key()
    compensation = {"tenantId": "<default>", "processInstanceKey": pi, "processDefinitionKey": definition,
                    "compensableActivityId": "charge", "compensableActivityScopeId": "order",
                    "compensableActivityInstanceKey": builder.new_key(), "compensableActivityScopeKey": pi,
                    "throwEventId": "", "throwEventInstanceKey": -1, "compensationHandlerId": "refund",
                    "compensationHandlerInstanceKey": -1, "variables": {"amount": 10}}
    for intent, changes in ((CompensationSubscriptionIntent.CREATED, {}),
                            (CompensationSubscriptionIntent.TRIGGERED, {"throwEventId": "undo"}),
                            (CompensationSubscriptionIntent.COMPLETED, {"throwEventId": "undo"})):
        builder.tick(10)
        builder.record(ValueType.COMPENSATION_SUBSCRIPTION, intent, {**compensation, **changes}, key=compensation_key)
    builder.record(ValueType.ERROR, ErrorIntent.CREATED, {
        "exceptionMessage": "boom", "stacktrace": "Traceback ...", "errorEventPosition": 3,
        "processInstanceKey": pi}, key=-1)
    start_key = builder.new_key()
    start = {"processDefinitionKey": definition, "bpmnProcessId": "order", "startEventId": "on-order",
             "messageName": "order-placed", "processInstanceKey": -1, "correlationKey": "", "messageKey": -1,
             "variables": {}, "tenantId": "<default>"}
    builder.record(ValueType.MESSAGE_START_EVENT_SUBSCRIPTION, MessageStartEventSubscriptionIntent.CREATED, start, key=start_key)
    builder.record(ValueType.MESSAGE_START_EVENT_SUBSCRIPTION, MessageStartEventSubscriptionIntent.CORRELATED,
                   {**start, "processInstanceKey": 77, "correlationKey": "c-1", "messageKey": 5}, key=start_key)
    path = tmp_path / "export.duckdb"
    await export(path, builder.records)

    assert rows(path, "SELECT intent, escalation_code, throw_element_id, catch_element_id FROM escalation_events"
                      " ORDER BY position") == [("ESCALATED", "late", "raise-late", "on-late"),
                                                ("NOT_ESCALATED", "unknown", "raise-unknown", "")]
    assert rows(path, "SELECT state, compensable_activity_id, compensation_handler_id, throw_event_id,"
                      " epoch_ms(completed_at - created_at) FROM compensation_subscriptions") == [
        ("COMPLETED", "charge", "refund", "undo", 20)]
    assert rows(path, "SELECT error_key, exception_message, error_event_position, process_instance_key"
                      " FROM error_events") == [(-1, "boom", 3, pi)]
    assert rows(path, "SELECT state, correlations, message_name FROM message_start_event_subscriptions") == [
        ("CREATED", 1, "order-placed")]


async def test_a_schema_1_export_is_upgraded_and_its_earlier_records_fill_the_new_tables(tmp_path):
    builder = RecordBuilder()
    definition = builder.deploy_process("order")
    builder.signal_subscription("closing", process_definition_key=definition, bpmn_process_id="order",
                                catch_event_id="start-on-closing")
    builder.broadcast_signal("closing", {"reason": "x"})
    scope = builder.element_scope(builder.new_key(), definition, "order")
    builder.user_task(scope, element_instance_key=builder.new_key(), element_id="approve",
                      due_date="2025-03-01T12:00:00Z", candidate_groups=["accounting"])
    old, fresh = tmp_path / "old.duckdb", tmp_path / "fresh.duckdb"
    await export(old, builder.records)
    await export(fresh, builder.records)
    # what version 1 left: no event tables for these value types, the records only
    store = ExportStore(old, 1)
    connection = store._connection
    for table in NEW_TABLES:
        connection.execute(f"DROP TABLE {table}")
    connection.execute("UPDATE schema_info SET version = 1")
    store.close()

    ExportStore(old, 1).close()  # what a broker of this version does when it opens the file
    assert rows(old, "SELECT version FROM schema_info") == [(SCHEMA_VERSION,)]
    for table in NEW_TABLES:
        sql = f"SELECT * FROM {table} ORDER BY partition_id, position"
        assert rows(old, sql) == rows(fresh, sql), table
    assert rows(old, "SELECT signal_name, subscriptions_reached FROM signals") == [("closing", 1)]
    assert rows(old, "SELECT due_date, candidate_groups_list FROM user_tasks") == [
        (datetime.datetime(2025, 3, 1, 12, 0), ["accounting"])]


async def test_a_file_from_a_newer_schema_is_refused_naming_both_versions(tmp_path):
    path = tmp_path / "export.duckdb"
    store = ExportStore(path, 1)
    store._connection.execute("UPDATE schema_info SET version = ?", [SCHEMA_VERSION + 1])
    store.close()
    with pytest.raises(RuntimeError, match=rf"schema version {SCHEMA_VERSION + 1}, this zeebe-trio-duckdb"
                                           rf" writes version {SCHEMA_VERSION}; upgrade"):
        ExportStore(path, 1)


async def test_bpmn_event_records_read_back_from_the_log_format_reach_the_exporter_through_the_director(tmp_path):
    builder = RecordBuilder()
    scope, definition = order_instance(builder)
    timer = builder.timer(scope, element_instance_key=builder.new_key(), target_element_id="wait", due_in_ms=5)
    builder.trigger_timer(timer)
    subscription = builder.open_message_subscription(
        scope, element_instance_key=builder.new_key(), element_id="wait-payment", message_name="payment",
        correlation_key="order-1")
    builder.close_message_subscription(subscription)
    task = builder.user_task(scope, element_instance_key=builder.new_key(), element_id="approve")
    builder.assign_user_task(task, "anna")
    builder.broadcast_signal("closing")
    records = decode_batch(encode_batch(builder.records), partition_id=1)  # what the log hands back
    log, store = InMemoryCommittedLog(records), InMemoryPositionStore()
    path = tmp_path / "export.duckdb"
    director = create_exporter_director(
        partition_id=1, reader=log, position_store=store,
        exporters_config={"analytics": {"type": "duckdb", "args": {"path": str(path), "flushDelay": 0.01,
                                                                    "snapshotInterval": 0}}})
    async with trio.open_nursery() as nursery:
        await nursery.start(director.run)
        with trio.fail_after(20):
            await store.wait_position("analytics", records[-1].position)
        nursery.cancel_scope.cancel()
    assert rows(path, "SELECT (SELECT state FROM timers), (SELECT state FROM message_subscriptions),"
                      " (SELECT assignee FROM user_tasks), (SELECT count(*) FROM signals),"
                      " (SELECT count(*) FROM records)") == [("TRIGGERED", "DELETED", "anna", 1, len(records))]
