"""Deployment problems found in a BPMN resource, and the error that carries them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "BpmnValidationError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a resource cannot be deployed.

    ``element_type`` is the BPMN XML element name (``serviceTask``, ``sequenceFlow``, ``process``),
    which also covers elements Zeebe has no ``BpmnElementType`` for. ``element_id`` is None for
    problems of the whole resource or of an element without an id; ``line`` locates the latter.
    """

    message: str
    process_id: str | None = None
    element_id: str | None = None
    element_type: str | None = None
    line: int | None = None

    def describe(self, resource_name: str) -> str:
        parts = [f"'{resource_name}'"]
        if self.process_id is not None:
            parts.append(f"process '{self.process_id}'")
        if self.element_type is not None and self.element_type != "process":
            where = f"'{self.element_id}'" if self.element_id else "without id"
            if not self.element_id and self.line is not None:
                where += f" at line {self.line}"
            parts.append(f"element {where} ({self.element_type})")
        elif self.element_type == "process" and self.process_id is None:
            where = f"'{self.element_id}'" if self.element_id else "without id"
            if not self.element_id and self.line is not None:
                where += f" at line {self.line}"
            parts.append(f"process {where}")
        parts.append(self.message)
        return ": ".join(parts)


class BpmnValidationError(Exception):
    """A BPMN resource that cannot be deployed; ``str()`` names the resource and every problem, one a line."""

    def __init__(self, resource_name: str, problems: Iterable[Problem]) -> None:
        self.resource_name = resource_name
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("a BpmnValidationError needs at least one problem")
        super().__init__("\n".join(p.describe(resource_name) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(p.describe(self.resource_name) for p in self.problems)

    def __reduce__(self):  # keep it picklable despite the custom __init__
        return (type(self), (self.resource_name, self.problems))
