"""BPMN XML for message tests: message declarations, receive tasks and message catch events.

    from zeebe_trio.testing import bpmn as b, bpmn_messages as m
    xml = b.process("p", b.start(), b.flow("f1", "start", "wait"), m.message_catch("wait", "msg"),
                    b.flow("f2", "wait", "end"), b.end(), definitions=m.message("msg", "paid", "=orderId"))
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = ["message", "message_catch", "message_throw", "receive_task", "with_output"]


def message(message_id: str, name: str, correlation_key: str | None = None) -> str:
    """A ``bpmn:message`` declaration (for ``process(definitions=...)``); a catching element needs a
    correlation key (a start event's message has none)."""
    subscription = "" if correlation_key is None else (
        f"<bpmn:extensionElements><zeebe:subscription correlationKey={quoteattr(correlation_key)}/>"
        "</bpmn:extensionElements>")
    return f'<bpmn:message id="{message_id}" name={quoteattr(name)}>{subscription}</bpmn:message>'


def _io(mappings: str) -> str:
    return f"<bpmn:extensionElements><zeebe:ioMapping>{mappings}</zeebe:ioMapping></bpmn:extensionElements>" \
        if mappings else ""


def message_catch(element_id: str, message_ref: str, *, mappings: str = "") -> str:
    """An intermediate message catch event; ``mappings``: zeebe:input/zeebe:output elements."""
    return (f'<bpmn:intermediateCatchEvent id="{element_id}">{_io(mappings)}'
            f'<bpmn:messageEventDefinition messageRef="{message_ref}"/></bpmn:intermediateCatchEvent>')


def receive_task(element_id: str, message_ref: str, *, mappings: str = "") -> str:
    return f'<bpmn:receiveTask id="{element_id}" messageRef="{message_ref}">{_io(mappings)}</bpmn:receiveTask>'


def with_output(source: str, target: str) -> str:
    return f"<zeebe:output source={quoteattr(source)} target={quoteattr(target)}/>"


def message_throw(element_id: str, job_type: str, *, end: bool = False) -> str:
    """A message intermediate throw event (or end event) in its job worker form."""
    tag = "endEvent" if end else "intermediateThrowEvent"
    return (f'<bpmn:{tag} id="{element_id}"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}"/>'
            f"</bpmn:extensionElements><bpmn:messageEventDefinition/></bpmn:{tag}>")
