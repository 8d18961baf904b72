"""The element instance a lifecycle step works on: its key and its PROCESS_INSTANCE record value."""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import BpmnElementType

from ...state import ElementInstance, RecordFields
from ..model import ExecutableElement, ExecutableFlowNode

__all__ = ["ElementContext"]

# An enum's ``.value`` is a Python-level property: ``record_for`` (every child, every flow) reads a dict.
_TYPE_VALUES = {element_type: element_type.value for element_type in BpmnElementType}


class ElementContext(RecordFields):
    """``key`` and record ``value`` of an element instance, with the fields every lifecycle step reads
    taken out once (they never change for an element instance)."""

    __slots__ = ("key",)
    key: int

    def __init__(self, key: int, value: dict[str, Any]) -> None:
        self.key = key
        self._take_record(value)

    @classmethod
    def of(cls, instance: ElementInstance) -> ElementContext:
        """The context of an element instance from state, from the fields it has taken out already."""
        context = cls.__new__(cls)
        context.key = instance.key
        context.value = instance.value
        context.element_id = instance.element_id
        context.element_type = instance.element_type
        context.flow_scope_key = instance.flow_scope_key
        context.process_instance_key = instance.process_instance_key
        context.process_definition_key = instance.process_definition_key
        return context

    def __repr__(self) -> str:
        return f"ElementContext({self.key}, {self.element_type.name} {self.element_id!r})"

    def record_for(self, element: ExecutableElement, flow_scope_key: int) -> dict[str, Any]:
        """The record value of ``element`` (a child, a sequence flow) in ``flow_scope_key``, in this
        instance."""
        value = dict(self.value)
        value["elementId"] = element.id
        value["bpmnElementType"] = _TYPE_VALUES[element.element_type]
        value["flowScopeKey"] = flow_scope_key
        value["bpmnEventType"] = element.event_type if isinstance(element, ExecutableFlowNode) else "UNSPECIFIED"
        return value
