"""Elements that bind a static resource id to their own deployment (``bindingType="deployment"``):
a call activity's process, a business rule task's decision, a user task's form. Zeebe refuses a
deployment that lacks what one of its elements binds that way; an expression id can only be checked
when the element runs."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from zeebe_trio.protocol import excerpt

from .._errors import element_label
from ._business_rule_task import ExecutableBusinessRuleTask
from ._call_activity import ExecutableCallActivity
from ._elements import ExecutableFlowNode, ExecutableProcess
from ._tasks import ExecutableUserTask

__all__ = ["BOUND_RESOURCES", "deployment_binding_problems"]

#: The resource kinds an element can bind to its deployment, in the order their problems are listed.
BOUND_RESOURCES = ("process", "form", "decision")


def _bound(node: ExecutableFlowNode) -> tuple[str, str, str, str] | None:
    """(resource kind, static id source, element kind, how to fix it) of an element bound to its
    deployment, or None."""
    if isinstance(node, ExecutableCallActivity) and node.binding_type == "deployment":
        return ("process", node.process_id.source.strip(), "call activity",
                "deploy it together with this process, or bind the call activity to the 'latest' version")
    if isinstance(node, ExecutableUserTask) and node.user_task.form_binding_type == "deployment":
        expression = node.user_task.form_id
        return ("form", "" if expression is None else expression.source.strip(), "user task",
                "deploy the form together with this process, or bind the user task to the 'latest' version of"
                " the form")
    if isinstance(node, ExecutableBusinessRuleTask) and node.binding_type == "deployment":
        return ("decision", node.decision_id.source.strip(), "business rule task",
                "deploy the decision together with this process, or bind the business rule task to the"
                " 'latest' version of the decision")
    return None


def _problems_of(process: ExecutableProcess, resource: str, deployed: Collection[str]) -> Iterator[str]:
    prefix = element_label("process", process.bpmn_process_id, process.name)
    for node in process.flow_nodes():
        bound = _bound(node)
        if bound is None or bound[0] != resource:
            continue
        _resource, source, kind, fix = bound
        if not source or source.startswith("=") or source in deployed:
            continue
        yield (f"{prefix}: {element_label(kind, node.id, node.name)}: Expected to find {resource} with id"
               f" {excerpt(source)} in current deployment, but not found; {fix}")


def deployment_binding_problems(process: ExecutableProcess, deployed: Mapping[str, Collection[str]]) -> list[str]:
    """The elements of ``process`` bound to their own deployment whose static id that deployment lacks:
    ``deployed`` has the ids the deployment holds per resource kind ('process', 'form', 'decision')."""
    return [problem for resource in BOUND_RESOURCES
            for problem in _problems_of(process, resource, deployed.get(resource, ()))]
