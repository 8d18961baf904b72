"""Element instances as state holds them: a typed record per active element of a process instance.

``ElementInstance`` is a typed view over the stored form (a dict in the ``element_instances`` column
family): reading one from state wraps what the store decoded, and writing it back stores the same
dict, so the typed access costs no conversion on the engine's hottest path. Optional fields are
stored only when set, so elements without them keep the shape they always had.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceIntent

__all__ = ["ElementInstance", "LIFECYCLE_STATES"]

_I = ProcessInstanceIntent
#: The states an element instance is in while it exists (completed and terminated ones are removed).
LIFECYCLE_STATES = frozenset({_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING,
                              _I.ELEMENT_TERMINATING})
_BY_NAME = {state.name: state for state in LIFECYCLE_STATES}
# An enum's ``.name`` is a Python-level property: the hot path reads the stored names from a dict.
_NAMES = {state: state.name for state in ProcessInstanceIntent}
_ELEMENT_TYPES = {element_type.value: element_type for element_type in BpmnElementType}


class ElementInstance:
    """One element instance: its lifecycle state, its PROCESS_INSTANCE record value, and what its
    container needs to know (children alive, sequence flows on their way to a child).

    - ``interrupting_element_id``: the element that interrupted this flow scope (a terminate end
      event): no other child may be activated or completed in it any more (Zeebe's
      ``interruptingElementId``);
    - ``flows_in_flight``: tokens on their way to a child, by target element id (taken sequence flows
      not yet consumed, and link jumps), what an inclusive join looks at (Zeebe's
      ``activeSequenceFlowIds``);
    - ``event_trigger_count``: the PROCESS_EVENT triggers on it not consumed yet, so that the common
      case (none) needs no look into state;
    - ``execution_listener_index``: how many execution listener jobs of the current start or end
      phase were created (Zeebe's ``executionListenerIndex``); ``user_task_key``: its Camunda user task.
    """

    __slots__ = ("key", "_stored")

    def __init__(self, key: int, state: ProcessInstanceIntent, value: dict[str, Any], child_count: int = 0,
                 active_flows: int = 0, job_key: int = -1) -> None:
        self.key = key
        self._stored: dict[str, Any] = {"state": _NAMES[state], "record": value, "children": child_count,
                                        "activeFlows": active_flows, "jobKey": job_key, "triggers": 0}

    @classmethod
    def from_stored(cls, key: int, stored: dict[str, Any]) -> ElementInstance:
        instance = cls.__new__(cls)
        instance.key = key
        instance._stored = stored
        return instance

    def to_stored(self) -> dict[str, Any]:
        stored = self._stored
        if "flowsInFlight" in stored and not stored["flowsInFlight"]:
            del stored["flowsInFlight"]
        return stored

    # -- the lifecycle and the record ------------------------------------------------------------------

    @property
    def state(self) -> ProcessInstanceIntent:
        return _BY_NAME[self._stored["state"]]

    @state.setter
    def state(self, state: ProcessInstanceIntent) -> None:
        self._stored["state"] = _NAMES[state]

    def enter(self, state: ProcessInstanceIntent) -> None:
        """Move to ``state``; a phase that starts (activated, completing) runs its execution listeners
        from the first."""
        stored = self._stored
        stored["state"] = _NAMES[state]
        if state is _I.ELEMENT_ACTIVATED or state is _I.ELEMENT_COMPLETING:
            stored.pop("listenerIndex", None)

    @property
    def value(self) -> dict[str, Any]:
        return self._stored["record"]  # type: ignore[no-any-return]

    @property
    def is_active(self) -> bool:
        return self._stored["state"] == "ELEMENT_ACTIVATED"

    @property
    def element_id(self) -> str:
        return self._stored["record"]["elementId"]  # type: ignore[no-any-return]

    @property
    def element_type(self) -> BpmnElementType:
        return _ELEMENT_TYPES[self._stored["record"]["bpmnElementType"]]

    @property
    def flow_scope_key(self) -> int:
        return self._stored["record"]["flowScopeKey"]  # type: ignore[no-any-return]

    @property
    def process_instance_key(self) -> int:
        return self._stored["record"]["processInstanceKey"]  # type: ignore[no-any-return]

    @property
    def process_definition_key(self) -> int:
        return self._stored["record"]["processDefinitionKey"]  # type: ignore[no-any-return]

    # -- what the container counts ---------------------------------------------------------------------

    @property
    def child_count(self) -> int:
        return self._stored["children"]  # type: ignore[no-any-return]

    @child_count.setter
    def child_count(self, count: int) -> None:
        self._stored["children"] = count

    @property
    def active_flows(self) -> int:
        return self._stored["activeFlows"]  # type: ignore[no-any-return]

    @active_flows.setter
    def active_flows(self, count: int) -> None:
        self._stored["activeFlows"] = count

    @property
    def job_key(self) -> int:
        return self._stored["jobKey"]  # type: ignore[no-any-return]

    @job_key.setter
    def job_key(self, key: int) -> None:
        self._stored["jobKey"] = key

    @property
    def event_trigger_count(self) -> int | None:
        """How many PROCESS_EVENT triggers on this instance (as their scope) are not consumed yet; None
        for an instance stored before they were counted (then state has to look)."""
        return self._stored.get("triggers")

    @event_trigger_count.setter
    def event_trigger_count(self, count: int) -> None:
        self._stored["triggers"] = count

    @property
    def newest_trigger_key(self) -> int | None:
        """The event key of the newest trigger put on this instance while it is pending (with one
        trigger pending: that one), so that it is looked up rather than scanned for."""
        return self._stored.get("newestTrigger")

    @newest_trigger_key.setter
    def newest_trigger_key(self, key: int | None) -> None:
        self._optional("newestTrigger", key, None)

    @property
    def flows_in_flight(self) -> dict[str, int]:
        flows = self._stored.get("flowsInFlight")
        if flows is None:
            flows = self._stored["flowsInFlight"] = {}
        return flows  # type: ignore[no-any-return]

    # -- optional fields, stored only when set -----------------------------------------------------------

    def _optional(self, name: str, value: Any, unset: Any) -> None:
        if value == unset:
            self._stored.pop(name, None)
        else:
            self._stored[name] = value

    @property
    def interrupting_element_id(self) -> str | None:
        return self._stored.get("interruptingElementId")

    @interrupting_element_id.setter
    def interrupting_element_id(self, element_id: str | None) -> None:
        self._optional("interruptingElementId", element_id, None)

    @property
    def execution_listener_index(self) -> int:
        return self._stored.get("listenerIndex", 0)  # type: ignore[no-any-return]

    @execution_listener_index.setter
    def execution_listener_index(self, index: int) -> None:
        self._optional("listenerIndex", index, 0)

    @property
    def user_task_key(self) -> int:
        return self._stored.get("userTaskKey", -1)  # type: ignore[no-any-return]

    @user_task_key.setter
    def user_task_key(self, key: int) -> None:
        self._optional("userTaskKey", key, -1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ElementInstance):
            return NotImplemented
        return self.key == other.key and self.to_stored() == other.to_stored()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ElementInstance({self.key}, {self._stored['state']}, {self.element_id!r})"
