"""How long the strings that become part of a state key may be, checked where they enter.

LMDB keys hold at most ``MAX_STATE_KEY_BYTES`` (its compiled-in limit); a longer key fails the whole
command's transaction (``MDB_BAD_VALSIZE``), which a client saw as INTERNAL. Strings become key parts
here: process ids, the ids of a parallel join's gateway and incoming flows, job types, variable names,
and a message's name, correlation key and message id. Each is checked where it enters: BPMN ids at
deployment (``MAX_ID_LENGTH`` characters, like Zeebe's max-id-length, then the keys they build), the
strings of client commands before their processor runs (an INVALID_ARGUMENT rejection), and a job
type FEEL computes when it is evaluated (an incident).

The limits are on the key (``pack_key``): a message says how many bytes of UTF-8 the string may take
beside the other parts of its key, and how many it takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zeebe_trio.protocol import (
    JobBatchIntent,
    JobIntent,
    MessageIntent,
    ProcessInstanceCreationIntent,
    Record,
    RejectionType,
    ValueType,
    VariableDocumentIntent,
    excerpt,
)
from zeebe_trio.state import pack_key

from .bpmn import MAX_ID_LENGTH, ElementType

__all__ = ["MAX_ID_LENGTH", "MAX_STATE_KEY_BYTES", "deployment_problems", "intake_problem", "job_type_problem",
           "key_problem", "message_key_problem", "variable_name_problem"]

MAX_STATE_KEY_BYTES = 511
"""LMDB's largest key, in bytes."""


_ANY_KEY = 0  # an integer key part: always 9 bytes, whatever its value
_ALWAYS_FITS = 100  # characters that fit beside two integer parts even at 4 bytes each


def _text_bytes(text: str) -> int:
    """Bytes ``text`` takes in a key, without its tag and terminator."""
    return len(pack_key((text,))) - 2


def key_problem(what: str, text: str, *key: int | str) -> str | None:
    """Why the state key ``key`` (``text`` and integers) is too long, worded for ``what`` ``text`` is;
    ``None`` when it fits."""
    if len(text) <= _ALWAYS_FITS:
        return None
    size = len(pack_key(key))
    if size <= MAX_STATE_KEY_BYTES:
        return None
    allowed = MAX_STATE_KEY_BYTES - (size - _text_bytes(text))
    return (f"Expected {what} to be at most {max(allowed, 0)} bytes long (in UTF-8), but {excerpt(text)} is"
            f" {_text_bytes(text)} bytes")


def job_type_problem(job_type: str) -> str | None:
    """Why ``job_type`` cannot be a job type (activatable jobs are keyed by type and job key)."""
    return key_problem("the job type", job_type, job_type, _ANY_KEY)


def variable_name_problem(names: Iterable[Any]) -> str | None:
    """Why one of ``names`` cannot be a variable name (the key of a variable is its scope and name)."""
    for name in names:
        if isinstance(name, str):
            problem = key_problem("a variable name", name, _ANY_KEY, name)
            if problem is not None:
                return problem
    return None


def message_key_problem(name: str, correlation_key: str, message_id: str) -> str | None:
    """Why a message's name, correlation key and message id cannot key it (they do, together)."""
    if len(name) + len(correlation_key) + len(message_id) <= 100:
        return None
    size = len(pack_key((name, correlation_key, message_id)))
    if size <= MAX_STATE_KEY_BYTES:
        return None
    return (f"Expected the message name, correlation key and message id to take at most"
            f" {MAX_STATE_KEY_BYTES - 6} bytes together (in UTF-8), but they take {size - 6}: name"
            f" {excerpt(name, 40)}, correlation key {excerpt(correlation_key, 40)}, message id"
            f" {excerpt(message_id, 40)}")


def _strings(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _document_names(value: Mapping[str, Any], field: str) -> Iterable[Any]:
    document = value.get(field)
    return document.keys() if isinstance(document, dict) else ()


def _invalid(problem: str | None) -> tuple[RejectionType, str] | None:
    return None if problem is None else (RejectionType.INVALID_ARGUMENT, problem)


def intake_problem(command: Record) -> tuple[RejectionType, str] | None:
    """The rejection for a command holding a string too long for the state key it would become (or be
    looked up by), or ``None``. Checked before the command's processor runs."""
    value = command.value
    value_type = command.value_type
    if value_type is ValueType.PROCESS_INSTANCE_CREATION and command.intent in (
            ProcessInstanceCreationIntent.CREATE, ProcessInstanceCreationIntent.CREATE_WITH_AWAITING_RESULT):
        pid = value.get("bpmnProcessId")
        if isinstance(pid, str) and key_problem("", pid, pid, _ANY_KEY) is not None:
            # No deployment has such an id: what the lookup would have said.
            return (RejectionType.NOT_FOUND,
                    f"Expected to find process definition with process ID {excerpt(pid)}, but none found")
        return _invalid(variable_name_problem(_document_names(value, "variables")))
    if value_type is ValueType.PROCESS_INSTANCE_MODIFICATION:
        return _invalid(variable_name_problem(
            name for activate in _strings(value.get("activateInstructions")) if isinstance(activate, dict)
            for variables in _strings(activate.get("variableInstructions")) if isinstance(variables, dict)
            for name in _document_names(variables, "variables")))
    if value_type is ValueType.VARIABLE_DOCUMENT and command.intent is VariableDocumentIntent.UPDATE:
        return _invalid(variable_name_problem(_document_names(value, "variables")))
    if value_type is ValueType.JOB and command.intent in (JobIntent.COMPLETE, JobIntent.FAIL, JobIntent.THROW_ERROR):
        return _invalid(variable_name_problem(_document_names(value, "variables")))
    if value_type is ValueType.JOB_BATCH and command.intent is JobBatchIntent.ACTIVATE:
        job_type = value.get("type")
        if isinstance(job_type, str):
            problem = job_type_problem(job_type)
            if problem is not None:
                return _invalid(problem)
        return _invalid(variable_name_problem(_strings(value.get("variables"))))
    if value_type is ValueType.MESSAGE and command.intent is MessageIntent.PUBLISH:
        parts = [value.get(field) or "" for field in ("name", "correlationKey", "messageId")]
        if all(isinstance(part, str) for part in parts):
            return _invalid(message_key_problem(*parts))
    return None


def deployment_problems(process: Any, prefix: str, label: Any) -> list[str]:
    """The keys a process's ids, static job types and mapping targets build that are too long, as
    rejection lines after ``prefix`` (the process); ``label(node)`` names a flow node."""
    problems: list[str] = []
    pid = process.bpmn_process_id
    problem = key_problem("the process id", pid, pid, _ANY_KEY)
    if problem is not None:
        problems.append(f"{prefix}: {problem}")

    def targets(where: str, mappings: Iterable[Any]) -> None:
        for mapping in mappings:
            name = (mapping.target or "").strip().split(".")[0].strip()
            found = variable_name_problem([name]) if name else None
            if found is not None:
                problems.append(f"{where}: mapping target: {found}")

    targets(prefix, (*process.input_mappings, *process.output_mappings))
    for node in process.flow_nodes():
        where = f"{prefix}: {label(node)}"
        targets(where, (*node.input_mappings, *node.output_mappings))
        loop = getattr(node, "multi_instance", None)
        if loop is not None:  # the loop's variable names key variables too
            found = variable_name_problem([(loop.input_element or "").strip(), (loop.output_collection or "").strip()])
            if found is not None:
                problems.append(f"{where}: multi-instance loop: {found}")
        job_type = (node.job_type or "").strip()
        if job_type and not job_type.startswith("="):
            found = job_type_problem(job_type)
            if found is not None:
                problems.append(f"{where}: {found}")
        if node.element_type is ElementType.PARALLEL_GATEWAY and len(node.incoming) > 1:
            for flow_id in node.incoming:
                size = len(pack_key((_ANY_KEY, node.id, flow_id)))
                if size > MAX_STATE_KEY_BYTES:
                    problems.append(
                        f"{where}: Expected the ids of the gateway and its incoming sequence flow"
                        f" {excerpt(flow_id)} to take at most {MAX_STATE_KEY_BYTES - 13} bytes together (in"
                        f" UTF-8), but they take {size - 13}; use shorter ids")
    return problems
