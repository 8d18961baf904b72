"""Every gateway RPC under random requests, through the real engine: a handler answers or raises a
``GRPCError`` with a status a client can act on, never an internal failure; afterwards the broker
still runs an instance from start to end."""

from __future__ import annotations

import dataclasses
import json
import tempfile
import typing
from pathlib import Path
from typing import Any

import trio
from grpclib import GRPCError
from grpclib.const import Status
from hypothesis import given
from hypothesis import strategies as st

from zeebe_trio.gateway._endpoints import Endpoints
from zeebe_trio.gateway._generated import gateway_protocol as pb
from zeebe_trio.protocol import encode_key
from zeebe_trio.testing import one_task_bpmn, open_broker

from .conftest import fuzz_settings

_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "uint32": (0, 2**32 - 1),
           "uint64": (0, 2**64 - 1), "sint32": (-(2**31), 2**31 - 1), "sint64": (-(2**63), 2**63 - 1),
           "fixed32": (0, 2**32 - 1), "fixed64": (0, 2**64 - 1), "sfixed32": (-(2**31), 2**31 - 1),
           "sfixed64": (-(2**63), 2**63 - 1)}
_JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
                     | st.text(max_size=10), lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
_STRINGS = (st.text(max_size=30) | st.sampled_from(["p", "work", "msg", "", "<default>", "acme", "{}", "[]", "null",
                                                     '{"a": 1}', '{"a": "\\ud800"}', '{"a": 1e999}', '{"a":',
                                                     "=1/0", "a" * 600])
            | _JSON.map(json.dumps))
_KEYS = st.sampled_from([0, -1, 1, encode_key(1, 1), encode_key(1, 2), encode_key(1, 5), encode_key(2, 1),
                         2**63 - 1])


def _strategy_for(proto_type: str, python_type: Any, depth: int) -> st.SearchStrategy[Any]:
    if proto_type in _RANGES:
        low, high = _RANGES[proto_type]
        return _KEYS.filter(lambda k: low <= k <= high) | st.integers(low, high) | st.sampled_from([low, high, 0])
    if proto_type == "string":
        return _STRINGS
    if proto_type == "bool":
        return st.booleans()
    if proto_type == "bytes":
        return st.binary(max_size=200) | st.just(one_task_bpmn("p", "work"))
    if proto_type == "enum":
        return st.integers(0, 5)
    if proto_type in ("double", "float"):
        return st.floats()
    if proto_type == "message" and depth < 3:
        return requests(python_type, depth + 1)
    return st.none()


def requests(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any instance of a betterproto request message, with edge values for numbers and hostile text."""
    hints = typing.get_type_hints(cls)
    fields = {}
    for field in dataclasses.fields(cls):
        meta = field.metadata["betterproto"]
        hint = hints[field.name]
        origin = typing.get_origin(hint)
        if origin in (list, typing.List):  # noqa: UP006
            (item,) = typing.get_args(hint)
            fields[field.name] = st.lists(_strategy_for(meta.proto_type, item, depth), max_size=3)
        elif meta.proto_type == "map":
            fields[field.name] = st.dictionaries(_STRINGS, _STRINGS, max_size=3)
        else:
            if origin is typing.Union:
                hint = next(a for a in typing.get_args(hint) if a is not type(None))
            strategy = _strategy_for(meta.proto_type, hint, depth)
            fields[field.name] = st.none() | strategy if meta.optional else strategy
    return st.builds(cls, **fields)


UNARY = {
    "topology": pb.TopologyRequest, "deploy_resource": pb.DeployResourceRequest,
    "deploy_process": pb.DeployProcessRequest,
    "create_process_instance": pb.CreateProcessInstanceRequest,
    "create_process_instance_with_result": pb.CreateProcessInstanceWithResultRequest,
    "cancel_process_instance": pb.CancelProcessInstanceRequest, "set_variables": pb.SetVariablesRequest,
    "resolve_incident": pb.ResolveIncidentRequest, "complete_job": pb.CompleteJobRequest,
    "fail_job": pb.FailJobRequest, "throw_error": pb.ThrowErrorRequest,
    "update_job_retries": pb.UpdateJobRetriesRequest, "update_job_timeout": pb.UpdateJobTimeoutRequest,
    "publish_message": pb.PublishMessageRequest, "broadcast_signal": pb.BroadcastSignalRequest,
}
STREAMING = {"activate_jobs": pb.ActivateJobsRequest, "stream_activated_jobs": pb.StreamActivatedJobsRequest}
CALLS = st.one_of(*(st.tuples(st.just(name), requests(cls)) for name, cls in {**UNARY, **STREAMING}.items()))
# Statuses that mean "the engine failed", never an answer to a client's mistake.
BROKEN = {Status.INTERNAL, Status.UNKNOWN, Status.DATA_LOSS}


@fuzz_settings
@given(calls=st.lists(CALLS, min_size=1, max_size=8))
async def test_random_requests_get_answers_or_client_errors_and_the_engine_keeps_running(
        tmp_path: Path, autojump_clock: Any, calls: list[tuple[str, Any]]) -> None:
    # A fresh broker per example; fsync in the run loop, so virtual time never jumps during a write.
    async with open_broker(Path(tempfile.mkdtemp(dir=tmp_path)), fsync_in_thread=False) as harness:
        await harness.deploy("p.bpmn", one_task_bpmn("p", "work"))
        endpoints = Endpoints(harness.broker)
        harness.broker.add_jobs_available_listener(endpoints.jobs.notify_jobs_available)
        for name, request in calls:
            handler = getattr(endpoints, name)

            async def emit(message: Any) -> None:
                pass

            try:
                with trio.move_on_after(60):  # virtual time: long polls and waits for results end here
                    if name in STREAMING:
                        await handler(request, emit)
                    else:
                        await handler(request)
            except GRPCError as error:
                assert error.status not in BROKEN, (name, request, error.status, error.message)
                assert len(error.message or "") <= 4096, (name, "an error message quotes input at length")
            assert harness.partition.health, f"partition unhealthy after {name}"
        instance = await harness.create_instance("p")
        assert instance.is_event
        jobs = await harness.activate("work", max_jobs=1000)
        assert jobs, "the new instance's job is activatable"
