"""The grpclib services: ``GatewayServicer`` (every RPC of Zeebe's gateway.proto) and ``HealthServicer``.

These classes run on grpclib's asyncio loop and do no work of their own: each supported RPC is handed
to its Trio-side handler in ``Endpoints`` through a ``TrioBridge`` (see ``_host``); RPCs not supported
yet answer UNIMPLEMENTED with a message naming them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ._endpoints import Endpoints
from ._errors import unimplemented
from ._generated import gateway_protocol as pb
from ._generated.grpc.health import v1 as health
from ._jobs import Emit

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


class TrioBridge(Protocol):
    """Runs Trio coroutines on behalf of asyncio handlers (implemented in ``_host``)."""

    async def call(
        self, rpc: str, handler: Callable[[_Request], Awaitable[_Response]], request: _Request
    ) -> _Response:
        """Run ``handler(request)`` in Trio and return its result (or raise its ``GRPCError``)."""
        ...

    def stream(
        self, rpc: str, handler: Callable[[_Request, Emit], Awaitable[None]], request: _Request
    ) -> AsyncIterator[Any]:
        """Run ``handler(request, emit)`` in Trio; yield each message it emits, in order."""
        ...


class GatewayServicer(pb.GatewayBase):
    def __init__(self, bridge: TrioBridge, endpoints: Endpoints) -> None:
        self._bridge = bridge
        self._endpoints = endpoints

    # -- server-streaming ----------------------------------------------------------------------

    async def activate_jobs(
        self, activate_jobs_request: pb.ActivateJobsRequest
    ) -> AsyncIterator[pb.ActivateJobsResponse]:
        async for response in self._bridge.stream(
            "ActivateJobs", self._endpoints.activate_jobs, activate_jobs_request
        ):
            yield response

    async def stream_activated_jobs(
        self, stream_activated_jobs_request: pb.StreamActivatedJobsRequest
    ) -> AsyncIterator[pb.ActivatedJob]:
        async for job in self._bridge.stream(
            "StreamActivatedJobs", self._endpoints.stream_activated_jobs, stream_activated_jobs_request
        ):
            yield job

    # -- unary ---------------------------------------------------------------------------------

    async def topology(self, topology_request: pb.TopologyRequest) -> pb.TopologyResponse:
        return await self._bridge.call("Topology", self._endpoints.topology, topology_request)

    async def deploy_resource(
        self, deploy_resource_request: pb.DeployResourceRequest
    ) -> pb.DeployResourceResponse:
        return await self._bridge.call(
            "DeployResource", self._endpoints.deploy_resource, deploy_resource_request
        )

    async def deploy_process(
        self, deploy_process_request: pb.DeployProcessRequest
    ) -> pb.DeployProcessResponse:
        return await self._bridge.call(
            "DeployProcess", self._endpoints.deploy_process, deploy_process_request
        )

    async def create_process_instance(
        self, create_process_instance_request: pb.CreateProcessInstanceRequest
    ) -> pb.CreateProcessInstanceResponse:
        return await self._bridge.call(
            "CreateProcessInstance", self._endpoints.create_process_instance, create_process_instance_request
        )

    async def create_process_instance_with_result(
        self, create_process_instance_with_result_request: pb.CreateProcessInstanceWithResultRequest
    ) -> pb.CreateProcessInstanceWithResultResponse:
        return await self._bridge.call(
            "CreateProcessInstanceWithResult",
            self._endpoints.create_process_instance_with_result,
            create_process_instance_with_result_request,
        )

    async def cancel_process_instance(
        self, cancel_process_instance_request: pb.CancelProcessInstanceRequest
    ) -> pb.CancelProcessInstanceResponse:
        return await self._bridge.call(
            "CancelProcessInstance", self._endpoints.cancel_process_instance, cancel_process_instance_request
        )

    async def set_variables(self, set_variables_request: pb.SetVariablesRequest) -> pb.SetVariablesResponse:
        return await self._bridge.call("SetVariables", self._endpoints.set_variables, set_variables_request)

    async def resolve_incident(
        self, resolve_incident_request: pb.ResolveIncidentRequest
    ) -> pb.ResolveIncidentResponse:
        return await self._bridge.call(
            "ResolveIncident", self._endpoints.resolve_incident, resolve_incident_request
        )

    async def complete_job(self, complete_job_request: pb.CompleteJobRequest) -> pb.CompleteJobResponse:
        return await self._bridge.call("CompleteJob", self._endpoints.complete_job, complete_job_request)

    async def fail_job(self, fail_job_request: pb.FailJobRequest) -> pb.FailJobResponse:
        return await self._bridge.call("FailJob", self._endpoints.fail_job, fail_job_request)

    async def throw_error(self, throw_error_request: pb.ThrowErrorRequest) -> pb.ThrowErrorResponse:
        return await self._bridge.call("ThrowError", self._endpoints.throw_error, throw_error_request)

    async def update_job_retries(
        self, update_job_retries_request: pb.UpdateJobRetriesRequest
    ) -> pb.UpdateJobRetriesResponse:
        return await self._bridge.call(
            "UpdateJobRetries", self._endpoints.update_job_retries, update_job_retries_request
        )

    async def update_job_timeout(
        self, update_job_timeout_request: pb.UpdateJobTimeoutRequest
    ) -> pb.UpdateJobTimeoutResponse:
        return await self._bridge.call(
            "UpdateJobTimeout", self._endpoints.update_job_timeout, update_job_timeout_request
        )

    async def publish_message(
        self, publish_message_request: pb.PublishMessageRequest
    ) -> pb.PublishMessageResponse:
        return await self._bridge.call(
            "PublishMessage", self._endpoints.publish_message, publish_message_request
        )

    async def broadcast_signal(
        self, broadcast_signal_request: pb.BroadcastSignalRequest
    ) -> pb.BroadcastSignalResponse:
        return await self._bridge.call(
            "BroadcastSignal", self._endpoints.broadcast_signal, broadcast_signal_request
        )

    async def evaluate_decision(
        self, evaluate_decision_request: pb.EvaluateDecisionRequest
    ) -> pb.EvaluateDecisionResponse:
        return await self._bridge.call(
            "EvaluateDecision", self._endpoints.evaluate_decision, evaluate_decision_request
        )

    async def modify_process_instance(
        self, modify_process_instance_request: pb.ModifyProcessInstanceRequest
    ) -> pb.ModifyProcessInstanceResponse:
        return await self._bridge.call(
            "ModifyProcessInstance", self._endpoints.modify_process_instance, modify_process_instance_request
        )

    async def migrate_process_instance(
        self, migrate_process_instance_request: pb.MigrateProcessInstanceRequest
    ) -> pb.MigrateProcessInstanceResponse:
        return await self._bridge.call(
            "MigrateProcessInstance", self._endpoints.migrate_process_instance, migrate_process_instance_request
        )

    async def delete_resource(
        self, delete_resource_request: pb.DeleteResourceRequest
    ) -> pb.DeleteResourceResponse:
        return await self._bridge.call(
            "DeleteResource", self._endpoints.delete_resource, delete_resource_request
        )

    # -- not supported yet ---------------------------------------------------------------------

    async def evaluate_conditional(
        self, evaluate_conditional_request: pb.EvaluateConditionalRequest
    ) -> pb.EvaluateConditionalResponse:
        raise unimplemented("EvaluateConditional")


class HealthServicer(health.HealthBase):
    """``grpc.health.v1.Health``: SERVING for the server as a whole and for ``gateway_protocol.Gateway``."""

    def __init__(self, bridge: TrioBridge, endpoints: Endpoints) -> None:
        self._bridge = bridge
        self._endpoints = endpoints

    async def check(self, health_check_request: health.HealthCheckRequest) -> health.HealthCheckResponse:
        return await self._bridge.call("Health/Check", self._endpoints.health_check, health_check_request)

    async def watch(
        self, health_check_request: health.HealthCheckRequest
    ) -> AsyncIterator[health.HealthCheckResponse]:
        async for response in self._bridge.stream(
            "Health/Watch", self._endpoints.health_watch, health_check_request
        ):
            yield response
