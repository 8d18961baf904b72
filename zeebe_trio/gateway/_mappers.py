"""Requests to broker command values, response records to gRPC messages.

Pure functions, no I/O. Field names on the broker side are Zeebe's camelCase record fields; on the
gRPC side betterproto's snake_case. JSON text fields follow Zeebe's gateway: an empty string means
``{}``; anything but a JSON object is INVALID_ARGUMENT naming the property; responses always carry a
JSON object (``{}`` when empty).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import betterproto

from zeebe_trio.protocol import EXCERPT_LIMIT, MAX_VALUE_DEPTH, Record, excerpt, value_problem

from . import _errors
from ._generated import gateway_protocol as pb
from ._port import ClusterTopology

DEFAULT_TENANT = "<default>"

# Zeebe reports the msgpack type a non-object document had; these are the names it uses.
_DOCUMENT_TYPE_NAMES: dict[type, str] = {
    list: "ARRAY",
    str: "STRING",
    bool: "BOOLEAN",
    int: "INTEGER",
    float: "FLOAT",
    type(None): "NIL",
}


_INT64 = 1 << 63


def _parse_int(text: str) -> int | float:
    # Records are MessagePack, whose integers are 64 bits: larger JSON integers become doubles,
    # as Zeebe's JSON-to-MessagePack conversion does.
    try:
        value = int(text)
        return value if -_INT64 <= value < _INT64 else float(value)
    except (ValueError, OverflowError):  # beyond any double (or the 4300 digits Python converts)
        raise ValueError(f"the number {excerpt(text, 40)} is out of range") from None


def _parse_float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {excerpt(text, 40)} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_error(text: str, error: Exception) -> str:
    """What is wrong with ``text``, quoting only excerpts: its start, and where the parser stopped."""
    problem = f"Invalid JSON value: {excerpt(text)}: {str(error)[:200]}"  # our parser's words: short
    if isinstance(error, json.JSONDecodeError) and error.pos > EXCERPT_LIMIT // 2:
        problem += f", near {excerpt(text[max(0, error.pos - 30):error.pos + 30])}"
    return problem


def parse_document(text: str, property_name: str = "variables") -> dict[str, Any]:
    """A request's JSON object field as a dict; ``""`` (or blank) is ``{}``.

    Zeebe's gateway quotes the whole document when it does not parse; this one quotes its start and
    the text around the error, so a megabyte of bad JSON never becomes a megabyte of ``grpc-message``.
    """
    if not text or not text.strip():
        return {}
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                              parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        if isinstance(error, RecursionError):
            error = ValueError(f"it nests too deeply (documents nest at most {MAX_VALUE_DEPTH} levels)")
        raise _errors.invalid_argument(
            f"Property '{property_name}' is invalid: {_json_error(text, error)}"
        ) from None
    if not isinstance(document, dict):
        type_name = _DOCUMENT_TYPE_NAMES.get(type(document), type(document).__name__.upper())
        raise _errors.invalid_argument(
            f"Property '{property_name}' is invalid: Expected document to be a root level object, "
            f"but was '{type_name}'"
        )
    # JSON text can still say what a record cannot hold: lone surrogates ("\ud800"), deep nesting.
    problem = value_problem(document, root=property_name)
    if problem is not None:
        raise _errors.invalid_argument(f"Property '{property_name}' is invalid: {problem}")
    return document


def dump_document(document: Mapping[str, Any] | None) -> str:
    """A response's JSON object field: compact, ``{}`` when empty."""
    if not document:
        return "{}"
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def ensure_tenant(rpc: str, tenant_id: str) -> str:
    """Multi-tenancy is off: no tenant means the default one, any other tenant is refused (as Zeebe does)."""
    if not tenant_id or tenant_id == DEFAULT_TENANT:
        return DEFAULT_TENANT
    raise _errors.invalid_argument(
        f"Expected to handle gRPC request {rpc} with tenant identifier {excerpt(tenant_id)}, "
        "but multi-tenancy is disabled"
    )


def ensure_tenants(rpc: str, tenant_ids: Sequence[str]) -> list[str]:
    if not tenant_ids:
        return [DEFAULT_TENANT]
    return sorted({ensure_tenant(rpc, tenant_id) for tenant_id in tenant_ids})


# -- responses ---------------------------------------------------------------------------------


def topology_response(topology: ClusterTopology) -> pb.TopologyResponse:
    return pb.TopologyResponse(
        brokers=[
            pb.BrokerInfo(
                node_id=broker.node_id,
                host=broker.host,
                port=broker.port,
                version=broker.version,
                partitions=[
                    pb.Partition(
                        partition_id=partition.partition_id,
                        # Map by name: the proto numbers HEALTHY/UNHEALTHY differently from our enum.
                        role=pb.PartitionPartitionBrokerRole[partition.role.name],
                        health=pb.PartitionPartitionBrokerHealth[partition.health.name],
                    )
                    for partition in broker.partitions
                ],
            )
            for broker in topology.brokers
        ],
        cluster_size=topology.cluster_size,
        partitions_count=topology.partitions_count,
        replication_factor=topology.replication_factor,
        gateway_version=topology.gateway_version,
    )


def process_metadata(metadata: Mapping[str, Any]) -> pb.ProcessMetadata:
    return pb.ProcessMetadata(
        bpmn_process_id=metadata.get("bpmnProcessId", ""),
        version=metadata.get("version", 0),
        process_definition_key=metadata.get("processDefinitionKey", 0),
        resource_name=metadata.get("resourceName", ""),
        tenant_id=metadata.get("tenantId", DEFAULT_TENANT),
    )


def _deployments(value: Mapping[str, Any]) -> Iterable[pb.Deployment]:
    for metadata in value.get("processesMetadata", ()):
        yield pb.Deployment(process=process_metadata(metadata))
    for metadata in value.get("decisionsMetadata", ()):
        yield pb.Deployment(
            decision=pb.DecisionMetadata(
                dmn_decision_id=metadata.get("decisionId", ""),
                dmn_decision_name=metadata.get("decisionName", ""),
                version=metadata.get("version", 0),
                decision_key=metadata.get("decisionKey", 0),
                dmn_decision_requirements_id=metadata.get("decisionRequirementsId", ""),
                decision_requirements_key=metadata.get("decisionRequirementsKey", 0),
                tenant_id=metadata.get("tenantId", DEFAULT_TENANT),
            )
        )
    for metadata in value.get("decisionRequirementsMetadata", ()):
        yield pb.Deployment(
            decision_requirements=pb.DecisionRequirementsMetadata(
                dmn_decision_requirements_id=metadata.get("decisionRequirementsId", ""),
                dmn_decision_requirements_name=metadata.get("decisionRequirementsName", ""),
                version=metadata.get("decisionRequirementsVersion", metadata.get("version", 0)),
                decision_requirements_key=metadata.get("decisionRequirementsKey", 0),
                resource_name=metadata.get("resourceName", ""),
                tenant_id=metadata.get("tenantId", DEFAULT_TENANT),
            )
        )
    for metadata in value.get("formMetadata", ()):
        yield pb.Deployment(
            form=pb.FormMetadata(
                form_id=metadata.get("formId", ""),
                version=metadata.get("version", 0),
                form_key=metadata.get("formKey", 0),
                resource_name=metadata.get("resourceName", ""),
                tenant_id=metadata.get("tenantId", DEFAULT_TENANT),
            )
        )


def deploy_resource_response(record: Record) -> pb.DeployResourceResponse:
    return pb.DeployResourceResponse(
        key=record.key,
        deployments=list(_deployments(record.value)),
        tenant_id=record.value.get("tenantId", DEFAULT_TENANT),
    )


def _evaluated_decision(value: Mapping[str, Any]) -> pb.EvaluatedDecision:
    return pb.EvaluatedDecision(
        decision_key=value.get("decisionKey", 0),
        decision_id=value.get("decisionId", ""),
        decision_name=value.get("decisionName", ""),
        decision_version=value.get("decisionVersion", 0),
        decision_type=value.get("decisionType", ""),
        decision_output=value.get("decisionOutput", ""),
        matched_rules=[
            pb.MatchedDecisionRule(
                rule_id=rule.get("ruleId", ""),
                rule_index=rule.get("ruleIndex", 0),
                evaluated_outputs=[
                    pb.EvaluatedDecisionOutput(
                        output_id=output.get("outputId", ""),
                        output_name=output.get("outputName", ""),
                        output_value=output.get("outputValue", ""),
                    )
                    for output in rule.get("evaluatedOutputs", ())
                ],
            )
            for rule in value.get("matchedRules", ())
        ],
        evaluated_inputs=[
            pb.EvaluatedDecisionInput(
                input_id=entry.get("inputId", ""),
                input_name=entry.get("inputName", ""),
                input_value=entry.get("inputValue", ""),
            )
            for entry in value.get("evaluatedInputs", ())
        ],
        tenant_id=value.get("tenantId", DEFAULT_TENANT),
        decision_evaluation_instance_key=value.get("decisionEvaluationInstanceKey", ""),
    )


def evaluate_decision_response(record: Record) -> pb.EvaluateDecisionResponse:
    """A DECISION_EVALUATION EVALUATED or FAILED event as Zeebe's gateway answers it (a failed evaluation
    is an answer too: ``failed_decision_id`` and ``failure_message`` say why)."""
    value = record.value
    return pb.EvaluateDecisionResponse(
        decision_key=value.get("decisionKey", 0),
        decision_id=value.get("decisionId", ""),
        decision_name=value.get("decisionName", ""),
        decision_version=value.get("decisionVersion", 0),
        decision_requirements_id=value.get("decisionRequirementsId", ""),
        decision_requirements_key=value.get("decisionRequirementsKey", 0),
        decision_output=value.get("decisionOutput", ""),
        evaluated_decisions=[_evaluated_decision(entry) for entry in value.get("evaluatedDecisions", ())],
        failed_decision_id=value.get("failedDecisionId", ""),
        failure_message=value.get("evaluationFailureMessage", ""),
        tenant_id=value.get("tenantId", DEFAULT_TENANT),
        decision_instance_key=record.key,
        decision_evaluation_key=record.key,
    )


def deploy_process_response(record: Record) -> pb.DeployProcessResponse:
    return pb.DeployProcessResponse(
        key=record.key,
        processes=[process_metadata(metadata) for metadata in record.value.get("processesMetadata", ())],
    )


def create_process_instance_response(record: Record) -> pb.CreateProcessInstanceResponse:
    value = record.value
    return pb.CreateProcessInstanceResponse(
        process_definition_key=value["processDefinitionKey"],
        bpmn_process_id=value["bpmnProcessId"],
        version=value["version"],
        process_instance_key=value["processInstanceKey"],
        tenant_id=value.get("tenantId", DEFAULT_TENANT),
    )


def create_process_instance_with_result_response(
    record: Record, fetch_variables: Sequence[str]
) -> pb.CreateProcessInstanceWithResultResponse:
    value = record.value
    variables = value.get("variables") or {}
    if fetch_variables:  # the engine filters already; filtering again keeps the contract if it did not
        variables = {name: variables[name] for name in fetch_variables if name in variables}
    return pb.CreateProcessInstanceWithResultResponse(
        process_definition_key=value["processDefinitionKey"],
        bpmn_process_id=value["bpmnProcessId"],
        version=value["version"],
        process_instance_key=value["processInstanceKey"],
        variables=dump_document(variables),
        tenant_id=value.get("tenantId", DEFAULT_TENANT),
    )


def activated_job(job_key: int, job: Mapping[str, Any]) -> pb.ActivatedJob:
    return pb.ActivatedJob(
        key=job_key,
        type=job.get("type", ""),
        process_instance_key=job.get("processInstanceKey", 0),
        bpmn_process_id=job.get("bpmnProcessId", ""),
        process_definition_version=job.get("processDefinitionVersion", 0),
        process_definition_key=job.get("processDefinitionKey", 0),
        element_id=job.get("elementId", ""),
        element_instance_key=job.get("elementInstanceKey", 0),
        custom_headers=dump_document(job.get("customHeaders")),
        worker=job.get("worker", ""),
        retries=job.get("retries", 0),
        deadline=job.get("deadline", 0),
        variables=dump_document(job.get("variables")),
        tenant_id=job.get("tenantId", DEFAULT_TENANT),
    )


def activated_jobs(batch: Mapping[str, Any]) -> list[pb.ActivatedJob]:
    """The jobs of a ``JOB_BATCH.ACTIVATED`` value (``jobKeys`` and ``jobs`` are parallel lists)."""
    return [
        activated_job(key, job)
        for key, job in zip(batch.get("jobKeys", ()), batch.get("jobs", ()), strict=True)
    ]


def runtime_instructions(instructions: Sequence[pb.ProcessInstanceCreationRuntimeInstruction]) -> list[dict[str, Any]]:
    """CreateProcessInstance's ``runtimeInstructions`` as the creation record holds them: each a
    ``terminate`` instruction, TERMINATE_PROCESS_INSTANCE after its ``afterElementId`` (Zeebe's
    BrokerCreateProcessInstanceRequest); one that sets no instruction is INVALID_ARGUMENT."""
    mapped = []
    for instruction in instructions:
        kind, terminate = betterproto.which_one_of(instruction, "instruction")
        if kind != "terminate" or not isinstance(terminate, pb.TerminateProcessInstanceInstruction):
            raise _errors.invalid_argument(
                "Unsupported runtime instruction type: INSTRUCTION_NOT_SET; set 'terminate' with the"
                " 'afterElementId' of the element after which to terminate the process instance")
        mapped.append({"type": "TERMINATE_PROCESS_INSTANCE", "afterElementId": terminate.after_element_id})
    return mapped
