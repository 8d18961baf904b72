"""One element type's processor that hands every lifecycle step to the processor of the event's kind.

An end event, an intermediate throw event or catch event behaves by its event definition (none,
terminate, link, ...), as Zeebe's ``EndEventProcessor`` picks an ``EndEventBehavior``. The table in
``elements/__init__.py`` maps each element type to one ``EventProcessorByKind`` whose ``kinds`` name the
processor per kind (None for a none event); a kind missing there never passes deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...._batch import Batch
from ...behaviors import ElementContext, StateTransitionBehavior
from ...model import ExecutableFlowNode
from .._processor import BpmnElementProcessor

__all__ = ["EventProcessorByKind"]


class EventProcessorByKind(BpmnElementProcessor[ExecutableFlowNode]):
    def __init__(self, transitions: StateTransitionBehavior,
                 kinds: Mapping[str | None, BpmnElementProcessor[Any]]) -> None:
        super().__init__(transitions)
        self.kinds = dict(kinds)

    def of(self, element: ExecutableFlowNode) -> BpmnElementProcessor[Any]:
        definition = getattr(element, "event_definition", None)
        kind = None if definition is None else definition.kind
        processor = self.kinds.get(kind)
        assert processor is not None, (f"{element.element_type.name} '{element.id}': {kind or 'none'} events have no"
                                       " processor; deployment should have refused them")
        return processor

    def activation_refused(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> str | None:
        return self.of(element).activation_refused(batch, element, context)

    def on_activate(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.of(element).on_activate(batch, element, context)

    def finalize_activation(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.of(element).finalize_activation(batch, element, context)

    def on_complete(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.of(element).on_complete(batch, element, context)

    def finalize_completion(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.of(element).finalize_completion(batch, element, context)

    def on_terminate(self, batch: Batch, element: ExecutableFlowNode, context: ElementContext) -> None:
        self.of(element).on_terminate(batch, element, context)
