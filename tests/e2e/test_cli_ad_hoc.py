"""``activate ad-hoc-activities`` against a real broker: the CLI sends AD_HOC_SUB_PROCESS_INSTRUCTION
ACTIVATE to the broker's command API (Camunda's REST API has the call, zeebe-trio does not serve it yet),
and the named elements of the running ad-hoc subprocess run."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli
from zeebe_trio.broker import Broker
from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent, Record, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_ad_hoc import ad_hoc_process, ad_hoc_sub_process

TOOLS = ad_hoc_process(ad_hoc_sub_process("tools", b.service_task("search", "search"), b.service_task("mail", "mail"),
                                          completion_condition="=true"),
                       process_id="agent", ad_hoc_id="tools")


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, list(argv)))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def _wait_for(broker: Broker, predicate: object) -> list[Record]:
    with trio.fail_after(10):
        while True:
            found = [r for r in BrokerHarness(broker).records() if predicate(r)]  # type: ignore[operator]
            if found:
                return found
            await trio.sleep(0.05)


def _element(intent: ProcessInstanceIntent, element_id: str) -> object:
    return lambda r: (r.value_type is ValueType.PROCESS_INSTANCE and r.intent is intent
                      and r.value.get("elementId") == element_id)


async def test_elements_of_a_running_ad_hoc_sub_process_are_activated_from_the_command_line(
        broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gateway = ("--address", f"127.0.0.1:{broker.gateway_port}")
    command_api = ("--broker", f"127.0.0.1:{broker.command_api_port}")
    (tmp_path / "agent.bpmn").write_bytes(TOOLS)
    code, _, err = await _run(capsys, "deploy", str(tmp_path / "agent.bpmn"), *gateway)
    assert code == 0, err
    code, _, err = await _run(capsys, "create", "instance", "agent", *gateway)
    assert code == 0, err
    [activated] = await _wait_for(broker, _element(ProcessInstanceIntent.ELEMENT_ACTIVATED, "tools"))
    key = str(activated.key)
    assert activated.value["bpmnElementType"] == BpmnElementType.AD_HOC_SUB_PROCESS.value

    code, out, err = await _run(capsys, "activate", "ad-hoc-activities", key, "search", "--variables",
                                '{"query": "zeebe"}', *command_api, "-o", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert (answer["intent"], answer["activateElements"]) == (
        "ACTIVATED", [{"elementId": "search", "variables": {"query": "zeebe"}}])
    await _wait_for(broker, _element(ProcessInstanceIntent.ELEMENT_ACTIVATED, "search"))

    code, out, err = await _run(capsys, "activate", "ad-hoc-activities", key, "search", "nothing", *command_api)
    assert code == 1
    assert err.strip() == (f"zeebe-trio activate ad-hoc-activities: NOT_FOUND: Expected to activate activities for"
                           f" ad-hoc sub-process with key '{key}', but the given elements [nothing] do not exist.")
