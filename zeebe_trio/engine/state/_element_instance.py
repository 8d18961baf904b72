"""Element instances as state holds them: a typed record per active element of a process instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent

__all__ = ["ElementInstance", "LIFECYCLE_STATES"]

_I = ProcessInstanceIntent
#: The states an element instance is in while it exists (completed and terminated ones are removed).
LIFECYCLE_STATES = frozenset({_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING,
                              _I.ELEMENT_TERMINATING})
_BY_NAME = {state.name: state for state in LIFECYCLE_STATES}


@dataclass(slots=True)
class ElementInstance:
    """One element instance: its lifecycle state, its PROCESS_INSTANCE record value, and what its
    container needs to know (children alive, sequence flows on their way to a child)."""

    key: int
    state: ProcessInstanceIntent
    value: dict[str, Any]
    child_count: int = 0
    active_flows: int = 0
    job_key: int = -1
    #: The element that interrupted this flow scope (a terminate end event): no other child may be
    #: activated or completed in it any more (Zeebe's ``interruptingElementId``).
    interrupting_element_id: str | None = None
    #: Tokens on their way to a child: target element id -> how many (taken sequence flows not yet
    #: consumed, and link jumps), what an inclusive join looks at (Zeebe's ``activeSequenceFlowIds``).
    flows_in_flight: dict[str, int] = field(default_factory=dict)
    # How many execution listener jobs of the current start or end phase were created (Zeebe's
    # executionListenerIndex), and the element's Camunda user task.
    execution_listener_index: int = 0
    user_task_key: int = -1

    @property
    def element_id(self) -> str:
        return self.value["elementId"]  # type: ignore[no-any-return]

    @property
    def element_type(self) -> BpmnElementType:
        return BpmnElementType(self.value["bpmnElementType"])

    @property
    def flow_scope_key(self) -> int:
        return self.value["flowScopeKey"]  # type: ignore[no-any-return]

    @property
    def process_instance_key(self) -> int:
        return self.value["processInstanceKey"]  # type: ignore[no-any-return]

    @property
    def process_definition_key(self) -> int:
        return self.value["processDefinitionKey"]  # type: ignore[no-any-return]

    @property
    def is_active(self) -> bool:
        return self.state is _I.ELEMENT_ACTIVATED

    def to_stored(self) -> dict[str, Any]:
        stored = {"state": self.state.name, "record": self.value, "children": self.child_count,
                  "activeFlows": self.active_flows, "jobKey": self.job_key}
        if self.interrupting_element_id is not None:
            stored["interruptingElementId"] = self.interrupting_element_id
        if self.flows_in_flight:
            stored["flowsInFlight"] = dict(self.flows_in_flight)
        # Only when set, so that elements without listeners and user tasks are stored as before.
        if self.execution_listener_index:
            stored["listenerIndex"] = self.execution_listener_index
        if self.user_task_key > 0:
            stored["userTaskKey"] = self.user_task_key
        return stored

    @classmethod
    def from_stored(cls, key: int, stored: dict[str, Any]) -> ElementInstance:
        return cls(key, _BY_NAME[stored["state"]], stored["record"], stored["children"], stored["activeFlows"],
                   stored["jobKey"], stored.get("interruptingElementId"), dict(stored.get("flowsInFlight", {})),
                   stored.get("listenerIndex", 0), stored.get("userTaskKey", -1))
