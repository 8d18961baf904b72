"""Forms through a real gRPC client (pyzeebe's grpcio stubs): DeployResource with a ``.form`` and a
process whose user tasks link it answers with the form's metadata in ``deployments``; the Camunda user
task's USER_TASK record and the job worker user task's ``io.camunda.zeebe:formKey`` header carry the
deployed form's key; a task whose form is missing waits in a FORM_NOT_FOUND incident until the form is
deployed and the incident resolved."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio import cli
from zeebe_trio.protocol import IncidentIntent, UserTaskIntent, ValueType
from zeebe_trio.testing import BrokerHarness
from zeebe_trio.testing import bpmn as b
from zeebe_trio.testing.bpmn_forms import form, form_user_task

from .conftest import Client

INVOICE_FORM = form("invoice-form", version_tag="v1")
PROCESS = b.process("review", b.start(), b.flow("f1", "start", "camunda"), form_user_task("camunda", "invoice-form"),
                    b.flow("f2", "camunda", "worker"), form_user_task("worker", "invoice-form", zeebe_user_task=False),
                    b.flow("f3", "worker", "end"), b.end())


async def test_deploying_a_form_answers_with_its_metadata_and_user_tasks_get_its_key(client: Client) -> None:
    response = await client.call("DeployResource", pb.DeployResourceRequest(resources=[
        pb.Resource(name="invoice.form", content=INVOICE_FORM), pb.Resource(name="review.bpmn", content=PROCESS)]))
    assert [deployment.WhichOneof("Metadata") for deployment in response.deployments] == ["process", "form"]
    metadata = response.deployments[1].form
    assert (metadata.formId, metadata.version, metadata.resourceName, metadata.tenantId) == (
        "invoice-form", 1, "invoice.form", "<default>")
    assert metadata.formKey > response.key

    again = await client.call("DeployResource", pb.DeployResourceRequest(resources=[
        pb.Resource(name="invoice.form", content=INVOICE_FORM)]))
    assert (again.deployments[0].form.formKey, again.deployments[0].form.version) == (metadata.formKey, 1)

    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="review", version=-1))
    harness = BrokerHarness(client.broker)  # type: ignore[attr-defined]
    with trio.fail_after(10):
        task = await harness.wait_for_record(
            lambda r: r.value_type is ValueType.USER_TASK and r.intent is UserTaskIntent.CREATED)
    assert task.value["formKey"] == metadata.formKey
    assert task.value["processInstanceKey"] == created.processInstanceKey
    # Zeebe 8.8's gRPC API has no user task RPCs: complete it through the broker's command API
    await harness.send(ValueType.USER_TASK, UserTaskIntent.COMPLETE, {"variables": {}}, key=task.key)

    [job] = await client.activate("io.camunda.zeebe:userTask", request_timeout_ms=10_000)  # long polling
    assert job.elementId == "worker"
    assert job.customHeaders == f'{{"io.camunda.zeebe:formKey":"{metadata.formKey}"}}'


async def test_a_missing_form_waits_in_an_incident_until_it_is_deployed(client: Client) -> None:
    await client.deploy("review.bpmn", PROCESS)
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="review", version=-1))
    harness = BrokerHarness(client.broker)  # type: ignore[attr-defined]
    with trio.fail_after(10):
        incident = await harness.wait_for_record(
            lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED)
    assert incident.value["errorType"] == "FORM_NOT_FOUND"
    assert incident.value["processInstanceKey"] == created.processInstanceKey

    deployed = await client.deploy("invoice.form", INVOICE_FORM)
    await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident.key))
    with trio.fail_after(10):
        task = await harness.wait_for_record(
            lambda r: r.value_type is ValueType.USER_TASK and r.intent is UserTaskIntent.CREATED)
    assert task.value["formKey"] == deployed.deployments[0].form.formKey


async def test_a_form_without_an_id_is_rejected_with_zeebes_message(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as error:
        await client.deploy("broken.form", form(None))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'broken.form': Expected the form id to be present, but none given" in error.value.details()


async def test_the_command_line_deploys_a_form_with_its_process(client: Client, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "invoice.form").write_bytes(INVOICE_FORM)
    (tmp_path / "review.bpmn").write_bytes(PROCESS)
    argv = ["deploy", "--address", client.address, str(tmp_path / "invoice.form"), str(tmp_path / "review.bpmn")]
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("deployed review version 1 (key ")
    assert re.fullmatch(r"deployed form invoice-form version 1 \(key \d+\) from invoice\.form", lines[1])
