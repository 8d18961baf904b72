"""Raft replication for one partition: an I/O-free role state machine, its Trio driver, and transports.

Layers (each usable alone):

- `RaftNode` (`_node.py`): the protocol logic, stepped by `tick()`, `step(message)`, `propose(data)`,
  `on_persisted(index)` and `snapshot_taken(snapshot)`, answering with a `Ready` (entries to write,
  term and vote to persist, messages to send before and after the fsync, the new commit index, a role
  change, a received snapshot to install, a compaction). No trio, no clock, no global randomness: time is
  ticks and election timeouts come from an injected seeded `random.Random`.
- `RaftLog` (`_storage.py`): what the node reads and the driver writes. `MemoryRaftLog` for tests (its
  `crash()` forgets what was not synced); `SegmentedRaftLog` over `zeebe_trio.log.SegmentedLog` plus an
  atomically replaced term/vote/snapshot meta file.
- `RaftServer` (`_server.py`): the Trio driver (ticks from trio time, a transport receiver, the fsync in a
  worker thread, `propose` / `wait_committed` / role changes).
- `PartitionRaftLog` (`_partition_log.py`): the `SegmentedRaftLog` of a partition replica whose entries
  carry record positions, so that the Raft log is the partition's log (no second copy).
- `Transport` (`_transport.py`): lossy, never-blocking sends; `InMemoryNetwork` is a controllable one for
  tests (drop, delay, duplicate, reorder, partition, disconnect). A TCP transport belongs to `cluster/`.

Roles: FOLLOWER; PRE_CANDIDATE after a randomized election timeout of [T, 2T) ticks without a leader (asks
for pre-votes for term + 1 without changing any term, so a partitioned node cannot inflate terms and
depose a healthy leader when it returns); CANDIDATE once a quorum would vote (term + 1, votes for itself);
LEADER once a quorum voted. A leader appends a no-op entry of its term on election (entries of earlier
terms commit only beneath one of its own, Raft §5.4.2), sends heartbeats every `heartbeat_ticks`, and
steps down when it has not heard from a quorum within an election timeout (check-quorum). While a
follower hears from a leader (its lease), it refuses pre-votes and ignores vote requests of higher terms.

Messages: PreVote/Vote requests and responses; AppendRequest (batched: at most `max_entries_per_message`
and `max_bytes_per_message`; pipelined: at most `max_inflight_appends` unanswered per follower, with an
optimistic next index) and AppendResponse (a rejection carries a conflict index and term, so the leader
backs up a whole term at once); Heartbeat (carrying a commit index the follower is known to hold);
SnapshotChunk / SnapshotResponse (`snapshot_chunk_bytes` per chunk, one chunk in flight) for followers
whose next entry the leader has compacted away.

Durability: the term and vote are persisted before any message that depends on them (a Ready with a new
hard state sends everything after the fsync); a follower acknowledges entries only after fsync'ing them;
the leader counts its own *durable* index, not its appended one, and an entry is committed once a quorum
has fsync'd it. Conflicting suffixes are truncated (never a committed entry). The log is compacted behind
a snapshot index given by the user (`snapshot_taken`).

Bounded: messages (entries, bytes, chunk size), in-flight appends per follower, uncommitted entries on the
leader (`max_uncommitted_entries`, then `RaftBackpressureError`), a received snapshot
(`max_snapshot_bytes`), the driver's inbox and proposal queue, the in-memory network's inboxes.
"""

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
    RaftSnapshot,
    Role,
    RoleChange,
    SnapshotChunk,
    SnapshotResponse,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from ._node import NotLeaderError, RaftBackpressureError, RaftNode, Ready, write_ready
from ._partition_log import ENTRY_HEADER_BYTES, PartitionRaftLog, encode_entry
from ._segmented import RaftMetaCorruptedError, SegmentedRaftLog
from ._server import ProposalLostError, RaftServer, RaftStatistics, RaftStoppedError
from ._storage import MemoryRaftLog, RaftLog
from ._transport import InMemoryNetwork, InMemoryTransport, NetworkStatistics, Transport

__all__ = [
    "ENTRY_HEADER_BYTES",
    "AppendRequest",
    "AppendResponse",
    "HardState",
    "Heartbeat",
    "HeartbeatResponse",
    "InMemoryNetwork",
    "InMemoryTransport",
    "MemoryRaftLog",
    "NetworkStatistics",
    "NotLeaderError",
    "PartitionRaftLog",
    "PreVoteRequest",
    "ProposalLostError",
    "PreVoteResponse",
    "RaftBackpressureError",
    "RaftConfig",
    "RaftEntry",
    "RaftLog",
    "RaftMessage",
    "RaftMetaCorruptedError",
    "RaftNode",
    "RaftServer",
    "RaftStatistics",
    "RaftStoppedError",
    "Ready",
    "Role",
    "RoleChange",
    "SegmentedRaftLog",
    "RaftSnapshot",
    "SnapshotChunk",
    "SnapshotResponse",
    "TimeoutNow",
    "Transport",
    "VoteRequest",
    "VoteResponse",
    "encode_entry",
    "write_ready",
]
