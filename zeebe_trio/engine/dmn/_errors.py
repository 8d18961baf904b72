"""The error a DMN resource is refused with, and how its problems read.

Each problem names where it is, the way a Modeler user finds it: the decision (id and name), then
the element inside it (``rule 'r1' (row 2), input entry 1``), then what is wrong and, where it helps,
what to do. Text taken from the file is quoted only as a short excerpt with control characters
escaped; at most ``MAX_LISTED_PROBLEMS`` problems are listed, then a count of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_LISTED_PROBLEMS", "DmnParseError", "excerpt"]

#: Problems named one by one per resource; the rest are only counted.
MAX_LISTED_PROBLEMS = 20
_ELLIPSIS = "…"


def excerpt(text: str, limit: int = 100) -> str:
    """``text`` fit for a one-line message: unprintable characters escaped, at most ``limit`` long."""
    pieces: list[str] = []
    length = 0
    for char in text:
        piece = repr(char)[1:-1] if not char.isprintable() or char == "\\" else char
        if length + len(piece) > limit:
            return "".join(pieces) + _ELLIPSIS
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


class DmnParseError(ValueError):
    """A DMN resource that cannot be deployed; ``problems`` lists every reason found (one line each)."""

    def __init__(self, resource_name: str, problems: Sequence[str]) -> None:
        self.resource_name = resource_name
        self.problems = list(problems)
        listed = self.problems[:MAX_LISTED_PROBLEMS]
        lines = [f"'{excerpt(resource_name, 200)}': {problem}" for problem in listed]
        if len(self.problems) > len(listed):
            lines.append(f"... and {len(self.problems) - len(listed)} more problems")
        super().__init__("\n".join(lines))
