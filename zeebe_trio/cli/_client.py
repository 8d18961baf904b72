"""Client commands: talk to a Zeebe gateway over gRPC, as zbctl does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ._errors import CliError, UsageError


def _client_call(args: argparse.Namespace, rpc: str, request: Any) -> Any:
    from zeebe_trio.gateway import GatewayCallError, call_gateway

    try:
        return call_gateway(args.address, rpc, request, timeout=args.timeout)
    except GatewayCallError as error:
        raise CliError(f"{rpc} failed: {error}") from None


def _deploy(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    resources = []
    for name in args.files:
        path = Path(name)
        try:
            resources.append(gw.Resource(name=path.name, content=path.read_bytes()))
        except OSError as error:
            raise UsageError(f"cannot read '{name}': {error.strerror}") from None
    response = _client_call(args, "DeployResource", gw.DeployResourceRequest(resources=resources))
    for deployment in response.deployments:
        process = deployment.process
        print(f"deployed {process.bpmn_process_id} version {process.version}"
              f" (key {process.process_definition_key}) from {process.resource_name}")
    return 0


def _create_instance(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    try:
        variables = json.loads(args.variables) if args.variables else {}
    except json.JSONDecodeError as error:
        raise UsageError(f"--variables is not valid JSON: {error}") from None
    request = gw.CreateProcessInstanceRequest(bpmn_process_id=args.process_id, version=args.version,
                                              variables=json.dumps(variables))
    if args.with_result:
        response = _client_call(args, "CreateProcessInstanceWithResult",
                                gw.CreateProcessInstanceWithResultRequest(request=request,
                                                                          request_timeout=int(args.timeout * 1000)))
        print(json.dumps({"processInstanceKey": response.process_instance_key,
                          "variables": json.loads(response.variables or "{}")}, indent=2))
    else:
        response = _client_call(args, "CreateProcessInstance", request)
        print(f"created instance {response.process_instance_key} of {response.bpmn_process_id}"
              f" version {response.version}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    topology = _client_call(args, "Topology", gw.TopologyRequest())
    print(f"cluster size {topology.cluster_size}, partitions {topology.partitions_count},"
          f" replication factor {topology.replication_factor}, gateway {topology.gateway_version}")
    for broker in topology.brokers:
        print(f"  broker {broker.node_id} at {broker.host}:{broker.port} (version {broker.version})")
        for partition in broker.partitions:
            print(f"    partition {partition.partition_id}: {partition.role.name} {partition.health.name}")
    return 0




def register(commands: Any) -> None:
    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--address", default="localhost:26500", help="gateway address (default localhost:26500)")
        sub.add_argument("--timeout", type=float, default=10.0, help="request timeout in seconds")
        return sub

    deploy = client("deploy", "deploy BPMN files")
    deploy.add_argument("files", nargs="+")
    deploy.set_defaults(handler=_deploy)

    create = client("create-instance", "start a process instance")
    create.add_argument("process_id")
    create.add_argument("--version", type=int, default=-1, help="process version (default: latest)")
    create.add_argument("--variables", help="variables as a JSON object")
    create.add_argument("--with-result", action="store_true", help="wait for the instance to complete")
    create.set_defaults(handler=_create_instance)

    status = client("status", "show the cluster topology")
    status.set_defaults(handler=_status)
