"""Why a broker could not start, in words an operator can act on."""

from __future__ import annotations


class StartupError(RuntimeError):
    """The broker cannot start: a port is taken, the data directory is in use, ... The message is
    one line naming the thing, the problem and the setting that fixes it."""
