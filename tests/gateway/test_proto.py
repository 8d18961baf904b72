"""Our gateway protocol is wire-compatible with Zeebe's, and the generated code matches proto/.

pyzeebe ships Zeebe's own generated descriptors (an older 8.x gateway.proto); everything in it
must exist, identically, in ours. What 8.8 added on top is pinned in ZEEBE_88_ADDITIONS.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import betterproto
import grpc
import grpclib.server
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FileDescriptor
from grpc_health.v1 import health_pb2
from pyzeebe.proto import gateway_pb2 as zeebe
from pyzeebe.proto import gateway_pb2_grpc

from zeebe_trio.gateway._generated import gateway_protocol as ours
from zeebe_trio.gateway._generated.grpc.health import v1 as ours_health

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "proto"

FieldKey = tuple[str, str]  # (message name, field name)
Files = dict[str, descriptor_pb2.FileDescriptorProto]  # our compiled .proto files by path

# Fields Zeebe added after the gateway.proto that pyzeebe ships, up to 8.8:
# (message, field) -> (number, type, label, proto3 optional).
F = descriptor_pb2.FieldDescriptorProto
ZEEBE_88_ADDITIONS: dict[FieldKey, tuple[int, int, int, bool]] = {
    ("ActivatedJob", "userTask"): (15, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, True),
    ("ActivatedJob", "kind"): (16, F.TYPE_ENUM, F.LABEL_OPTIONAL, False),
    ("ActivatedJob", "listenerEventType"): (17, F.TYPE_ENUM, F.LABEL_OPTIONAL, False),
    ("ActivatedJob", "tags"): (18, F.TYPE_STRING, F.LABEL_REPEATED, False),
    ("UserTaskProperties", "userTaskKey"): (10, F.TYPE_INT64, F.LABEL_OPTIONAL, True),
    ("CompleteJobRequest", "result"): (3, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, True),
    ("JobResult", "denied"): (1, F.TYPE_BOOL, F.LABEL_OPTIONAL, True),
    ("JobResult", "corrections"): (2, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, True),
    ("JobResult", "activateElements"): (5, F.TYPE_MESSAGE, F.LABEL_REPEATED, False),
    ("JobResultCorrections", "candidateUsers"): (4, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, True),
    ("JobResultCorrections", "priority"): (6, F.TYPE_INT32, F.LABEL_OPTIONAL, True),
    ("CreateProcessInstanceRequest", "runtimeInstructions"): (8, F.TYPE_MESSAGE, F.LABEL_REPEATED, False),
    ("CreateProcessInstanceRequest", "tags"): (9, F.TYPE_STRING, F.LABEL_REPEATED, False),
    ("CreateProcessInstanceResponse", "tags"): (6, F.TYPE_STRING, F.LABEL_REPEATED, False),
    ("CreateProcessInstanceWithResultResponse", "tags"): (7, F.TYPE_STRING, F.LABEL_REPEATED, False),
    ("EvaluateDecisionResponse", "decisionEvaluationKey"): (13, F.TYPE_INT64, F.LABEL_OPTIONAL, False),
    ("EvaluatedDecision", "decisionEvaluationInstanceKey"): (10, F.TYPE_STRING, F.LABEL_OPTIONAL, False),
}


def compile_descriptor_set(proto_dir: Path, files: list[str], out: Path) -> descriptor_pb2.FileDescriptorSet:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={proto_dir}",
            f"--descriptor_set_out={out}",
            *files,
        ],
        check=True,
        capture_output=True,
    )
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


@pytest.fixture(scope="module")
def our_files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    out = tmp_path_factory.mktemp("descriptors") / "ours.pb"
    files = ["gateway.proto", "grpc/health/v1/health.proto"]
    return {f.name: f for f in compile_descriptor_set(PROTO_DIR, files, out).file}


def file_proto(descriptor: FileDescriptor) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    descriptor.CopyToProto(proto)
    return proto


def messages_by_name(file: descriptor_pb2.FileDescriptorProto) -> dict[str, descriptor_pb2.DescriptorProto]:
    """Every message, nested ones included, by name relative to the package (Outer.Inner)."""
    found: dict[str, descriptor_pb2.DescriptorProto] = {}

    def visit(message: descriptor_pb2.DescriptorProto, prefix: str) -> None:
        name = prefix + message.name
        found[name] = message
        for nested in message.nested_type:
            visit(nested, name + ".")

    for message in file.message_type:
        visit(message, "")
    return found


def enums_by_name(file: descriptor_pb2.FileDescriptorProto) -> dict[str, dict[str, int]]:
    found = {enum.name: {v.name: v.number for v in enum.value} for enum in file.enum_type}
    for name, message in messages_by_name(file).items():
        for enum in message.enum_type:
            found[f"{name}.{enum.name}"] = {v.name: v.number for v in enum.value}
    return found


def field_shape(
    message: descriptor_pb2.DescriptorProto, field: descriptor_pb2.FieldDescriptorProto
) -> dict[str, object]:
    # json_name is left out: embedded descriptors drop it, and it follows from the (compared) name.
    return {
        "number": field.number,
        "type": F.Type.Name(field.type),
        "type_name": field.type_name,
        "label": F.Label.Name(field.label),
        "proto3_optional": field.proto3_optional,
        "oneof": message.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None,
    }


def test_generated_code_is_up_to_date_with_proto_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(PROTO_DIR / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_our_proto_declares_the_zeebe_package_and_file_options(our_files: Files) -> None:
    theirs = file_proto(zeebe.DESCRIPTOR)
    mine = our_files["gateway.proto"]
    assert (mine.package, mine.syntax) == (theirs.package, theirs.syntax) == ("gateway_protocol", "proto3")
    assert mine.options.java_package == theirs.options.java_package


def test_every_zeebe_message_field_exists_identically_in_ours(our_files: Files) -> None:
    theirs = messages_by_name(file_proto(zeebe.DESCRIPTOR))
    mine = messages_by_name(our_files["gateway.proto"])
    problems = []
    for name, their_message in theirs.items():
        if name not in mine:
            problems.append(f"message {name} missing")
            continue
        my_fields = {f.name: f for f in mine[name].field}
        for field in their_message.field:
            if field.name not in my_fields:
                problems.append(f"{name}.{field.name} missing")
                continue
            expected = field_shape(their_message, field)
            actual = field_shape(mine[name], my_fields[field.name])
            if expected != actual:
                problems.append(f"{name}.{field.name}: ours {actual}, Zeebe's {expected}")
    assert not problems, "\n".join(problems)


def test_every_zeebe_enum_value_exists_identically_in_ours(our_files: Files) -> None:
    theirs = enums_by_name(file_proto(zeebe.DESCRIPTOR))
    mine = enums_by_name(our_files["gateway.proto"])
    for name, values in theirs.items():
        assert name in mine, f"enum {name} missing"
        assert {k: mine[name].get(k) for k in values} == values, name


def test_every_zeebe_rpc_exists_with_the_same_types_and_streaming(our_files: Files) -> None:
    (their_service,) = file_proto(zeebe.DESCRIPTOR).service
    (my_service,) = our_files["gateway.proto"].service
    assert my_service.name == their_service.name == "Gateway"

    def shape(method: descriptor_pb2.MethodDescriptorProto) -> tuple[str, str, bool, bool]:
        return (method.input_type, method.output_type, method.client_streaming, method.server_streaming)

    mine = {m.name: shape(m) for m in my_service.method}
    for method in their_service.method:
        assert mine.get(method.name) == shape(method), method.name
    assert mine["ActivateJobs"][3] and mine["StreamActivatedJobs"][3]


def test_zeebe_88_additions_have_their_zeebe_numbers_and_types(our_files: Files) -> None:
    mine = messages_by_name(our_files["gateway.proto"])
    for (message, field_name), expected in ZEEBE_88_ADDITIONS.items():
        (field,) = [f for f in mine[message].field if f.name == field_name]
        assert (field.number, field.type, field.label, field.proto3_optional) == expected, (
            message,
            field_name,
        )
    job_kinds = enums_by_name(our_files["gateway.proto"])["ActivatedJob.JobKind"]
    assert job_kinds == {
        "BPMN_ELEMENT": 0,
        "EXECUTION_LISTENER": 1,
        "TASK_LISTENER": 2,
        "AD_HOC_SUB_PROCESS": 3,
    }


def test_health_proto_matches_grpc_health_checking(our_files: Files) -> None:
    theirs = file_proto(health_pb2.DESCRIPTOR)
    mine = our_files["grpc/health/v1/health.proto"]
    assert mine.package == theirs.package == "grpc.health.v1"
    their_messages = messages_by_name(theirs)
    my_messages = messages_by_name(mine)
    for name in ("HealthCheckRequest", "HealthCheckResponse"):
        assert [field_shape(my_messages[name], f) for f in my_messages[name].field] == [
            field_shape(their_messages[name], f) for f in their_messages[name].field
        ]
    assert (
        enums_by_name(mine)["HealthCheckResponse.ServingStatus"]
        == enums_by_name(theirs)["HealthCheckResponse.ServingStatus"]
    )
    their_methods = {m.name: m for m in theirs.service[0].method}
    for method in mine.service[0].method:
        their = their_methods[method.name]
        assert (method.input_type, method.output_type, method.server_streaming) == (
            their.input_type,
            their.output_type,
            their.server_streaming,
        )
    assert {m.name for m in mine.service[0].method} == {"Check", "Watch"}


# ---------------------------------------------------------------- round trips through the wire


def test_activate_jobs_request_round_trips() -> None:
    theirs = zeebe.ActivateJobsRequest(
        type="payment",
        worker="w-1",
        timeout=30_000,
        maxJobsToActivate=32,
        fetchVariable=["orderId", "total"],
        requestTimeout=-1,
        tenantIds=["<default>", "acme"],
    )
    decoded = ours.ActivateJobsRequest().parse(theirs.SerializeToString())
    assert decoded == ours.ActivateJobsRequest(
        type="payment",
        worker="w-1",
        timeout=30_000,
        max_jobs_to_activate=32,
        fetch_variable=["orderId", "total"],
        request_timeout=-1,
        tenant_ids=["<default>", "acme"],
    )
    assert zeebe.ActivateJobsRequest.FromString(bytes(decoded)) == theirs


def test_activated_job_with_custom_headers_round_trips() -> None:
    headers = json.dumps({"retryPolicy": "fast", "emoji": "\u2713"})
    mine = ours.ActivateJobsResponse(
        jobs=[
            ours.ActivatedJob(
                key=2251799813685249,
                type="payment",
                process_instance_key=2251799813685251,
                bpmn_process_id="order",
                process_definition_version=3,
                process_definition_key=2251799813685248,
                element_id="charge",
                element_instance_key=2251799813685252,
                custom_headers=headers,
                worker="w-1",
                retries=3,
                deadline=1_700_000_000_000,
                variables='{"total": 12.5}',
                tenant_id="<default>",
            )
        ]
    )
    theirs = zeebe.ActivateJobsResponse.FromString(bytes(mine))
    (job,) = theirs.jobs
    assert (job.key, job.processInstanceKey, job.deadline) == (
        2251799813685249,
        2251799813685251,
        1_700_000_000_000,
    )
    assert json.loads(job.customHeaders) == {"retryPolicy": "fast", "emoji": "\u2713"}
    assert (job.bpmnProcessId, job.elementId, job.retries, job.tenantId) == (
        "order",
        "charge",
        3,
        "<default>",
    )
    assert ours.ActivateJobsResponse().parse(theirs.SerializeToString()) == mine


def test_create_process_instance_request_with_start_instructions_round_trips() -> None:
    theirs = zeebe.CreateProcessInstanceRequest(
        bpmnProcessId="order",
        version=-1,
        variables='{"orderId": "A-1"}',
        startInstructions=[
            zeebe.ProcessInstanceCreationStartInstruction(elementId="ship"),
            zeebe.ProcessInstanceCreationStartInstruction(elementId="bill"),
        ],
        tenantId="acme",
        operationReference=2**63 + 5,
    )
    decoded = ours.CreateProcessInstanceRequest().parse(theirs.SerializeToString())
    assert decoded.version == -1
    assert [s.element_id for s in decoded.start_instructions] == ["ship", "bill"]
    assert decoded.operation_reference == 2**63 + 5
    assert decoded.process_definition_key == 0
    assert zeebe.CreateProcessInstanceRequest.FromString(bytes(decoded)) == theirs


def test_unset_optional_fields_decode_as_none_and_stay_absent() -> None:
    theirs = zeebe.CancelProcessInstanceRequest(processInstanceKey=7)
    decoded = ours.CancelProcessInstanceRequest().parse(theirs.SerializeToString())
    assert decoded.operation_reference is None
    assert not zeebe.CancelProcessInstanceRequest.FromString(bytes(decoded)).HasField("operationReference")

    zero = zeebe.CancelProcessInstanceRequest(processInstanceKey=7, operationReference=0)
    assert ours.CancelProcessInstanceRequest().parse(zero.SerializeToString()).operation_reference == 0


def test_deploy_resource_response_oneof_metadata_round_trips() -> None:
    mine = ours.DeployResourceResponse(
        key=2251799813685250,
        tenant_id="<default>",
        deployments=[
            ours.Deployment(
                process=ours.ProcessMetadata(
                    bpmn_process_id="order",
                    version=1,
                    process_definition_key=2251799813685249,
                    resource_name="order.bpmn",
                    tenant_id="<default>",
                )
            ),
            ours.Deployment(
                decision=ours.DecisionMetadata(dmn_decision_id="discount", version=2, decision_key=42)
            ),
            ours.Deployment(form=ours.FormMetadata(form_id="f", form_key=43)),
        ],
    )
    theirs = zeebe.DeployResourceResponse.FromString(bytes(mine))
    assert [d.WhichOneof("Metadata") for d in theirs.deployments] == ["process", "decision", "form"]
    assert theirs.deployments[0].process.resourceName == "order.bpmn"
    assert theirs.deployments[1].decision.decisionKey == 42

    decoded = ours.DeployResourceResponse().parse(theirs.SerializeToString())
    assert [betterproto.which_one_of(d, "Metadata")[0] for d in decoded.deployments] == [
        "process",
        "decision",
        "form",
    ]
    assert decoded == mine


def test_health_messages_round_trip_with_grpc_health_checking() -> None:
    theirs = health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
    decoded = ours_health.HealthCheckResponse().parse(theirs.SerializeToString())
    assert decoded.status == ours_health.HealthCheckResponseServingStatus.NOT_SERVING
    request = ours_health.HealthCheckRequest(service="gateway_protocol.Gateway")
    assert health_pb2.HealthCheckRequest.FromString(bytes(request)).service == "gateway_protocol.Gateway"


# ---------------------------------------------------------------- over a real connection


class _TinyGateway(ours.GatewayBase):
    """Just enough of a gateway to prove method paths and streaming shapes line up."""

    async def topology(self, topology_request: ours.TopologyRequest) -> ours.TopologyResponse:
        return ours.TopologyResponse(cluster_size=1, partitions_count=1, gateway_version="8.8.0")

    async def activate_jobs(
        self, activate_jobs_request: ours.ActivateJobsRequest
    ) -> AsyncIterator[ours.ActivateJobsResponse]:
        for key in range(activate_jobs_request.max_jobs_to_activate):
            yield ours.ActivateJobsResponse(
                jobs=[ours.ActivatedJob(key=key, type=activate_jobs_request.type)]
            )


def test_a_grpcio_zeebe_client_talks_to_a_grpclib_server_built_on_our_classes() -> None:
    # asyncio on purpose: grpclib and grpc.aio both need it (the gateway host will bridge to Trio).
    async def exchange() -> tuple[zeebe.TopologyResponse, list[int], str]:
        server = grpclib.server.Server([_TinyGateway()])
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        await server.start(sock=listener)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                stub = gateway_pb2_grpc.GatewayStub(channel)
                topology = await stub.Topology(zeebe.TopologyRequest())
                keys = [
                    job.key
                    async for response in stub.ActivateJobs(
                        zeebe.ActivateJobsRequest(type="t", maxJobsToActivate=3)
                    )
                    for job in response.jobs
                ]
                with pytest.raises(grpc.aio.AioRpcError) as unimplemented:
                    await stub.CompleteJob(zeebe.CompleteJobRequest(jobKey=1))
                return topology, keys, unimplemented.value.code().name
            finally:
                # grpclib's close() cancels handlers but leaves accepted transports open, so
                # under `-W error` the GC'd socket raises a ResourceWarning (a host concern).
                server.close()
                await server.wait_closed()

    topology, keys, code = asyncio.run(exchange())
    assert (topology.clusterSize, topology.gatewayVersion) == (1, "8.8.0")
    assert keys == [0, 1, 2]
    assert code == "UNIMPLEMENTED"
