"""Message throw and message end events: Zeebe runs them as job workers (a zeebe:taskDefinition), so
their executable form is a job worker element that also carries its message definition."""

from __future__ import annotations

from dataclasses import dataclass

from ._definitions import EventDefinition
from ._elements import ExecutableJobWorkerTask

__all__ = ["ExecutableJobWorkerEvent"]


@dataclass(eq=False, repr=False)
class ExecutableJobWorkerEvent(ExecutableJobWorkerTask):
    """An intermediate throw or end event with a message definition, completed by its job's worker."""

    event_definition: EventDefinition | None = None
