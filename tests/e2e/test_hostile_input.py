"""Hostile input through a real gRPC client (issue 8): refused at the edge, quickly, in a few words,
and never with INTERNAL."""

from __future__ import annotations

import time

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.testing import one_task_bpmn

from .conftest import Client

MAX_STATUS_MESSAGE_BYTES = 4096


async def _refused(client: Client, rpc: str, request: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        await client.call(rpc, request)
    return caught.value


async def test_a_megabyte_of_malformed_json_is_refused_at_once_quoting_an_excerpt_and_the_position(
        client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    malformed = '{"order": "' + "x" * 1_000_000  # an unterminated string
    started = time.monotonic()
    with trio.fail_after(10):  # echoed whole, HPACK took ~80 s to encode it and every client waited
        error = await _refused(client, "CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=malformed))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    assert len(details.encode()) < MAX_STATUS_MESSAGE_BYTES
    assert details.startswith("Property 'variables' is invalid: Invalid JSON value: '{\"order\": \"xxx")
    assert "(1000011 characters)" in details
    assert "Unterminated string starting at: line 1 column 11 (char 10)" in details
    # The gateway answers others at once afterwards.
    with trio.fail_after(5):
        assert (await client.call("Topology", pb.TopologyRequest())).brokers
    assert time.monotonic() - started < 10


async def test_json_with_a_lone_surrogate_is_an_invalid_argument_naming_where(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    error = await _refused(client, "CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"customer": {"name": "Ada \\ud800"}}'))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "Property 'variables' is invalid: the string at variables.customer.name holds the lone surrogate"
        " '\\ud800' at index 4, which is not Unicode text (UTF-8 cannot encode it; pair it or remove it)")
    # A surrogate pair is text like any other.
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"emoji": "\\ud83d\\ude00"}'))
    assert created.processInstanceKey > 0


async def test_a_long_rejection_is_cut_to_a_bounded_grpc_message(client: Client) -> None:
    # Fifty unsupported resources with long names: each line quotes its name as an excerpt, and the
    # message as a whole is cut by the gateway's last line of defence.
    resources = [pb.Resource(name=f"{index:02d}-{'n' * 500}.txt", content=b"x") for index in range(50)]
    started = time.monotonic()
    error = await _refused(client, "DeployResource", pb.DeployResourceRequest(resources=resources))
    assert time.monotonic() - started < 10
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    assert len(details.encode()) <= MAX_STATUS_MESSAGE_BYTES
    assert details.startswith("Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to deploy new"
                              " resources, but encountered the following errors:\n'00-nnn")
    assert "…' (508 characters)" not in details  # resource names are cut BPMN-style, inside the quotes
    assert details.endswith(" bytes)") and "… (message cut: " in details
