"""Deployment problems found in a BPMN resource, the error that carries them, and how both read.

A rejection names every element the way a Modeler user finds it: its kind ("timer boundary
event"), its id and, when it has one, its name. Text taken from the file is quoted only as a short
excerpt with control characters escaped, so one problem stays one line, and the whole message is
bounded: at most ``MAX_LISTED_PROBLEMS`` problems are listed per resource, then a count of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "Problem",
    "BpmnValidationError",
    "element_label",
    "excerpt",
    "reference",
    "references",
    "resource_label",
    "rejection_lines",
    "tag_in_words",
]

#: Problems (and elements in a list) named one by one per resource; the rest are only counted.
MAX_LISTED_PROBLEMS = 20
#: Characters of a name (or a quoted value) kept in a message, ellipsis included.
NAME_EXCERPT_LIMIT = 60
#: Ids are kept longer than names (real ones reach ~75 characters) so they can still be searched for.
ID_EXCERPT_LIMIT = 100
#: Resource names are paths and may be longer still.
RESOURCE_NAME_EXCERPT_LIMIT = 200

_ELLIPSIS = "…"


def excerpt(text: str, limit: int = NAME_EXCERPT_LIMIT, quote: str = '"') -> str:
    """``text`` as it may appear inside ``quote`` characters in a one-line message.

    Unprintable characters (newlines, tabs, bidi controls, ...) get their repr-style escape
    (``\\n``, ``\\u202e``); backslashes and the quote character are escaped too, so the excerpt
    is unambiguous. At most ``limit`` characters are kept; a cut ends in an ellipsis.
    """
    pieces: list[str] = []
    length = 0
    for char in text:
        if char == "\\" or char == quote:
            piece = "\\" + char
        elif not char.isprintable():
            piece = repr(char)[1:-1]
        else:
            piece = char
        if length + len(piece) > limit:
            while pieces and length + len(_ELLIPSIS) > limit:
                length -= len(pieces.pop())
            return "".join(pieces) + _ELLIPSIS
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def resource_label(resource_name: str) -> str:
    """``'order.bpmn'``: a resource's name as every line of a rejection starts with it (names come from
    clients, so a very long one is cut)."""
    return "'" + excerpt(resource_name, RESOURCE_NAME_EXCERPT_LIMIT, quote="'") + "'"


def reference(element_id: str, name: str | None = None) -> str:
    """``'Event_1x' ("Payment timed out")``: a quoted id, followed by the name if there is one."""
    text = "'" + excerpt(element_id, ID_EXCERPT_LIMIT, quote="'") + "'"
    name = (name or "").strip()
    if name:
        text += f' ("{excerpt(name)}")'
    return text


def references(items: Iterable[tuple[str, str | None]], limit: int = MAX_LISTED_PROBLEMS) -> str:
    """Comma-separated ``reference()``s of (id, name) pairs, at most ``limit`` of them, then a count."""
    listed: list[str] = []
    hidden = 0
    for element_id, name in items:
        if len(listed) < limit:
            listed.append(reference(element_id, name))
        else:
            hidden += 1
    if hidden:
        listed.append(f"and {hidden} more")
    return ", ".join(listed)


def element_label(kind: str, element_id: str | None, name: str | None = None, line: int | None = None) -> str:
    """``timer boundary event 'Event_1x' ("Payment timed out")``, or ``task without id at line 3``."""
    if element_id:
        return f"{kind} {reference(element_id, name)}"
    label = f"{kind} without id"
    if line is not None:
        label += f" at line {line}"
    name = (name or "").strip()
    if name:
        label += f' ("{excerpt(name)}")'
    return label


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def tag_in_words(tag: str) -> str:
    """``businessRuleTask`` -> ``business rule task``, ``BPMNShape`` -> ``bpmn shape``."""
    return _CAMEL_BOUNDARY.sub(" ", tag).lower()


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a resource cannot be deployed.

    ``element_type`` is the BPMN XML element name (``serviceTask``, ``sequenceFlow``, ``process``),
    which also covers elements Zeebe has no ``BpmnElementType`` for; ``element_kind`` is how a
    Modeler user calls it (``timer boundary event``), derived from the tag when not given.
    ``element_id`` is None for problems of the whole resource or of an element without an id;
    ``line`` locates the latter. ``hint`` is advice shared by problems of one kind (which elements
    are supported): a rejection states each distinct hint once, after its problems.
    """

    message: str
    process_id: str | None = None
    element_id: str | None = None
    element_type: str | None = None
    line: int | None = None
    element_name: str | None = None
    element_kind: str | None = None
    process_name: str | None = None
    hint: str | None = None

    def describe(self, resource_name: str) -> str:
        return f"{resource_label(resource_name)}: {self.text()}"

    def text(self) -> str:
        """The problem without the resource: where it is (process, element), then what is wrong."""
        parts = []
        if self.process_id is not None:
            parts.append(element_label("process", self.process_id, self.process_name))
        if self.element_type == "process" and self.process_id is None:
            parts.append(element_label("process", self.element_id, self.element_name, self.line))
        elif self.element_type is not None and self.element_type != "process":
            kind = self.element_kind or tag_in_words(self.element_type)
            parts.append(element_label(kind, self.element_id, self.element_name, self.line))
        parts.append(self.message)
        return ": ".join(parts)


def rejection_lines(resource_name: str, problems: Sequence[str], hints: Iterable[str] = ()) -> list[str]:
    """The lines a rejection gives one resource, each starting with its quoted name.

    At most ``MAX_LISTED_PROBLEMS`` of ``problems`` are listed, then one line counts the rest;
    each distinct hint follows once.
    """
    prefix = f"{resource_label(resource_name)}: "
    lines = [prefix + problem for problem in problems[:MAX_LISTED_PROBLEMS]]
    hidden = len(problems) - len(lines)
    if hidden:
        lines.append(
            f"{prefix}and {hidden} more problem{'s' if hidden > 1 else ''} ({len(problems)} in all); "
            "fix the ones above and deploy again to see the rest"
        )
    lines.extend(prefix + hint for hint in dict.fromkeys(hints))
    return lines


class BpmnValidationError(Exception):
    """A BPMN resource that cannot be deployed.

    ``str()`` names the resource on every line: one line per problem (at most
    ``MAX_LISTED_PROBLEMS``, then one line counting the rest), then each distinct hint once.
    ``problems`` holds all of them.
    """

    def __init__(self, resource_name: str, problems: Iterable[Problem]) -> None:
        self.resource_name = resource_name
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("a BpmnValidationError needs at least one problem")
        self._text = "\n".join(
            rejection_lines(
                resource_name,
                [problem.text() for problem in self.problems],
                [problem.hint for problem in self.problems if problem.hint],
            )
        )
        super().__init__(self._text)

    def __str__(self) -> str:
        return self._text

    def __reduce__(self):  # keep it picklable despite the custom __init__
        return (type(self), (self.resource_name, self.problems))
