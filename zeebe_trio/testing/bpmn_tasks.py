"""BPMN XML for tests of user tasks, script tasks and execution listeners (see ``zeebe_trio.testing.bpmn``).

    from zeebe_trio.testing import bpmn as b, bpmn_tasks as t
    xml = b.process("p", b.start(), b.flow("s", "start", "u"), t.user_task("u", zeebe_user_task=True,
                    assignee="alice"), b.flow("e", "u", "end"), b.end())
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = ["execution_listeners", "script_task", "task", "user_task"]


def _attrs(**values: str | None) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in values.items() if value is not None)


def execution_listeners(*listeners: tuple[str, str] | tuple[str, str, int]) -> str:
    """``zeebe:executionListeners`` of (event type, job type[, retries]) in order."""
    items = []
    for listener in listeners:
        event_type, job_type = listener[0], listener[1]
        retries = f' retries="{listener[2]}"' if len(listener) > 2 else ""  # type: ignore[misc]
        items.append(f'<zeebe:executionListener eventType="{event_type}" type={quoteattr(job_type)}{retries}/>')
    return f"<zeebe:executionListeners>{''.join(items)}</zeebe:executionListeners>"


def _extensions(*parts: str) -> str:
    body = "".join(part for part in parts if part)
    return f"<bpmn:extensionElements>{body}</bpmn:extensionElements>" if body else ""


def user_task(task_id: str, *, zeebe_user_task: bool = False, assignee: str | None = None,
              candidate_groups: str | None = None, candidate_users: str | None = None, due_date: str | None = None,
              follow_up_date: str | None = None, form_key: str | None = None, priority: str | None = None,
              external_reference: str | None = None, headers: dict[str, str] | None = None,
              mappings: str = "", listeners: str = "") -> str:
    parts = ["<zeebe:userTask/>" if zeebe_user_task else ""]
    if assignee is not None or candidate_groups is not None or candidate_users is not None:
        assignment = _attrs(assignee=assignee, candidateGroups=candidate_groups, candidateUsers=candidate_users)
        parts.append(f"<zeebe:assignmentDefinition{assignment}/>")
    if due_date is not None or follow_up_date is not None:
        parts.append(f"<zeebe:taskSchedule{_attrs(dueDate=due_date, followUpDate=follow_up_date)}/>")
    if form_key is not None or external_reference is not None:
        parts.append(f"<zeebe:formDefinition{_attrs(formKey=form_key, externalReference=external_reference)}/>")
    if priority is not None:
        parts.append(f"<zeebe:priorityDefinition{_attrs(priority=priority)}/>")
    if headers:
        parts.append("<zeebe:taskHeaders>" + "".join(
            f"<zeebe:header key={quoteattr(k)} value={quoteattr(v)}/>" for k, v in headers.items())
            + "</zeebe:taskHeaders>")
    if mappings:
        parts.append(f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>")
    parts.append(listeners)
    return f'<bpmn:userTask id="{task_id}">{_extensions(*parts)}</bpmn:userTask>'


def script_task(task_id: str, expression: str, result_variable: str, *, mappings: str = "",
                listeners: str = "") -> str:
    io = f"<zeebe:ioMapping>{mappings}</zeebe:ioMapping>" if mappings else ""
    return (f'<bpmn:scriptTask id="{task_id}">'
            + _extensions(f"<zeebe:script{_attrs(expression=expression, resultVariable=result_variable)}/>", io,
                          listeners)
            + "</bpmn:scriptTask>")


def task(task_id: str, *, listeners: str = "") -> str:
    """An undefined task (``bpmn:task``), e.g. to carry execution listeners."""
    return f'<bpmn:task id="{task_id}">{_extensions(listeners)}</bpmn:task>'
