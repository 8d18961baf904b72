"""zbctl (the Go client a Zeebe user has) against a broker process, for the BPMN events: `zbctl
throwError` from inside an embedded subprocess is caught by the subprocess's error boundary event and a
`create instance --withResult` sees the boundary path's variables; `zbctl broadcast signal` picks the
signal path of an event-based gateway. Skipped where zbctl is not installed (.ci/run installs it)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing import bpmn_signals_escalations as s

from .test_crash import _free_port, broker_process
from .test_errors_grpc import ORDER
from .test_real_clients import ZBCTL

pytestmark = pytest.mark.skipif(
    ZBCTL is None, reason="zbctl is not installed (.ci/run installs it: npm install --prefix .ci/tools)")

GATEWAY = b.process(
    "gw", b.start(), b.flow("f0", "start", "gateway"), s.event_based_gateway("gateway"),
    b.flow("to_timer", "gateway", "timer"), b.intermediate_catch("timer", b.timer_definition(duration="PT1H")),
    b.flow("to_signal", "gateway", "signal"), b.intermediate_catch("signal", b.signal_definition("sig")),
    b.flow("after_timer", "timer", "timed_out"), b.end("timed_out"),
    b.flow("after_signal", "signal", "approved_work"), b.service_task("approved_work", "after-approval"),
    b.flow("done", "approved_work", "approved"), b.end("approved"),
    definitions=s.signal("sig", "approved"))


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    with broker_process(tmp_path / "data", port):
        yield f"127.0.0.1:{port}"


def _command(address: str, *args: str) -> list[str]:
    assert ZBCTL is not None
    return [ZBCTL, "--insecure", "--address", address, *args]


def _zbctl(address: str, *args: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(_command(address, *args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith("{") else {"text": done.stdout}


def test_zbctl_throw_error_inside_a_subprocess_takes_the_error_boundary_path(gateway: str, tmp_path: Path) -> None:
    model = tmp_path / "order.bpmn"
    model.write_bytes(ORDER)
    _zbctl(gateway, "deploy", str(model))
    waiting = subprocess.Popen(_command(gateway, "create", "instance", "order", "--variables", '{"amount": 40}',
                                        "--withResult", "--requestTimeout", "30s"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        [job] = _zbctl(gateway, "activate", "jobs", "charge", "--maxJobsToActivate", "1",
                       "--requestTimeout", "20s")["jobs"]
        _zbctl(gateway, "throwError", "job", job["key"], "--errorCode", "DECLINED", "--errorMessage", "card declined")
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, err
    result = json.loads(out)
    assert result["processInstanceKey"] == job["processInstanceKey"]
    assert json.loads(result["variables"]) == {"amount": 40, "code": "DECLINED", "why": "card declined"}


def test_zbctl_broadcast_signal_picks_the_signal_path_of_an_event_based_gateway(gateway: str,
                                                                                tmp_path: Path) -> None:
    model = tmp_path / "gw.bpmn"
    model.write_bytes(GATEWAY)
    _zbctl(gateway, "deploy", str(model))
    created = _zbctl(gateway, "create", "instance", "gw")  # answered after the gateway subscribed
    _zbctl(gateway, "broadcast", "signal", "approved", "--variables", '{"by": "ana"}')
    [job] = _zbctl(gateway, "activate", "jobs", "after-approval", "--maxJobsToActivate", "1",
                   "--requestTimeout", "20s")["jobs"]
    assert job["processInstanceKey"] == created["processInstanceKey"]
    assert job["elementId"] == "approved_work"
    assert json.loads(job["variables"]) == {"by": "ana"}
