"""User tasks, script tasks with a zeebe:script, and execution listeners in the executable model.

- ``ExecutableUserTask``: a ``bpmn:userTask``, either a Camunda user task (zeebe:userTask, run as USER_TASK
  records: ``user_task`` is set) or the job worker form (a job of type ``io.camunda.zeebe:userTask``:
  ``job`` is set), with the attributes compiled once (static values become what Zeebe's transformer
  makes of them: a static assignee is a string, static candidate groups/users a CSV list).
- ``ExecutableScriptTask``: a script task whose FEEL expression the engine evaluates itself.
- ``ExecutionListenerJob``: one zeebe:executionListener, a job created at the element's start or end.

Their transformers are in this module too; ``_transform`` registers them in its table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _model as syntax
from ._elements import ExecutableActivity, ExecutableFlowNode, ExecutionListenerJob, JobWorkerProperties
from ._expression import CompileProblems, Expression, compile_value, parse_retries

__all__ = [
    "USER_TASK_JOB_TYPE",
    "ExecutableScriptTask",
    "ExecutableUserTask",
    "ExecutionListenerJob",
    "UserTaskProperties",
    "compile_execution_listeners",
    "transform_script_task",
    "transform_user_task",
]

#: Zeebe's Protocol.USER_TASK_JOB_TYPE: the job type of a job worker user task.
USER_TASK_JOB_TYPE = "io.camunda.zeebe:userTask"
#: Zeebe's UserTaskTransformer gives the job of a job worker user task one retry.
USER_TASK_JOB_RETRIES = "1"


@dataclass(frozen=True, slots=True)
class UserTaskProperties:
    """A user task's attributes; None where the BPMN does not set one. ``form_key`` is the static
    zeebe:formDefinition formKey (job worker user tasks only); ``form_id`` names a deployed form, the
    version ``form_binding_type`` (and ``form_version_tag``) picks."""

    assignee: Expression | None = None
    candidate_groups: Expression | None = None
    candidate_users: Expression | None = None
    due_date: Expression | None = None
    follow_up_date: Expression | None = None
    form_key: str | None = None
    form_id: Expression | None = None
    external_reference: Expression | None = None
    priority: Expression | None = None
    task_headers: tuple[tuple[str, str], ...] = ()
    #: which deployed version of the form ``form_id`` names: 'latest', 'deployment' or 'versionTag'
    form_binding_type: str = "latest"
    form_version_tag: str = ""


@dataclass(eq=False, repr=False)
class ExecutableUserTask(ExecutableActivity):
    """``user_task`` always holds the attributes; ``job`` is set for the job worker form only."""

    user_task: UserTaskProperties = None  # type: ignore[assignment]  # always set by the transformer
    job: JobWorkerProperties | None = None

    @property
    def is_camunda_user_task(self) -> bool:
        return self.job is None


@dataclass(eq=False, repr=False)
class ExecutableScriptTask(ExecutableActivity):
    """A script task with a zeebe:script: ``expression``'s value becomes ``result_variable``."""

    expression: Expression = None  # type: ignore[assignment]  # always set by the transformer
    result_variable: str = ""


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _compile(text: str | None, where: str, problems: list[str], *, static: object = str) -> Expression | None:
    if text is None or not text.strip():
        return None
    try:
        return compile_value(text, where, expression_required=False, static=static)  # type: ignore[arg-type]
    except CompileProblems as error:
        problems.extend(error.problems)
        return None


def _priority(text: str) -> int:
    return int(text.strip())


def transform_user_task(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    definition = node.user_task or syntax.UserTaskDefinition()
    properties = UserTaskProperties(
        assignee=_compile(definition.assignee, f"{where}: assignee", problems),
        candidate_groups=_compile(definition.candidate_groups, f"{where}: candidate groups", problems,
                                  static=_csv_list),
        candidate_users=_compile(definition.candidate_users, f"{where}: candidate users", problems,
                                 static=_csv_list),
        due_date=_compile(definition.due_date, f"{where}: due date", problems),
        follow_up_date=_compile(definition.follow_up_date, f"{where}: follow-up date", problems),
        form_key=definition.form_key if not definition.zeebe_user_task else None,
        form_id=_compile(definition.form_id, f"{where}: form id", problems),
        external_reference=(_compile(definition.external_reference, f"{where}: external form reference",
                                     problems) if definition.zeebe_user_task else None),
        priority=(_compile(definition.priority, f"{where}: priority", problems, static=_priority)
                  if definition.zeebe_user_task else None),
        task_headers=node.task_headers,
        form_binding_type=definition.binding_type,
        form_version_tag=definition.version_tag or "",
    )
    task = ExecutableUserTask(node.id, node.element_type, node.name, user_task=properties)
    if not definition.zeebe_user_task:
        task.job = JobWorkerProperties(
            compile_value(USER_TASK_JOB_TYPE, f"{where}: job type", expression_required=False),
            compile_value(USER_TASK_JOB_RETRIES, f"{where}: job retries", expression_required=False,
                          static=parse_retries),
            node.task_headers)
    return task


def transform_script_task(node: syntax.FlowNode, where: str, problems: list[str]) -> ExecutableFlowNode:
    task = ExecutableScriptTask(node.id, node.element_type, node.name)
    script = node.script
    if script is None:
        problems.append(f"{where}: has neither a zeebe:script nor a zeebe:taskDefinition")
        return task
    try:
        task.expression = compile_value(script.expression, f"{where}: script expression", expression_required=True)
    except CompileProblems as error:
        problems.extend(error.problems)
    task.result_variable = script.result_variable.strip()
    return task


def compile_execution_listeners(listeners: tuple[syntax.ExecutionListener, ...], where: str,
                                problems: list[str]) -> tuple[ExecutionListenerJob, ...]:
    compiled = []
    for listener in listeners:
        try:
            job_type = compile_value(listener.job_type, f"{where}: {listener.event_type} execution listener type",
                                     expression_required=False)
            retries = compile_value(listener.retries or syntax.DEFAULT_JOB_RETRIES,
                                    f"{where}: {listener.event_type} execution listener retries",
                                    expression_required=False, static=parse_retries)
        except CompileProblems as error:
            problems.extend(error.problems)
            continue
        compiled.append(ExecutionListenerJob(listener.event_type, JobWorkerProperties(job_type, retries)))
    return tuple(compiled)
