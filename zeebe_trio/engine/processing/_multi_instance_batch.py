"""PROCESS_INSTANCE_BATCH ACTIVATE: the inner instances of a parallel multi-instance body, one per step.

A parallel body asks for all its inner instances with one command whose ``index`` is how many are
still to activate; each step writes ACTIVATE_ELEMENT for one inner instance and the command for the
rest, and the last step writes ACTIVATED (Zeebe's ``ProcessInstanceBatchActivateProcessor``), so that
no single step grows with the size of the collection.
"""

from __future__ import annotations

from zeebe_trio.protocol import BpmnElementType, ProcessInstanceBatchIntent, Record, RejectionType, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import ElementContext, StateTransitionBehavior
from ..bpmn.model import ExecutableMultiInstanceBody

__all__ = ["MultiInstanceBatchProcessors"]

_BATCH = ValueType.PROCESS_INSTANCE_BATCH


class MultiInstanceBatchProcessors:
    def __init__(self, transitions: StateTransitionBehavior) -> None:
        self.transitions = transitions

    def register(self, processors: CommandProcessors) -> None:
        processors.add(_BATCH, ProcessInstanceBatchIntent.ACTIVATE, self.activate)

    def activate(self, batch: Batch, command: Record) -> None:
        value = command.value
        body_key = value["batchElementInstanceKey"]
        body = batch.state.element_instance(body_key)
        if body is None:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to activate child for batch element instance, but no parent element instance"
                         f" found for key '{body_key}'. The parent was likely terminated before processing this"
                         " batch activation.")
            return
        remaining = value["index"]
        if remaining > 0:
            process = batch.state.processes.get(body.process_definition_key)
            assert process is not None, f"process definition {body.process_definition_key} is not deployed"
            node = process.flow_node(body.element_id, BpmnElementType.MULTI_INSTANCE_BODY)
            assert isinstance(node, ExecutableMultiInstanceBody)
            self.transitions.activate_child(batch, ElementContext(body.key, body.value), node.inner_activity)
        if remaining > 1:
            batch.command(_BATCH, ProcessInstanceBatchIntent.ACTIVATE, batch.next_key(), {**value, "index": remaining - 1})
        else:
            batch.event(_BATCH, ProcessInstanceBatchIntent.ACTIVATED, command.key, value)
