"""A container that prepares each child as it activates (a multi-instance body sets its loop
variables), called by the lifecycle dispatcher right after the child's ELEMENT_ACTIVATING."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..._batch import Batch
from ..model import ExecutableFlowElementContainer
from ._context import ElementContext

__all__ = ["ChildActivationCallback"]


@runtime_checkable
class ChildActivationCallback(Protocol):
    """Zeebe's ``onChildActivating``: may fail (``ElementFailure``), which becomes an incident on the
    child; resolving it runs the child's activation, this callback included, again."""

    def on_child_activating(self, batch: Batch, container: ExecutableFlowElementContainer,
                            container_context: ElementContext, child_context: ElementContext) -> None: ...
