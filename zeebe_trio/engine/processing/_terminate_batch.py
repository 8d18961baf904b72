"""PROCESS_INSTANCE_BATCH TERMINATE: the TERMINATE_ELEMENT commands for a terminating container's children.

A container that terminates (a process, a sub-process, a multi-instance body, the flow scope of a
terminate end event) writes one PROCESS_INSTANCE_BATCH TERMINATE command naming itself
(``StateTransitionBehavior.terminate_children``). Its processor writes TERMINATE_ELEMENT for each child
that can still be terminated (activating, activated or completing), from the child key ``index`` on, up
to ``MAX_TERMINATIONS_PER_COMMAND`` of them; when more are left, a TERMINATE command for the rest,
starting at the first child left. That is Zeebe's ``ProcessInstanceBatchTerminateProcessor``, which stops
where its record batch runs out of room; zeebe-trio counts the commands instead, so that no step grows
with the number of children.
"""

from __future__ import annotations

from zeebe_trio.protocol import ProcessInstanceBatchIntent, ProcessInstanceIntent, Record, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors

__all__ = ["MAX_TERMINATIONS_PER_COMMAND", "TerminateBatchProcessors"]

MAX_TERMINATIONS_PER_COMMAND = 100
"""How many TERMINATE_ELEMENT commands one PROCESS_INSTANCE_BATCH TERMINATE command writes at most."""

_BATCH = ValueType.PROCESS_INSTANCE_BATCH
_I = ProcessInstanceIntent
_TERMINABLE = frozenset({_I.ELEMENT_ACTIVATING, _I.ELEMENT_ACTIVATED, _I.ELEMENT_COMPLETING})


class TerminateBatchProcessors:
    def register(self, processors: CommandProcessors) -> None:
        processors.add(_BATCH, ProcessInstanceBatchIntent.TERMINATE, self.terminate)

    def terminate(self, batch: Batch, command: Record) -> None:
        value = command.value
        start = value.get("index", -1)
        written = 0
        for child_key in batch.state.children(value["batchElementInstanceKey"]):
            if child_key < start:
                continue
            child = batch.state.element_instance(child_key)
            if child is None or child.state not in _TERMINABLE:
                continue
            if written == MAX_TERMINATIONS_PER_COMMAND:
                batch.command(_BATCH, ProcessInstanceBatchIntent.TERMINATE, batch.next_key(),
                              {**value, "index": child_key})
                return
            batch.command(ValueType.PROCESS_INSTANCE, _I.TERMINATE_ELEMENT, child_key, child.value)
            written += 1
