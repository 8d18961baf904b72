"""``zeebe-trio complete user-task`` and ``assign user-task``: Camunda user tasks (zeebe:userTask).

Zeebe's gRPC API has no user task calls (Camunda's REST API has them, which zeebe-trio does not serve
yet), so these verbs send USER_TASK COMPLETE / ASSIGN to the broker's command API directly, as a gateway
would: ``--broker HOST:PORT`` (default ``localhost:<command_api_port>`` of the broker configuration,
``--config`` or ``ZEEBE_TRIO_*``), with the configuration's ``command_api_secret`` and TLS certificate.
The partition is the one the user task key was made on. A rejection is one line naming its type and
Zeebe's reason, exit code 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from ._common import load_config
from ._errors import CliError

__all__ = ["ArgumentTypes", "add_user_task_commands", "answer", "broker_options", "send_command"]

CLIENT_NAME = "zeebe-trio cli"
DEFAULT_TIMEOUT = 10.0


def _execute(args: argparse.Namespace, intent_name: str, value: dict[str, Any]) -> Any:
    from zeebe_trio.gateway import BrokerCommand
    from zeebe_trio.protocol import UserTaskIntent, ValueType, partition_of

    partition = partition_of(args.key)
    if partition < 1:
        raise CliError(f"{args.key} is not a user task key (keys carry their partition in their top bits)", code=2)
    return send_command(args, partition, BrokerCommand(ValueType.USER_TASK, UserTaskIntent[intent_name], value,
                                                       key=args.key))


def send_command(args: argparse.Namespace, partition: int, command: Any) -> Any:
    """Send ``command`` (a ``BrokerCommand``) to ``partition`` over the broker's command API named by the
    ``--broker``/``--config`` options; the response record."""
    from zeebe_trio.gateway import BrokerError, RemoteBrokerPort

    config = load_config(args.config)
    address = args.broker or f"localhost:{config.command_api_port}"
    ssl_context = None
    if config.command_api_tls_certificate:
        from zeebe_trio.gateway._tls import pinned_context

        ssl_context = pinned_context(config.command_api_tls_certificate, setting="command_api_tls_certificate")

    async def send() -> Any:
        port = RemoteBrokerPort(address, name=CLIENT_NAME, secret=config.command_api_secret,
                                ssl_context=ssl_context, connect_timeout=args.request_timeout)
        async with trio.open_nursery() as nursery:
            await nursery.start(port.run)
            try:
                with trio.fail_after(args.request_timeout):
                    await port.wait_connected()
            except trio.TooSlowError:
                raise CliError(f"cannot reach the broker's command API at {address} within"
                               f" {args.request_timeout:g} s; start the broker, or give its command API with"
                               " --broker HOST:PORT (its command_api_port)") from None
            try:
                return await port.execute(partition, command, timeout=args.request_timeout)
            finally:
                nursery.cancel_scope.cancel()

    try:
        return trio.run(send)
    except BrokerError as error:
        raise CliError(f"{error.code}: {error.message}") from None


def answer(args: argparse.Namespace, record: Any, text: str) -> int:
    """Print the response ``record``: ``text``, or the record as JSON with ``-o json``; a rejection is an error."""
    from zeebe_trio.protocol import RecordType

    if record.record_type is RecordType.COMMAND_REJECTION:
        raise CliError(f"{record.rejection_type.name}: {record.rejection_reason}")
    if args.output == "json":
        print(json.dumps({"key": str(record.key), "intent": record.intent.name, **record.value}, sort_keys=True))
    else:
        print(text)
    return 0


def _complete(args: argparse.Namespace) -> int:
    record = _execute(args, "COMPLETE", {"variables": json.loads(args.variables), "action": args.action or ""})
    return answer(args, record, f"completed user task {args.key}")


def _assign(args: argparse.Namespace) -> int:
    record = _execute(args, "ASSIGN", {"assignee": args.assignee, "action": args.action or ""})
    who = f"to {args.assignee}" if args.assignee else "to nobody (unassigned)"
    return answer(args, record, f"assigned user task {args.key} {who}")


def _common(parser: argparse.ArgumentParser, types: ArgumentTypes) -> None:
    parser.add_argument("key", type=types.key, help="the user task key (userTaskKey of its USER_TASK records)")
    broker_options(parser, types, "the USER_TASK record")
    parser.add_argument("--action", help="the action the records name (default: Zeebe's, e.g. 'complete')")


def broker_options(parser: argparse.ArgumentParser, types: ArgumentTypes, record: str) -> None:
    """The options of a command sent to the broker's command API (``send_command``)."""
    group = parser.add_argument_group("broker options")
    group.add_argument("--broker", metavar="HOST:PORT",
                       help="the broker's command API (default localhost:<command_api_port> of the configuration)")
    group.add_argument("--config", type=Path, help="broker config file, for the command API's port, secret and TLS")
    group.add_argument("--request-timeout", type=types.duration, default=DEFAULT_TIMEOUT, metavar="DURATION",
                       help="how long to wait for the answer (default 10s)")
    group.add_argument("-o", "--output", type=types.output, default="text", metavar="{text,json}",
                       help=f"a short line (default), or {record} as JSON")


@dataclass(frozen=True)
class ArgumentTypes:
    """The client commands' argument types (``_client``), handed in: the client module registers us."""

    key: Callable[[str], int]
    duration: Callable[[str], float]
    output: Callable[[str], str]
    variables: Callable[[str], str]


def add_user_task_commands(complete_verb: Any, assign_verb: Any, types: ArgumentTypes) -> None:
    """Add the ``user-task`` noun to the ``complete`` verb and to an ``assign`` verb."""

    complete = complete_verb.add_parser(
        "user-task", help="complete a Camunda user task (zeebe:userTask) over the broker's command API",
        description="Complete a Camunda user task (zeebe:userTask); its element completes with the variables.")
    _common(complete, types)
    complete.add_argument("--variables", type=types.variables, default="{}", metavar="JSON|@FILE",
                          help="the variables to complete it with: a JSON object, or @file.json to read one")
    complete.set_defaults(handler=_complete, command_name="complete user-task")

    assign = assign_verb.add_parser(
        "user-task", help="assign a Camunda user task (zeebe:userTask) over the broker's command API",
        description="Assign a Camunda user task (zeebe:userTask) to someone, or unassign it with --assignee ''.")
    _common(assign, types)
    assign.add_argument("--assignee", required=True, help="the new assignee ('' unassigns)")
    assign.set_defaults(handler=_assign, command_name="assign user-task")
