"""Element instances as state holds them: a typed record per active element of a process instance.

``ElementInstance`` holds the stored form (a dict in the ``element_instances`` column family) as plain
attributes: reading one from state takes the fields out of what the store decoded once, and writing it
back builds the dict again. The engine's hottest path reads these fields many times per step, and a
slot is read by the interpreter's specialized attribute access, where a property (as Python 3.11 runs
it) is a generic lookup and a call each time. Optional fields are stored only when set, so elements
without them keep the shape they always had.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent

__all__ = ["ElementInstance", "LIFECYCLE_STATES", "RecordFields"]

_I = ProcessInstanceIntent
#: The states an element instance is in while it exists (completed and terminated ones are removed).
LIFECYCLE_STATES = frozenset({_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING,
                              _I.ELEMENT_TERMINATING})
_BY_NAME = {state.name: state for state in LIFECYCLE_STATES}
# An enum's ``.name`` is a Python-level property: the hot path reads the stored names from a dict.
_NAMES = {state: state.name for state in ProcessInstanceIntent}
_ELEMENT_TYPES = {element_type.value: element_type for element_type in BpmnElementType}
# The stored fields, and how many every stored instance has ("triggers" since they are counted).
_KNOWN = frozenset({"state", "record", "children", "activeFlows", "jobKey", "triggers", "newestTrigger",
                    "flowsInFlight", "interruptingElementId", "listenerIndex", "userTaskKey"})
_BASE_FIELDS = 6


class RecordFields:
    """A PROCESS_INSTANCE record value and the fields of it every lifecycle step reads, taken out once
    (they never change for an element instance): the base of ``ElementInstance`` and of the processors'
    ``ElementContext``."""

    __slots__ = ("value", "element_id", "element_type", "flow_scope_key", "process_instance_key",
                 "process_definition_key")
    value: dict[str, Any]
    element_id: str
    element_type: BpmnElementType
    flow_scope_key: int
    process_instance_key: int
    process_definition_key: int

    def _take_record(self, value: dict[str, Any]) -> None:
        self.value = value
        self.element_id = value["elementId"]
        self.element_type = _ELEMENT_TYPES[value["bpmnElementType"]]
        self.flow_scope_key = value["flowScopeKey"]
        self.process_instance_key = value["processInstanceKey"]
        self.process_definition_key = value["processDefinitionKey"]


class ElementInstance(RecordFields):
    """One element instance: its lifecycle state, its PROCESS_INSTANCE record value, and what its
    container needs to know (children alive, sequence flows on their way to a child).

    The record's fields that never change for an element instance (``element_id``, ``element_type``,
    ``flow_scope_key``, ``process_instance_key``, ``process_definition_key``) are taken out of ``value``
    once. What the container counts and remembers:

    - ``interrupting_element_id``: the element that interrupted this flow scope (a terminate end
      event): no other child may be activated or completed in it any more (Zeebe's
      ``interruptingElementId``);
    - ``flows_in_flight``: tokens on their way to a child, by target element id (taken sequence flows
      not yet consumed, and link jumps), what an inclusive join looks at (Zeebe's
      ``activeSequenceFlowIds``);
    - ``event_trigger_count``: the PROCESS_EVENT triggers on it not consumed yet, so that the common
      case (none) needs no look into state (None for an instance stored before they were counted: then
      state has to look); ``newest_trigger_key``: the event key of the newest trigger put on it while
      it is pending (with one trigger pending: that one), so that it is looked up rather than scanned for;
    - ``execution_listener_index``: how many execution listener jobs of the current start or end
      phase were created (Zeebe's ``executionListenerIndex``); ``user_task_key``: its Camunda user task.
    """

    __slots__ = ("key", "state", "child_count", "active_flows", "job_key", "event_trigger_count",
                 "newest_trigger_key", "flows_in_flight", "interrupting_element_id", "execution_listener_index",
                 "user_task_key", "_other")

    def __init__(self, key: int, state: ProcessInstanceIntent, value: dict[str, Any], child_count: int = 0,
                 active_flows: int = 0, job_key: int = -1) -> None:
        self.key = key
        self.state = state
        self._take_record(value)
        self.child_count = child_count
        self.active_flows = active_flows
        self.job_key = job_key
        self.event_trigger_count: int | None = 0
        self.newest_trigger_key: int | None = None
        self.flows_in_flight: dict[str, int] = {}
        self.interrupting_element_id: str | None = None
        self.execution_listener_index = 0
        self.user_task_key = -1
        self._other: dict[str, Any] | None = None

    @classmethod
    def from_stored(cls, key: int, stored: dict[str, Any]) -> ElementInstance:
        instance = cls.__new__(cls)
        instance.key = key
        instance.state = _BY_NAME[stored["state"]]
        instance._take_record(stored["record"])
        instance.child_count = stored["children"]
        instance.active_flows = stored["activeFlows"]
        instance.job_key = stored["jobKey"]
        instance.event_trigger_count = stored.get("triggers")
        instance.newest_trigger_key = stored.get("newestTrigger")
        flows = stored.get("flowsInFlight")
        instance.flows_in_flight = {} if flows is None else flows
        instance.interrupting_element_id = stored.get("interruptingElementId")
        instance.execution_listener_index = stored.get("listenerIndex", 0)
        instance.user_task_key = stored.get("userTaskKey", -1)
        # fields this version does not know (none, unless a newer one wrote them): kept as they were
        instance._other = {name: field for name, field in stored.items() if name not in _KNOWN} \
            if len(stored) > _BASE_FIELDS else None
        return instance

    def to_stored(self) -> dict[str, Any]:
        stored = {"state": _NAMES[self.state], "record": self.value, "children": self.child_count,
                  "activeFlows": self.active_flows, "jobKey": self.job_key}
        if self.event_trigger_count is not None:
            stored["triggers"] = self.event_trigger_count
        if self.newest_trigger_key is not None:
            stored["newestTrigger"] = self.newest_trigger_key
        if self.flows_in_flight:
            stored["flowsInFlight"] = self.flows_in_flight
        if self.interrupting_element_id is not None:
            stored["interruptingElementId"] = self.interrupting_element_id
        if self.execution_listener_index != 0:
            stored["listenerIndex"] = self.execution_listener_index
        if self.user_task_key != -1:
            stored["userTaskKey"] = self.user_task_key
        if self._other:
            stored.update(self._other)
        return stored

    # -- the lifecycle -----------------------------------------------------------------------------------

    def enter(self, state: ProcessInstanceIntent) -> None:
        """Move to ``state``; a phase that starts (activated, completing) runs its execution listeners
        from the first."""
        self.state = state
        if state is _I.ELEMENT_ACTIVATED or state is _I.ELEMENT_COMPLETING:
            self.execution_listener_index = 0

    @property
    def is_active(self) -> bool:
        return self.state is _I.ELEMENT_ACTIVATED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ElementInstance):
            return NotImplemented
        return self.key == other.key and self.to_stored() == other.to_stored()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ElementInstance({self.key}, {self.state.name}, {self.element_id!r})"
