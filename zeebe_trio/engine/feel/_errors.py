"""The exceptions this package raises.

FEEL itself is null-friendly: a missing variable or a type mismatch yields null, not an error.
Only malformed source text (FeelSyntaxError) and hard failures such as exceeded limits
(FeelEvaluationError) raise.
"""

from __future__ import annotations

__all__ = ["FeelError", "FeelSyntaxError", "FeelEvaluationError"]

_MAX_QUOTED_SOURCE = 200


class FeelError(Exception):
    """Base class of everything this package raises."""


class FeelSyntaxError(FeelError):
    """The source text is not a valid FEEL expression.

    ``position`` is ``(line, column)``, both 1-based; ``reason`` is the message without the location.
    """

    def __init__(self, reason: str, source: str, offset: int) -> None:
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
        quoted = source if len(source) <= _MAX_QUOTED_SOURCE else source[:_MAX_QUOTED_SOURCE] + "..."
        super().__init__(f'{reason} at {line}:{column} in "{quoted}"')
        self.reason = reason
        self.source = source
        self.offset = offset
        self.position = (line, column)


class FeelEvaluationError(FeelError):
    """Evaluation failed hard: a limit was exceeded or an assertion failed."""
