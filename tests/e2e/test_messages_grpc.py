"""Messages through a real gRPC client: one published (with a time to live) before the process
instance waits for it, one published after its subscription opened; both correlate, and the job
after them sees both messages' variables. A message id is unique while its message is buffered."""

from __future__ import annotations

import json

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_messages as m

from .conftest import Client

ORDER = b.process(
    "order", b.start(), b.flow("f1", "start", "paid"), m.message_catch("paid", "paid-message"),
    b.flow("f2", "paid", "shipped"), m.receive_task("shipped", "shipped-message"),
    b.flow("f3", "shipped", "invoice"), b.service_task("invoice", "invoice"), b.flow("f4", "invoice", "end"),
    b.end(),
    definitions=m.message("paid-message", "order-paid", "=orderId")
    + m.message("shipped-message", "order-shipped", "=orderId"))


async def test_messages_published_before_and_after_the_subscription_correlate(client: Client) -> None:
    await client.deploy("order.bpmn", ORDER)
    early = await client.call("PublishMessage", pb.PublishMessageRequest(
        name="order-paid", correlationKey="order-7", timeToLive=60_000, variables='{"paid": 12}'))
    assert early.key > 0
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="order", version=-1, variables='{"orderId": "order-7"}'))

    jobs: list = []
    # Without a time to live the message correlates only to a subscription that is open already: publish
    # until one lands after the receive task's subscription opened.
    with trio.fail_after(20):
        while not jobs:
            await client.call("PublishMessage", pb.PublishMessageRequest(
                name="order-shipped", correlationKey="order-7", variables='{"carrier": "post"}'))
            jobs = await client.activate("invoice", request_timeout_ms=200)
    [job] = jobs
    assert job.processInstanceKey == created.processInstanceKey
    assert json.loads(job.variables) == {"orderId": "order-7", "paid": 12, "carrier": "post"}
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))


async def test_a_message_id_is_unique_while_the_message_is_buffered(client: Client) -> None:
    request = pb.PublishMessageRequest(name="order-paid", correlationKey="order-8", timeToLive=60_000,
                                       messageId="paid-8")
    await client.call("PublishMessage", request)
    with pytest.raises(grpc.RpcError) as error:
        await client.call("PublishMessage", request)
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error.value.details() == (
        "Command 'PUBLISH' rejected with code 'ALREADY_EXISTS': Expected to publish a new message with id"
        " 'paid-8', but a message with that id was already published")
