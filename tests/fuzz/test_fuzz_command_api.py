"""The command API under hostile frames from an authenticated (loopback) peer: whatever arrives,
the broker answers or says GOODBYE, logs no internal failure, and keeps serving a real gateway."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from zeebe_trio.gateway import BrokerCommand, BrokerError, RemoteBrokerPort
from zeebe_trio.gateway._remote import hello_frame
from zeebe_trio.protocol import (
    GATEWAY_COMMANDS,
    FrameDecoder,
    MessageType,
    ProcessInstanceCreationIntent,
    ValueType,
    WireError,
    encode_frame,
    encode_key,
)
from zeebe_trio.testing import one_task_bpmn, open_broker

from .conftest import fuzz_settings

INT64 = st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, -1, 1, 2**31, encode_key(1, 1), encode_key(9, 1)])
SCALARS = (st.none() | st.booleans() | INT64 | st.floats(allow_nan=True) | st.text(max_size=20)
           | st.binary(max_size=8) | st.integers(2**63, 2**64))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.binary(max_size=4) | INT64, inner, max_size=4),
                      max_leaves=12)
FIELD_NAMES = st.sampled_from(["bpmnProcessId", "version", "variables", "type", "worker", "timeout",
                               "maxJobsToActivate", "retries", "errorCode", "errorMessage", "name",
                               "correlationKey", "timeToLive", "messageId", "resources", "tenantId", "tenantIds",
                               "processDefinitionKey", "local", "jobKey", "elementInstanceKey", "fetchVariables"])
COMMAND_VALUES = st.dictionaries(FIELD_NAMES, VALUES | st.sampled_from(["p", "work", 1, -1, {}, []]), max_size=6)
COMMANDS = st.sampled_from(sorted((int(v), int(i)) for v, i in GATEWAY_COMMANDS)) | st.tuples(INT64, INT64)


@st.composite
def frames(draw: st.DrawFn) -> list[Any]:
    kind = draw(st.sampled_from(["execute", "execute", "execute", "other", "random"]))
    if kind == "execute":
        value_type, intent = draw(COMMANDS)
        return [MessageType.EXECUTE, draw(INT64), draw(st.sampled_from([1, 1, 0, 2, -1]) | INT64), value_type, intent,
                draw(INT64), draw(COMMAND_VALUES | VALUES), draw(st.none() | st.floats() | VALUES)]
    if kind == "other":
        message_type = draw(st.sampled_from([MessageType.CANCEL, MessageType.TOPOLOGY_REQUEST, MessageType.OPEN_STREAM,
                                             MessageType.CLOSE_STREAM, MessageType.YIELD_JOB, MessageType.CREDIT,
                                             MessageType.QUERY, MessageType.WATCH_JOB_TYPE, MessageType.GOODBYE]))
        return [message_type, *draw(st.lists(VALUES, max_size=8))]
    return draw(st.lists(VALUES, min_size=1, max_size=6))


@fuzz_settings
@given(messages=st.lists(frames(), min_size=1, max_size=12))
async def test_hostile_frames_are_answered_or_refused_and_the_broker_keeps_serving(
        tmp_path: Path, autojump_clock: Any, messages: list[list[Any]], caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        async with open_broker(Path(tempfile.mkdtemp(dir=tmp_path)), command_api_enabled=True, command_api_port=0,
                               command_api_host="127.0.0.1", fsync_in_thread=False) as harness:
            await harness.deploy("p.bpmn", one_task_bpmn("p", "work"))
            await _exchange(harness.broker.command_api_port, messages)
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures


async def _exchange(bound: int, messages: list[list[Any]]) -> None:
    """Send the frames after a HELLO, read what comes back (in virtual time), then check that a real
    gateway still gets a command through."""
    stream = await trio.open_tcp_stream("127.0.0.1", bound)
    decoder = FrameDecoder()
    with trio.fail_after(30):
        await stream.send_all(hello_frame("fuzz", b"\x02" * 16))
        try:
            payload = b"".join(encode_frame(m) for m in messages)
        except (TypeError, ValueError, OverflowError):  # msgpack cannot even encode it: nothing to send
            payload = b""
        try:
            await stream.send_all(payload)
            with trio.move_on_after(5):  # virtual seconds: every answer has arrived by then
                while data := await stream.receive_some(65536):
                    for message in decoder.feed(data):
                        if message[0] is MessageType.ERROR:
                            assert message[2] != BrokerError.INTERNAL, message
        except (trio.BrokenResourceError, WireError):
            pass
    await stream.aclose()
    # A real gateway still gets its commands through.
    port = RemoteBrokerPort(("127.0.0.1", bound), min_backoff=0.01, max_backoff=0.05)
    async with trio.open_nursery() as nursery:
        await nursery.start(port.run)
        with trio.fail_after(30):
            await port.wait_connected()
            record = await port.execute(1, BrokerCommand(
                ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
                {"bpmnProcessId": "p", "version": -1, "variables": {}}))
        nursery.cancel_scope.cancel()
    assert record.is_event


@pytest.mark.parametrize("timeout", [-1.0, float("nan"), -1e300])
async def test_a_request_timeout_below_zero_is_a_malformed_request_not_an_internal_error(
        tmp_path: Path, autojump_clock: Any, timeout: float, caplog: pytest.LogCaptureFixture) -> None:
    # found by the fuzz test above: trio's move_on_after refused the timeout with a ValueError
    create = [MessageType.EXECUTE, 7, 1, int(ValueType.PROCESS_INSTANCE_CREATION),
              int(ProcessInstanceCreationIntent.CREATE), -1, {"bpmnProcessId": "p", "version": -1}, timeout]
    with caplog.at_level(logging.WARNING):
        async with open_broker(Path(tempfile.mkdtemp(dir=tmp_path)), command_api_enabled=True, command_api_port=0,
                               command_api_host="127.0.0.1", fsync_in_thread=False) as harness:
            await harness.deploy("p.bpmn", one_task_bpmn("p", "work"))
            stream = await trio.open_tcp_stream("127.0.0.1", harness.broker.command_api_port)
            decoder = FrameDecoder()
            await stream.send_all(hello_frame("fuzz", b"\x02" * 16) + encode_frame(create))
            answers: list[Any] = []
            with trio.fail_after(10):
                while not any(m[0] is MessageType.ERROR for m in answers):
                    answers += decoder.feed(await stream.receive_some(65536))
            await stream.aclose()
    [error] = [m for m in answers if m[0] is MessageType.ERROR]
    assert error[2] == BrokerError.MALFORMED_REQUEST and "request timeout" in error[3]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
