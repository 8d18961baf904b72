"""BPMN XML for tests of signal and escalation events and event-based gateways; used with
``zeebe_trio.testing.bpmn`` (``process``, ``flow``, ``start`` ...).

    from zeebe_trio.testing import bpmn as b, bpmn_signals_escalations as s
    xml = b.process("p", b.start(), b.flow("f", "start", "wait"),
                    b.intermediate_catch("wait", b.signal_definition("sig")), ...,
                    definitions=s.signal("sig", "alert"))
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = [
    "escalation",
    "escalation_definition",
    "event_based_gateway",
    "signal",
    "throw",
]


def signal(signal_id: str, name: str) -> str:
    """A ``bpmn:signal`` declaration (for ``process(definitions=...)``); ``name`` may be "=expression"."""
    return f"<bpmn:signal id={quoteattr(signal_id)} name={quoteattr(name)}/>"


def escalation(escalation_id: str, code: str) -> str:
    """A ``bpmn:escalation`` declaration (for ``process(definitions=...)``)."""
    return f"<bpmn:escalation id={quoteattr(escalation_id)} escalationCode={quoteattr(code)}/>"


def escalation_definition(escalation_ref: str | None = None) -> str:
    """Without a reference: a catch-all catch event."""
    ref = "" if escalation_ref is None else f" escalationRef={quoteattr(escalation_ref)}"
    return f"<bpmn:escalationEventDefinition{ref}/>"


def event_based_gateway(element_id: str) -> str:
    return f'<bpmn:eventBasedGateway id="{element_id}"/>'


def throw(element_id: str, definition: str, *, end: bool = False, inputs: dict[str, str] | None = None) -> str:
    """An intermediate throw event (or, with ``end``, an end event) with zeebe:input mappings."""
    tag = "endEvent" if end else "intermediateThrowEvent"
    io = ""
    if inputs:
        rules = "".join(f"<zeebe:input source={quoteattr(s)} target={quoteattr(t)}/>" for t, s in inputs.items())
        io = f"<bpmn:extensionElements><zeebe:ioMapping>{rules}</zeebe:ioMapping></bpmn:extensionElements>"
    return f'<bpmn:{tag} id="{element_id}">{io}{definition}</bpmn:{tag}>'
