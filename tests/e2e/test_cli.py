"""The command line against a real broker (the client commands speak gRPC to its gateway)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker
from zeebe_trio.testing import one_task_bpmn


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
