"""Runtime instructions: what a process instance was told at its creation to do when an element ends.

Zeebe 8.8 has one kind, TERMINATE_PROCESS_INSTANCE (``TerminateProcessInstanceInstruction`` with an
``afterElementId``): once that element has completed, or has been terminated, the whole process
instance is terminated instead of going on. ``execute`` is Zeebe's
``BpmnStateTransitionBehavior.executeRuntimeInstructions``; ``StateTransitionBehavior`` calls it where an
element has ended: after ELEMENT_COMPLETED and before the outgoing sequence flows are taken (which it
replaces when it interrupts), and after an activity's ELEMENT_TERMINATED (an interrupting boundary event
ends the activity too).

It does nothing when the process instance has no instruction for the element; for the inner instances
of a multi-instance activity (the instruction names the activity, and applies to its body); for an
instruction of another type; and when the process instance is gone or already terminating (it was
carried out already, or the instance is being canceled). Otherwise it writes RUNTIME_INSTRUCTION
INTERRUPTED (processInstanceKey, processDefinitionKey, tenantId, elementId) with the process instance's
key, and a TERMINATE_ELEMENT command for the process instance.
"""

from __future__ import annotations

from zeebe_trio.protocol import (
    DEFAULT_TENANT,
    BpmnElementType,
    ProcessInstanceIntent,
    RuntimeInstructionIntent,
    ValueType,
)

from ..._batch import Batch
from ..model import ExecutableFlowNode
from ._context import ElementContext

__all__ = ["TERMINATE_PROCESS_INSTANCE", "RuntimeInstructionBehavior"]

#: Zeebe's ``RuntimeInstructionType`` name of the one kind of runtime instruction in 8.8.
TERMINATE_PROCESS_INSTANCE = "TERMINATE_PROCESS_INSTANCE"

T = BpmnElementType

#: The elements whose termination carries out their instructions: the activities (Zeebe's activity
#: processors call executeRuntimeInstructions when they finalize a termination).
_ACTIVITIES = frozenset({
    T.SERVICE_TASK, T.SEND_TASK, T.SCRIPT_TASK, T.BUSINESS_RULE_TASK, T.USER_TASK, T.RECEIVE_TASK,
    T.MANUAL_TASK, T.TASK, T.SUB_PROCESS, T.EVENT_SUB_PROCESS, T.CALL_ACTIVITY, T.AD_HOC_SUB_PROCESS,
    T.MULTI_INSTANCE_BODY,
})


class RuntimeInstructionBehavior:
    """Carries out the runtime instructions of a process instance as its elements end."""

    def after_terminated(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> bool:
        """``execute``, for an element just terminated: only activities carry out instructions then."""
        if context.element_type not in _ACTIVITIES:
            return False
        return self.execute(batch, element, context)

    def execute(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> bool:
        """Carry out the instruction naming ``element`` (it has just ended); whether the process instance
        is interrupted by it, in which case the caller writes nothing more for the element."""
        if context.element_type is T.PROCESS:
            return False
        instructions = batch.state.runtime_instructions(context.process_instance_key, element.id)
        if not instructions:
            return False
        scope = element.flow_scope
        if scope is not None and scope.element_type is T.MULTI_INSTANCE_BODY:
            return False  # an inner instance: the instruction applies to the multi-instance body
        # One kind of instruction exists, so at most one that counts per element: the first.
        instruction = instructions[0]
        if instruction.get("type", TERMINATE_PROCESS_INSTANCE) != TERMINATE_PROCESS_INSTANCE:
            return False
        process_instance = batch.state.element_instance(context.process_instance_key)
        if process_instance is None or process_instance.state is ProcessInstanceIntent.ELEMENT_TERMINATING:
            return False
        batch.event(ValueType.RUNTIME_INSTRUCTION, RuntimeInstructionIntent.INTERRUPTED, process_instance.key, {
            "processInstanceKey": context.process_instance_key,
            "processDefinitionKey": context.process_definition_key,
            "tenantId": context.value.get("tenantId", DEFAULT_TENANT),
            "elementId": instruction.get("afterElementId", element.id),
        })
        batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.TERMINATE_ELEMENT, process_instance.key,
                      process_instance.value)
        return True
