"""``zeebe-trio``: run a broker, and talk to one from a terminal.

    zeebe-trio broker [--config FILE]          run a single-node broker with an embedded gateway
    zeebe-trio gateway --broker HOST:PORT      run a standalone gateway in front of a broker's command API
    zeebe-trio deploy FILE...                  deploy BPMN resources
    zeebe-trio create-instance PROCESS_ID      start an instance (--variables JSON, --with-result)
    zeebe-trio status                          show the cluster topology
    zeebe-trio exporters                       list the installed exporters
    zeebe-trio sql "SELECT ..."                query the DuckDB analytics export (while the broker runs)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

log = logging.getLogger("zeebe_trio")


def _load_config(path: Path | None) -> Any:
    """The broker configuration, or exit 2 with the problem named."""
    from zeebe_trio.broker import BrokerConfig, ConfigError

    try:
        return BrokerConfig.load(path)
    except ConfigError as error:
        print(f"zeebe-trio: {error}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve_until_signal(name: str, start: Callable[[trio.Nursery], Awaitable[str]]) -> None:
    """Start a service in a nursery, print its ready line, and stop it cleanly on SIGINT/SIGTERM."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            print(await start(nursery), flush=True)
            async for signum in signals:
                log.info("%s received: shutting down", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break
    print(f"zeebe-trio {name} stopped", flush=True)


def _broker(args: argparse.Namespace) -> int:
    from zeebe_trio.broker import run_broker

    config = _load_config(args.config)

    async def start(nursery: trio.Nursery) -> str:
        broker = await nursery.start(run_broker, config)
        where = f"{config.host}:{broker.gateway_port}" if config.embedded_gateway else "(no gateway)"
        command_api = f"{config.command_api_host}:{broker.command_api_port}" if config.command_api_enabled else "(off)"
        return f"zeebe-trio broker ready: gateway {where}, command API {command_api}, data in {config.data_dir}"

    trio.run(_serve_until_signal, "broker", start)
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from functools import partial

    from zeebe_trio.gateway import run_standalone_gateway
    from zeebe_trio.gateway._remote import parse_address

    try:
        broker_address = parse_address(args.broker)
    except ValueError as error:
        print(f"zeebe-trio gateway: {error}", file=sys.stderr)
        return 2

    async def start(nursery: trio.Nursery) -> str:
        port = await nursery.start(partial(run_standalone_gateway, broker_address, host=args.host,
                                           grpc_port=args.port))
        return (f"zeebe-trio gateway ready: gRPC on {args.host}:{port}, broker command API at"
                f" {broker_address[0]}:{broker_address[1]}")

    try:
        trio.run(_serve_until_signal, "gateway", start)
    except OSError as error:  # e.g. the gRPC port is taken
        print(f"zeebe-trio gateway: cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def _client_call(args: argparse.Namespace, rpc: str, request: Any) -> Any:
    from zeebe_trio.gateway import GatewayCallError, call_gateway

    try:
        return call_gateway(args.address, rpc, request, timeout=args.timeout)
    except GatewayCallError as error:
        print(f"zeebe-trio: {rpc} failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def _deploy(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    resources = []
    for name in args.files:
        path = Path(name)
        try:
            resources.append(gw.Resource(name=path.name, content=path.read_bytes()))
        except OSError as error:
            print(f"zeebe-trio: cannot read '{name}': {error.strerror}", file=sys.stderr)
            return 2
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
        print(f"zeebe-trio: --variables is not valid JSON: {error}", file=sys.stderr)
        return 2
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


def _exporters(args: argparse.Namespace) -> int:
    from zeebe_trio.exporters import PluginError, format_installed_exporters, list_installed_exporters

    try:
        print(format_installed_exporters(list_installed_exporters()))
    except PluginError as error:
        print(f"zeebe-trio: {error}", file=sys.stderr)
        return 1
    return 0


def _sql(args: argparse.Namespace) -> int:
    """Ask the running broker first (fresh data, read on the exporter's own connection); when no
    broker answers, read the export file (or its snapshot) directly."""
    if args.database is None:
        config = _load_config(args.config)
        address = args.broker or f"localhost:{config.command_api_port}"
        try:
            columns, rows, truncated = trio.run(_query_broker, address, args)
        except OSError:
            pass  # no broker there: read the file below
        except Exception as error:  # BrokerError, or the query failed in the exporter
            print(f"zeebe-trio sql: {getattr(error, 'message', error)}", file=sys.stderr)
            return 1
        else:
            print(_format_table(columns, rows), end="")
            if truncated:
                print(f"(only the first {args.max_rows} rows shown)", file=sys.stderr)
            return 0
        duckdb_exporters = [s for s in config.exporter_settings().values() if s.get("type") == "duckdb"]
        if not duckdb_exporters:
            print("zeebe-trio sql: no broker answered and no DuckDB exporter is configured; pass --database FILE",
                  file=sys.stderr)
            return 2
        args.database = duckdb_exporters[0]["args"]["path"]
    try:
        from zeebe_trio_duckdb import run_sql_command
    except ImportError:
        print("zeebe-trio sql: the DuckDB exporter (zeebe-trio-duckdb) is not installed:"
              " pip install -e plugins/duckdb_exporter", file=sys.stderr)
        return 2
    return int(run_sql_command(args.query, path=args.database, max_rows=args.max_rows))


async def _query_broker(address: str, args: argparse.Namespace) -> Any:
    from zeebe_trio.gateway._remote import query_broker

    return await query_broker(address, args.query, exporter_id=args.exporter, max_rows=args.max_rows,
                              timeout=args.timeout)


def _format_table(columns: list[str], rows: list[list[Any]]) -> str:
    try:
        from zeebe_trio_duckdb import format_table
    except ImportError:
        lines = ["\t".join(columns), *("\t".join(str(v) for v in row) for row in rows)]
        return "\n".join(lines) + "\n"
    return str(format_table(columns, rows))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zeebe-trio", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="run a single-node broker with an embedded gateway")
    broker.add_argument("--config", type=Path, help="TOML config file (environment variables override it)")
    broker.set_defaults(handler=_broker)

    gateway = commands.add_parser("gateway", help="run a standalone gateway in front of a broker's command API")
    gateway.add_argument("--broker", default="localhost:26501",
                         help="the broker's command API, HOST:PORT (default localhost:26501)")
    gateway.add_argument("--host", default="0.0.0.0", help="interface to serve gRPC on (default 0.0.0.0)")
    gateway.add_argument("--port", type=int, default=26500, help="gRPC port (default 26500; 0 picks one)")
    gateway.set_defaults(handler=_gateway)

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

    exporters = commands.add_parser("exporters", help="list the installed exporters")
    exporters.set_defaults(handler=_exporters)

    sql = commands.add_parser("sql", help="run read-only SQL over the DuckDB analytics export")
    sql.add_argument("query")
    sql.add_argument("--broker", help="a running broker's command API (default localhost:<command_api_port>)")
    sql.add_argument("--exporter", help="the exporter id to ask (default: the first queryable one)")
    sql.add_argument("--database", help="read this .duckdb file directly instead of asking a broker")
    sql.add_argument("--config", type=Path, help="broker config file, to find the broker and the export")
    sql.add_argument("--max-rows", type=int, default=1000, help="rows to show at most (default 1000)")
    sql.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a broker's answer")
    sql.set_defaults(handler=_sql)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
