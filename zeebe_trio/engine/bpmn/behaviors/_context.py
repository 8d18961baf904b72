"""The element instance a lifecycle step works on: its key and its PROCESS_INSTANCE record value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import BpmnElementType

from ..model import ExecutableElement, ExecutableFlowNode

__all__ = ["ElementContext"]

_ELEMENT_TYPES = {element_type.value: element_type for element_type in BpmnElementType}


@dataclass(frozen=True, slots=True)
class ElementContext:
    key: int
    value: dict[str, Any]

    @property
    def element_id(self) -> str:
        return self.value["elementId"]  # type: ignore[no-any-return]

    @property
    def element_type(self) -> BpmnElementType:
        return _ELEMENT_TYPES[self.value["bpmnElementType"]]

    @property
    def flow_scope_key(self) -> int:
        return self.value["flowScopeKey"]  # type: ignore[no-any-return]

    @property
    def process_instance_key(self) -> int:
        return self.value["processInstanceKey"]  # type: ignore[no-any-return]

    @property
    def process_definition_key(self) -> int:
        return self.value["processDefinitionKey"]  # type: ignore[no-any-return]

    def record_for(self, element: ExecutableElement, flow_scope_key: int) -> dict[str, Any]:
        """The record value of ``element`` (a child, a sequence flow) in ``flow_scope_key``, in this
        instance."""
        value = dict(self.value)
        value["elementId"] = element.id
        value["bpmnElementType"] = element.element_type.value
        value["flowScopeKey"] = flow_scope_key
        value["bpmnEventType"] = element.event_type if isinstance(element, ExecutableFlowNode) else "UNSPECIFIED"
        return value
