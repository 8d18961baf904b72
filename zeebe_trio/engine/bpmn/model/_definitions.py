"""Event definitions as objects, composed into catch and throw events of the executable model.

A catch event's definition says what it waits for, a throw event's what it throws. Each kind is one
class here (timer, message, signal, error, escalation, compensation, link, terminate), holding its
compiled expressions; an event without a definition (``None``) is a none event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._elements import ExecutableCatchEvent

from .._timers import TimerDefinition, TimerKind
from ._expression import Expression

__all__ = [
    "EventDefinition",
    "ExecutableError",
    "ExecutableEscalation",
    "ExecutableMessage",
    "ExecutableSignal",
    "ExecutableTimer",
]


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """The base of every event definition; ``kind`` is the word BPMN uses ("timer", "message", ...)."""

    @property
    def kind(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ExecutableTimer(EventDefinition):
    """``timer_kind`` is "duration", "date" or "cycle"; a static text is parsed at deployment
    (``static``), an expression (``expression``) is evaluated when the timer is scheduled."""

    timer_kind: TimerKind
    text: str
    static: TimerDefinition | None = None
    expression: Expression | None = None

    @property
    def kind(self) -> str:
        return "timer"


@dataclass(frozen=True, slots=True)
class ExecutableMessage(EventDefinition):
    """The message a catch event subscribes to: its name and correlation key, each static or FEEL."""

    name: Expression
    correlation_key: Expression | None = None

    @property
    def kind(self) -> str:
        return "message"


@dataclass(frozen=True, slots=True)
class ExecutableSignal(EventDefinition):
    name: Expression

    @property
    def kind(self) -> str:
        return "signal"


@dataclass(frozen=True, slots=True)
class ExecutableError(EventDefinition):
    """A catch event's ``error_code`` (None: it catches every error) or a throw event's code; the catch
    side may name variables for the caught error's code and message."""

    error_code: Expression | None = None
    code_variable: str | None = None
    message_variable: str | None = None

    @property
    def kind(self) -> str:
        return "error"


@dataclass(frozen=True, slots=True)
class ExecutableEscalation(EventDefinition):
    """A catch event's ``escalation_code`` (None: every escalation) or a throw event's code."""

    escalation_code: Expression | None = None

    @property
    def kind(self) -> str:
        return "escalation"


@dataclass(frozen=True, slots=True)
class TerminateEventDefinition(EventDefinition):
    """A terminate end event: completing it terminates every other element instance of its flow scope,
    which then completes."""

    @property
    def kind(self) -> str:
        return "terminate"


@dataclass(frozen=True, slots=True)
class LinkEventDefinition(EventDefinition):
    """A link event's name. On a throw event ``catch_event`` is the catch event of the same name in the
    same flow scope (linked by the transformer), which completing the throw event activates; on a catch
    event it is None."""

    name: str
    catch_event: ExecutableCatchEvent | None = None

    @property
    def kind(self) -> str:
        return "link"
