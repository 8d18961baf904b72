"""``complete user-task`` and ``assign user-task`` against a real broker: the CLI sends USER_TASK commands
to the broker's command API (Zeebe's gRPC API has none), and the task's element goes on."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker
from zeebe_trio.protocol import ProcessInstanceIntent, UserTaskIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_tasks as t

APPROVAL = b.process("approval", b.start(), b.flow("f1", "start", "approve"),
                     t.user_task("approve", zeebe_user_task=True, assignee="alice"),
                     b.flow("f2", "approve", "end"), b.end())


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, list(argv)))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def _wait_for(broker: Broker, value_type: ValueType, intent: object) -> list[object]:
    with trio.fail_after(10):
        while True:
            found = [r for r in BrokerHarness(broker).records() if r.value_type is value_type and r.intent is intent]
            if found:
                return found
            await trio.sleep(0.05)


async def test_a_user_task_is_assigned_and_completed_from_the_command_line(
        broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gateway = ("--address", f"127.0.0.1:{broker.gateway_port}")
    command_api = ("--broker", f"127.0.0.1:{broker.command_api_port}")
    (tmp_path / "approval.bpmn").write_bytes(APPROVAL)
    code, _, err = await _run(capsys, "deploy", str(tmp_path / "approval.bpmn"), *gateway)
    assert code == 0, err
    code, out, err = await _run(capsys, "create", "instance", "approval", *gateway)
    assert code == 0, err
    [created] = await _wait_for(broker, ValueType.USER_TASK, UserTaskIntent.CREATED)
    key = str(created.key)  # type: ignore[attr-defined]

    code, out, err = await _run(capsys, "assign", "user-task", key, "--assignee", "bob", *command_api)
    assert (code, out) == (0, f"assigned user task {key} to bob\n"), err
    code, out, err = await _run(capsys, "complete", "user-task", key, "--variables", '{"approved": true}',
                                *command_api, "-o", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert (answer["intent"], answer["key"], answer["assignee"], answer["variables"]) == (
        "COMPLETED", key, "bob", {"approved": True})
    completed = await _wait_for(broker, ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.ELEMENT_COMPLETED)
    assert any(r.value["elementId"] == "approval" for r in completed)  # type: ignore[attr-defined]

    code, _, err = await _run(capsys, "complete", "user-task", key, *command_api)
    assert code == 1
    assert err.strip() == (f"zeebe-trio complete user-task: NOT_FOUND: Expected to complete user task with key"
                           f" '{key}', but no such user task was found")


async def test_an_unreachable_command_api_is_one_line_naming_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await _run(capsys, "complete", "user-task", "2251799813685249", "--broker", "127.0.0.1:1",
                              "--request-timeout", "1s")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("zeebe-trio complete user-task: cannot reach the broker's command API at 127.0.0.1:1")
    assert "--broker" in line


async def test_a_key_without_a_partition_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await _run(capsys, "assign", "user-task", "5", "--assignee", "x", "--broker", "127.0.0.1:1")
    assert code == 2 and "is not a user task key" in err
