"""Server commands: run a broker or a standalone gateway; list the installed exporters."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import trio

from ._common import leaves, load_config, raise_as_cli_error
from ._errors import CliError, UsageError

log = logging.getLogger("zeebe_trio")


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
    from zeebe_trio.broker import StartupError, run_broker

    config = load_config(args.config)
    data_dir = Path(config.data_dir).resolve()

    async def start(nursery: trio.Nursery) -> str:
        broker = await nursery.start(run_broker, config)
        where = f"{config.host}:{broker.gateway_port}" if config.embedded_gateway else "(no gateway)"
        command_api = f"{config.command_api_host}:{broker.command_api_port}" if config.command_api_enabled else "(off)"
        return f"zeebe-trio broker ready: gateway {where}, command API {command_api}, data in {data_dir}"

    try:
        trio.run(_serve_until_signal, "broker", start)
    except Exception as error:
        raise_as_cli_error(error, StartupError)
        raise
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway import run_standalone_gateway
    from zeebe_trio.gateway._remote import parse_address

    try:
        addresses = [parse_address(text.strip()) for text in args.broker.split(",") if text.strip()]
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not addresses:
        raise UsageError("--broker: give the command API address of a broker, HOST:PORT")
    secret = _gateway_secret(args.secret_file)
    broker_tls, tls, auth = _gateway_security(args)

    async def start(nursery: trio.Nursery) -> str:
        port = await nursery.start(partial(run_standalone_gateway, addresses, host=args.host,
                                           grpc_port=args.port, secret=secret, ssl_context=broker_tls,
                                           tls=tls, auth=auth, max_message_size=args.max_message_size))
        return (f"zeebe-trio gateway ready: gRPC{' (TLS)' if tls else ''} on {args.host}:{port}, broker command"
                f" API at {', '.join(f'{h}:{p}' for h, p in addresses)}{' (TLS)' if broker_tls else ''}")

    try:
        trio.run(_serve_until_signal, "gateway", start)
    except Exception as error:
        for leaf in leaves(error):
            if isinstance(leaf, OSError):
                raise CliError(f"cannot listen on {args.host}:{args.port} for gRPC: {leaf.strerror or leaf};"
                               " pass --port with a free port") from error
        raise
    return 0


SECRET_ENV = "ZEEBE_TRIO_COMMAND_API_SECRET"


def _gateway_secret(secret_file: Path | None) -> str:
    """The broker's command_api_secret for a standalone gateway: from ``--secret-file``, else from
    ``ZEEBE_TRIO_COMMAND_API_SECRET``, else none (then only a broker on this host will talk to it)."""
    if secret_file is not None:
        try:
            return secret_file.read_text().strip()
        except OSError as error:
            raise UsageError(f"cannot read --secret-file '{secret_file}': {error.strerror}") from None
    return os.environ.get(SECRET_ENV, "")


def _gateway_security(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The standalone gateway's TLS to the broker (``--broker-ca``), its own TLS (``--tls-certificate``
    / ``--tls-private-key``) and its token verifier (``--auth-*``); a usage error naming the flag."""
    from zeebe_trio.gateway._auth import TokenVerifier, check_auth_settings
    from zeebe_trio.gateway._tls import GRPC_ALPN, TlsSettingsError, client_context, server_context, tls_pair

    try:
        broker_tls = None if args.broker_ca is None else client_context(args.broker_ca, setting="--broker-ca")
        names = {"certificate_setting": "--tls-certificate", "key_setting": "--tls-private-key"}
        pair = tls_pair(args.tls_certificate, args.tls_private_key, **names)
        tls = None if pair is None else server_context(*pair, alpn=GRPC_ALPN, **names)
    except TlsSettingsError as error:
        raise UsageError(str(error)) from None
    auth = None
    if args.auth_jwks or args.auth_issuer or args.auth_audience:
        try:
            check_auth_settings(issuer=args.auth_issuer or "", audience=args.auth_audience or "",
                                jwks=args.auth_jwks or "",
                                names={what: f"--auth-{what}" for what in ("issuer", "audience", "jwks")})
        except ValueError as error:
            raise UsageError(str(error)) from None
        auth = TokenVerifier(issuer=args.auth_issuer, audience=args.auth_audience, jwks=args.auth_jwks)
    return broker_tls, tls, auth


def _exporters(args: argparse.Namespace) -> int:
    from zeebe_trio.exporters import PluginError, format_installed_exporters, list_installed_exporters

    try:
        print(format_installed_exporters(list_installed_exporters()))
    except PluginError as error:
        raise CliError(str(error)) from None
    return 0


def register(commands: Any) -> None:
    broker = commands.add_parser("broker", help="run a single-node broker with an embedded gateway")
    broker.add_argument("--config", type=Path, help="TOML config file (environment variables override it)")
    broker.set_defaults(handler=_broker)

    gateway = commands.add_parser("gateway", help="run a standalone gateway in front of a broker's command API")
    gateway.add_argument("--broker", default="localhost:26501",
                         help="the broker's command API, HOST:PORT (default localhost:26501); in front of a cluster,"
                              " every broker's, comma-separated")
    gateway.add_argument("--host", default="0.0.0.0", help="interface to serve gRPC on (default 0.0.0.0)")
    gateway.add_argument("--port", type=int, default=26500, help="gRPC port (default 26500; 0 picks one)")
    gateway.add_argument("--max-message-size", type=int, default=4 * 1024 * 1024, metavar="BYTES",
                         help="largest gRPC request message, also once decompressed (default 4194304, as the"
                              " broker's max_message_size; larger requests answer RESOURCE_EXHAUSTED)")
    gateway.add_argument("--secret-file", type=Path,
                         help=f"file holding the broker's command_api_secret (default: ${SECRET_ENV})")
    security = gateway.add_argument_group("security")
    security.add_argument("--broker-ca", type=Path, metavar="FILE",
                          help="connect to the broker's command API with TLS, trusting the CA certificate(s) in"
                               " this PEM file (for a broker with command_api_tls_certificate)")
    security.add_argument("--tls-certificate", type=Path, metavar="FILE",
                          help="serve gRPC over TLS with this PEM certificate chain (with --tls-private-key)")
    security.add_argument("--tls-private-key", type=Path, metavar="FILE",
                          help="the PEM private key of --tls-certificate")
    security.add_argument("--auth-jwks", metavar="FILE_OR_URL",
                          help="require bearer tokens (JWTs) signed by a key of this JWKS, a file or an http(s)"
                               " URL (with --auth-issuer and --auth-audience); health checks stay open")
    security.add_argument("--auth-issuer", metavar="ISS", help="the 'iss' the tokens must carry")
    security.add_argument("--auth-audience", metavar="AUD", help="the 'aud' the tokens must hold (e.g. zeebe-api)")
    gateway.set_defaults(handler=_gateway)

    exporters = commands.add_parser("exporters", help="list the installed exporters")
    exporters.set_defaults(handler=_exporters)
