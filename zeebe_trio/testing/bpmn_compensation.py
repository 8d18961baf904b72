"""BPMN XML for tests of compensation; used with ``zeebe_trio.testing.bpmn`` (``process``, ``flow`` ...).

    from zeebe_trio.testing import bpmn as b, bpmn_compensation as c
    xml = b.process("p", b.start(), b.flow("f1", "start", "charge"), b.service_task("charge", "charge"),
                    *c.compensation("charge", c.handler_task("refund", "refund")),
                    b.flow("f2", "charge", "undo"), c.compensation_throw("undo"), b.flow("f3", "undo", "end"),
                    b.end())
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = ["compensate_definition", "compensation", "compensation_end", "compensation_throw", "handler_task"]


def compensate_definition(activity_ref: str | None = None, *, wait_for_completion: bool | None = None) -> str:
    """A ``bpmn:compensateEventDefinition``; without ``activity_ref`` it compensates the whole scope."""
    ref = "" if activity_ref is None else f" activityRef={quoteattr(activity_ref)}"
    wait = "" if wait_for_completion is None else f' waitForCompletion="{str(wait_for_completion).lower()}"'
    return f"<bpmn:compensateEventDefinition{ref}{wait}/>"


def compensation_throw(element_id: str, activity_ref: str | None = None) -> str:
    """An intermediate compensation throw event."""
    return (f'<bpmn:intermediateThrowEvent id="{element_id}">{compensate_definition(activity_ref)}'
            "</bpmn:intermediateThrowEvent>")


def compensation_end(element_id: str, activity_ref: str | None = None) -> str:
    """A compensation end event."""
    return f'<bpmn:endEvent id="{element_id}">{compensate_definition(activity_ref)}</bpmn:endEvent>'


def handler_task(task_id: str, job_type: str, *, retries: int = 3, mappings: str = "") -> str:
    """A service task with ``isForCompensation="true"``: a compensation handler (no sequence flows)."""
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:serviceTask id="{task_id}" isForCompensation="true"><bpmn:extensionElements>'
            f'<zeebe:taskDefinition type="{job_type}" retries="{retries}"/>{io}</bpmn:extensionElements>'
            "</bpmn:serviceTask>")


def compensation(activity_id: str, handler: str, *, boundary_id: str | None = None) -> tuple[str, str, str]:
    """A compensation boundary event on ``activity_id``, the handler (XML with its id) and the association
    between them: three elements to put in the same scope as the activity."""
    boundary = boundary_id or f"{activity_id}_compensation"
    handler_id = handler.split('id="', 1)[1].split('"', 1)[0]
    return (f'<bpmn:boundaryEvent id="{boundary}" attachedToRef="{activity_id}">'
            f"{compensate_definition()}</bpmn:boundaryEvent>",
            handler,
            f'<bpmn:association id="{boundary}_association" associationDirection="One" sourceRef="{boundary}"'
            f' targetRef="{handler_id}"/>')
