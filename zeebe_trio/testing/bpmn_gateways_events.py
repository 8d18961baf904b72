"""BPMN XML for tests of inclusive gateways, none and link intermediate throw events, link catch events
and terminate end events; used with ``zeebe_trio.testing.bpmn`` (``process``, ``flow``, ``start`` ...).

    from zeebe_trio.testing import bpmn as b, bpmn_gateways_events as g
    xml = b.process("p", b.start(), b.flow("f", "start", "fork"), g.inclusive_gateway("fork"), ...)
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = [
    "inclusive_gateway",
    "intermediate_throw",
    "link_definition",
    "manual_task",
    "parallel_gateway",
    "terminate_definition",
]


def inclusive_gateway(element_id: str, *, default: str | None = None) -> str:
    flag = "" if default is None else f" default={quoteattr(default)}"
    return f'<bpmn:inclusiveGateway id="{element_id}"{flag}/>'


def parallel_gateway(element_id: str) -> str:
    return f'<bpmn:parallelGateway id="{element_id}"/>'


def manual_task(element_id: str) -> str:
    return f'<bpmn:manualTask id="{element_id}"/>'


def intermediate_throw(element_id: str, definition: str = "", *, mappings: str = "") -> str:
    io = f"<bpmn:extensionElements><zeebe:ioMapping>{mappings}</zeebe:ioMapping></bpmn:extensionElements>" \
        if mappings else ""
    return f'<bpmn:intermediateThrowEvent id="{element_id}">{io}{definition}</bpmn:intermediateThrowEvent>'


def link_definition(name: str) -> str:
    return f"<bpmn:linkEventDefinition name={quoteattr(name)}/>"


def terminate_definition() -> str:
    return "<bpmn:terminateEventDefinition/>"
