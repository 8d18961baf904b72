"""Business rule tasks with a zeebe:calledDecision in the executable model: the engine evaluates the
decision itself (a business rule task with a zeebe:taskDefinition is a job worker task instead).

``decision_id`` is compiled once (a static id or a FEEL expression); ``binding_type`` picks the version
('latest', 'deployment': the one deployed with the process, 'versionTag': the latest with ``version_tag``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from zeebe_trio.protocol import excerpt

from .. import _model as syntax
from .._errors import element_label
from ._elements import ExecutableActivity, ExecutableFlowNode, ExecutableProcess
from ._expression import CompileProblems, Expression, compile_value

__all__ = ["ExecutableBusinessRuleTask", "decision_binding_problems", "transform_business_rule_task"]


@dataclass(eq=False, repr=False)
class ExecutableBusinessRuleTask(ExecutableActivity):
    """A business rule task with a zeebe:calledDecision: the decision's output becomes ``result_variable``."""

    decision_id: Expression = None  # type: ignore[assignment]  # always set by the transformer
    result_variable: str = ""
    binding_type: str = "latest"
    version_tag: str | None = None


def transform_business_rule_task(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    task = ExecutableBusinessRuleTask(node.id, node.element_type, node.name)
    called = node.called_decision
    if called is None:
        problems.append(f"{where}: has neither a zeebe:calledDecision nor a zeebe:taskDefinition")
        return task
    try:
        task.decision_id = compile_value(called.decision_id, f"{where}: called decision id", expression_required=False)
    except CompileProblems as error:
        problems.extend(error.problems)
    task.result_variable = called.result_variable.strip()
    task.binding_type = called.binding_type
    task.version_tag = called.version_tag
    return task


def decision_binding_problems(process: ExecutableProcess, deployed_decision_ids: Collection[str]) -> list[str]:
    """Business rule tasks of ``process`` that bind a static decision id to their own deployment but whose
    deployment (``deployed_decision_ids``) lacks that decision: Zeebe refuses the deployment for them."""
    problems = []
    prefix = element_label("process", process.bpmn_process_id, process.name)
    for node in process.flow_nodes():
        if not isinstance(node, ExecutableBusinessRuleTask) or node.binding_type != "deployment":
            continue
        source = node.decision_id.source.strip()
        if source.startswith("=") or source in deployed_decision_ids:
            continue
        label = element_label("business rule task", node.id, node.name)
        problems.append(f"{prefix}: {label}: Expected to find decision with id {excerpt(source)} in current"
                        " deployment, but not found; deploy the decision together with this process, or bind"
                        " the business rule task to the 'latest' version of the decision")
    return problems
