"""Hostile input through a real gRPC client (issue 8): refused at the edge, quickly, in a few words,
and never with INTERNAL."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import grpc
import pytest
import trio
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.gateway import BrokerCommand, BrokerError, RemoteBrokerPort
from zeebe_trio.protocol import IncidentIntent, Record, RecordType, ValueType, VariableDocumentIntent
from zeebe_trio.testing import BrokerHarness, one_task_bpmn, open_broker

from .conftest import Client

MAX_STATUS_MESSAGE_BYTES = 4096


async def _refused(client: Client, rpc: str, request: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        await client.call(rpc, request)
    return caught.value


async def test_a_megabyte_of_malformed_json_is_refused_at_once_quoting_an_excerpt_and_the_position(
        client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    malformed = '{"order": "' + "x" * 1_000_000  # an unterminated string
    started = time.monotonic()
    with trio.fail_after(10):  # echoed whole, HPACK took ~80 s to encode it and every client waited
        error = await _refused(client, "CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=malformed))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    assert len(details.encode()) < MAX_STATUS_MESSAGE_BYTES
    assert details.startswith("Property 'variables' is invalid: Invalid JSON value: '{\"order\": \"xxx")
    assert "(1000011 characters)" in details
    assert "Unterminated string starting at: line 1 column 11 (char 10)" in details
    # The gateway answers others at once afterwards.
    with trio.fail_after(5):
        assert (await client.call("Topology", pb.TopologyRequest())).brokers
    assert time.monotonic() - started < 10


async def test_json_with_a_lone_surrogate_is_an_invalid_argument_naming_where(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p"))
    error = await _refused(client, "CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"customer": {"name": "Ada \\ud800"}}'))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "Property 'variables' is invalid: the string at variables.customer.name holds the lone surrogate"
        " '\\ud800' at index 4, which is not Unicode text (UTF-8 cannot encode it; pair it or remove it)")
    # A surrogate pair is text like any other.
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables='{"emoji": "\\ud83d\\ude00"}'))
    assert created.processInstanceKey > 0


async def test_a_long_rejection_is_cut_to_a_bounded_grpc_message(client: Client) -> None:
    # Fifty unsupported resources with long names: each line quotes its name as an excerpt, and the
    # message as a whole is cut by the gateway's last line of defence.
    resources = [pb.Resource(name=f"{index:02d}-{'n' * 500}.txt", content=b"x") for index in range(50)]
    started = time.monotonic()
    error = await _refused(client, "DeployResource", pb.DeployResourceRequest(resources=resources))
    assert time.monotonic() - started < 10
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    assert len(details.encode()) <= MAX_STATUS_MESSAGE_BYTES
    assert details.startswith("Command 'CREATE' rejected with code 'INVALID_ARGUMENT': Expected to deploy new"
                              " resources, but encountered the following errors:\n'00-nnn")
    assert "…' (508 characters)" not in details  # resource names are cut BPMN-style, inside the quotes
    assert details.endswith(" bytes)") and "… (message cut: " in details


async def test_a_command_api_frame_with_values_json_cannot_hold_is_refused_before_the_log(tmp_path: Path) -> None:
    # MessagePack carries more than JSON: bytes keys, integers up to 2**64, NaN. Such a value once
    # became a rejection record that the DuckDB exporter could never encode, holding its partition
    # UNHEALTHY across restarts. The broker refuses it where commands enter, naming where it is.
    async with open_broker(tmp_path, command_api_enabled=True, command_api_port=0,
                           command_api_host="127.0.0.1") as harness:
        port = RemoteBrokerPort(("127.0.0.1", harness.broker.command_api_port), min_backoff=0.01, max_backoff=0.05)
        async with trio.open_nursery() as nursery:
            await nursery.start(port.run)
            cases = {
                "the object at variables has the key b'k', which is bytes, not a string": {b"k": 1},
                "the integer at variables.n does not fit in 64 bits: 18446744073709551615": {"n": 2**64 - 1},
                "the number at variables.x is nan, which JSON cannot hold": {"x": float("nan")},
            }
            for expected, variables in cases.items():
                command = BrokerCommand(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE,
                                        {"scopeKey": 2251799813685249, "updateSemantics": "LOCAL",
                                         "variables": variables})
                with pytest.raises(BrokerError) as refused:
                    await port.execute(1, command)
                assert refused.value.code == BrokerError.MALFORMED_REQUEST
                assert refused.value.message == (
                    f"Expected the value of command VARIABLE_DOCUMENT.UPDATE to be JSON data, but {expected}")
            nursery.cancel_scope.cancel()
        assert not [r for r in harness.records() if r.value_type is ValueType.VARIABLE_DOCUMENT]
        assert harness.broker.partitions[1].health


async def test_a_record_the_duckdb_exporter_cannot_encode_is_skipped_and_the_partition_recovers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A value with a bytes key on the log (written before the broker checked values where they enter,
    # or by a bug): the command, and the rejection that carries its value, cannot be encoded as JSON.
    # Once, the DuckDB exporter failed on them at every retry, for ever and across restarts.
    exporters = {"analytics": {"type": "duckdb", "skipRecordAfterFailures": 1,
                               "args": {"path": str(tmp_path / "export.duckdb"), "flushDelay": 0.05,
                                        "snapshotInterval": 0.0}}}
    with caplog.at_level(logging.ERROR, logger="zeebe_trio.exporters"):
        async with open_broker(tmp_path / "data", exporters=exporters) as harness:
            partition = harness.partition
            await harness.deploy("p.bpmn", one_task_bpmn("p"))
            partition.log_stream.append([Record(
                record_type=RecordType.COMMAND, value_type=ValueType.VARIABLE_DOCUMENT,
                intent=VariableDocumentIntent.UPDATE, key=-1, timestamp=0,
                value={"scopeKey": 2251799813685249, "updateSemantics": "LOCAL", "variables": {b"k": 1}})])
            rejection = await harness.wait_for_record(lambda r: r.is_rejection)
            after = await harness.create_instance("p")
            with trio.fail_after(20):
                await partition.exporters.wait_exported(after.position)
            [health] = partition.exporters.health()
            assert health.skipped_records == 2 and health.last_skipped_position == rejection.position
            assert partition.health  # HEALTHY again: the exporter moved on
            answer = await harness.broker.query_exporter(
                f"SELECT count(*) FILTER (WHERE position >= {rejection.position - 1} AND position <="
                f" {rejection.position}), count(*) FILTER (WHERE position > {rejection.position}) FROM records")
            assert answer.rows[0][0] == 0 and answer.rows[0][1] > 0
    skipped = [r.getMessage() for r in caplog.records if "skipped the record" in r.getMessage()]
    assert len(skipped) == 2
    assert f"skipped the record at position {rejection.position} (COMMAND_REJECTION VARIABLE_DOCUMENT.UPDATE)" \
        in skipped[1]
    assert "TypeError" in skipped[1] and "bytes" in skipped[1]
    # After a restart nothing holds it back: the position is past the record, compaction may pass it.
    async with open_broker(tmp_path / "data", exporters=exporters) as harness:
        partition = harness.partition
        more = await harness.create_instance("p")
        with trio.fail_after(20):
            await partition.exporters.wait_exported(more.position)
        assert partition.exporters.health()[0].skipped_records == 0
        assert partition.exporters.lowest_exported_position() >= more.position
        assert partition.health


INT64_MAX = 2**63 - 1
LATEST_DUE_TIME = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


async def test_durations_of_int64_max_mean_never_instead_of_an_internal_error(client: Client) -> None:
    # now + duration passed 2**63, which no state key holds: PROCESSING_ERROR, INTERNAL to the client.
    published = await client.call("PublishMessage", pb.PublishMessageRequest(
        name="m", correlationKey="k", timeToLive=INT64_MAX, messageId="once"))
    assert published.key > 0
    await client.deploy("p.bpmn", one_task_bpmn("p", "forever"))
    await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p", version=-1))
    [job] = await client.activate("forever", timeout_ms=INT64_MAX)
    assert job.deadline == LATEST_DUE_TIME
    await client.call("UpdateJobTimeout", pb.UpdateJobTimeoutRequest(jobKey=job.key, timeout=INT64_MAX))
    await client.call("FailJob", pb.FailJobRequest(jobKey=job.key, retries=2, retryBackOff=INT64_MAX))
    assert await client.activate("forever") == []  # backing off until the year 9999
    topology = await client.call("Topology", pb.TopologyRequest())
    assert topology.brokers[0].partitions[0].health == pb.Partition.PartitionBrokerHealth.HEALTHY


async def test_ids_and_job_types_too_long_for_a_state_key_are_refused_at_deployment(client: Client) -> None:
    # A 500 KB process id was INTERNAL: MDB_BAD_VALSIZE, LMDB keys hold at most 511 bytes.
    error = await _refused(client, "DeployResource", pb.DeployResourceRequest(
        resources=[pb.Resource(name="long.bpmn", content=one_task_bpmn("p" * 500_000))]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "IDs must not be longer than the max-id-length of 200 characters, but this one has 500000" \
        in error.details()
    assert "process 'ppppp" in error.details() and len(error.details()) < 1000
    # 200 characters fit, as long as their bytes fit the keys built from them.
    assert (await client.deploy("ok.bpmn", one_task_bpmn("p" * 200))).deployments
    error = await _refused(client, "DeployResource", pb.DeployResourceRequest(
        resources=[pb.Resource(name="wide.bpmn", content=one_task_bpmn("\U0001d49c" * 150))]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Expected the process id to be at most 500 bytes long (in UTF-8), but" in error.details()
    assert "is 600 bytes" in error.details()
    error = await _refused(client, "DeployResource", pb.DeployResourceRequest(
        resources=[pb.Resource(name="type.bpmn", content=one_task_bpmn("p", "t" * 600))]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "service task 'task1': Expected the job type to be at most 500 bytes long" in error.details()


async def test_client_strings_too_long_for_a_state_key_are_refused_and_never_internal(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "work"))
    long_name = "n" * 600
    cases = [
        ("PublishMessage", pb.PublishMessageRequest(name="m", correlationKey="k", messageId="i" * 600,
                                                    timeToLive=1000),
         grpc.StatusCode.INVALID_ARGUMENT, "Expected the message name, correlation key and message id to take at"
                                           " most 505 bytes together (in UTF-8), but they take 602"),
        ("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p" * 600, version=-1),
         grpc.StatusCode.NOT_FOUND, "Expected to find process definition with process ID 'ppp"),
        ("CreateProcessInstance", pb.CreateProcessInstanceRequest(
            bpmnProcessId="p", version=-1, variables=json.dumps({long_name: 1})),
         grpc.StatusCode.INVALID_ARGUMENT, "Expected a variable name to be at most 500 bytes long (in UTF-8), but"
                                           " 'nnn"),
    ]
    for rpc, request, code, message in cases:
        error = await _refused(client, rpc, request)
        assert error.code() == code and message in error.details(), (rpc, error.details())
    with pytest.raises(grpc.RpcError) as caught:
        await client.stream("ActivateJobs", pb.ActivateJobsRequest(
            type="t" * 600, worker="w", timeout=1000, maxJobsToActivate=1, requestTimeout=-1))
    error = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Expected the job type to be at most 500 bytes long (in UTF-8), but 'ttt" in error.details()
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(bpmnProcessId="p",
                                                                                        version=-1))
    error = await _refused(client, "SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=created.processInstanceKey, variables=json.dumps({long_name: 1})))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "a variable name" in error.details()
    [job] = await client.activate("work")
    error = await _refused(client, "CompleteJob", pb.CompleteJobRequest(
        jobKey=job.key, variables=json.dumps({long_name: 1})))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "a variable name" in error.details()
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))  # the job is still there


async def test_a_job_type_from_feel_too_long_for_a_state_key_raises_an_incident(client: Client) -> None:
    await client.deploy("p.bpmn", one_task_bpmn("p", "=jobType"))
    created = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=json.dumps({"jobType": "t" * 600})))
    harness = BrokerHarness(client.broker)  # type: ignore[attr-defined]
    with trio.fail_after(10):
        incident = await harness.wait_for_record(
            lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED)
    assert incident.value["errorType"] == "EXTRACT_VALUE_ERROR"
    assert incident.value["errorMessage"].startswith(
        "Expected the job type to be at most 500 bytes long (in UTF-8), but 'ttt")
    assert incident.value["errorMessage"].endswith("(the value of the job type expression '=jobType')")
    # Fixed and resolved, the task creates its job.
    await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=created.processInstanceKey, variables='{"jobType": "short"}'))
    await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident.key))
    [job] = await client.activate("short", request_timeout_ms=5_000)
    assert job.processInstanceKey == created.processInstanceKey


async def test_a_job_too_large_for_a_message_gets_an_incident_and_the_others_still_activate(client: Client) -> None:
    # Its variables (set in two requests, each under the 4 MB message limit) make the job larger than
    # any response can carry: it was sent anyway and failed every poll. Now, as in Zeebe, it gets a
    # MESSAGE_SIZE_EXCEEDED incident and the other jobs of its type are activated.
    await client.deploy("p.bpmn", one_task_bpmn("p", "big"))
    large = await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=json.dumps({"a": "x" * 3_000_000})))
    await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=large.processInstanceKey, variables=json.dumps({"b": "y" * 2_500_000})))
    small = [await client.call("CreateProcessInstance", pb.CreateProcessInstanceRequest(
        bpmnProcessId="p", version=-1, variables=json.dumps({"n": n}))) for n in range(2)]
    jobs = await client.activate("big", max_jobs=10)
    assert sorted(job.processInstanceKey for job in jobs) == sorted(s.processInstanceKey for s in small)
    harness = BrokerHarness(client.broker)  # type: ignore[attr-defined]
    incident = await harness.wait_for_record(
        lambda r: r.value_type is ValueType.INCIDENT and r.intent is IncidentIntent.CREATED)
    assert incident.value["errorType"] == "MESSAGE_SIZE_EXCEEDED"
    assert incident.value["processInstanceKey"] == large.processInstanceKey
    assert incident.value["errorMessage"].startswith(
        f"The job with key '{incident.value['jobKey']}' can not be activated, because with 5.2 MB it is larger"
        " than the configured message size (per default is 4 MB).")
    assert await client.activate("big") == []  # disabled until the incident is resolved
    # Smaller variables, the incident resolved: the job is activated, once.
    await client.call("SetVariables", pb.SetVariablesRequest(
        elementInstanceKey=large.processInstanceKey, variables='{"a": "x", "b": "y"}'))
    await client.call("ResolveIncident", pb.ResolveIncidentRequest(incidentKey=incident.key))
    [job] = await client.activate("big", request_timeout_ms=5_000)
    assert job.key == incident.value["jobKey"] and json.loads(job.variables) == {"a": "x", "b": "y"}
    await client.call("CompleteJob", pb.CompleteJobRequest(jobKey=job.key))
