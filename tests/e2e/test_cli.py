"""The command line against a real broker (the client commands speak gRPC to its gateway)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker
from zeebe_trio.cli._client import parse_duration
from zeebe_trio.gateway import run_standalone_gateway
from zeebe_trio.protocol import (
    IncidentIntent,
    Intent,
    ProcessInstanceCreationIntent,
    ValueType,
    VariableDocumentIntent,
)
from zeebe_trio.testing import BrokerHarness, one_task_bpmn, service_tasks_bpmn


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, list(argv)))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def test_status_deploy_and_create_instance(broker: Broker, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    address = f"127.0.0.1:{broker.gateway_port}"
    model = tmp_path / "p.bpmn"
    model.write_bytes(one_task_bpmn("p"))
    code, out, _ = await _run(capsys, "status", "--address", address)
    assert code == 0 and "partition 1: LEADER HEALTHY" in out
    code, out, _ = await _run(capsys, "deploy", "--address", address, str(model))
    assert code == 0 and "deployed p version 1" in out
    code, out, _ = await _run(capsys, "create-instance", "--address", address, "p", "--variables", '{"a": 1}')
    assert code == 0 and "created instance" in out
    code, _, err = await _run(capsys, "create-instance", "--address", address, "missing")
    assert code == 1 and "NOT_FOUND" in err and "missing" in err
    code, _, err = await _run(capsys, "create-instance", "--address", address, "p", "--variables", "{oops")
    assert code == 2 and "not valid JSON" in err


async def test_an_unreachable_gateway_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await _run(capsys, "status", "--address", "127.0.0.1:1", "--timeout", "2")
    assert code == 1 and "cannot reach a gateway" in err


async def test_exporters_lists_the_installed_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await _run(capsys, "exporters")
    assert code == 0
    assert {line.split()[0] for line in out.splitlines() if line.strip()} >= {"duckdb", "jsonl", "log"}


# -- zbctl's verbs and nouns -------------------------------------------------------------------------

def _one_line(err: str) -> str:
    """The single stderr line of a failed command (main's rule: one line, no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _keys(broker: Broker, value_type: ValueType, intent: Intent) -> list[int]:
    return [r.key for r in BrokerHarness(broker).records() if r.value_type is value_type and r.intent is intent]


async def test_every_verb_works_against_a_real_broker(broker: Broker, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    address = ("--address", f"127.0.0.1:{broker.gateway_port}")
    (tmp_path / "p.bpmn").write_bytes(one_task_bpmn("p"))
    (tmp_path / "straight.bpmn").write_bytes(service_tasks_bpmn("straight", []))
    (tmp_path / "vars.json").write_text('{"from": "file"}')

    async def ok(*argv: str) -> str:
        code, out, err = await _run(capsys, *argv, *address)
        assert code == 0, err
        return out

    assert "deployed p version 1" in await ok("deploy", str(tmp_path / "p.bpmn"), str(tmp_path / "straight.bpmn"))
    created = await ok("create", "instance", "p", "--variables", f"@{tmp_path / 'vars.json'}")
    instance = int(re.fullmatch(r"created instance (\d+) of p version 1\n", created).group(1))  # type: ignore[union-attr]
    done = await ok("create", "instance", "straight", "--with-result", "--variables", '{"a": 1}')
    assert re.fullmatch(r'completed instance \d+ of straight version 1; variables: \{"a": 1\}\n', done)

    activated = json.loads(await ok("activate", "jobs", "work", "--max-jobs-to-activate", "5", "--timeout", "5m",
                                    "--worker", "cli", "-o", "json"))
    [job] = activated["jobs"]
    assert (job["worker"], int(job["processInstanceKey"]), json.loads(job["variables"])) == (
        "cli", instance, {"from": "file"})
    job_key = job["key"]
    assert await ok("update", "timeout", job_key, "--timeout", "90s") == (
        f"updated the timeout of job {job_key} to 90 s from now\n")
    assert await ok("fail", "job", job_key, "--retries", "0", "--error-message", "disk full") == (
        f"failed job {job_key}; retries left: 0\n")
    [incident] = _keys(broker, ValueType.INCIDENT, IncidentIntent.CREATED)
    assert await ok("update", "retries", job_key, "--retries", "2") == f"updated the retries of job {job_key} to 2\n"
    assert await ok("resolve", "incident", str(incident)) == f"resolved incident {incident}\n"
    again = await ok("activate", "jobs", "work", "--request-timeout", "5s")
    assert f"job {job_key}: element 'task1' of p (instance {instance}), retries 2" in again
    assert await ok("set", "variables", str(instance), "--variables", '{"b": 2}', "--local") == (
        f"set variables locally on element instance {instance} (command key"
        f" {_keys(broker, ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATED)[0]})\n")
    assert await ok("complete", "job", job_key, "--variables", '{"c": 3}') == f"completed job {job_key}\n"

    published = await ok("publish", "message", "paid", "--correlation-key", "order-1", "--ttl", "1h",
                         "--message-id", "m-1", "--variables", '{"amount": 3}')
    assert re.fullmatch(r"published message 'paid' with correlation key 'order-1' \(key \d+\)\n", published)
    assert re.fullmatch(r"broadcast signal 'stop' \(key \d+\)\n", await ok("broadcast", "signal", "stop"))

    second = json.loads(await ok("create", "instance", "p", "-o", "json"))["processInstanceKey"]
    [thrown_job] = json.loads(await ok("activate", "jobs", "work", "-o", "json"))["jobs"]
    assert await ok("throw", "error", thrown_job["key"], "--error-code", "no-stock") == (
        f"threw error 'no-stock' on job {thrown_job['key']}\n")
    assert await ok("cancel", "instance", second) == f"canceled instance {second}\n"
    code, _, err = await _run(capsys, "cancel", "instance", second, *address)
    assert code == 1 and _one_line(err).startswith("zeebe-trio cancel instance: CancelProcessInstance failed: NOT_FOUND")


async def test_output_json_is_the_response_as_zbctl_prints_it(broker: Broker, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    address = ("--address", f"127.0.0.1:{broker.gateway_port}")
    (tmp_path / "p.bpmn").write_bytes(one_task_bpmn("p"))
    _, out, _ = await _run(capsys, "deploy", str(tmp_path / "p.bpmn"), "--output", "json", *address)
    deployed = json.loads(out)
    # proto3 JSON: camelCase, 64-bit keys as strings, only the oneof member that is set
    assert deployed == {"key": deployed["key"], "tenantId": "<default>", "deployments": [{"process": {
        "bpmnProcessId": "p", "version": 1, "processDefinitionKey": deployed["deployments"][0]["process"][
            "processDefinitionKey"], "resourceName": "p.bpmn", "tenantId": "<default>"}}]}
    assert deployed["key"].isdigit()
    _, out, _ = await _run(capsys, "create-instance", "p", "-o", "json", *address)
    created = json.loads(out)
    assert set(created) >= {"processDefinitionKey", "bpmnProcessId", "version", "processInstanceKey", "tenantId"}
    assert isinstance(created["processInstanceKey"], str) and isinstance(created["version"], int)
    _, out, _ = await _run(capsys, "status", "-o", "json", *address)
    [partition] = json.loads(out)["brokers"][0]["partitions"]
    assert partition == {"partitionId": 1, "role": "LEADER", "health": "HEALTHY"}
    _, out, _ = await _run(capsys, "activate", "jobs", "nothing", "--request-timeout", "100ms", "-o", "json", *address)
    assert json.loads(out) == {"jobs": []}
    _, out, _ = await _run(capsys, "complete", "job", json.loads(
        (await _run(capsys, "activate", "jobs", "work", "-o", "json", *address))[1])["jobs"][0]["key"],
        "-o", "json", *address)
    assert json.loads(out) == {}


async def test_zeebe_address_is_honoured_and_address_overrides_it(broker: Broker, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ZEEBE_ADDRESS", f"127.0.0.1:{broker.gateway_port}")
    code, out, _ = await _run(capsys, "status", "--insecure")
    assert code == 0 and "partition 1: LEADER HEALTHY" in out
    code, _, err = await _run(capsys, "status", "--address", "127.0.0.1:1")
    assert code == 1 and "127.0.0.1:1" in _one_line(err)
    monkeypatch.setenv("ZEEBE_ADDRESS", "127.0.0.1:nope")
    code, _, err = await _run(capsys, "status")
    assert (code, _one_line(err)) == (2, "zeebe-trio status: ZEEBE_ADDRESS '127.0.0.1:nope' is not HOST:PORT"
                                         " (e.g. localhost:26500)")


@pytest.mark.parametrize(("argv", "says"), [
    (["complete", "job", "1", "--variables", "[1, 2]"], "argument --variables: is not a JSON object"),
    (["complete", "job", "1", "--variables", "{oops"], "argument --variables: is not valid JSON"),
    (["create", "instance", "p", "--variables", "@/no/such/file.json"], "cannot read '/no/such/file.json'"),
    (["cancel", "instance", "abc"], "argument key: 'abc' is not a key"),
    (["cancel", "instance", "-5"], "argument key"),
    (["activate", "jobs", "work", "--timeout", "5 minutes"], "argument --timeout: '5 minutes' is not a duration"),
    (["status", "--request-timeout", "0"], "argument --request-timeout: '0' must be longer than 0"),
    (["fail", "job", "1"], "the following arguments are required: --retries"),
    (["publish", "message", "m"], "the following arguments are required: --correlation-key"),
    (["status", "--output", "yaml"], "'yaml' is not an output format"),
])
async def test_usage_errors_exit_2_naming_the_argument(argv: list[str], says: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await _run(capsys, *argv, "--address", "127.0.0.1:1")
    assert code == 2 and says in err and "Traceback" not in err


async def _serve(nursery: trio.Nursery, handler: Callable[[trio.SocketStream], Awaitable[None]]) -> str:
    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            await handler(stream)
            with trio.move_on_after(2):  # read what the client sent, so that closing is not a reset
                while await stream.receive_some():
                    pass

    listeners = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
    return f"127.0.0.1:{listeners[0].socket.getsockname()[1]}"


async def test_unreachable_and_wrong_ports_are_one_line_naming_the_address_and_the_fix(
        broker: Broker, capsys: pytest.CaptureFixture[str]) -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep(5)

    async def garbage(stream: trio.SocketStream) -> None:
        await stream.receive_some()
        await stream.send_all(b"\x00\x00\x00\x0c\x94\x01\x02not http/2")

    async def settings_then_nothing(stream: trio.SocketStream) -> None:  # HTTP/2, but no answer
        await stream.send_all(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        await trio.sleep(5)

    async with trio.open_nursery() as nursery:
        silent_at, garbage_at, mute_at = [await _serve(nursery, h) for h in (silent, garbage, settings_then_nothing)]
        command_api = f"127.0.0.1:{broker.command_api_port}"
        expected = {
            "127.0.0.1:1": "cannot reach a gateway at 127.0.0.1:1: connection refused (is the broker running?"
                           " set --address or ZEEBE_ADDRESS)",
            command_api: f"{command_api} is not a Zeebe gateway: it refused the gRPC call with an HTTP/2 GOAWAY"
                         " (PROTOCOL_ERROR): 'this is the zeebe-trio broker's command API",
            silent_at: f"{silent_at} does not speak gRPC (HTTP/2): it accepted the connection, then sent nothing"
                       " within 1 s — is that the broker's command API port? the gateway's default port is 26500",
            garbage_at: f"{garbage_at} does not speak gRPC (HTTP/2): it answered '\\x00\\x00\\x00\\x0c\\x94\\x01\\x02not"
                        " http/2' — is that the broker's command API port?",
            mute_at: f"the gateway at {mute_at} did not answer Topology within 1 s (the request timeout; raise it"
                     " with --request-timeout)",
        }
        for address, says in expected.items():
            code, _, err = await _run(capsys, "status", "--address", address, "--request-timeout", "1")
            assert code == 1 and _one_line(err).startswith(f"zeebe-trio status: {says}"), err
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("gateway", ["embedded", "standalone"])
async def test_with_result_past_the_request_timeout_names_the_instance_it_created(
        broker: Broker, gateway: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with trio.open_nursery() as nursery:
        if gateway == "embedded":
            address = f"127.0.0.1:{broker.gateway_port}"
        else:  # the broker's timeout answer crosses the command API too
            port = await nursery.start(partial(run_standalone_gateway, ("127.0.0.1", broker.command_api_port),
                                               host="127.0.0.1", grpc_port=0))
            address = f"127.0.0.1:{port}"
        (tmp_path / "p.bpmn").write_bytes(one_task_bpmn("p"))
        await _run(capsys, "deploy", str(tmp_path / "p.bpmn"), "--address", address)
        code, _, err = await _run(capsys, "create", "instance", "p", "--with-result", "--request-timeout", "1s",
                                  "--address", address)
        nursery.cancel_scope.cancel()
    [instance] = _keys(broker, ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATED)
    assert code == 1
    assert _one_line(err) == (
        "zeebe-trio create instance: CreateProcessInstanceWithResult failed: DEADLINE_EXCEEDED: Time out between"
        f" gateway and broker: Expected process instance {instance} of 'p' (version 1), created by this request,"
        " to complete within 1 s, but it has not; the instance keeps running (wait longer with --request-timeout)")


@pytest.mark.parametrize(("text", "seconds"), [
    ("300ms", 0.3), ("10s", 10), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("2", 2), ("0.25", 0.25),
    ("1m30s500ms", 90.5), ("0", 0),
])
def test_durations_are_go_durations_or_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
