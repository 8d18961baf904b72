"""Due dates in state: job deadlines, job back-offs and message time-to-live.

The stream platform asks when the next one falls due and, when it has, which commands to write
(JOB.TIME_OUT, JOB.RECUR_AFTER_BACKOFF, MESSAGE.EXPIRE). The processors re-check every condition
against the command's time, so a late or duplicate command is harmless.
"""

from __future__ import annotations

from typing import Any

from zeebe_trio.protocol import Intent, JobIntent, MessageIntent, ValueType

from .state import EngineState

DueCommand = tuple[ValueType, Intent, int, dict[str, Any]]


def next_due_time(state: EngineState) -> int | None:
    times = [t for t in (state.next_due("job_deadlines"), state.next_due("job_backoffs"),
                         state.next_due("message_deadlines")) if t is not None]
    return min(times) if times else None


def due_commands(state: EngineState, now: int, limit: int = 1000) -> list[DueCommand]:
    commands: list[DueCommand] = []
    for _due, job_key in state.jobs_due("job_deadlines", now):
        commands.append((ValueType.JOB, JobIntent.TIME_OUT, job_key, {}))
        if len(commands) >= limit:
            return commands
    for _due, job_key in state.jobs_due("job_backoffs", now):
        commands.append((ValueType.JOB, JobIntent.RECUR_AFTER_BACKOFF, job_key, {}))
        if len(commands) >= limit:
            return commands
    for message_key in state.messages_due(now):
        commands.append((ValueType.MESSAGE, MessageIntent.EXPIRE, message_key, {}))
        if len(commands) >= limit:
            break
    return commands
