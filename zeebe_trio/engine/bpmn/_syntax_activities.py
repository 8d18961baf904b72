"""Activity characteristics as written: Zeebe extension elements -> the frozen ``_model`` classes.

Each reader takes an element's zeebe:* extension elements (by tag, as ``zeebe_extensions`` groups
them) and a ``report`` callback for the problems Zeebe's validators find in them (ZeebeLoopCharacteristics,
the calledElement/calledDecision/script attribute checks, ZeebeBindingType, the form definition and the
execution listener rules). Rules that depend on the element's place (start listeners on start and
boundary events) stay with the parser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from ._errors import excerpt
from ._model import (
    DEFAULT_JOB_RETRIES,
    CalledDecision,
    CalledElement,
    ExecutionListener,
    MultiInstanceLoop,
    ScriptDefinition,
    UserTaskDefinition,
)
from ._syntax_events import text_of
from ._xml import ZEEBE_NS, bpmn, zeebe

__all__ = [
    "Extensions",
    "zeebe_extensions",
    "read_multi_instance",
    "read_called_element",
    "read_called_decision",
    "read_script",
    "read_user_task",
    "read_execution_listeners",
]

Report = Callable[[str], None]
Extensions = dict[str, list[etree._Element]]

BINDING_TYPES = ("latest", "deployment", "versionTag")

_ZEEBE_PREFIX = f"{{{ZEEBE_NS}}}"


def _quoted(value: str) -> str:
    return "'" + excerpt(value, quote="'") + "'"


def zeebe_extensions(owner: etree._Element, extension_elements: etree._Element | None = None) -> Extensions:
    """The zeebe:* children of ``owner``'s bpmn:extensionElements, grouped by tag in document order."""
    if extension_elements is None:
        extension_elements = owner.find(bpmn("extensionElements"))
        if extension_elements is None:
            return {}
    found: Extensions = {}
    for child in extension_elements:
        if isinstance(child.tag, str) and child.tag.startswith(_ZEEBE_PREFIX):
            found.setdefault(child.tag, []).append(child)
    return found


def _single(extensions: Extensions, local_name: str, report: Report) -> etree._Element | None:
    found = extensions.get(zeebe(local_name), [])
    if len(found) != 1:
        report(f"must have exactly one zeebe:{local_name} extension element, found {len(found)}")
    return found[0] if found else None


def _non_empty(extension: etree._Element, attribute: str, example: str, report: Report) -> str:
    value = extension.get(attribute) or ""
    if not value.strip():
        tag = etree.QName(extension).localname
        report(
            f"the zeebe:{tag} attribute '{attribute}' must be present and not empty (e.g. {_quoted(example)})"
        )
    return value


def _binding(extension: etree._Element, report: Report) -> tuple[str, str | None]:
    tag = etree.QName(extension).localname
    binding_type = (extension.get("bindingType") or "latest").strip()
    version_tag = extension.get("versionTag") or None
    if binding_type not in BINDING_TYPES:
        report(
            f"the zeebe:{tag} bindingType must be one of 'latest', 'deployment' or 'versionTag', found "
            f"{_quoted(binding_type)}"
        )
        binding_type = "latest"
    elif binding_type == "versionTag" and not (version_tag or "").strip():
        report(
            f"the zeebe:{tag} has bindingType 'versionTag' but no versionTag; add the version tag to bind to"
        )
    return binding_type, version_tag


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _is_false(value: str | None) -> bool:
    return (value or "").strip().lower() == "false"


def read_multi_instance(loop: etree._Element, report: Report) -> MultiInstanceLoop:
    """A bpmn:multiInstanceLoopCharacteristics with its zeebe:loopCharacteristics."""
    found = zeebe_extensions(loop).get(zeebe("loopCharacteristics"), [])
    condition_element = loop.find(bpmn("completionCondition"))
    condition = text_of(condition_element) if condition_element is not None else None
    if condition_element is not None and (not condition or condition == "="):
        report("the multi-instance completionCondition is empty; write a FEEL expression or remove it")
    is_sequential = _is_true(loop.get("isSequential"))
    if len(found) != 1:
        report(
            "the multi-instance loop must have exactly one zeebe:loopCharacteristics extension element, found "
            f"{len(found)}; add one with an inputCollection"
        )
        return MultiInstanceLoop(is_sequential=is_sequential, completion_condition=condition or None)
    characteristics = found[0]
    values = {
        name: (characteristics.get(name) or None)
        for name in ("inputCollection", "inputElement", "outputCollection", "outputElement")
    }
    if not (values["inputCollection"] or "").strip():
        report(
            "the zeebe:loopCharacteristics attribute 'inputCollection' must be present and not empty (e.g. '=items')"
        )
    if values["outputCollection"] and not values["outputElement"]:
        report(
            "the zeebe:loopCharacteristics attribute 'outputElement' must be present if the attribute "
            "'outputCollection' is set"
        )
    elif values["outputElement"] and not values["outputCollection"]:
        report(
            "the zeebe:loopCharacteristics attribute 'outputCollection' must be present if the attribute "
            "'outputElement' is set"
        )
    return MultiInstanceLoop(
        is_sequential=is_sequential,
        input_collection=values["inputCollection"],
        input_element=values["inputElement"],
        output_collection=values["outputCollection"],
        output_element=values["outputElement"],
        completion_condition=condition or None,
    )


def read_called_element(extensions: Extensions, report: Report) -> CalledElement | None:
    called = _single(extensions, "calledElement", report)
    if called is None:
        return None
    process_id = _non_empty(called, "processId", "order-process", report)
    binding_type, version_tag = _binding(called, report)
    return CalledElement(
        process_id=process_id,
        binding_type=binding_type,
        version_tag=version_tag,
        propagate_all_child_variables=not _is_false(called.get("propagateAllChildVariables")),
        propagate_all_parent_variables=not _is_false(called.get("propagateAllParentVariables")),
    )


def read_called_decision(extensions: Extensions, report: Report) -> CalledDecision | None:
    called = _single(extensions, "calledDecision", report)
    if called is None:
        return None
    decision_id = _non_empty(called, "decisionId", "approve-order", report)
    result_variable = _non_empty(called, "resultVariable", "decision", report)
    binding_type, version_tag = _binding(called, report)
    return CalledDecision(decision_id, result_variable, binding_type, version_tag)


def read_script(extensions: Extensions, report: Report) -> ScriptDefinition | None:
    script = _single(extensions, "script", report)
    if script is None:
        return None
    expression = _non_empty(script, "expression", "=a + b", report)
    result_variable = _non_empty(script, "resultVariable", "sum", report)
    return ScriptDefinition(expression=expression, result_variable=result_variable)


def read_user_task(extensions: Extensions, report: Report) -> UserTaskDefinition:
    def first(local_name: str) -> etree._Element | None:
        found = extensions.get(zeebe(local_name), [])
        return found[0] if found else None

    values: dict[str, Any] = {"zeebe_user_task": zeebe("userTask") in extensions}
    assignment = first("assignmentDefinition")
    if assignment is not None:
        values["assignee"] = assignment.get("assignee") or None
        values["candidate_groups"] = assignment.get("candidateGroups") or None
        values["candidate_users"] = assignment.get("candidateUsers") or None
    schedule = first("taskSchedule")
    if schedule is not None:
        values["due_date"] = schedule.get("dueDate") or None
        values["follow_up_date"] = schedule.get("followUpDate") or None
    priority = first("priorityDefinition")
    if priority is not None:
        values["priority"] = _non_empty(priority, "priority", "50", report) or None
    form = first("formDefinition")
    if form is not None:
        form_values = {
            "form_key": form.get("formKey") or None,
            "form_id": form.get("formId") or None,
            "external_reference": form.get("externalReference") or None,
        }
        given = [key for key, value in form_values.items() if value and value.strip()]
        if len(given) != 1:
            report(
                "the zeebe:formDefinition must have exactly one of formKey, formId or externalReference, found "
                + (", ".join(given) if given else "none")
                + "; keep one"
            )
        if form_values["form_key"] and values["zeebe_user_task"]:
            report(
                "a Camunda user task (zeebe:userTask) links its form with formId or externalReference, not "
                "formKey (embedded forms belong to job worker user tasks)"
            )
        values.update(form_values)
        values["binding_type"], values["version_tag"] = _binding(form, report)
    return UserTaskDefinition(**values)


def read_execution_listeners(extensions: Extensions, report: Report) -> tuple[ExecutionListener, ...]:
    containers = extensions.get(zeebe("executionListeners"), [])
    if len(containers) > 1:
        report("must not have more than one zeebe:executionListeners definition; merge them")
    listeners: list[ExecutionListener] = []
    seen: set[tuple[str, str]] = set()
    for container in containers:
        for listener in container:
            if listener.tag != zeebe("executionListener"):
                continue
            event_type = (listener.get("eventType") or "").strip()
            job_type = (listener.get("type") or "").strip()
            retries = (listener.get("retries") or DEFAULT_JOB_RETRIES).strip()
            if event_type not in ("start", "end"):
                report(
                    "every zeebe:executionListener must have eventType 'start' or 'end', found "
                    + (_quoted(event_type) if event_type else "none")
                )
                continue
            if not job_type:
                report(f"the '{event_type}' zeebe:executionListener must have a non-empty type")
                continue
            if not retries:
                report(f"the zeebe:executionListener {_quoted(job_type)} has empty retries")
                continue
            if (event_type, job_type) in seen:
                report(
                    f"found more than one '{event_type}' execution listener with the job type {_quoted(job_type)}; "
                    "listeners of one event type must have distinct job types"
                )
            seen.add((event_type, job_type))
            listeners.append(ExecutionListener(event_type=event_type, job_type=job_type, retries=retries))
    return tuple(listeners)
