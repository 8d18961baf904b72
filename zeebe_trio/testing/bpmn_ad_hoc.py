"""BPMN XML for ad-hoc subprocess tests, beside ``zeebe_trio.testing.bpmn``.

    from zeebe_trio.testing import bpmn as b
    from zeebe_trio.testing.bpmn_ad_hoc import ad_hoc_process, ad_hoc_sub_process, task
    xml = ad_hoc_process(ad_hoc_sub_process("ad-hoc", task("A"), task("B"), active_elements="=toActivate"))
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from . import bpmn as b

__all__ = ["ad_hoc_process", "ad_hoc_sub_process", "task", "user_task"]


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f" {name}={quoteattr(value)}"


def ad_hoc_sub_process(element_id: str, *elements: str, active_elements: str | None = None,
                       completion_condition: str | None = None, cancel_remaining_instances: bool | None = None,
                       output_collection: str | None = None, output_element: str | None = None,
                       mappings: str = "", extensions: str = "", loop: str = "") -> str:
    """A bpmn:adHocSubProcess holding ``elements``, with its zeebe:adHoc attributes (None leaves one
    out), zeebe:ioMapping ``mappings``, further extension elements and a loop characteristics element."""
    cancel = "" if cancel_remaining_instances is None else \
        f' cancelRemainingInstances="{str(cancel_remaining_instances).lower()}"'
    ad_hoc = (f"<zeebe:adHoc{_attr('activeElementsCollection', active_elements)}"
              f"{_attr('outputCollection', output_collection)}{_attr('outputElement', output_element)}/>")
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    condition = "" if completion_condition is None else \
        f"<bpmn:completionCondition>{escape(completion_condition)}</bpmn:completionCondition>"
    return (f'<bpmn:adHocSubProcess id="{element_id}"{cancel}><bpmn:extensionElements>{ad_hoc}{io}{extensions}'
            f"</bpmn:extensionElements>{loop}{''.join(elements)}{condition}</bpmn:adHocSubProcess>")


def ad_hoc_process(ad_hoc: str, *after: str, process_id: str = "process", ad_hoc_id: str = "ad-hoc",
                   definitions: str = "") -> bytes:
    """start -> the ad-hoc subprocess -> end (``after``: more elements, e.g. a boundary event and its path)."""
    return b.process(process_id, b.start(), b.flow("to_ad_hoc", "start", ad_hoc_id), ad_hoc,
                     b.flow("to_end", ad_hoc_id, "end"), b.end(), *after, definitions=definitions)


def task(element_id: str, name: str | None = None) -> str:
    """An undefined task (``bpmn:task``)."""
    return f'<bpmn:task id="{element_id}"{_attr("name", name)}></bpmn:task>'


def user_task(element_id: str) -> str:
    """A Camunda user task (zeebe:userTask)."""
    return (f'<bpmn:userTask id="{element_id}"><bpmn:extensionElements><zeebe:userTask/>'
            "</bpmn:extensionElements></bpmn:userTask>")
