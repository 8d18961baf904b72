"""Why a broker could not start, in words an operator can act on; and where a refused command should go."""

from __future__ import annotations


class StartupError(RuntimeError):
    """The broker cannot start: a port is taken, the data directory is in use, ... The message is
    one line naming the thing, the problem and the setting that fixes it."""


def leader_hint(leader: int | None, *, now: bool = False) -> str:
    """How a refusal names the partition's leader: "the leader is (now) node 2", or that none is known."""
    if leader is None:
        return "no leader is known yet"
    return f"the leader is {'now ' if now else ''}node {leader}"
