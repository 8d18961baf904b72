"""``zeebe-trio activate ad-hoc-activities KEY ELEMENT...``: activate elements of a running ad-hoc subprocess.

Camunda's REST API has this call (``POST /element-instances/ad-hoc-activities/{key}/activation``), which
zeebe-trio does not serve yet; so the verb sends AD_HOC_SUB_PROCESS_INSTRUCTION ACTIVATE to the broker's
command API directly, as a gateway would (the options of ``complete user-task``). ``--variables`` become
the local variables of each activated element's inner instance. A rejection is one line naming its type
and Zeebe's reason, exit code 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._errors import CliError
from ._user_tasks import ArgumentTypes, answer, broker_options, send_command

__all__ = ["add_ad_hoc_commands"]


def _activate(args: argparse.Namespace) -> int:
    from zeebe_trio.gateway import BrokerCommand
    from zeebe_trio.protocol import AdHocSubProcessInstructionIntent, ValueType, partition_of

    partition = partition_of(args.key)
    if partition < 1:
        raise CliError(f"{args.key} is not an element instance key (keys carry their partition in their top bits)",
                       code=2)
    variables = json.loads(args.variables)
    elements = [{"elementId": element_id, "variables": variables} for element_id in args.elements]
    value: dict[str, Any] = {"adHocSubProcessInstanceKey": args.key, "activateElements": elements}
    record = send_command(args, partition, BrokerCommand(ValueType.AD_HOC_SUB_PROCESS_INSTRUCTION,
                                                         AdHocSubProcessInstructionIntent.ACTIVATE, value))
    return answer(args, record, f"activated {', '.join(args.elements)} in ad-hoc sub-process {args.key}")


def add_ad_hoc_commands(activate_verb: Any, types: ArgumentTypes) -> None:
    """Add the ``ad-hoc-activities`` noun to the ``activate`` verb."""
    parser = activate_verb.add_parser(
        "ad-hoc-activities", help="activate elements of a running ad-hoc sub-process over the broker's command API",
        description="Activate elements of a running ad-hoc sub-process, each in an inner instance of its own.")
    parser.add_argument("key", type=types.key,
                        help="the ad-hoc sub-process's element instance key (the key of its ELEMENT_ACTIVATED record)")
    parser.add_argument("elements", nargs="+", metavar="ELEMENT", help="the ids of the elements to activate")
    parser.add_argument("--variables", type=types.variables, default="{}", metavar="JSON|@FILE",
                        help="local variables of each activated element: a JSON object, or @file.json to read one")
    broker_options(parser, types, "the AD_HOC_SUB_PROCESS_INSTRUCTION record")
    parser.set_defaults(handler=_activate, command_name="activate ad-hoc-activities")
