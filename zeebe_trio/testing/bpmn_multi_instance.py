"""BPMN XML for multi-instance tests: loop characteristics added to an element built with
``zeebe_trio.testing.bpmn``.

    from zeebe_trio.testing import bpmn as b
    from zeebe_trio.testing.bpmn_multi_instance import multi_instance
    task = multi_instance(b.service_task("task", "work"), input_collection="=items", input_element="item")
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

__all__ = ["multi_instance", "task"]


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f" {name}={quoteattr(value)}"


def multi_instance(element: str, *, input_collection: str | None, input_element: str | None = None,
                   output_collection: str | None = None, output_element: str | None = None,
                   completion_condition: str | None = None, sequential: bool = False) -> str:
    """``element`` (the XML of one activity) with bpmn:multiInstanceLoopCharacteristics and its
    zeebe:loopCharacteristics; None leaves an attribute out."""
    flag = ' isSequential="true"' if sequential else ""
    condition = "" if completion_condition is None else \
        f"<bpmn:completionCondition>{escape(completion_condition)}</bpmn:completionCondition>"
    loop = (f"<bpmn:multiInstanceLoopCharacteristics{flag}><bpmn:extensionElements><zeebe:loopCharacteristics"
            f"{_attr('inputCollection', input_collection)}{_attr('inputElement', input_element)}"
            f"{_attr('outputCollection', output_collection)}{_attr('outputElement', output_element)}/>"
            f"</bpmn:extensionElements>{condition}</bpmn:multiInstanceLoopCharacteristics>")
    closing = element.rindex("</bpmn:")
    return element[:closing] + loop + element[closing:]


def task(element_id: str) -> str:
    """An undefined task (``bpmn:task``)."""
    return f'<bpmn:task id="{element_id}"></bpmn:task>'
