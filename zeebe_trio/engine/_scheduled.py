"""The engine's scheduled work: a registry of *checkers*, each one kind of due date kept in state.

A checker (Zeebe's ``JobTimeoutChecker``, ``JobBackoffChecker``, ``MessageTimeToLiveChecker``,
``DueDateTimerChecker``) names what it checks and answers two questions from state alone, synchronously
and deterministically: when is the next one due (``next_due``), and which commands are due at ``now``
(``due_commands``: JOB.TIME_OUT, JOB.RECUR_AFTER_BACKOFF, MESSAGE.EXPIRE, TIMER.TRIGGER). The stream platform's schedule
service (``zeebe_trio.stream.ScheduleService``) asks them, on the partition leader only, and writes the
commands. The processors re-check every condition against the command's time, so a late or duplicate
command is harmless.

Adding a checker (BPMN timers, say) is one entry in ``CHECKERS``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zeebe_trio.protocol import Intent, JobIntent, MessageIntent, TimerIntent, ValueType
from zeebe_trio.state import Transaction

from .state import EngineState

DueCommand = tuple[ValueType, Intent, int, dict[str, Any]]
"""(value type, intent, key, value) of a command to write because something fell due."""

DEFAULT_DUE_COMMAND_LIMIT = 1000
"""How many due commands one check returns at most (the rest wait for the next check)."""


@dataclass(frozen=True, slots=True)
class Checker:
    """One kind of due date in state: its name, when the next one falls due, and the commands due at a
    time (at most ``limit``). Both read state only."""

    name: str
    next_due: Callable[[EngineState], int | None]
    due_commands: Callable[[EngineState, int, int], list[DueCommand]]


def _job_checker(name: str, column_family: str, intent: JobIntent) -> Checker:
    def next_due(state: EngineState) -> int | None:
        return state.next_due(column_family)

    def due(state: EngineState, now: int, limit: int) -> list[DueCommand]:
        return [(ValueType.JOB, intent, job_key, {})
                for _due, job_key in itertools.islice(state.jobs_due(column_family, now), limit)]

    return Checker(name, next_due, due)


def _message_next_due(state: EngineState) -> int | None:
    return state.next_due("message_deadlines")


def _messages_due(state: EngineState, now: int, limit: int) -> list[DueCommand]:
    return [(ValueType.MESSAGE, MessageIntent.EXPIRE, message_key, {})
            for message_key in itertools.islice(state.messages_due(now), limit)]


def _timers_next_due(state: EngineState) -> int | None:
    return state.next_timer_due()


def _timers_due(state: EngineState, now: int, limit: int) -> list[DueCommand]:
    # the command carries the timer's record, as Zeebe's DueDateTimerChecker writes it
    return [(ValueType.TIMER, TimerIntent.TRIGGER, timer_key, state.timer(timer_key) or {})
            for _due, timer_key in itertools.islice(state.timers_due(now), limit)]


CHECKERS: tuple[Checker, ...] = (
    _job_checker("job deadlines", "job_deadlines", JobIntent.TIME_OUT),
    _job_checker("job back-offs", "job_backoffs", JobIntent.RECUR_AFTER_BACKOFF),
    Checker("message time-to-live", _message_next_due, _messages_due),
    Checker("timer due dates", _timers_next_due, _timers_due),
)
"""The built-in checkers, asked in this order."""


def next_due_time(state: EngineState, checkers: Iterable[Checker] = CHECKERS) -> int | None:
    """The earliest due time any checker knows of (epoch milliseconds), or None."""
    times = [t for t in (checker.next_due(state) for checker in checkers) if t is not None]
    return min(times) if times else None


def due_commands(state: EngineState, now: int, limit: int = DEFAULT_DUE_COMMAND_LIMIT,
                 checkers: Iterable[Checker] = CHECKERS) -> list[DueCommand]:
    """The commands due at ``now``, checker by checker, at most ``limit`` in all."""
    commands: list[DueCommand] = []
    for checker in checkers:
        if len(commands) >= limit:
            break
        commands.extend(checker.due_commands(state, now, limit - len(commands)))
    return commands


class ScheduledChecks:
    """The checkers over one engine state, in the shape the stream platform's schedule service reads
    (``zeebe_trio.stream.ScheduledWork``): bind a read transaction, then ask."""

    def __init__(self, state: EngineState, checkers: Sequence[Checker] = CHECKERS) -> None:
        self.state = state
        self.checkers = tuple(checkers)

    def bind(self, txn: Transaction) -> None:
        self.state.bind(txn)

    def next_due_time(self) -> int | None:
        return next_due_time(self.state, self.checkers)

    def due_commands(self, now: int, limit: int) -> list[DueCommand]:
        return due_commands(self.state, now, limit, self.checkers)
