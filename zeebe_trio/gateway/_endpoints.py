"""The gateway's request handling, on the Trio side (Zeebe's ``EndpointManager``).

One coroutine per supported RPC: validate and map the request, route it to a partition, send the
command through the broker port, map the response record. Failures leave as ``grpclib.GRPCError``
(see ``_errors``). Nothing here knows about asyncio: ``_host`` carries requests over from grpclib.
"""

from __future__ import annotations

from typing import Any, cast

import trio

from zeebe_trio.protocol import (
    DecisionEvaluationIntent,
    DeploymentIntent,
    IncidentIntent,
    Intent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    ProcessInstanceIntent,
    ProcessInstanceMigrationIntent,
    ProcessInstanceModificationIntent,
    ResourceDeletionIntent,
    SignalIntent,
    ValueType,
    VariableDocumentIntent,
    excerpt,
)

from . import _errors, _jobs, _mappers
from ._generated import gateway_protocol as pb
from ._generated.grpc.health import v1 as health
from ._port import BrokerCommand, BrokerPort
from ._routing import Router

# CreateProcessInstanceWithResult without a requestTimeout waits this long (Zeebe's gateway default).
DEFAULT_REQUEST_TIMEOUT = 15.0

SERVED_HEALTH_SERVICES = frozenset({"", "gateway_protocol.Gateway"})
# Looked up by name: mypy does not see betterproto's enum members as enum values.
_SERVING = cast(health.HealthCheckResponseServingStatus, health.HealthCheckResponseServingStatus.SERVING)
_SERVICE_UNKNOWN = cast(
    health.HealthCheckResponseServingStatus, health.HealthCheckResponseServingStatus.SERVICE_UNKNOWN
)


class Endpoints:
    """Everything a ``GatewayServicer`` delegates to, bound to one broker port."""

    def __init__(
        self,
        port: BrokerPort,
        *,
        long_polling_timeout: float = _jobs.DEFAULT_LONG_POLLING_TIMEOUT,
        job_stream_buffer: int = _jobs.DEFAULT_STREAM_BUFFER,
    ) -> None:
        self._port = port
        self._router = Router(port)
        self.jobs = _jobs.JobActivator(self._router, default_long_polling_timeout=long_polling_timeout)
        self._job_stream_buffer = job_stream_buffer

    # -- cluster -------------------------------------------------------------------------------

    async def topology(self, request: pb.TopologyRequest) -> pb.TopologyResponse:
        return _mappers.topology_response(self._port.topology())

    async def health_check(self, request: health.HealthCheckRequest) -> health.HealthCheckResponse:
        if request.service not in SERVED_HEALTH_SERVICES:
            raise _errors.not_found(
                f"Unknown service {excerpt(request.service)}: this server serves 'gateway_protocol.Gateway'"
            )
        return health.HealthCheckResponse(status=_SERVING)

    async def health_watch(self, request: health.HealthCheckRequest, emit: _jobs.Emit) -> None:
        if request.service not in SERVED_HEALTH_SERVICES:
            await emit(health.HealthCheckResponse(status=_SERVICE_UNKNOWN))
        else:
            await emit(health.HealthCheckResponse(status=_SERVING))
        await trio.sleep_forever()  # the status never changes while we serve; shutdown ends the stream

    # -- deployments ---------------------------------------------------------------------------

    async def _deploy(self, resources: list[dict[str, Any]], tenant_id: str) -> Any:
        command = BrokerCommand(
            ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {"resources": resources, "tenantId": tenant_id}
        )
        return await self._router.execute(self._router.first_partition(), command)

    async def deploy_resource(self, request: pb.DeployResourceRequest) -> pb.DeployResourceResponse:
        tenant_id = _mappers.ensure_tenant("DeployResource", request.tenant_id)
        resources = [
            {"resourceName": resource.name, "resource": resource.content} for resource in request.resources
        ]
        return _mappers.deploy_resource_response(await self._deploy(resources, tenant_id))

    async def deploy_process(self, request: pb.DeployProcessRequest) -> pb.DeployProcessResponse:
        resources = [
            {"resourceName": process.name, "resource": process.definition} for process in request.processes
        ]
        return _mappers.deploy_process_response(await self._deploy(resources, _mappers.DEFAULT_TENANT))

    # -- process instances ---------------------------------------------------------------------

    def _creation_value(self, rpc: str, request: pb.CreateProcessInstanceRequest) -> dict[str, Any]:
        if request.process_definition_key <= 0 and not request.bpmn_process_id:
            raise _errors.invalid_argument(
                f"Expected {rpc} to name a process: set 'processDefinitionKey', or 'bpmnProcessId' "
                "(with 'version', -1 for the latest)"
            )
        by_key = request.process_definition_key > 0
        return {
            "bpmnProcessId": "" if by_key else request.bpmn_process_id,
            "version": -1 if by_key else request.version,
            "processDefinitionKey": request.process_definition_key if by_key else -1,
            "variables": _mappers.parse_document(request.variables),
            "startInstructions": [{"elementId": instruction.element_id}
                                  for instruction in request.start_instructions],
            "runtimeInstructions": _mappers.runtime_instructions(request.runtime_instructions),
            "fetchVariables": [],
            "tenantId": _mappers.ensure_tenant(rpc, request.tenant_id),
        }

    async def create_process_instance(
        self, request: pb.CreateProcessInstanceRequest
    ) -> pb.CreateProcessInstanceResponse:
        value = self._creation_value("CreateProcessInstance", request)
        command = BrokerCommand(
            ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, value
        )
        record = await self._router.execute(self._router.round_robin(), command)
        return _mappers.create_process_instance_response(record)

    async def create_process_instance_with_result(
        self, request: pb.CreateProcessInstanceWithResultRequest
    ) -> pb.CreateProcessInstanceWithResultResponse:
        inner = request.request if request.request is not None else pb.CreateProcessInstanceRequest()
        value = self._creation_value("CreateProcessInstanceWithResult", inner)
        value["fetchVariables"] = list(request.fetch_variables)
        command = BrokerCommand(
            ValueType.PROCESS_INSTANCE_CREATION,
            ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT,
            value,
        )
        timeout = request.request_timeout / 1000 if request.request_timeout > 0 else DEFAULT_REQUEST_TIMEOUT
        record = await self._router.execute(self._router.round_robin(), command, timeout=timeout)
        return _mappers.create_process_instance_with_result_response(record, request.fetch_variables)

    async def cancel_process_instance(
        self, request: pb.CancelProcessInstanceRequest
    ) -> pb.CancelProcessInstanceResponse:
        key = request.process_instance_key
        await self._on_key(
            key,
            "processInstanceKey",
            "cancel process instance",
            ValueType.PROCESS_INSTANCE,
            ProcessInstanceIntent.CANCEL,
            {},
        )
        return pb.CancelProcessInstanceResponse()

    async def modify_process_instance(
        self, request: pb.ModifyProcessInstanceRequest
    ) -> pb.ModifyProcessInstanceResponse:
        # operationReference is accepted and ignored (zeebe-trio has no batch operations to tag).
        key = request.process_instance_key
        value = {
            "processInstanceKey": key,
            "activateInstructions": [
                {
                    "elementId": activate.element_id,
                    "ancestorScopeKey": activate.ancestor_element_instance_key
                    if activate.ancestor_element_instance_key > 0
                    else -1,
                    "variableInstructions": [
                        {"variables": _mappers.parse_document(variable.variables), "elementId": variable.scope_id}
                        for variable in activate.variable_instructions
                    ],
                }
                for activate in request.activate_instructions
            ],
            "terminateInstructions": [
                {"elementInstanceKey": terminate.element_instance_key}
                for terminate in request.terminate_instructions
            ],
        }
        await self._on_key(
            key,
            "processInstanceKey",
            "modify process instance",
            ValueType.PROCESS_INSTANCE_MODIFICATION,
            ProcessInstanceModificationIntent.MODIFY,
            value,
        )
        return pb.ModifyProcessInstanceResponse()

    async def migrate_process_instance(
        self, request: pb.MigrateProcessInstanceRequest
    ) -> pb.MigrateProcessInstanceResponse:
        # operationReference is accepted and ignored (zeebe-trio has no batch operations to tag).
        key = request.process_instance_key
        plan = request.migration_plan
        value = {
            "processInstanceKey": key,
            "targetProcessDefinitionKey": plan.target_process_definition_key if plan is not None else -1,
            "mappingInstructions": [
                {"sourceElementId": mapping.source_element_id, "targetElementId": mapping.target_element_id}
                for mapping in (plan.mapping_instructions if plan is not None else [])
            ],
        }
        await self._on_key(
            key,
            "processInstanceKey",
            "migrate process instance",
            ValueType.PROCESS_INSTANCE_MIGRATION,
            ProcessInstanceMigrationIntent.MIGRATE,
            value,
        )
        return pb.MigrateProcessInstanceResponse()

    async def set_variables(self, request: pb.SetVariablesRequest) -> pb.SetVariablesResponse:
        key = request.element_instance_key
        value = {
            "scopeKey": key,
            "updateSemantics": "LOCAL" if request.local else "PROPAGATE",
            "variables": _mappers.parse_document(request.variables),
        }
        partition_id = self._router.for_key(key, "elementInstanceKey", "update variables of element instance")
        command = BrokerCommand(ValueType.VARIABLE_DOCUMENT, VariableDocumentIntent.UPDATE, value)
        record = await self._router.execute(partition_id, command)
        return pb.SetVariablesResponse(key=record.key)

    async def resolve_incident(self, request: pb.ResolveIncidentRequest) -> pb.ResolveIncidentResponse:
        await self._on_key(
            request.incident_key,
            "incidentKey",
            "resolve incident",
            ValueType.INCIDENT,
            IncidentIntent.RESOLVE,
            {},
        )
        return pb.ResolveIncidentResponse()

    # -- jobs ----------------------------------------------------------------------------------

    async def activate_jobs(self, request: pb.ActivateJobsRequest, emit: _jobs.Emit) -> None:
        await self.jobs.activate(request, emit)

    async def stream_activated_jobs(self, request: pb.StreamActivatedJobsRequest, emit: _jobs.Emit) -> None:
        await _jobs.stream_jobs(self._port, request, emit, capacity=self._job_stream_buffer)

    async def _on_job(self, job_key: int, action: str, intent: Intent, value: dict[str, Any]) -> None:
        await self._on_key(job_key, "jobKey", action, ValueType.JOB, intent, value)

    async def complete_job(self, request: pb.CompleteJobRequest) -> pb.CompleteJobResponse:
        if request.result is not None:
            raise _errors.unimplemented("CompleteJob", "a job result (task listener or ad-hoc sub-process)")
        value = {"variables": _mappers.parse_document(request.variables)}
        await self._on_job(request.job_key, "complete job", JobIntent.COMPLETE, value)
        return pb.CompleteJobResponse()

    async def fail_job(self, request: pb.FailJobRequest) -> pb.FailJobResponse:
        value = {
            "retries": request.retries,
            "errorMessage": request.error_message,
            "retryBackoff": request.retry_back_off,
            "variables": _mappers.parse_document(request.variables),
        }
        await self._on_job(request.job_key, "fail job", JobIntent.FAIL, value)
        return pb.FailJobResponse()

    async def throw_error(self, request: pb.ThrowErrorRequest) -> pb.ThrowErrorResponse:
        value = {
            "errorCode": request.error_code,
            "errorMessage": request.error_message,
            "variables": _mappers.parse_document(request.variables),
        }
        await self._on_job(request.job_key, "throw error for job", JobIntent.THROW_ERROR, value)
        return pb.ThrowErrorResponse()

    async def update_job_retries(self, request: pb.UpdateJobRetriesRequest) -> pb.UpdateJobRetriesResponse:
        value = {"retries": request.retries}
        await self._on_job(request.job_key, "update retries of job", JobIntent.UPDATE_RETRIES, value)
        return pb.UpdateJobRetriesResponse()

    async def update_job_timeout(self, request: pb.UpdateJobTimeoutRequest) -> pb.UpdateJobTimeoutResponse:
        value = {"timeout": request.timeout}
        await self._on_job(request.job_key, "update timeout of job", JobIntent.UPDATE_TIMEOUT, value)
        return pb.UpdateJobTimeoutResponse()

    # -- messages and signals ------------------------------------------------------------------

    async def publish_message(self, request: pb.PublishMessageRequest) -> pb.PublishMessageResponse:
        if not request.name.strip():
            raise _errors.invalid_argument("Expected to publish a message with a 'name', but it was blank")
        tenant_id = _mappers.ensure_tenant("PublishMessage", request.tenant_id)
        value = {
            "name": request.name,
            "correlationKey": request.correlation_key,
            "timeToLive": request.time_to_live,
            "messageId": request.message_id,
            "variables": _mappers.parse_document(request.variables),
            "tenantId": tenant_id,
        }
        command = BrokerCommand(ValueType.MESSAGE, MessageIntent.PUBLISH, value)
        record = await self._router.execute(self._router.for_message(request.correlation_key), command)
        return pb.PublishMessageResponse(key=record.key, tenant_id=tenant_id)

    async def broadcast_signal(self, request: pb.BroadcastSignalRequest) -> pb.BroadcastSignalResponse:
        tenant_id = _mappers.ensure_tenant("BroadcastSignal", request.tenant_id)
        value = {
            "signalName": request.signal_name,
            "variables": _mappers.parse_document(request.variables),
            "tenantId": tenant_id,
        }
        command = BrokerCommand(ValueType.SIGNAL, SignalIntent.BROADCAST, value)
        record = await self._router.execute(self._router.first_partition(), command)
        return pb.BroadcastSignalResponse(key=record.key, tenant_id=tenant_id)

    # -- decisions -----------------------------------------------------------------------------

    async def evaluate_decision(self, request: pb.EvaluateDecisionRequest) -> pb.EvaluateDecisionResponse:
        """Deployments live on the first partition, so decisions are evaluated there."""
        tenant_id = _mappers.ensure_tenant("EvaluateDecision", request.tenant_id)
        value = {
            "decisionId": request.decision_id,
            "decisionKey": request.decision_key,
            "variables": _mappers.parse_document(request.variables),
            "tenantId": tenant_id,
        }
        command = BrokerCommand(ValueType.DECISION_EVALUATION, DecisionEvaluationIntent.EVALUATE, value)
        record = await self._router.execute(self._router.first_partition(), command)
        return _mappers.evaluate_decision_response(record)

    async def delete_resource(self, request: pb.DeleteResourceRequest) -> pb.DeleteResourceResponse:
        """Deployments live on the first partition, so resources are deleted there (an unknown key is
        the engine's NOT_FOUND, a process with running instances its INVALID_STATE)."""
        # operationReference is accepted and ignored (zeebe-trio has no batch operations to tag).
        value = {"resourceKey": request.resource_key, "tenantId": _mappers.DEFAULT_TENANT, "deleteHistory": False}
        command = BrokerCommand(ValueType.RESOURCE_DELETION, ResourceDeletionIntent.DELETE, value)
        await self._router.execute(self._router.first_partition(), command)
        return pb.DeleteResourceResponse()

    # -- helpers -------------------------------------------------------------------------------

    async def _on_key(
        self, key: int, field: str, action: str, value_type: ValueType, intent: Intent, value: dict[str, Any]
    ) -> None:
        partition_id = self._router.for_key(key, field, action)
        await self._router.execute(partition_id, BrokerCommand(value_type, intent, value, key=key))
