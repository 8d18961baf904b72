"""The official clients a Zeebe user has, against a real broker: zbctl (Go) and the Camunda 8 JS SDK
(Node). `.ci/run` installs both from the npm registry into `.ci/tools`; where they are not
installed (no Node, no npm), these tests are skipped and say why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zeebe_trio.testing import one_task_bpmn

from .test_crash import _free_port, broker_process

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".ci" / "tools" / "node_modules"
ZBCTL = shutil.which("zbctl-cli.linux", path=str(TOOLS / ".bin")) if sys.platform == "linux" else None
NODE = shutil.which("node")
SDK = TOOLS / "@camunda8" / "sdk"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    with broker_process(tmp_path / "data", port):
        yield f"127.0.0.1:{port}"


def _zbctl(address: str, *args: str) -> dict:  # type: ignore[type-arg]
    assert ZBCTL is not None
    done = subprocess.run([ZBCTL, "--insecure", "--address", address, *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith("{") else {"text": done.stdout}


@pytest.mark.skipif(ZBCTL is None, reason="zbctl is not installed (.ci/run installs it: npm install --prefix .ci/tools)")
def test_zbctl_deploys_starts_works_and_resolves(gateway: str, tmp_path: Path) -> None:
    model = tmp_path / "p.bpmn"
    model.write_bytes(one_task_bpmn("p", "work"))
    assert "Partition 1 : Leader, Healthy" in _zbctl(gateway, "status")["text"]
    deployed = _zbctl(gateway, "deploy", str(model))
    assert deployed["processes"][0]["bpmnProcessId"] == "p"
    created = _zbctl(gateway, "create", "instance", "p", "--variables", '{"orderId": "Z-1"}')
    [job] = _zbctl(gateway, "activate", "jobs", "work", "--maxJobsToActivate", "1")["jobs"]
    assert job["processInstanceKey"] == created["processInstanceKey"]
    assert json.loads(job["variables"]) == {"orderId": "Z-1"}
    _zbctl(gateway, "set", "variables", created["processInstanceKey"], "--variables", '{"checked": true}')
    _zbctl(gateway, "fail", "job", job["key"], "--retries", "1", "--errorMessage", "no stock yet")
    [again] = _zbctl(gateway, "activate", "jobs", "work", "--maxJobsToActivate", "1")["jobs"]
    assert again["key"] == job["key"] and again["retries"] == 1
    assert json.loads(again["variables"]) == {"orderId": "Z-1", "checked": True}
    _zbctl(gateway, "update", "retries", again["key"], "--retries", "5")
    _zbctl(gateway, "complete", "job", again["key"], "--variables", '{"done": true}')
    _zbctl(gateway, "publish", "message", "nobody-waits", "--correlationKey", "Z-1", "--ttl", "1m")
    second = _zbctl(gateway, "create", "instance", "p")
    _zbctl(gateway, "cancel", "instance", second["processInstanceKey"])
    done = subprocess.run([ZBCTL, "--insecure", "--address", gateway, "complete", "job", job["key"]],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "NotFound" in done.stderr  # completed already: Zeebe's NOT_FOUND


@pytest.mark.skipif(NODE is None or not SDK.exists(),
                    reason="node or @camunda8/sdk is not installed (.ci/run installs it: npm install --prefix .ci/tools)")
def test_the_camunda_8_js_sdk_drives_the_gateway(gateway: str, tmp_path: Path) -> None:
    model = tmp_path / "p.bpmn"
    model.write_bytes(one_task_bpmn("js-process", "work"))
    assert NODE is not None
    done = subprocess.run([NODE, str(ROOT / "tests" / "e2e" / "js" / "sdk_smoke.js"), gateway, str(model)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NODE_PATH": str(TOOLS), "CAMUNDA_SDK_LOG_LEVEL": "none"})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["partitions"] == ["1:LEADER:HEALTHY"]
    assert out["deployed"] == "js-process" and out["activated"] == 1 and out["variablesIntact"] is True
    assert out["result"] == {"n": 2, "viaWorker": True}
    assert out["secondCompletion"] == "5"  # NOT_FOUND: the job was completed already
