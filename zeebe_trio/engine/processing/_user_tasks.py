"""USER_TASK commands: what a client does to a Camunda user task (zeebe:userTask).

- COMPLETE: USER_TASK COMPLETING and COMPLETED with the command's variables, then the element's
  COMPLETE_ELEMENT (the variables reach it as a job's do, through its output mappings);
- ASSIGN: ASSIGNING and ASSIGNED to the command's assignee (an empty one unassigns);
- CLAIM: CLAIMING and ASSIGNED, refused when someone else holds the task.

Each is refused, with Zeebe's wording (``UserTaskCommandPreconditionChecker``), for a task that does not
exist (NOT_FOUND) or is in the middle of another transition (INVALID_STATE). Task listeners are not
supported, so every transition finishes in the command's own batch.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import ProcessInstanceIntent, Record, RejectionType, UserTaskIntent, ValueType

from .._batch import Batch
from .._command_processors import CommandProcessors
from ..bpmn.behaviors import ExpressionBehavior, UserTaskBehavior
from ..state import UserTaskLifecycle

__all__ = ["UserTaskProcessors"]

UT = ValueType.USER_TASK
_U = UserTaskIntent


def _task_or_reject(batch: Batch, command: Record, verb: str) -> dict[str, Any] | None:
    stored = batch.state.user_task(command.key)
    if stored is None:
        batch.reject(command, RejectionType.NOT_FOUND,
                     f"Expected to {verb} user task with key '{command.key}', but no such user task was found")
        return None
    if stored.lifecycle is not UserTaskLifecycle.CREATED:
        batch.reject(command, RejectionType.INVALID_STATE,
                     f"Expected to {verb} user task with key '{command.key}', but it is in state"
                     f" '{stored.lifecycle.value}'")
        return None
    return dict(stored.record)


def _action(command: Record, default: str) -> str:
    """The action the records name: the client's (a custom action), else Zeebe's default for the command."""
    action = command.value.get("action")
    return action if isinstance(action, str) and action else default


class UserTaskProcessors:
    def __init__(self, expressions: ExpressionBehavior) -> None:
        self.user_tasks = UserTaskBehavior(expressions)

    def register(self, processors: CommandProcessors) -> None:
        processors.add(UT, _U.COMPLETE, self.complete)
        processors.add(UT, _U.ASSIGN, self.assign)
        processors.add(UT, _U.CLAIM, self.claim)

    def complete(self, batch: Batch, command: Record) -> None:
        task = _task_or_reject(batch, command, "complete")
        if task is None:
            return
        variables = command.value.get("variables") or {}
        if not isinstance(variables, dict):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to complete user task with key '{command.key}' with variables that are a JSON"
                         " object")
            return
        task.update(variables=variables, action=_action(command, "complete"), changedAttributes=[])
        batch.event(UT, _U.COMPLETING, command.key, task)
        completed = batch.event(UT, _U.COMPLETED, command.key, task)
        batch.respond(command, completed)
        element = batch.state.element_instance(task["elementInstanceKey"])
        if element is not None:
            batch.command(ValueType.PROCESS_INSTANCE, ProcessInstanceIntent.COMPLETE_ELEMENT, element.key,
                          element.value)

    def assign(self, batch: Batch, command: Record) -> None:
        task = _task_or_reject(batch, command, "assign")
        if task is None:
            return
        assignee = command.value.get("assignee") or ""
        if not isinstance(assignee, str):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to assign user task with key '{command.key}' to an assignee that is a string")
            return
        self.user_tasks.assign(batch, task, assignee, _action(command, "assign"))
        batch.respond(command, batch.records[-1])

    def claim(self, batch: Batch, command: Record) -> None:
        task = _task_or_reject(batch, command, "claim")
        if task is None:
            return
        assignee = command.value.get("assignee") or ""
        if not isinstance(assignee, str):
            batch.reject(command, RejectionType.INVALID_ARGUMENT,
                         f"Expected to claim user task with key '{command.key}' for an assignee that is a string")
            return
        if task.get("assignee") and task["assignee"] != assignee:
            batch.reject(command, RejectionType.INVALID_STATE,
                         f"Expected to claim user task with key '{command.key}', but it has already been assigned")
            return
        self.user_tasks.assign(batch, task, assignee, _action(command, "claim"), claim=True)
        batch.respond(command, batch.records[-1])
