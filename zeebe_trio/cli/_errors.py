"""The one way a command fails in front of an operator: one line, a known exit code."""

from __future__ import annotations


class CliError(Exception):
    """An operator-facing failure. ``main`` prints it as one line, ``zeebe-trio <command>: <message>``,
    and exits with ``code``: 1 when the command failed, 2 when it was used wrongly. The message names
    the thing, the problem and, where there is one, the fix."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class UsageError(CliError):
    """The command line itself is wrong (a bad flag value, unreadable input): exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)
