"""Call activities in the executable model: which process they call, how they bind to its version,
and which variables cross into the child process instance and back.

The called process id is an expression (FEEL after ``=``) or a static id, compiled once here and
evaluated when the call activity activates; the binding decides which deployed version is called:
``latest``, the one deployed together with the calling process (``deployment``), or the latest one
with a given ``zeebe:versionTag`` (``versionTag``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _model as syntax
from ._elements import ExecutableActivity, ExecutableFlowNode
from ._expression import CompileProblems, Expression, compile_value

__all__ = ["ExecutableCallActivity", "transform_call_activity"]


@dataclass(eq=False, repr=False)
class ExecutableCallActivity(ExecutableActivity):
    """A ``bpmn:callActivity``: its zeebe:calledElement, compiled."""

    process_id: Expression = None  # type: ignore[assignment]  # always set by the transformer
    binding_type: str = "latest"
    version_tag: str | None = None
    #: All root-scope variables of the child flow back into the parent when it completes (unless the
    #: call activity has output mappings, which then decide alone, as in Zeebe).
    propagate_all_child_variables: bool = True
    #: All variables visible to the call activity are copied into the child; otherwise only the
    #: results of its input mappings.
    propagate_all_parent_variables: bool = True


def transform_call_activity(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    called = node.called_element
    activity = ExecutableCallActivity(node.id, node.element_type, node.name)
    if called is None:  # the parser refuses a call activity without zeebe:calledElement
        problems.append(f"{where}: has no zeebe:calledElement; add one naming the process to call")
        return activity
    try:
        activity.process_id = compile_value(called.process_id, f"{where}: called process id",
                                            expression_required=False)
    except CompileProblems as error:
        problems.extend(error.problems)
    activity.binding_type = called.binding_type
    activity.version_tag = called.version_tag
    activity.propagate_all_child_variables = called.propagate_all_child_variables
    activity.propagate_all_parent_variables = called.propagate_all_parent_variables
    return activity
