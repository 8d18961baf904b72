"""The values Raft nodes exchange and hand to their driver: entries, snapshots, roles and the messages.

Every message names its `source`, its `target` and the sender's `term` (for a pre-vote: the term the
sender would campaign for). Messages are plain frozen dataclasses so that a transport can encode them
however it likes (the in-memory network passes the objects themselves).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RaftEntry:
    """One replicated log entry. An entry with empty `data` is a leader's no-op (written on election)."""

    index: int
    term: int
    data: bytes

    @property
    def is_noop(self) -> bool:
        return not self.data


@dataclass(frozen=True, slots=True)
class RaftSnapshot:
    """The user's state up to and including entry `index` (of term `term`), as opaque bytes."""

    index: int
    term: int
    data: bytes


@dataclass(frozen=True, slots=True)
class HardState:
    """What a node must have on stable storage before it sends anything that depends on it."""

    term: int
    voted_for: int | None


class Role(enum.Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A node's role, term and known leader (None while there is none), reported whenever one changes."""

    role: Role
    term: int
    leader_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RaftMessage:
    source: int
    target: int
    term: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PreVoteRequest(RaftMessage):
    """Would you vote for me in `term` (my term + 1)? Changes nobody's term (Raft thesis §9.6)."""

    last_index: int
    last_term: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PreVoteResponse(RaftMessage):
    """`term` is the pre-vote's term when granted, else the responder's own term."""

    granted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VoteRequest(RaftMessage):
    """`transfer`: the candidate campaigns because the leader handed leadership to it (`TimeoutNow`), so
    voters that still hear that leader answer anyway (Raft thesis §3.10)."""

    last_index: int
    last_term: int
    transfer: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeoutNow(RaftMessage):
    """The leader hands leadership over: start an election at once (the target's log is as long as the
    leader's, which takes no proposals meanwhile)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VoteResponse(RaftMessage):
    granted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendRequest(RaftMessage):
    """Entries after `prev_index` (whose term must be `prev_term`), and the leader's commit index."""

    prev_index: int
    prev_term: int
    entries: tuple[RaftEntry, ...]
    commit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendResponse(RaftMessage):
    """Success: the follower's log matches the leader's up to `match_index` and that prefix is durable.

    Rejection: the entry at `rejected_index` did not match; `conflict_index` / `conflict_term` let the
    leader skip a whole term of mismatching entries at once (`conflict_term` None: the log ends before
    `conflict_index`)."""

    success: bool
    match_index: int = 0
    rejected_index: int = 0
    conflict_index: int = 0
    conflict_term: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(RaftMessage):
    """The leader is alive; `commit` is never above what the leader knows the follower holds."""

    commit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatResponse(RaftMessage):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotChunk(RaftMessage):
    """`data` is the snapshot's bytes from `offset`; `done` marks the last chunk."""

    snapshot_index: int
    snapshot_term: int
    offset: int
    data: bytes
    done: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotResponse(RaftMessage):
    """`next_offset` is the next chunk the follower wants (0: start again); once `done`, the follower holds
    everything up to `match_index` durably."""

    snapshot_index: int
    next_offset: int
    done: bool = False
    match_index: int = 0
