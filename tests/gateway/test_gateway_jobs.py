"""ActivateJobs (round robin, long polling) and StreamActivatedJobs, end to end and on the Trio side."""

from __future__ import annotations

import json
import threading

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2

from zeebe_trio.gateway._generated import gateway_protocol as pb
from zeebe_trio.gateway._jobs import JobActivator, JobStreamBuffer
from zeebe_trio.gateway._routing import Router
from zeebe_trio.protocol import JobBatchIntent, ValueType, encode_key


def activate_request(**fields):
    defaults = {"type": "payment", "worker": "w1", "timeout": 30_000, "maxJobsToActivate": 10}
    return gateway_pb2.ActivateJobsRequest(**{**defaults, **fields})


def activations(broker):
    return broker.commands_of(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE)


async def test_activate_jobs_answers_at_once_with_one_message_per_partition_that_had_jobs(gateway):
    broker = gateway.broker
    broker.make_jobs_available(1, "payment", (encode_key(1, 1), broker.job_value()))
    broker.make_jobs_available(
        3, "payment", (encode_key(3, 1), broker.job_value()), (encode_key(3, 2), broker.job_value())
    )

    responses = await gateway.collect(
        "ActivateJobs", activate_request(fetchVariable=["amount"], requestTimeout=60_000)
    )

    assert sorted(len(r.jobs) for r in responses) == [1, 2]
    job = next(r for r in responses if len(r.jobs) == 1).jobs[0]
    assert job.key == encode_key(1, 1)
    assert (job.type, job.worker, job.retries, job.elementId, job.bpmnProcessId) == (
        "payment",
        "w1",
        3,
        "charge",
        "order",
    )
    assert json.loads(job.variables) == {"amount": 42}
    assert json.loads(job.customHeaders) == {"method": "card"}
    first = activations(broker)[0][1].value
    assert (
        first["variables"] == ["amount"]
        and first["tenantIds"] == ["<default>"]
        and first["maxJobsToActivate"] == 10
    )


async def test_activate_jobs_asks_each_partition_only_for_what_is_still_missing(gateway):
    broker = gateway.broker
    for partition_id in (1, 2, 3):
        broker.make_jobs_available(
            partition_id, "payment", *[(encode_key(partition_id, n), broker.job_value()) for n in (1, 2)]
        )

    responses = await gateway.collect("ActivateJobs", activate_request(maxJobsToActivate=3))

    assert sum(len(r.jobs) for r in responses) == 3
    assert [c.value["maxJobsToActivate"] for _, c in activations(broker)] == [3, 1]


async def test_a_long_polling_request_is_answered_when_jobs_become_available(gateway):
    broker = gateway.broker
    answered = trio.Event()
    responses = []

    async def worker():
        # requestTimeout 0 = the gateway default (10 s); the client deadline is 30 s
        responses.extend(await gateway.collect("ActivateJobs", activate_request(), deadline_s=30))
        answered.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(worker)
        await broker.wait_until(
            lambda: len(activations(broker)) == 3
        )  # every partition asked once: none had jobs
        assert not answered.is_set()
        started = trio.current_time()
        broker.make_jobs_available(2, "payment", (encode_key(2, 9), broker.job_value()))
        await answered.wait()

    assert [job.key for r in responses for job in r.jobs] == [encode_key(2, 9)]
    assert (
        trio.current_time() - started < 5
    )  # the notification answered it, not the 10 s long-polling timeout


async def test_a_long_polling_request_completes_empty_when_its_request_timeout_elapses(gateway):
    started = trio.current_time()
    responses = await gateway.collect("ActivateJobs", activate_request(requestTimeout=200))
    assert responses == []
    assert trio.current_time() - started >= 0.2
    assert len(activations(gateway.broker)) == 3


async def test_a_negative_request_timeout_disables_long_polling(gateway):
    # With long polling this would wait the 10 s default and miss the 3 s client deadline.
    responses = await gateway.collect("ActivateJobs", activate_request(requestTimeout=-1), deadline_s=3)
    assert responses == []
    assert len(activations(gateway.broker)) == 3


async def test_notifications_for_another_job_type_do_not_answer_a_waiting_request(gateway):
    broker = gateway.broker
    broker.make_jobs_available(1, "shipping", (encode_key(1, 5), broker.job_value("shipping")))
    responses = await gateway.collect("ActivateJobs", activate_request(requestTimeout=200))
    assert responses == []


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"type": ""}, "'type'"),
        ({"maxJobsToActivate": 0}, "'maxJobsToActivate'"),
        ({"timeout": 0}, "'timeout'"),
    ],
)
async def test_bad_activation_requests_are_invalid_arguments_naming_the_field(gateway, fields, field_name):
    with pytest.raises(grpc.RpcError) as caught:
        await gateway.collect("ActivateJobs", activate_request(**fields))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_name in caught.value.details()
    assert gateway.broker.commands == []


async def test_a_job_stream_pushes_jobs_to_the_client_and_closes_when_the_client_goes_away(gateway):
    broker = gateway.broker
    received = []
    two_received = threading.Event()
    request = gateway_pb2.StreamActivatedJobsRequest(
        type="payment", worker="w1", timeout=5000, fetchVariable=["amount"]
    )
    call = gateway.stub.StreamActivatedJobs(request, timeout=30)

    def read():
        try:
            for job in call:
                received.append(job)
                if len(received) == 2:
                    two_received.set()
        except grpc.RpcError as error:
            assert error.code() is grpc.StatusCode.CANCELLED

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, read)
        await broker.wait_until(lambda: len(broker.streams) == 1)
        (stream,) = broker.streams
        assert (stream.spec.job_type, stream.spec.worker, stream.spec.timeout_ms) == ("payment", "w1", 5000)
        assert stream.spec.fetch_variables == ("amount",) and stream.spec.tenant_ids == ("<default>",)

        # the broker activates each job for the stream's worker before pushing it
        assert stream.sink.push(encode_key(1, 1), broker.job_value(worker="w1"))
        assert stream.sink.push(encode_key(2, 1), broker.job_value(worker="w1"))
        await trio.to_thread.run_sync(two_received.wait, 10)
        assert not stream.closed.is_set()

        call.cancel()
        with trio.fail_after(10):
            await stream.closed.wait()

    assert [job.key for job in received] == [encode_key(1, 1), encode_key(2, 1)]
    assert stream.undelivered == []  # both reached the client: nothing to hand back
    assert received[0].worker == "w1"
    assert not stream.sink.push(encode_key(1, 2), broker.job_value())  # closed streams take no jobs


async def test_a_job_stream_buffer_refuses_jobs_when_full():
    buffer = JobStreamBuffer(capacity=2)
    assert buffer.push(1, {}) and buffer.push(2, {})
    assert not buffer.push(3, {})
    assert buffer.statistics().current_buffer_used == 2
    assert buffer.close() == [1, 2]  # never delivered: handed back to the broker
    assert not buffer.push(4, {})


# -- long polling on the Trio side alone, in virtual time -------------------------------------


async def test_long_polling_waits_exactly_until_the_notification(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)
    broker.add_jobs_available_listener(activator.notify_jobs_available)
    emitted = []

    async def emit(message):
        emitted.append(message)

    async def notify_later():
        await trio.sleep(30)
        broker.make_jobs_available(1, "payment", (encode_key(1, 1), broker.job_value()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(notify_later)
        start = trio.current_time()
        await activator.activate(
            pb.ActivateJobsRequest(type="payment", worker="w", timeout=1000, max_jobs_to_activate=5), emit
        )

    assert trio.current_time() - start == 30
    assert [job.key for message in emitted for job in message.jobs] == [encode_key(1, 1)]
    assert activator.statistics() == {"requests_in_flight": 0, "requests_waiting": 0}


async def test_long_polling_gives_up_after_the_default_timeout(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)

    async def emit(message):
        raise AssertionError("no jobs expected")

    start = trio.current_time()
    await activator.activate(
        pb.ActivateJobsRequest(type="payment", worker="w", timeout=1000, max_jobs_to_activate=5), emit
    )
    assert trio.current_time() - start == 600


# -- one notification wakes one waiting request, not all (no thundering herd) -------------------------


async def _waiting_polls(nursery, activator, broker, count, emitted, *, max_jobs=1):
    """Start ``count`` long polls for 'payment', one after the other, so poll ``i`` is the ``i``-th to
    wait; return once all of them wait."""
    scopes = []
    for index in range(count):
        scope = trio.CancelScope()
        scopes.append(scope)

        async def poll(scope=scope, index=index):
            async def emit(message):
                emitted.append((index, [job.key for job in message.jobs]))

            with scope:
                await activator.activate(pb.ActivateJobsRequest(
                    type="payment", worker=f"w{index}", timeout=1000, max_jobs_to_activate=max_jobs), emit)

        nursery.start_soon(poll)
        await broker.wait_until(lambda index=index: activator.statistics()["requests_waiting"] == index + 1)
    return scopes


async def test_one_new_job_wakes_one_of_many_waiting_polls(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)
    broker.add_jobs_available_listener(activator.notify_jobs_available)
    emitted = []
    async with trio.open_nursery() as nursery:
        await _waiting_polls(nursery, activator, broker, 200, emitted)
        before = len(activations(broker))
        broker.make_jobs_available(2, "payment", (encode_key(2, 1), broker.job_value()))
        await broker.wait_until(lambda: len(emitted) == 1)
        await trio.testing.wait_all_tasks_blocked()
        # Two rounds at most (the first filled its poll, so the next waiter asked too, found nothing
        # and stopped the chain), each at most one ACTIVATE per partition: not 200 rounds.
        assert len(activations(broker)) - before <= 2 * len(broker.partition_ids)
        assert activator.statistics()["requests_waiting"] == 199
        nursery.cancel_scope.cancel()
    assert emitted == [(0, [encode_key(2, 1)])]  # the oldest waiting poll got it


async def test_the_baton_passes_while_polls_fill_up_and_stops_when_the_jobs_are_gone(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)
    broker.add_jobs_available_listener(activator.notify_jobs_available)
    emitted = []
    keys = [encode_key(1, n) for n in range(1, 6)]
    async with trio.open_nursery() as nursery:
        await _waiting_polls(nursery, activator, broker, 10, emitted)
        broker.make_jobs_available(1, "payment", *((key, broker.job_value()) for key in keys))  # one notification
        await broker.wait_until(lambda: len(emitted) == 5)
        await trio.testing.wait_all_tasks_blocked()
        assert activator.statistics()["requests_waiting"] == 5
        nursery.cancel_scope.cancel()
    assert sorted(key for _, got in emitted for key in got) == keys  # each job handed out once
    assert [index for index, _ in emitted] == [0, 1, 2, 3, 4]  # oldest first


async def test_a_woken_poll_that_goes_away_passes_the_baton_on(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)
    broker.add_jobs_available_listener(activator.notify_jobs_available)
    emitted = []
    async with trio.open_nursery() as nursery:
        scopes = await _waiting_polls(nursery, activator, broker, 3, emitted)
        broker.make_jobs_available(1, "payment", (encode_key(1, 1), broker.job_value()))
        scopes[0].cancel()  # the oldest poll is woken, but its client leaves before it asks
        await broker.wait_until(lambda: len(emitted) == 1)
        nursery.cancel_scope.cancel()
    assert emitted == [(1, [encode_key(1, 1)])]


async def test_a_job_type_is_watched_while_requests_for_it_are_in_flight(autojump_clock, broker):
    activator = JobActivator(Router(broker), default_long_polling_timeout=600.0)
    emitted = []
    async with trio.open_nursery() as nursery:
        await _waiting_polls(nursery, activator, broker, 2, emitted)
        assert broker.watched == {"payment": 1}  # one watch per job type, however many requests
        nursery.cancel_scope.cancel()
    assert broker.watched == {"payment": 0}
