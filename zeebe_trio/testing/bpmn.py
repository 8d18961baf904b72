"""BPMN XML for tests, one function per element: small, readable models without a modeller.

    from zeebe_trio.testing import bpmn as b
    xml = b.process("p", b.start(), b.flow("s", "start", "t"), b.service_task("t", "work"),
                    b.flow("e", "t", "end"), b.end())

Each function returns the XML text of one element; ``process`` wraps them into a deployable resource
(bytes). Ids are the caller's; nothing is validated here (deployment does that).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = [
    "boundary",
    "end",
    "error_definition",
    "flow",
    "intermediate_catch",
    "message_definition",
    "process",
    "service_task",
    "signal_definition",
    "start",
    "sub_process",
    "timer_definition",
]

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
         ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://zeebe-trio">')


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f" {name}={quoteattr(value)}"


def process(process_id: str, *elements: str, definitions: str = "") -> bytes:
    """A deployable resource with one executable process; ``definitions`` holds root elements such as
    ``bpmn:message``/``bpmn:error`` declarations."""
    return (f'{_HEAD}{definitions}<bpmn:process id="{process_id}" isExecutable="true">{"".join(elements)}'
            "</bpmn:process></bpmn:definitions>").encode()


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'


def start(element_id: str = "start", definition: str = "", *, interrupting: bool | None = None) -> str:
    flag = "" if interrupting is None else f' isInterrupting="{str(interrupting).lower()}"'
    return f'<bpmn:startEvent id="{element_id}"{flag}>{definition}</bpmn:startEvent>'


def end(element_id: str = "end", definition: str = "") -> str:
    return f'<bpmn:endEvent id="{element_id}">{definition}</bpmn:endEvent>'


def service_task(task_id: str, job_type: str, *, retries: int = 3, mappings: str = "") -> str:
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements><zeebe:taskDefinition type="{job_type}"'
            f' retries="{retries}"/>{io}</bpmn:extensionElements></bpmn:serviceTask>')


def sub_process(element_id: str, *elements: str, triggered_by_event: bool = False, mappings: str = "") -> str:
    flag = ' triggeredByEvent="true"' if triggered_by_event else ""
    io = f"<bpmn:extensionElements><zeebe:ioMapping>{mappings}</zeebe:ioMapping></bpmn:extensionElements>" \
        if mappings else ""
    return f'<bpmn:subProcess id="{element_id}"{flag}>{io}{"".join(elements)}</bpmn:subProcess>'


def intermediate_catch(element_id: str, definition: str) -> str:
    return f'<bpmn:intermediateCatchEvent id="{element_id}">{definition}</bpmn:intermediateCatchEvent>'


def boundary(element_id: str, attached_to: str, definition: str, *, interrupting: bool = True) -> str:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return (f'<bpmn:boundaryEvent id="{element_id}" attachedToRef="{attached_to}"{cancel}>{definition}'
            "</bpmn:boundaryEvent>")


def timer_definition(*, duration: str | None = None, date: str | None = None, cycle: str | None = None) -> str:
    parts = []
    for tag, text in (("timeDuration", duration), ("timeDate", date), ("timeCycle", cycle)):
        if text is not None:
            parts.append(f"<bpmn:{tag}>{text}</bpmn:{tag}>")
    return f'<bpmn:timerEventDefinition>{"".join(parts)}</bpmn:timerEventDefinition>'


def message_definition(message_ref: str) -> str:
    """Declare the message itself in ``process(definitions=...)`` (``bpmn:message`` with
    ``zeebe:subscription``)."""
    return f'<bpmn:messageEventDefinition messageRef="{message_ref}"/>'


def signal_definition(signal_ref: str) -> str:
    return f'<bpmn:signalEventDefinition signalRef="{signal_ref}"/>'


def error_definition(error_ref: str | None = None) -> str:
    return f"<bpmn:errorEventDefinition{_attr('errorRef', error_ref)}/>"
