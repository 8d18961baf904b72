"""Ad-hoc subprocesses in the executable model (Zeebe's ``ExecutableAdHocSubProcess``).

An ad-hoc subprocess holds one child only, its inner instance container (element type
AD_HOC_SUB_PROCESS_INNER_INSTANCE, id ``<id>#innerInstance``, as Zeebe names it): every element the
subprocess activates runs in an inner instance of its own, and the elements drawn inside the
subprocess are that container's children. Its ad-hoc activities are the inner elements without
incoming sequence flows (boundary, start and end events excluded): those ``activeElementsCollection``
may name. The zeebe:adHoc expressions are compiled here: ``activeElementsCollection`` and
``outputElement`` (optional), ``outputCollection`` is a variable name, the BPMN completionCondition
may be static (a static one is a string, an incident when evaluated, as for multi-instance).

``transform_ad_hoc_sub_process`` is the first-pass transformer; ``link_ad_hoc_sub_processes`` moves
the linked children into the inner instance once the process is linked, and returns the inner
instances, which the process lists among its elements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from zeebe_trio.protocol import BpmnElementType

from .. import _model as syntax
from ._elements import ExecutableFlowElementContainer, ExecutableFlowNode
from ._expression import CompileProblems, Expression, compile_value
from ._multi_instance import ExecutableMultiInstanceBody

__all__ = [
    "AD_HOC_INNER_INSTANCE_POSTFIX",
    "ExecutableAdHocSubProcess",
    "link_ad_hoc_sub_processes",
    "transform_ad_hoc_sub_process",
]

#: Zeebe's ZeebeConstants.AD_HOC_SUB_PROCESS_INNER_INSTANCE_ID_POSTFIX.
AD_HOC_INNER_INSTANCE_POSTFIX = "#innerInstance"

_VARIABLE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")

# Inner elements that an ad-hoc subprocess never activates by id (Zeebe's isAdHocActivity).
_NOT_AD_HOC_ACTIVITIES = frozenset({
    BpmnElementType.START_EVENT,
    BpmnElementType.END_EVENT,
    BpmnElementType.BOUNDARY_EVENT,
    BpmnElementType.EVENT_SUB_PROCESS,
})


@dataclass(eq=False, repr=False)
class ExecutableAdHocSubProcess(ExecutableFlowElementContainer):
    active_elements_collection: Expression | None = None
    completion_condition: Expression | None = None
    cancel_remaining_instances: bool = True
    output_collection: str | None = None
    output_element: Expression | None = None
    # set by link_ad_hoc_sub_processes
    inner_instance: ExecutableFlowElementContainer = None  # type: ignore[assignment]
    ad_hoc_activities: dict[str, ExecutableFlowNode] = field(default_factory=dict)
    # the value of its adHocSubProcessElements variable: Zeebe's AdHocActivityMetadata of each activity
    # (elementId, and elementName, documentation, properties where the element has them)
    activities_metadata: list[dict[str, object]] = field(default_factory=list)

    @property
    def inner_instance_id(self) -> str:
        return self.id + AD_HOC_INNER_INSTANCE_POSTFIX

    @property
    def output_element_variable(self) -> str | None:
        """The variable an output element that is a plain path refers to (``result`` for ``=result.x``):
        each inner instance gets it as a local null, so that the element's result stays in it."""
        if self.output_element is None:
            return None
        source = self.output_element.source.strip().removeprefix("=").strip()
        if not _VARIABLE_PATH.fullmatch(source):
            return None
        return source.split(".")[0].strip()


def _compile(text: str | None, where: str, problems: list[str]) -> Expression | None:
    if text is None or not text.strip():
        return None  # Zeebe ignores a blank expression: nothing to activate, no condition
    try:
        return compile_value(text, where, expression_required=False)
    except CompileProblems as error:
        problems.extend(error.problems)
        return None


def transform_ad_hoc_sub_process(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    return ExecutableAdHocSubProcess(
        node.id, node.element_type, node.name,
        active_elements_collection=_compile(node.active_elements_collection,
                                            f"{where}: zeebe:adHoc activeElementsCollection", problems),
        completion_condition=_compile(node.completion_condition, f"{where}: completionCondition", problems),
        cancel_remaining_instances=node.cancel_remaining_instances,
        output_collection=node.ad_hoc_output_collection,
        output_element=_compile(node.ad_hoc_output_element, f"{where}: zeebe:adHoc outputElement", problems),
    )


def _metadata(node: syntax.FlowNode) -> dict[str, object]:
    found: dict[str, object] = {"elementId": node.id}
    if node.name:
        found["elementName"] = node.name
    if node.documentation:
        found["documentation"] = node.documentation
    if node.properties:
        found["properties"] = dict(node.properties)
    return found


def link_ad_hoc_sub_processes(nodes: Iterable[ExecutableFlowNode],
                              parsed: syntax.ExecutableProcess) -> list[ExecutableFlowElementContainer]:
    """Give every ad-hoc subprocess among ``nodes`` (of the ``parsed`` process) its inner instance
    container, holding the elements drawn inside it; the inner instances, for the process's elements."""
    inner_instances: list[ExecutableFlowElementContainer] = []
    for node in nodes:
        element = node.inner_activity if isinstance(node, ExecutableMultiInstanceBody) else node
        if not isinstance(element, ExecutableAdHocSubProcess):
            continue
        inner = ExecutableFlowElementContainer(element.inner_instance_id,
                                               BpmnElementType.AD_HOC_SUB_PROCESS_INNER_INSTANCE)
        inner.flow_scope = element
        for child in element.children:
            child.flow_scope = inner
            inner.children.append(child)
        element.children = [inner]
        element.inner_instance = inner
        element.ad_hoc_activities = {
            child.id: child for child in inner.children
            if child.element_type not in _NOT_AD_HOC_ACTIVITIES and not child.incoming
        }
        element.activities_metadata = [_metadata(parsed.flow_node(child_id)) for child_id in element.ad_hoc_activities]
        inner_instances.append(inner)
    return inner_instances
