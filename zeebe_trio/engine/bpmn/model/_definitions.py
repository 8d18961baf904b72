"""Event definitions as objects, composed into catch and throw events of the executable model.

A catch event's definition says what it waits for, a throw event's what it throws. Each kind is one
class here (timer, message, signal, error, escalation, compensation, link, terminate), holding its
compiled expressions; an event without a definition (``None``) is a none event.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EventDefinition"]


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """The base of every event definition; ``kind`` is the word BPMN uses ("timer", "message", ...)."""

    @property
    def kind(self) -> str:
        raise NotImplementedError
