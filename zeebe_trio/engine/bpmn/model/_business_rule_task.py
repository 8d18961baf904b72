"""Business rule tasks with a zeebe:calledDecision in the executable model: the engine evaluates the
decision itself (a business rule task with a zeebe:taskDefinition is a job worker task instead).

``decision_id`` is compiled once (a static id or a FEEL expression); ``binding_type`` picks the version
('latest', 'deployment': the one deployed with the process, 'versionTag': the latest with ``version_tag``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _model as syntax
from ._elements import ExecutableActivity, ExecutableFlowNode
from ._expression import CompileProblems, Expression, compile_value

__all__ = ["ExecutableBusinessRuleTask", "transform_business_rule_task"]


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
