"""`RaftConfig`: every timing and every bound of a Raft node, with defaults and one check of them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RaftConfig:
    """Times are in ticks (the driver decides how long a tick is: `tick_seconds`)."""

    election_timeout_ticks: int = 10
    """A follower that hears no leader for a random time in [this, 2 * this) starts a pre-vote; a leader
    that has not heard from a quorum for this long steps down (check-quorum)."""
    heartbeat_ticks: int = 2
    """A leader sends heartbeats this often; must be below the election timeout."""
    priority_election: bool = False
    """Members are given in priority order, the partition's primary first; a node draws its election timeout
    from its rank's band of [this, 2 * this) (rank r of n: [1 + r/n, 1 + (r+1)/n) election timeouts), so
    when no node hears a leader, the primary asks first and the leaders of the partitions spread over the
    brokers as their primaries do (Zeebe's priority election). Safety never depends on timeouts."""
    pre_vote: bool = True
    check_quorum: bool = True
    max_entries_per_message: int = 64
    max_bytes_per_message: int = 1024 * 1024
    """Entries per AppendRequest stop at this many payload bytes (a single larger entry still goes alone)."""
    max_entry_bytes: int = 4 * 1024 * 1024
    """A proposal larger than this is refused (ValueError)."""
    max_inflight_appends: int = 8
    """AppendRequests sent to one follower and not yet answered (pipelining)."""
    max_uncommitted_entries: int = 1024
    """A leader refuses proposals (backpressure) while this many of its entries are not committed."""
    snapshot_chunk_bytes: int = 256 * 1024
    max_snapshot_bytes: int = 1024 * 1024 * 1024
    """A follower refuses a snapshot transfer that would grow beyond this many bytes."""
    tick_seconds: float = 0.05
    """The driver's tick length (so the default election timeout is 0.5 to 1 s)."""
    max_pending_proposals: int = 256
    """The driver's proposal queue; a full queue answers `RaftBackpressureError`."""
    inbox_capacity: int = 1024
    """The driver's bounded queue of received messages and ticks."""

    def __post_init__(self) -> None:
        positive = ("election_timeout_ticks", "heartbeat_ticks", "max_entries_per_message", "max_bytes_per_message",
                    "max_entry_bytes", "max_inflight_appends", "max_uncommitted_entries", "snapshot_chunk_bytes",
                    "max_snapshot_bytes", "max_pending_proposals", "inbox_capacity")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"raft setting {name} must be at least 1, got {getattr(self, name)}")
        if self.heartbeat_ticks >= self.election_timeout_ticks:
            raise ValueError(
                f"raft heartbeat_ticks ({self.heartbeat_ticks}) must be below election_timeout_ticks"
                f" ({self.election_timeout_ticks}): followers would time out between heartbeats")
        if self.tick_seconds <= 0:
            raise ValueError(f"raft tick_seconds must be positive, got {self.tick_seconds}")
