"""BPMN XML for call activity tests: the call activity itself and a process carrying a version tag.

    from zeebe_trio.testing import bpmn as b, bpmn_call_activity as c
    parent = b.process("parent", b.start(), b.flow("f1", "start", "call"), c.call_activity("call", "child"),
                       b.flow("f2", "call", "end"), b.end())
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from .bpmn import _HEAD

__all__ = ["call_activity", "process_with_version_tag"]


def _flag(name: str, value: bool | None) -> str:
    return "" if value is None else f' {name}="{str(value).lower()}"'


def call_activity(element_id: str, process_id: str, *, binding: str | None = None, version_tag: str | None = None,
                  propagate_child: bool | None = None, propagate_parent: bool | None = None,
                  mappings: str = "") -> str:
    """A ``bpmn:callActivity`` with its zeebe:calledElement; ``mappings`` are zeebe:input/zeebe:output."""
    attributes = f"processId={quoteattr(process_id)}"
    if binding is not None:
        attributes += f" bindingType={quoteattr(binding)}"
    if version_tag is not None:
        attributes += f" versionTag={quoteattr(version_tag)}"
    attributes += _flag("propagateAllChildVariables", propagate_child)
    attributes += _flag("propagateAllParentVariables", propagate_parent)
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:callActivity id="{element_id}"><bpmn:extensionElements><zeebe:calledElement {attributes}/>'
            f"{io}</bpmn:extensionElements></bpmn:callActivity>")


def process_with_version_tag(process_id: str, version_tag: str, *elements: str) -> bytes:
    """A deployable resource with one executable process that has a ``zeebe:versionTag``."""
    return (f'{_HEAD}<bpmn:process id="{process_id}" isExecutable="true"><bpmn:extensionElements>'
            f"<zeebe:versionTag value={quoteattr(version_tag)}/></bpmn:extensionElements>{''.join(elements)}"
            "</bpmn:process></bpmn:definitions>").encode()
