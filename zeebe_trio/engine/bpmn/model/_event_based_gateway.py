"""Event-based gateways in the executable model: the gateway waits for the events after it.

While active, the gateway holds the subscriptions of the catch events its outgoing flows lead to
(``catch_events``: whatever kind each one waits for — a timer, a signal, a message); the first of them
to be triggered completes the gateway, and that event is activated and completes at once (it
subscribes to nothing itself: ``is_after_event_based_gateway``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zeebe_trio.protocol import BpmnElementType

from ._elements import ExecutableCatchEvent, ExecutableFlowNode

__all__ = ["ExecutableEventBasedGateway", "is_after_event_based_gateway"]


@dataclass(eq=False, repr=False)
class ExecutableEventBasedGateway(ExecutableFlowNode):
    @property
    def catch_events(self) -> list[ExecutableCatchEvent]:
        # any element after the gateway with an event definition (the syntax layer allows only catch
        # events and receive tasks there) is an event the gateway waits for
        return [flow.target for flow in self.outgoing  # type: ignore[misc]
                if getattr(flow.target, "event_definition", None) is not None]


def is_after_event_based_gateway(element: ExecutableFlowNode) -> bool:
    """Whether ``element`` is one of an event-based gateway's events (the gateway held its subscription)."""
    for flow in element.incoming:  # a loop, not any() over a generator: every activation asks
        if flow.source.element_type is BpmnElementType.EVENT_BASED_GATEWAY:
            return True
    return False
