"""What every container does for its children: complete when its last path ended, finish terminating
once its last child is terminated."""

from __future__ import annotations

from zeebe_trio.protocol import ProcessInstanceIntent, ValueType

from ...._batch import Batch
from ...behaviors import ElementContext, StateTransitionBehavior
from ...model import ExecutableFlowElementContainer

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
