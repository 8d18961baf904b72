"""Appliers of user task and process event records: a Camunda user task's lifecycle state and record,
its element instance's link to it, and the variables an element's pending process event carries.

A user task's lifecycle state is Zeebe's ``UserTaskState.LifecycleState``: CREATING, then CREATED
(the resting state; ASSIGNED returns to it), and ASSIGNING, CLAIMING, COMPLETING or CANCELING while a transition
is under way; COMPLETED and CANCELED remove it. Its COMPLETED variables wait for the element's
completion as a job's do (``pending_variables``).
"""

from __future__ import annotations

from collections.abc import Callable

from zeebe_trio.protocol import Record, UserTaskIntent, ValueType

from ..state import EngineState, UserTask, UserTaskLifecycle
from ._registry import EventAppliers

__all__ = ["register"]

UT = ValueType.USER_TASK
_U = UserTaskIntent
L = UserTaskLifecycle


def _user_task_creating(state: EngineState, record: Record) -> None:
    state.put_user_task(UserTask(record.key, UserTaskLifecycle.CREATING, dict(record.value)))
    instance = state.element_instance(record.value["elementInstanceKey"])
    if instance is not None:
        instance.user_task_key = record.key
        state.put_element_instance(instance)


def _lifecycle(lifecycle: UserTaskLifecycle) -> Callable[[EngineState, Record], None]:
    def apply(state: EngineState, record: Record) -> None:
        if state.user_task(record.key) is not None:
            state.put_user_task(UserTask(record.key, lifecycle, dict(record.value)))

    return apply


def _user_task_completed(state: EngineState, record: Record) -> None:
    state.remove_user_task(record.key)
    state.set_pending_variables(record.value["elementInstanceKey"], record.value.get("variables") or None)


def _user_task_canceled(state: EngineState, record: Record) -> None:
    state.remove_user_task(record.key)


def register(appliers: EventAppliers) -> None:
    appliers.register(UT, _U.CREATING, _user_task_creating)
    appliers.register(UT, _U.CREATED, _lifecycle(L.CREATED))
    appliers.register(UT, _U.ASSIGNING, _lifecycle(L.ASSIGNING))
    appliers.register(UT, _U.CLAIMING, _lifecycle(L.CLAIMING))
    appliers.register(UT, _U.ASSIGNED, _lifecycle(L.CREATED))
    appliers.register(UT, _U.COMPLETING, _lifecycle(L.COMPLETING))
    appliers.register(UT, _U.COMPLETED, _user_task_completed)
    appliers.register(UT, _U.CANCELING, _lifecycle(L.CANCELING))
    appliers.register(UT, _U.CANCELED, _user_task_canceled)
