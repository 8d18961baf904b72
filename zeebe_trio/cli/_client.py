"""Client commands: zbctl's verbs and nouns, over gRPC to a Zeebe gateway.

Each command is one RPC. The flags are zbctl's in kebab-case (``--correlation-key`` for
``--correlationKey``), and every command takes:

- ``--address HOST:PORT``, else ``ZEEBE_ADDRESS``, else ``localhost:26500`` (as zbctl and pyzeebe);
- ``--request-timeout`` (default 10s): how long to wait for the answer. RPCs that wait on the broker's
  side (``create instance --with-result``, ``activate jobs``) send it to the gateway, and the gRPC
  deadline is a margin later, so the gateway's own answer (naming what it knows) arrives first;
- ``--output text|json``: a short line, or the response in the proto3 JSON mapping zbctl prints
  (camelCase names, 64-bit keys as strings, every field);
- ``--certPath FILE`` (zbctl's; also ``--cert-path``), else ``ZEEBE_CA_CERTIFICATE_PATH``: call over TLS,
  trusting the CA certificate(s) in FILE; an ``https://`` address calls over TLS too (the system's CAs
  unless a certificate is given). Otherwise plaintext, and ``--insecure`` forces plaintext (it ignores
  ``ZEEBE_CA_CERTIFICATE_PATH``, as zbctl does).

Durations are Go's (``300ms``, ``10s``, ``5m``, ``1h30m``) or plain seconds. Variables are a JSON object,
or ``@file.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._ad_hoc import add_ad_hoc_commands
from ._errors import CliError, UsageError
from ._user_tasks import ArgumentTypes, add_user_task_commands

DEFAULT_ADDRESS = "localhost:26500"
CA_CERTIFICATE_ENV = "ZEEBE_CA_CERTIFICATE_PATH"  # zbctl's and the Java and Go clients' variable
DEFAULT_REQUEST_TIMEOUT = 10.0  # seconds, zbctl's default
# How much later than the request timeout the gRPC deadline falls for RPCs that carry the timeout to
# the gateway: its answer at the request timeout then beats our own deadline.
DEADLINE_MARGIN = 5.0
DEFAULT_JOB_TIMEOUT = 300.0  # seconds an activated job stays with its worker (zbctl: 5m)
DEFAULT_MESSAGE_TTL = 5.0  # zbctl's default time to live of a published message
WORKER_NAME = "zeebe-trio"


# -- argument types (their errors are usage errors: argparse exits with 2) -----------------------------

_DURATION = re.compile(r"(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS_PER_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``300ms``, ``1h30m``) or a plain number of seconds."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        if not _DURATION.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"'{text[:40]}' is not a duration: write e.g. 300ms, 10s, 5m, 1h30m, or a number of seconds"
            ) from None
        seconds = sum(float(n) * _SECONDS_PER_UNIT[unit] for n, unit in _DURATION_PART.findall(text))
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a duration: it must be 0 or more")
    return seconds


def _positive_duration(text: str) -> float:
    seconds = parse_duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' must be longer than 0")
    return seconds


def _key(text: str) -> int:
    """A key handed out by the broker: a positive 64-bit number."""
    try:
        key = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a key (keys are numbers such as"
                                         " 2251799813685249)") from None
    if not 0 < key < 2**63:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a key: keys are positive 64-bit numbers")
    return key


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number") from None
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' must be between 0 and 2147483647")
    return value


_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                    type(None): "null"}


def _variables(text: str) -> str:
    """A JSON object, given inline or as ``@file.json``; the document as the gateway gets it."""
    source = ""
    if text.startswith("@"):
        source = f"'{text[1:]}' "
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise argparse.ArgumentTypeError(f"cannot read {source}({error.strerror})") from None
        except UnicodeDecodeError:
            raise argparse.ArgumentTypeError(f"{source}is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        hint = "" if source else " (to read a file, write @file.json)"
        raise argparse.ArgumentTypeError(f"{source}is not valid JSON: {error}{hint}") from None
    if not isinstance(document, dict):
        raise argparse.ArgumentTypeError(f"{source}is not a JSON object ({{...}}) but"
                                         f" {_JSON_TYPE_NAMES.get(type(document), 'something else')}")
    return json.dumps(document)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _output(text: str) -> str:
    if text in ("text", "human"):  # zbctl calls it 'human'
        return "text"
    if text == "json":
        return "json"
    raise argparse.ArgumentTypeError(f"'{text[:40]}' is not an output format: use text or json")


def resolve_address(flag: str | None) -> str:
    """The gateway address: ``--address``, else ``ZEEBE_ADDRESS``, else ``localhost:26500``. A missing
    port is 26500 and an ``http://``, ``https://`` or ``grpc://`` prefix is dropped, as zbctl does."""
    return _resolve_target(flag)[0]


def _resolve_target(flag: str | None) -> tuple[str, bool]:
    """``(address, https)``: the gateway address, and whether it was given as ``https://``."""
    from zeebe_trio.gateway._client_host import split_address

    env = os.environ.get("ZEEBE_ADDRESS", "").strip()
    source, address = ("--address", flag.strip()) if flag else ("ZEEBE_ADDRESS", env) if env else ("", "")
    if not address:
        return DEFAULT_ADDRESS, False
    scheme, separator, rest = address.partition("://")
    if separator:
        if scheme not in ("http", "https", "grpc"):
            raise UsageError(f"{source} '{address[:80]}': give HOST:PORT (or http://, https:// HOST:PORT)")
        address = rest.rstrip("/")
    if address.endswith("]") or ":" not in address:
        address += ":26500"
    try:
        split_address(address)
    except ValueError:
        raise UsageError(f"{source} '{address[:80]}' is not HOST:PORT (e.g. localhost:26500)") from None
    return address, scheme == "https"


def _tls_context(args: argparse.Namespace, https: bool) -> Any:
    """The TLS context for the call (``--certPath``, ``ZEEBE_CA_CERTIFICATE_PATH``, ``https://``), or None
    for plaintext; a usage error naming the flag or variable when the file is not a certificate."""
    from zeebe_trio.gateway._tls import GRPC_ALPN, TlsSettingsError, client_context

    if args.insecure:
        if args.cert_path is not None:
            raise UsageError("--insecure and --certPath contradict each other: drop one")
        if https:
            raise UsageError("--insecure with an https:// address: drop one")
        return None
    setting, path = ("--certPath", args.cert_path) if args.cert_path is not None else \
        (CA_CERTIFICATE_ENV, os.environ.get(CA_CERTIFICATE_ENV, "").strip() or None)
    if path is None and not https:
        return None
    try:
        return client_context(path, setting=setting, alpn=GRPC_ALPN)
    except TlsSettingsError as error:
        raise UsageError(str(error)) from None


# -- calling the gateway and printing the answer ---------------------------------------------------

def _call(args: argparse.Namespace, rpc: str, request: Any, *, carries_timeout: bool = False) -> Any:
    from zeebe_trio.gateway import GatewayCallError, call_gateway

    address, https = _resolve_target(args.address)
    tls = _tls_context(args, https)
    deadline = args.request_timeout + (DEADLINE_MARGIN if carries_timeout else 0.0)
    try:
        return call_gateway(address, rpc, request, timeout=deadline, tls=tls)
    except GatewayCallError as error:
        if error.status is None:  # no gRPC answer: the message names the address and the fix
            raise CliError(error.message) from None
        hint = " (wait longer with --request-timeout)" if error.status == "DEADLINE_EXCEEDED" else ""
        raise CliError(f"{rpc} failed: {error.message}{hint}") from None


def proto_json(message: Any) -> dict[str, Any]:
    """``message`` in the proto3 JSON mapping, as zbctl prints responses (protojson, every field):
    camelCase names, 64-bit integers as strings, enums by name, only the member of a oneof that is set."""
    document: dict[str, Any] = message.to_dict(include_default_values=True)
    _drop_unset_oneof_members(message, document)
    return document


def _drop_unset_oneof_members(message: Any, document: dict[str, Any]) -> None:
    import betterproto

    def cased(field_name: str) -> str:  # as to_dict names it
        return str(betterproto.Casing.CAMEL(field_name)).rstrip("_")  # type: ignore[operator]

    meta = message._betterproto
    for group, members in meta.oneof_field_by_group.items():
        chosen, _ = betterproto.which_one_of(message, group)
        for member in members:
            if member.name != chosen:
                document.pop(cased(member.name), None)
    for name in meta.sorted_field_names:
        if cased(name) not in document:
            continue  # an unset oneof member (reading it would raise)
        value, shown = getattr(message, name), document[cased(name)]
        if isinstance(value, betterproto.Message) and isinstance(shown, dict):
            _drop_unset_oneof_members(value, shown)
        elif isinstance(value, list) and isinstance(shown, list):
            for item, item_shown in zip(value, shown, strict=False):
                if isinstance(item, betterproto.Message) and isinstance(item_shown, dict):
                    _drop_unset_oneof_members(item, item_shown)


def _print(args: argparse.Namespace, response: Any, text: Callable[[], str]) -> int:
    print(json.dumps(proto_json(response), indent=2) if args.output == "json" else text())
    return 0


def _deadline(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="seconds")


# -- the commands ------------------------------------------------------------------------------------

def _deploy(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    resources = []
    for name in args.files:
        path = Path(name)
        try:
            resources.append(gw.Resource(name=path.name, content=path.read_bytes()))
        except OSError as error:
            raise UsageError(f"cannot read '{name}': {error.strerror}") from None
    response = _call(args, "DeployResource", gw.DeployResourceRequest(resources=resources))

    def text() -> str:
        lines = []
        for deployment in response.deployments:
            if deployment.is_set("form"):
                form = deployment.form
                lines.append(f"deployed form {form.form_id} version {form.version} (key {form.form_key})"
                             f" from {form.resource_name}")
                continue
            if deployment.is_set("decision"):
                decision = deployment.decision
                lines.append(f"deployed decision {decision.dmn_decision_id} version {decision.version}"
                             f" (key {decision.decision_key}) of {decision.dmn_decision_requirements_id}")
                continue
            if deployment.is_set("decision_requirements"):
                drg = deployment.decision_requirements
                lines.append(f"deployed decision requirements {drg.dmn_decision_requirements_id} version"
                             f" {drg.version} (key {drg.decision_requirements_key}) from {drg.resource_name}")
                continue
            process = deployment.process
            lines.append(f"deployed {process.bpmn_process_id} version {process.version}"
                         f" (key {process.process_definition_key}) from {process.resource_name}")
        return "\n".join(lines) or f"deployed nothing (deployment key {response.key})"

    return _print(args, response, text)


def _create_instance(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    if args.process.isdigit():  # as zbctl: a number is a process definition key
        if not 0 < int(args.process) < 2**63:
            raise UsageError(f"'{args.process[:40]}' is not a process definition key: keys are positive 64-bit"
                             " numbers")
        request = gw.CreateProcessInstanceRequest(process_definition_key=int(args.process), version=-1,
                                                  variables=args.variables)
    else:
        request = gw.CreateProcessInstanceRequest(bpmn_process_id=args.process, version=args.version,
                                                  variables=args.variables)
    if not args.with_result:
        created = _call(args, "CreateProcessInstance", request)
        return _print(args, created, lambda: f"created instance {created.process_instance_key} of"
                                             f" {created.bpmn_process_id} version {created.version}")
    completed = _call(args, "CreateProcessInstanceWithResult", gw.CreateProcessInstanceWithResultRequest(
        request=request, request_timeout=round(args.request_timeout * 1000),
        fetch_variables=args.fetch_variables), carries_timeout=True)

    def text() -> str:
        variables = json.dumps(json.loads(completed.variables or "{}"), sort_keys=True)
        return (f"completed instance {completed.process_instance_key} of {completed.bpmn_process_id}"
                f" version {completed.version}; variables: {variables}")

    return _print(args, completed, text)


def _cancel_instance(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "CancelProcessInstance", gw.CancelProcessInstanceRequest(process_instance_key=args.key))
    return _print(args, response, lambda: f"canceled instance {args.key}")


def _set_variables(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "SetVariables", gw.SetVariablesRequest(element_instance_key=args.key,
                                                                  variables=args.variables, local=args.local))
    scope = "locally on" if args.local else "on"
    return _print(args, response, lambda: f"set variables {scope} element instance {args.key}"
                                          f" (command key {response.key})")


def _publish_message(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "PublishMessage", gw.PublishMessageRequest(
        name=args.name, correlation_key=args.correlation_key, time_to_live=round(args.ttl * 1000),
        message_id=args.message_id, variables=args.variables))
    return _print(args, response, lambda: f"published message '{args.name}' with correlation key"
                                          f" '{args.correlation_key}' (key {response.key})")


def _broadcast_signal(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "BroadcastSignal", gw.BroadcastSignalRequest(signal_name=args.name,
                                                                        variables=args.variables))
    return _print(args, response, lambda: f"broadcast signal '{args.name}' (key {response.key})")


def _evaluate_decision(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    # as zbctl: a number is a decision key, anything else a decision id (its latest version)
    by_key = args.decision.isdigit()
    request = gw.EvaluateDecisionRequest(decision_key=_key(args.decision) if by_key else 0,
                                         decision_id="" if by_key else args.decision, variables=args.variables)
    response = _call(args, "EvaluateDecision", request)

    def text() -> str:
        shown = f"decision {response.decision_id} version {response.decision_version} (key {response.decision_key})"
        if response.failed_decision_id:
            return f"evaluating {shown} failed in decision {response.failed_decision_id}: {response.failure_message}"
        return f"evaluated {shown}: {response.decision_output}"

    return _print(args, response, text)


def _activate_jobs(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    request = gw.ActivateJobsRequest(
        type=args.job_type, worker=args.worker, timeout=round(args.timeout * 1000),
        max_jobs_to_activate=args.max_jobs_to_activate, fetch_variable=args.fetch_variables,
        request_timeout=round(args.request_timeout * 1000))
    responses = _call(args, "ActivateJobs", request, carries_timeout=True)
    activated = gw.ActivateJobsResponse(jobs=[job for response in responses for job in response.jobs])

    def text() -> str:
        lines = [f"activated {len(activated.jobs)} job(s) of type '{args.job_type}'"]
        lines.extend(f"  job {job.key}: element '{job.element_id}' of {job.bpmn_process_id} (instance"
                     f" {job.process_instance_key}), retries {job.retries}, deadline {_deadline(job.deadline)},"
                     f" variables {job.variables}" for job in activated.jobs)
        return "\n".join(lines)

    return _print(args, activated, text)


def _complete_job(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "CompleteJob", gw.CompleteJobRequest(job_key=args.key, variables=args.variables))
    return _print(args, response, lambda: f"completed job {args.key}")


def _fail_job(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "FailJob", gw.FailJobRequest(
        job_key=args.key, retries=args.retries, error_message=args.error_message,
        retry_back_off=round(args.retry_backoff * 1000), variables=args.variables))
    return _print(args, response, lambda: f"failed job {args.key}; retries left: {args.retries}")


def _throw_error(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "ThrowError", gw.ThrowErrorRequest(
        job_key=args.key, error_code=args.error_code, error_message=args.error_message, variables=args.variables))
    return _print(args, response, lambda: f"threw error '{args.error_code}' on job {args.key}")


def _update_retries(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "UpdateJobRetries", gw.UpdateJobRetriesRequest(job_key=args.key, retries=args.retries))
    return _print(args, response, lambda: f"updated the retries of job {args.key} to {args.retries}")


def _update_timeout(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "UpdateJobTimeout", gw.UpdateJobTimeoutRequest(job_key=args.key,
                                                                          timeout=round(args.timeout * 1000)))
    return _print(args, response, lambda: f"updated the timeout of job {args.key} to {args.timeout:g} s from now")


def _resolve_incident(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    response = _call(args, "ResolveIncident", gw.ResolveIncidentRequest(incident_key=args.key))
    return _print(args, response, lambda: f"resolved incident {args.key}")


def _status(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway._generated import gateway_protocol as gw

    topology = _call(args, "Topology", gw.TopologyRequest())

    def text() -> str:
        lines = [f"cluster size {topology.cluster_size}, partitions {topology.partitions_count},"
                 f" replication factor {topology.replication_factor}, gateway {topology.gateway_version}"]
        for broker in sorted(topology.brokers, key=lambda b: b.node_id):
            lines.append(f"  broker {broker.node_id} at {broker.host}:{broker.port} (version {broker.version})")
            lines.extend(f"    partition {p.partition_id}: {p.role.name} {p.health.name}"
                         for p in sorted(broker.partitions, key=lambda p: p.partition_id))
        return "\n".join(lines)

    return _print(args, topology, text)


# -- the command line --------------------------------------------------------------------------------

def _connection_options(*, timeout_alias: bool) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("gateway options")
    group.add_argument("--address", metavar="HOST:PORT",
                       help=f"the gateway (default: $ZEEBE_ADDRESS, else {DEFAULT_ADDRESS})")
    group.add_argument("--request-timeout", type=_positive_duration, default=DEFAULT_REQUEST_TIMEOUT,
                       metavar="DURATION", help="how long to wait for the answer (default 10s; e.g. 300ms, 30s,"
                                                " 5m, or plain seconds)")
    if timeout_alias:  # the spelling before the zbctl-style commands
        group.add_argument("--timeout", type=_positive_duration, dest="request_timeout", help=argparse.SUPPRESS)
    group.add_argument("-o", "--output", type=_output, default="text", metavar="{text,json}",
                       help="a short line (default), or the response as JSON, as zbctl prints it")
    group.add_argument("--certPath", "--cert-path", dest="cert_path", metavar="FILE",
                       help=f"call over TLS, trusting the CA certificate(s) in this PEM file (default:"
                            f" ${CA_CERTIFICATE_ENV}; without either, plaintext)")
    group.add_argument("--insecure", action="store_true",
                       help=f"plaintext, even when ${CA_CERTIFICATE_ENV} is set")
    return options


def _variables_option(parser: argparse.ArgumentParser, help_text: str, *, required: bool = False) -> None:
    parser.add_argument("--variables", type=_variables, default="{}", required=required, metavar="JSON|@FILE",
                        help=f"{help_text}: a JSON object, or @file.json to read one")


def _create_instance_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("process", metavar="PROCESS",
                        help="the BPMN process id (its latest version unless --version), or a process definition key")
    parser.add_argument("--version", type=int, default=-1, help="the process version (default: the latest)")
    _variables_option(parser, "the instance's variables")
    parser.add_argument("--with-result", action="store_true",
                        help="wait until the instance completes (up to --request-timeout) and print its variables")
    parser.add_argument("--fetch-variables", type=_names, default=[], metavar="NAMES",
                        help="with --with-result: only these variables (comma-separated)")
    parser.set_defaults(handler=_create_instance)


def register(commands: Any) -> None:
    connection = _connection_options(timeout_alias=True)
    connection_no_alias = _connection_options(timeout_alias=False)

    def command(parent: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], int], *,
                full_name: str | None = None, timeout_alias: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
            parents=[connection if timeout_alias else connection_no_alias])
        parser.set_defaults(handler=handler, command_name=full_name or name)
        return parser

    def verb(name: str, help_text: str) -> Any:
        parser = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        return parser.add_subparsers(dest="noun", required=True, metavar="NOUN")

    deploy = command(commands, "deploy", "deploy BPMN, DMN and form files", _deploy)
    deploy.add_argument("files", nargs="+", metavar="FILE", help="a .bpmn, .dmn or .form file")

    create = verb("create", "create a process instance")
    _create_instance_arguments(command(create, "instance", "start a process instance", _create_instance,
                                       full_name="create instance"))
    _create_instance_arguments(command(commands, "create-instance", "start a process instance (same as"
                                       " 'create instance')", _create_instance))

    cancel = verb("cancel", "cancel a process instance")
    command(cancel, "instance", "cancel a process instance", _cancel_instance,
            full_name="cancel instance").add_argument("key", type=_key, help="the process instance key")

    set_ = verb("set", "set variables")
    variables = command(set_, "variables", "set variables on an element instance (or a process instance)",
                        _set_variables, full_name="set variables")
    variables.add_argument("key", type=_key, help="the element instance key (a process instance key for its root)")
    _variables_option(variables, "the variables to set", required=True)
    variables.add_argument("--local", action="store_true",
                           help="set them on that scope only, instead of where each variable already lives")

    publish = verb("publish", "publish a message")
    message = command(publish, "message", "publish a message, correlated by name and correlation key",
                      _publish_message, full_name="publish message")
    message.add_argument("name", help="the message name")
    message.add_argument("--correlation-key", required=True, help="the value subscriptions correlate on")
    message.add_argument("--ttl", type=parse_duration, default=DEFAULT_MESSAGE_TTL, metavar="DURATION",
                         help="how long the message waits to be correlated (default 5s)")
    message.add_argument("--message-id", default="", help="a unique id: a second message with it is refused")
    _variables_option(message, "the message's variables")

    broadcast = verb("broadcast", "broadcast a signal")
    signal = command(broadcast, "signal", "broadcast a signal by name", _broadcast_signal,
                     full_name="broadcast signal")
    signal.add_argument("name", help="the signal name")
    _variables_option(signal, "the signal's variables")

    activate = verb("activate", "activate jobs, or the elements of an ad-hoc sub-process")
    jobs = command(activate, "jobs", "activate jobs of a type and print them", _activate_jobs,
                   full_name="activate jobs", timeout_alias=False)
    jobs.add_argument("job_type", metavar="TYPE", help="the job type (zeebe:taskDefinition type)")
    jobs.add_argument("--max-jobs-to-activate", type=_count, default=1, metavar="N",
                      help="activate at most N jobs (default 1)")
    jobs.add_argument("--timeout", type=_positive_duration, default=DEFAULT_JOB_TIMEOUT, metavar="DURATION",
                      help="how long the jobs stay with this worker before others may activate them (default 5m)")
    jobs.add_argument("--worker", default=WORKER_NAME, help=f"the worker name (default {WORKER_NAME})")
    jobs.add_argument("--fetch-variables", type=_names, default=[], metavar="NAMES",
                      help="only these variables (comma-separated; default: all)")
    add_ad_hoc_commands(activate, ArgumentTypes(key=_key, duration=_positive_duration, output=_output,
                                                 variables=_variables))

    complete = verb("complete", "complete a job")
    complete_job = command(complete, "job", "complete an activated job", _complete_job, full_name="complete job")
    complete_job.add_argument("key", type=_key, help="the job key")
    add_user_task_commands(complete, verb("assign", "assign a user task"),
                           ArgumentTypes(key=_key, duration=_positive_duration, output=_output, variables=_variables))
    _variables_option(complete_job, "the variables to complete it with")

    fail = verb("fail", "fail a job")
    fail_job = command(fail, "job", "fail an activated job; with no retries left it raises an incident",
                       _fail_job, full_name="fail job")
    fail_job.add_argument("key", type=_key, help="the job key")
    fail_job.add_argument("--retries", type=_count, required=True, help="the retries the job has left")
    fail_job.add_argument("--error-message", default="", help="why it failed (shown in the incident)")
    fail_job.add_argument("--retry-backoff", type=parse_duration, default=0.0, metavar="DURATION",
                          help="wait this long before the job can be activated again (default 0)")
    _variables_option(fail_job, "variables to set on the job's scope")

    throw = verb("throw", "throw a BPMN error")
    error = command(throw, "error", "throw a BPMN error from an activated job", _throw_error,
                    full_name="throw error")
    error.add_argument("key", type=_key, help="the job key")
    error.add_argument("--error-code", required=True, help="the error code a catch event matches")
    error.add_argument("--error-message", default="", help="more context")
    _variables_option(error, "variables to pass with the error")

    update = verb("update", "update a job's retries or timeout")
    retries = command(update, "retries", "set the retries of a job (then resolve its incident)", _update_retries,
                      full_name="update retries")
    retries.add_argument("key", type=_key, help="the job key")
    retries.add_argument("--retries", type=_count, required=True, help="the new number of retries")
    timeout = command(update, "timeout", "give an activated job a new timeout, counted from now", _update_timeout,
                      full_name="update timeout", timeout_alias=False)
    timeout.add_argument("key", type=_key, help="the job key")
    timeout.add_argument("--timeout", type=_positive_duration, required=True, metavar="DURATION",
                         help="the new timeout from now (e.g. 30s, 5m; a plain number is seconds)")

    resolve = verb("resolve", "resolve an incident")
    command(resolve, "incident", "resolve an incident (after fixing its cause, e.g. 'update retries')",
            _resolve_incident, full_name="resolve incident").add_argument("key", type=_key, help="the incident key")

    evaluate = verb("evaluate", "evaluate a decision")
    decision = command(evaluate, "decision", "evaluate a deployed decision and print its output",
                       _evaluate_decision, full_name="evaluate decision")
    decision.add_argument("decision", metavar="DECISION",
                          help="the decision id (its latest version), or a decision key")
    _variables_option(decision, "the variables to evaluate it with")

    command(commands, "status", "show the cluster topology", _status)
