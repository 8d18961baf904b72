"""Raft (placeholder docstring, replaced below)."""

from ._config import RaftConfig
from ._messages import (
    AppendRequest,
    AppendResponse,
    HardState,
    Heartbeat,
    HeartbeatResponse,
    PreVoteRequest,
    PreVoteResponse,
    RaftEntry,
    RaftMessage,
    Role,
    RoleChange,
    Snapshot,
    SnapshotChunk,
    SnapshotResponse,
    VoteRequest,
    VoteResponse,
)
from ._node import NotLeaderError, RaftBackpressureError, RaftNode, Ready, write_ready
from ._storage import MemoryRaftLog, RaftLog

__all__ = [
    "AppendRequest",
    "AppendResponse",
    "HardState",
    "Heartbeat",
    "HeartbeatResponse",
    "MemoryRaftLog",
    "NotLeaderError",
    "PreVoteRequest",
    "PreVoteResponse",
    "RaftBackpressureError",
    "RaftConfig",
    "RaftEntry",
    "RaftLog",
    "RaftMessage",
    "RaftNode",
    "Ready",
    "Role",
    "RoleChange",
    "Snapshot",
    "SnapshotChunk",
    "SnapshotResponse",
    "VoteRequest",
    "VoteResponse",
    "write_ready",
]
