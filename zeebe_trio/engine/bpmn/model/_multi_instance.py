"""Multi-instance activities in the executable model: a body that wraps the activity it repeats.

As in Zeebe (``ExecutableMultiInstanceBody``), an activity with multi-instance loop characteristics
becomes two elements with one id: the MULTI_INSTANCE_BODY, which takes the activity's place in the
flow (its sequence flows, its flow scope, its boundary events), and the inner activity, whose flow
scope is the body and which has no sequence flows of its own. ``wrap_multi_instance`` builds the body
when a process is transformed, compiling the loop's expressions: ``inputCollection`` and
``outputElement`` must be expressions, ``completionCondition`` may be static; ``inputElement`` and
``outputCollection`` are variable names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zeebe_trio.protocol import BpmnElementType

from .. import _model as syntax
from ._elements import ExecutableActivity, ExecutableFlowElementContainer
from ._expression import CompileProblems, Expression, compile_value

__all__ = ["ExecutableMultiInstanceBody", "LoopCharacteristics", "wrap_multi_instance"]

# A FEEL path such as ``result`` or ``result.nested``: the output element names a variable whose root
# the engine creates (as null) on each inner instance, so that the inner instance's results stay local.
_VARIABLE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True, slots=True)
class LoopCharacteristics:
    """The compiled zeebe:loopCharacteristics of one multi-instance activity."""

    is_sequential: bool
    input_collection: Expression
    input_element: str | None = None
    output_collection: str | None = None
    output_element: Expression | None = None
    completion_condition: Expression | None = None

    @property
    def output_element_variable(self) -> str | None:
        """The variable an output element that is a plain path refers to (``result`` for
        ``=result.nested``), else None."""
        if self.output_element is None:
            return None
        source = self.output_element.source.strip().removeprefix("=").strip()
        if not _VARIABLE_PATH.fullmatch(source):
            return None
        return source.split(".")[0].strip()


@dataclass(eq=False, repr=False)
class ExecutableMultiInstanceBody(ExecutableFlowElementContainer):
    """The MULTI_INSTANCE_BODY of a multi-instance activity; its only child is the inner activity."""

    inner_activity: ExecutableActivity = None  # type: ignore[assignment]  # set by wrap_multi_instance
    loop: LoopCharacteristics = None  # type: ignore[assignment]


def _expression(text: str | None, where: str, problems: list[str], *, required: bool = True) -> Expression | None:
    if text is None or not text.strip():
        return None
    try:
        return compile_value(text, where, expression_required=required)
    except CompileProblems as error:
        problems.extend(error.problems)
        return None


def _name(text: str | None) -> str | None:
    return text.strip() if text is not None and text.strip() else None


def wrap_multi_instance(inner: ExecutableActivity, loop: syntax.MultiInstanceLoop, where: str,
                        problems: list[str]) -> ExecutableMultiInstanceBody:
    """The body that repeats ``inner``; compile problems of the loop are added to ``problems``."""
    collection = _expression(loop.input_collection, f"{where}: multi-instance inputCollection", problems)
    characteristics = LoopCharacteristics(
        is_sequential=loop.is_sequential,
        input_collection=collection if collection is not None else Expression("", static=None),
        input_element=_name(loop.input_element),
        output_collection=_name(loop.output_collection),
        output_element=_expression(loop.output_element, f"{where}: multi-instance outputElement", problems),
        # Zeebe lets the completion condition be static; a static one is a string, not a boolean, when
        # evaluated (an incident then).
        completion_condition=_expression(loop.completion_condition,
                                         f"{where}: multi-instance completionCondition", problems, required=False),
    )
    body = ExecutableMultiInstanceBody(inner.id, BpmnElementType.MULTI_INSTANCE_BODY, inner.name,
                                       inner_activity=inner, loop=characteristics)
    body.children.append(inner)
    inner.flow_scope = body
    return body
