"""Appliers' part for multi-instance bodies: loop counters and the counts of finished inner instances.

The process instance appliers call in here: an inner instance that is activating takes the body's next
loop counter; one that completed or was terminated is counted on the body; a body that finished drops
its counters. PROCESS_INSTANCE_BATCH ACTIVATED only records that a body's inner instances were all
asked to activate.
"""

from __future__ import annotations

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceBatchIntent, ProcessInstanceIntent, ValueType

from ..state import ElementInstance, EngineState, MultiInstanceBodyState
from ._registry import EventAppliers, no_state_change

_MI = BpmnElementType.MULTI_INSTANCE_BODY


def _body(state: EngineState, key: int) -> MultiInstanceBodyState:
    return state.multi_instance_body(key) or MultiInstanceBodyState(key)


def child_activating(state: EngineState, parent: ElementInstance, child_key: int) -> None:
    """A child of ``parent`` is activating: in a multi-instance body, it gets the next loop counter."""
    if parent.element_type is not _MI:
        return
    body = _body(state, parent.key)
    body.loop_counter += 1
    state.put_multi_instance_body(body)
    state.set_loop_counter(child_key, body.loop_counter)


def element_finished(state: EngineState, key: int, element_type: BpmnElementType, parent: ElementInstance | None,
                     intent: ProcessInstanceIntent) -> None:
    """An element instance completed or was terminated."""
    if element_type is _MI:
        state.remove_multi_instance_body(key)
    if parent is None or parent.element_type is not _MI:
        return
    state.remove_loop_counter(key)
    body = _body(state, parent.key)
    if intent is ProcessInstanceIntent.ELEMENT_COMPLETED:
        body.completed += 1
    else:
        body.terminated += 1
    state.put_multi_instance_body(body)


def register(appliers: EventAppliers) -> None:
    appliers.register(ValueType.PROCESS_INSTANCE_BATCH, ProcessInstanceBatchIntent.ACTIVATED, no_state_change)
