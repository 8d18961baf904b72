"""What every container does for its children: complete when its last path ended, finish terminating
once its last child is terminated, and complete once the children that a terminate end event in it
terminated are all gone."""

from __future__ import annotations

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ...._batch import Batch
from ...behaviors import ElementContext, StateTransitionBehavior
from ...model import ExecutableEndEvent, ExecutableFlowElementContainer, TerminateEventDefinition

__all__ = ["ContainerCallbacksMixin"]

_I = ProcessInstanceIntent


class ContainerCallbacksMixin:
    transitions: StateTransitionBehavior

    def before_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                        container_context: ElementContext, child_context: ElementContext) -> None:
        pass

    def after_execution_path_completed(self, batch: Batch, container: ExecutableFlowElementContainer,
                                       container_context: ElementContext, child_context: ElementContext) -> None:
        scope = batch.state.element_instance(container_context.key)
        if scope is not None and scope.is_active and scope.child_count == 0 and scope.active_flows == 0:
            batch.command(ValueType.PROCESS_INSTANCE, _I.COMPLETE_ELEMENT, scope.key, scope.value)

    def on_child_terminated(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None:
        scope = batch.state.element_instance(container_context.key)
        if scope is None or scope.child_count != 0:
            return
        if scope.state is _I.ELEMENT_TERMINATING:
            self.transitions.to_terminated(batch, container, ElementContext(scope.key, scope.value))
            return
        triggers = self.transitions.event_triggers
        if scope.is_active and triggers is not None:
            # an interrupting event subprocess waited for the container's other children to be terminated
            pending = triggers.pending_event_sub_process_trigger(batch, container, container_context)
            if pending is not None:
                event_key, sub_process, trigger = pending
                triggers.activate_triggered_event(batch, event_key, sub_process, scope.key, scope.key, scope.value,
                                                  trigger["variables"])
        if scope.is_active and _interrupted_by_terminate_end_event(container, scope.interrupting_element_id):
            batch.command(ValueType.PROCESS_INSTANCE, _I.COMPLETE_ELEMENT, scope.key, scope.value)
            return


def _interrupted_by_terminate_end_event(container: ExecutableFlowElementContainer, element_id: str | None) -> bool:
    if element_id is None:
        return False
    for child in container.children:
        if child.id == element_id:
            return isinstance(child, ExecutableEndEvent) and isinstance(child.event_definition, TerminateEventDefinition)
    return False
