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

__all__ = ["EventDefinition"]


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """The base of every event definition; ``kind`` is the word BPMN uses ("timer", "message", ...)."""

    @property
    def kind(self) -> str:
        raise NotImplementedError


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
