"""What call activities add to the process instance appliers: the called process indexes, the link
between a call activity and the child process instance it created, and the child's variables handed
to the call activity when the child completes.

These are hooks of the PROCESS and PROCESS_INSTANCE appliers (``_process_instance``), not appliers of
their own: each event still has exactly one applier.
"""

from __future__ import annotations

import json

from zeebe_trio.protocol import BpmnElementType, Record

from ..bpmn.model import ExecutableCallActivity
from ..state import EngineState

__all__ = ["call_activity_finished", "child_instance_activating", "child_instance_completed", "process_created"]


_PROCESS = BpmnElementType.PROCESS.value


def _is_child_instance(record: Record) -> bool:
    value = record.value
    return value.get("bpmnElementType") == _PROCESS \
        and (value.get("parentElementInstanceKey") or -1) > 0


def process_created(state: EngineState, record: Record) -> None:
    state.index_called_process(record.key, record.value)


def child_instance_activating(state: EngineState, record: Record) -> None:
    """A process instance created by a call activity: the call activity knows its child."""
    if _is_child_instance(record):
        state.set_called_child_instance(record.value["parentElementInstanceKey"], record.key)


def child_instance_completed(state: EngineState, record: Record) -> None:
    """Before the child's scope is removed: its root-scope variables become the call activity's pending
    variables (what its output mappings read, or what it propagates), when the call activity takes
    any: it has output mappings or propagates all child variables (Zeebe's
    ``ProcessInstanceElementCompletedApplier``)."""
    if not _is_child_instance(record):
        return
    call_key = record.value["parentElementInstanceKey"]
    call_instance = state.element_instance(call_key)
    if call_instance is None:
        return
    process = state.processes.get(call_instance.process_definition_key)
    if process is None:
        return
    call_activity = process.flow_node(call_instance.element_id, call_instance.element_type)
    if not isinstance(call_activity, ExecutableCallActivity):
        return
    if call_activity.outputs or call_activity.propagate_all_child_variables:
        variables = {name: json.loads(text) for name, text in state.local_variables(record.key)}
        state.set_pending_variables(call_key, variables)


def call_activity_finished(state: EngineState, record: Record) -> None:
    if record.value.get("bpmnElementType") == BpmnElementType.CALL_ACTIVITY.value:
        state.set_called_child_instance(record.key, None)
