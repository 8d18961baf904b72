"""`RaftNode`: the Raft role logic of one replica, free of I/O, clocks and global randomness.

The node is stepped by its driver: `tick()` (time), `step(message)` (the network), `propose(data)` (the
user), `on_persisted(index)` (the driver's fsync finished) and `snapshot_taken(snapshot)` (the user's
state machine has a snapshot). After any of these the driver asks `ready()` for what to do, and must carry
out a `Ready` completely, in the order of `write_ready` / its fields, before stepping the node again:

1. `install_snapshot`, then `truncate_after` and `entries`, then `hard_state`: write them to the `RaftLog`
   (`write_ready` does exactly that; nothing is durable yet);
2. send `messages` (they depend on nothing this node has not yet made durable);
3. `RaftLog.sync()`, then send `persisted_messages` (votes, acknowledgements of entries, anything sent in
   a term the node has just entered), then `on_persisted(log.durable_index)`;
4. `compact`, if set: `RaftLog.compact(...)`; `commit_index` and `role_change` are news for the user.

Randomness (election timeouts) comes from the `random.Random` handed in, so a seeded run is reproducible.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

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
from ._storage import RaftLog


class NotLeaderError(Exception):
    """A proposal reached a replica that is not the leader; `leader_id` is the leader it knows of (or None)."""

    def __init__(self, node_id: int, leader_id: int | None) -> None:
        hint = f"the leader is node {leader_id}" if leader_id is not None else "no leader is known yet"
        super().__init__(f"raft node {node_id} is not the leader ({hint}); propose to the leader")
        self.leader_id = leader_id


class RaftBackpressureError(Exception):
    """The leader holds as many uncommitted entries (or queued proposals) as its configuration allows."""


@dataclass(frozen=True, slots=True)
class Ready:
    """What the driver must do now (see the module docstring for the order)."""

    install_snapshot: RaftSnapshot | None = None
    truncate_after: int | None = None
    entries: tuple[RaftEntry, ...] = ()
    hard_state: HardState | None = None
    messages: tuple[RaftMessage, ...] = ()
    persisted_messages: tuple[RaftMessage, ...] = ()
    commit_index: int | None = None
    """The new commit index, when it advanced."""
    role_change: RoleChange | None = None
    compact: tuple[int, int] | None = None
    """(snapshot index, snapshot term) to compact the log behind, after the sync."""

    @property
    def needs_sync(self) -> bool:
        return bool(self.install_snapshot or self.truncate_after is not None or self.entries or self.hard_state)


def write_ready(log: RaftLog, ready: Ready) -> None:
    """Step 1 of carrying out a Ready: the writes, in order, none of them fsync'd yet."""
    if ready.install_snapshot is not None:
        log.install_snapshot(ready.install_snapshot.index, ready.install_snapshot.term)
    if ready.truncate_after is not None:
        log.truncate_after(ready.truncate_after)
    if ready.entries:
        log.append(list(ready.entries))
    if ready.hard_state is not None:
        log.save_hard_state(ready.hard_state)


class _LogView:
    """The log as the node sees it: what the RaftLog holds plus writes not yet handed to the driver."""

    def __init__(self, store: RaftLog) -> None:
        self.store = store
        self.snapshot_index = store.snapshot_index
        self.snapshot_term = store.snapshot_term
        self.unstable: list[RaftEntry] = []
        self.unstable_from = store.last_index + 1
        self.truncate: int | None = None

    @property
    def last_index(self) -> int:
        return self.unstable_from - 1 + len(self.unstable)

    @property
    def last_term(self) -> int:
        term = self.term_at(self.last_index)
        return self.snapshot_term if term is None else term

    def term_at(self, index: int) -> int | None:
        if index == self.snapshot_index:
            return self.snapshot_term
        if index < self.snapshot_index or index > self.last_index:
            return None
        if index >= self.unstable_from:
            return self.unstable[index - self.unstable_from].term
        return self.store.term_at(index)

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        found: list[RaftEntry] = []
        stable_high = min(high, self.unstable_from - 1)
        if low <= stable_high:
            found.extend(self.store.entries(low, stable_high))
        start = max(low, self.unstable_from)
        if start <= high:
            found.extend(self.unstable[start - self.unstable_from: high - self.unstable_from + 1])
        return found

    def append(self, entries: Iterable[RaftEntry]) -> None:
        for entry in entries:
            assert entry.index == self.last_index + 1, (entry.index, self.last_index)
            self.unstable.append(entry)

    def truncate_after(self, index: int) -> None:
        if index >= self.unstable_from - 1:
            del self.unstable[index - self.unstable_from + 1:]
            return
        self.unstable = []
        self.unstable_from = index + 1
        self.truncate = index if self.truncate is None else min(self.truncate, index)

    def install(self, index: int, term: int) -> None:
        self.snapshot_index, self.snapshot_term = index, term
        self.unstable = []
        self.unstable_from = index + 1
        self.truncate = None

    def take_writes(self) -> tuple[int | None, tuple[RaftEntry, ...]]:
        truncate, entries = self.truncate, tuple(self.unstable)
        self.truncate = None
        self.unstable = []
        self.unstable_from += len(entries)
        return truncate, entries


class _State(enum.Enum):
    PROBE = "probe"
    REPLICATE = "replicate"
    SNAPSHOT = "snapshot"


@dataclass(slots=True)
class _Progress:
    """The leader's view of one follower."""

    next: int
    match: int = 0
    state: _State = _State.PROBE
    probe_sent: bool = False
    inflight: deque[int] = field(default_factory=deque)
    """Last index of each AppendRequest sent in REPLICATE and not yet acknowledged, ascending."""
    snapshot: RaftSnapshot | None = None
    snapshot_offset: int = 0
    recent_active: bool = False
    ticks_since_ack: int = 0

    def probe_from(self, next_index: int) -> None:
        self.state = _State.PROBE
        self.next = next_index
        self.probe_sent = False
        self.inflight.clear()
        self.snapshot = None


# Messages that depend on no durable state of the sender: they may go out before the Ready's sync.
_EARLY = (AppendRequest, Heartbeat, SnapshotChunk, PreVoteRequest, PreVoteResponse)


class RaftNode:
    """One Raft replica's protocol state machine (see the module docstring for how to drive it)."""

    def __init__(self, node_id: int, members: Iterable[int], log: RaftLog, config: RaftConfig | None = None, *,
                 rng: random.Random, snapshot: RaftSnapshot | None = None) -> None:
        self.id = node_id
        ordered = list(members)
        self.members = frozenset(ordered)
        self._rank = ordered.index(node_id) if node_id in self.members else 0
        self._primary = ordered[0] if ordered else node_id
        # priority election: a leader that is not the primary hands leadership to it once it is caught up
        self._transfer_to: int | None = None  # while set, proposals are refused
        self._transfer_elapsed = 0
        self._transfer_sent = False
        self._ticks_leading = 0
        self._transfer_cooldown = 0
        if node_id not in self.members:
            raise ValueError(f"raft node {node_id} is not one of the members {sorted(self.members)}")
        if log.snapshot_index and (snapshot is None or snapshot.index != log.snapshot_index):
            raise ValueError(
                f"raft node {node_id}: the log continues after a snapshot at index {log.snapshot_index}; pass that"
                " snapshot (so the node can send it to followers that are behind)")
        self.peers = tuple(sorted(self.members - {node_id}))
        self.config = config or RaftConfig()
        self.quorum = len(self.members) // 2 + 1
        self._rng = rng
        self._log = _LogView(log)
        state = log.hard_state
        self.term = state.term
        self.voted_for = state.voted_for
        self._reported_hard_state = state
        self.commit_index = log.snapshot_index
        self._reported_commit = self.commit_index
        self._durable_index = min(log.durable_index, log.last_index)
        self._snapshot = snapshot
        self.role = Role.FOLLOWER
        self.leader_id: int | None = None
        self._reported_role: RoleChange | None = None
        self._election_elapsed = 0
        self._heartbeat_elapsed = 0
        self._timeout = self._random_timeout()
        self._votes: dict[int, bool] = {}
        self._progress: dict[int, _Progress] = {}
        self._early: list[RaftMessage] = []
        self._late: list[RaftMessage] = []
        self._incoming: tuple[int, int, bytearray] | None = None
        self._pending_install: RaftSnapshot | None = None
        self._pending_compact: tuple[int, int] | None = None
        self._broadcast_pending = False

    # -------------------------------------------------------------------------------- what users read

    @property
    def last_index(self) -> int:
        return self._log.last_index

    @property
    def last_term(self) -> int:
        return self._log.last_term

    @property
    def snapshot_index(self) -> int:
        return self._log.snapshot_index

    @property
    def durable_index(self) -> int:
        return self._durable_index

    def term_at(self, index: int) -> int | None:
        """The term of entry `index` in this node's log (None when it is not there or was compacted)."""
        return self._log.term_at(index)

    def entries(self, low: int, high: int) -> list[RaftEntry]:
        return self._log.entries(low, high)

    def match_index(self, peer: int) -> int:
        """(Leader) the highest index known to be durable on `peer`."""
        return self._progress[peer].match if peer in self._progress else 0

    # ------------------------------------------------------------------------------------------- inputs

    def tick(self) -> None:
        if self.role is Role.LEADER:
            self._tick_leader()
            return
        self._election_elapsed += 1
        if self._election_elapsed >= self._timeout:
            self._election_elapsed = 0
            if self.config.pre_vote:
                self._pre_campaign()
            else:
                self._campaign()

    def propose(self, data: bytes) -> int:
        """Append `data` as a new entry (leader only) and return its index; it is committed once
        `commit_index` reaches it with this entry still there (`term_at(index)` is the leader's term)."""
        if self.role is not Role.LEADER:
            raise NotLeaderError(self.id, self.leader_id)
        if not data:
            raise ValueError("a raft proposal needs data (empty entries are the leader's own no-ops)")
        if len(data) > self.config.max_entry_bytes:
            raise ValueError(f"a raft proposal of {len(data)} bytes is larger than max_entry_bytes"
                             f" ({self.config.max_entry_bytes}); split it or raise the limit")
        if self._transfer_to is not None:
            raise RaftBackpressureError(f"raft leader {self.id} is handing leadership to node {self._transfer_to},"
                                        " the partition's primary; retry shortly")
        if self._log.last_index - self.commit_index >= self.config.max_uncommitted_entries:
            raise RaftBackpressureError(
                f"raft leader {self.id} holds {self._log.last_index - self.commit_index} uncommitted entries"
                f" (max_uncommitted_entries = {self.config.max_uncommitted_entries}); retry once some commit")
        index = self._log.last_index + 1
        self._log.append([RaftEntry(index, self.term, bytes(data))])
        self._broadcast_pending = True
        return index

    def on_persisted(self, durable_index: int) -> None:
        """The driver's sync finished: the log is durable up to `durable_index`."""
        self._durable_index = min(durable_index, self._log.last_index)
        if self.role is Role.LEADER and self._maybe_commit():
            self._broadcast_pending = True

    def snapshot_taken(self, snapshot: RaftSnapshot) -> None:
        """The user's state up to `snapshot.index` (committed) is in `snapshot`: the log may be compacted
        behind it, and followers that are behind it receive it."""
        if snapshot.index <= self._log.snapshot_index:
            return
        if snapshot.index > self.commit_index:
            raise ValueError(f"raft node {self.id}: a snapshot at index {snapshot.index} is ahead of the commit"
                             f" index {self.commit_index}; snapshot only committed state")
        term = self._log.term_at(snapshot.index)
        if term != snapshot.term:
            raise ValueError(f"raft node {self.id}: a snapshot at index {snapshot.index} claims term"
                             f" {snapshot.term}, but the entry there has term {term}")
        self._log.snapshot_index, self._log.snapshot_term = snapshot.index, snapshot.term
        self._snapshot = snapshot
        self._pending_compact = (snapshot.index, snapshot.term)

    def ready(self) -> Ready | None:
        """What the driver must do now, or None when there is nothing."""
        if self._broadcast_pending:
            self._broadcast_pending = False
            if self.role is Role.LEADER:
                self._broadcast_append()
        hard_state = HardState(self.term, self.voted_for)
        new_hard_state = hard_state if hard_state != self._reported_hard_state else None
        truncate, entries = self._log.take_writes()
        role = RoleChange(self.role, self.term, self.leader_id)
        role_change = role if role != self._reported_role else None
        commit = self.commit_index if self.commit_index > self._reported_commit else None
        install, self._pending_install = self._pending_install, None
        compact, self._pending_compact = self._pending_compact, None
        if new_hard_state is not None:
            early, late = [], self._early + self._late
        else:
            early, late = self._early, self._late
        self._early, self._late = [], []
        if not (install or truncate is not None or entries or new_hard_state or early or late or commit
                or role_change or compact):
            return None
        self._reported_hard_state = hard_state
        self._reported_role = role
        self._reported_commit = self.commit_index
        return Ready(install_snapshot=install, truncate_after=truncate, entries=entries, hard_state=new_hard_state,
                     messages=tuple(early), persisted_messages=tuple(late), commit_index=commit,
                     role_change=role_change, compact=compact)

    def step(self, message: RaftMessage) -> None:
        if message.target != self.id or message.source not in self.members or message.source == self.id:
            return
        if message.term > self.term:
            if isinstance(message, PreVoteRequest) or (isinstance(message, PreVoteResponse) and message.granted):
                pass  # a pre-vote changes nobody's term
            elif isinstance(message, VoteRequest) and self._in_lease() and not message.transfer:
                return  # a leader is alive: do not let a disruptive candidate depose it
            else:
                leader = message.source if isinstance(message, (AppendRequest, Heartbeat, SnapshotChunk)) else None
                self._become_follower(message.term, leader)
        elif message.term < self.term:
            if isinstance(message, (AppendRequest, Heartbeat, SnapshotChunk)):
                # A deposed leader learns the newer term from the answer and steps down.
                self._send(AppendResponse(source=self.id, target=message.source, term=self.term, success=False))
            elif isinstance(message, PreVoteRequest):
                self._send(PreVoteResponse(source=self.id, target=message.source, term=self.term, granted=False))
            return
        match message:
            case PreVoteRequest():
                self._on_pre_vote_request(message)
            case VoteRequest():
                self._on_vote_request(message)
            case PreVoteResponse():
                self._on_pre_vote_response(message)
            case VoteResponse():
                self._on_vote_response(message)
            case AppendRequest():
                self._follow(message.source)
                self._on_append(message)
            case Heartbeat():
                self._follow(message.source)
                self.commit_index = max(self.commit_index, min(message.commit, self._log.last_index))
                self._send(HeartbeatResponse(source=self.id, target=message.source, term=self.term))
            case SnapshotChunk():
                self._follow(message.source)
                self._on_snapshot_chunk(message)
            case TimeoutNow():
                if self.role is not Role.LEADER:
                    self._follow(message.source)
                    self._campaign(transfer=True)
            case AppendResponse():
                self._on_append_response(message)
            case HeartbeatResponse():
                self._on_heartbeat_response(message)
            case SnapshotResponse():
                self._on_snapshot_response(message)

    # ---------------------------------------------------------------------------- overridable checks

    def _log_is_up_to_date(self, last_term: int, last_index: int) -> bool:
        """Raft §5.4.1: grant a vote only to a candidate whose log is at least as up-to-date as ours."""
        mine = self._log.last_term
        return last_term > mine or (last_term == mine and last_index >= self._log.last_index)

    def _quorum_index(self) -> int:
        """The highest index durable on a quorum: the leader counts its own *durable* index."""
        matches = sorted([self._durable_index] + [self._progress[p].match for p in self.peers], reverse=True)
        return matches[self.quorum - 1]

    # --------------------------------------------------------------------------------------- elections

    def _random_timeout(self) -> int:
        base = self.config.election_timeout_ticks
        if self.config.priority_election:
            band = max(1, base // len(self.members))
            return base + self._rank * band + self._rng.randrange(band)
        return base + self._rng.randrange(base)

    def _in_lease(self) -> bool:
        return (self.config.check_quorum and self.leader_id is not None
                and self._election_elapsed < self.config.election_timeout_ticks)

    def _reset_timers(self) -> None:
        self._election_elapsed = 0
        self._heartbeat_elapsed = 0
        self._timeout = self._random_timeout()

    def _become_follower(self, term: int, leader: int | None) -> None:
        if term > self.term:
            self.term = term
            self.voted_for = None
        self.role = Role.FOLLOWER
        self.leader_id = leader
        self._votes = {}
        self._progress = {}
        self._incoming = None
        self._broadcast_pending = False
        self._transfer_to = None
        self._reset_timers()

    def _follow(self, leader: int) -> None:
        """A message from this term's leader arrived."""
        if self.role is not Role.FOLLOWER or self.leader_id != leader:
            self._become_follower(self.term, leader)
        self._election_elapsed = 0

    def _pre_campaign(self) -> None:
        self.role = Role.PRE_CANDIDATE
        self.leader_id = None
        self._votes = {self.id: True}
        self._reset_timers()
        for peer in self.peers:
            self._send(PreVoteRequest(source=self.id, target=peer, term=self.term + 1,
                                      last_index=self._log.last_index, last_term=self._log.last_term))
        self._tally()

    def _campaign(self, *, transfer: bool = False) -> None:
        self.term += 1
        self.voted_for = self.id
        self.role = Role.CANDIDATE
        self.leader_id = None
        self._votes = {self.id: True}
        self._reset_timers()
        for peer in self.peers:
            self._send(VoteRequest(source=self.id, target=peer, term=self.term,
                                   last_index=self._log.last_index, last_term=self._log.last_term,
                                   transfer=transfer))
        self._tally()

    def _tally(self) -> None:
        granted = sum(self._votes.values())
        rejected = len(self._votes) - granted
        if granted >= self.quorum:
            if self.role is Role.PRE_CANDIDATE:
                self._campaign()
            else:
                self._become_leader()
        elif rejected >= self.quorum:
            self._become_follower(self.term, None)

    def _on_pre_vote_request(self, m: PreVoteRequest) -> None:
        if m.term > self.term:
            can_vote = not self._in_lease()
        else:
            can_vote = self.voted_for == m.source or (self.voted_for is None and self.leader_id is None)
        granted = can_vote and self._log_is_up_to_date(m.last_term, m.last_index)
        self._send(PreVoteResponse(source=self.id, target=m.source, term=m.term if granted else self.term,
                                   granted=granted))

    def _on_vote_request(self, m: VoteRequest) -> None:
        can_vote = self.voted_for == m.source or (self.voted_for is None and self.leader_id is None)
        granted = can_vote and self._log_is_up_to_date(m.last_term, m.last_index)
        if granted:
            self.voted_for = m.source
            self._election_elapsed = 0
        self._send(VoteResponse(source=self.id, target=m.source, term=self.term, granted=granted))

    def _on_pre_vote_response(self, m: PreVoteResponse) -> None:
        if self.role is not Role.PRE_CANDIDATE:
            return
        if m.granted and m.term != self.term + 1:
            return  # an answer to an older pre-vote
        self._votes[m.source] = m.granted
        self._tally()

    def _on_vote_response(self, m: VoteResponse) -> None:
        if self.role is not Role.CANDIDATE:
            return
        self._votes[m.source] = m.granted
        self._tally()

    def _become_leader(self) -> None:
        self.role = Role.LEADER
        self.leader_id = self.id
        self._ticks_leading = 0
        self._transfer_to = None
        self._votes = {}
        self._reset_timers()
        next_index = self._log.last_index + 1
        self._progress = {peer: _Progress(next=next_index) for peer in self.peers}
        # Raft §5.4.2: entries of earlier terms commit only under an entry of the leader's own term.
        self._log.append([RaftEntry(next_index, self.term, b"")])
        self._broadcast_pending = True

    # ------------------------------------------------------------------------------- follower side

    def _on_append(self, m: AppendRequest) -> None:
        prev, prev_term, entries = m.prev_index, m.prev_term, m.entries
        snapshot_index = self._log.snapshot_index
        if prev < snapshot_index:
            covered = snapshot_index - prev
            if covered >= len(entries):
                # All of it is behind our snapshot, hence committed and equal to the leader's.
                self._send(AppendResponse(source=self.id, target=m.source, term=self.term, success=True,
                                          match_index=prev + len(entries)))
                return
            entries = entries[covered:]
            prev, prev_term = snapshot_index, self._log.snapshot_term
        mine = self._log.term_at(prev)
        if mine != prev_term:
            if mine is None:
                conflict_index, conflict_term = self._log.last_index + 1, None
            else:
                conflict_index, conflict_term = prev, mine
                floor = max(self.commit_index, snapshot_index) + 1
                while conflict_index > floor and self._log.term_at(conflict_index - 1) == mine:
                    conflict_index -= 1
            self._send(AppendResponse(source=self.id, target=m.source, term=self.term, success=False,
                                      rejected_index=m.prev_index, conflict_index=conflict_index,
                                      conflict_term=conflict_term))
            return
        for position, entry in enumerate(entries):
            existing = self._log.term_at(entry.index)
            if existing == entry.term:
                continue
            if existing is not None:
                if entry.index <= self.commit_index:
                    raise AssertionError(f"raft node {self.id}: leader {m.source} would overwrite committed entry"
                                         f" {entry.index}")
                self._log.truncate_after(entry.index - 1)
                self._durable_index = min(self._durable_index, entry.index - 1)
            self._log.append(entries[position:])
            break
        last_new = prev + len(entries)
        self.commit_index = max(self.commit_index, min(m.commit, last_new))
        self._send(AppendResponse(source=self.id, target=m.source, term=self.term, success=True,
                                  match_index=last_new))

    def _on_snapshot_chunk(self, m: SnapshotChunk) -> None:
        def answer(next_offset: int, done: bool = False, match: int = 0) -> None:
            self._send(SnapshotResponse(source=self.id, target=m.source, term=self.term,
                                        snapshot_index=m.snapshot_index, next_offset=next_offset, done=done,
                                        match_index=match))

        if m.snapshot_index <= self.commit_index:
            answer(0, done=True, match=self.commit_index)  # we hold all of it already
            return
        if m.offset == 0:
            self._incoming = (m.snapshot_index, m.snapshot_term, bytearray())
        incoming = self._incoming
        if incoming is None or incoming[0] != m.snapshot_index or len(incoming[2]) != m.offset:
            answer(len(incoming[2]) if incoming is not None and incoming[0] == m.snapshot_index else 0)
            return
        buffer = incoming[2]
        if len(buffer) + len(m.data) > self.config.max_snapshot_bytes:
            self._incoming = None
            answer(0)
            return
        buffer += m.data
        if not m.done:
            answer(len(buffer))
            return
        snapshot = RaftSnapshot(m.snapshot_index, m.snapshot_term, bytes(buffer))
        self._incoming = None
        if self._log.term_at(snapshot.index) == snapshot.term:
            # Raft §7: our log already holds the snapshot's last entry; keep what follows it.
            self._log.snapshot_index, self._log.snapshot_term = snapshot.index, snapshot.term
            self._durable_index = max(self._durable_index, snapshot.index)
        else:
            self._log.install(snapshot.index, snapshot.term)
            self._durable_index = snapshot.index
        self._pending_install = snapshot
        self._pending_compact = None
        self._snapshot = snapshot
        self.commit_index = snapshot.index
        answer(0, done=True, match=snapshot.index)

    # --------------------------------------------------------------------------------- leader side

    def _tick_leader(self) -> None:
        self._heartbeat_elapsed += 1
        self._election_elapsed += 1
        if self._election_elapsed >= self.config.election_timeout_ticks:
            self._election_elapsed = 0
            if self.config.check_quorum:
                active = 1 + sum(self._progress[p].recent_active for p in self.peers)
                for p in self.peers:
                    self._progress[p].recent_active = False
                if active < self.quorum:
                    self._become_follower(self.term, None)
                    return
        for peer in self.peers:
            progress = self._progress[peer]
            if not progress.inflight and progress.state is not _State.SNAPSHOT:
                progress.ticks_since_ack = 0
                continue
            progress.ticks_since_ack += 1
            if progress.ticks_since_ack >= 2 * self.config.heartbeat_ticks:
                # Nothing acknowledged for a while: the messages were probably lost, send again.
                progress.ticks_since_ack = 0
                if progress.state is _State.SNAPSHOT:
                    self._send_chunk(peer, progress)
                else:
                    progress.probe_from(progress.match + 1)
                    self._send_append(peer)
        if self._heartbeat_elapsed >= self.config.heartbeat_ticks:
            self._heartbeat_elapsed = 0
            for peer in self.peers:
                commit = min(self._progress[peer].match, self.commit_index)
                self._send(Heartbeat(source=self.id, target=peer, term=self.term, commit=commit))
        if self.config.priority_election and self._rank > 0:
            self._tick_transfer()

    def _tick_transfer(self) -> None:
        """Priority election: a leader that is not the partition's primary hands leadership to it, once it
        has led for an election timeout and the primary answers (at most every ten election timeouts). It
        stops taking proposals, waits for the primary to hold its whole log, sends TimeoutNow, and gives
        up after half an election timeout."""
        timeout = self.config.election_timeout_ticks
        self._ticks_leading += 1
        self._transfer_cooldown = max(0, self._transfer_cooldown - 1)
        if self._transfer_to is None:
            progress = self._progress.get(self._primary)
            if (progress is not None and progress.recent_active and progress.state is not _State.SNAPSHOT
                    and self._ticks_leading >= timeout and self._transfer_cooldown == 0):
                self._transfer_to, self._transfer_elapsed, self._transfer_sent = self._primary, 0, False
                self._transfer_cooldown = 10 * timeout
        else:
            self._transfer_elapsed += 1
            if self._transfer_elapsed >= max(1, timeout // 2):
                self._transfer_to = None  # the primary did not take over: go on leading
                return
        self._maybe_send_timeout_now()

    def _maybe_send_timeout_now(self) -> None:
        target = self._transfer_to
        if target is None or self._transfer_sent or self._progress[target].match < self._log.last_index:
            return
        self._transfer_sent = True
        self._send(TimeoutNow(source=self.id, target=target, term=self.term))

    def _broadcast_append(self) -> None:
        for peer in self.peers:
            while self._send_append(peer):
                pass

    def _send_append(self, peer: int) -> bool:
        """Send the next AppendRequest to `peer` if its flow control allows; True if one was sent."""
        progress = self._progress[peer]
        if progress.state is _State.SNAPSHOT:
            return False
        if progress.state is _State.PROBE and progress.probe_sent:
            return False
        if progress.state is _State.REPLICATE and len(progress.inflight) >= self.config.max_inflight_appends:
            return False
        prev = progress.next - 1
        prev_term = self._log.term_at(prev)
        if prev_term is None:
            if prev < self._log.snapshot_index:
                self._start_snapshot(peer, progress)
                return False
            progress.probe_from(self._log.last_index + 1)  # next was beyond our log
            return self._send_append(peer)
        high = min(self._log.last_index, prev + self.config.max_entries_per_message)
        entries: list[RaftEntry] = []
        size = 0
        if high > prev:
            for entry in self._log.entries(prev + 1, high):
                if entries and size + len(entry.data) > self.config.max_bytes_per_message:
                    break
                entries.append(entry)
                size += len(entry.data)
        if not entries and progress.state is _State.REPLICATE:
            return False
        self._send(AppendRequest(source=self.id, target=peer, term=self.term, prev_index=prev, prev_term=prev_term,
                                 entries=tuple(entries), commit=self.commit_index))
        if progress.state is _State.REPLICATE:
            progress.next = prev + len(entries) + 1
            progress.inflight.append(prev + len(entries))
        else:
            progress.probe_sent = True
        return True

    def _start_snapshot(self, peer: int, progress: _Progress) -> None:
        assert self._snapshot is not None, "a compacted log always has a snapshot"
        progress.state = _State.SNAPSHOT
        progress.inflight.clear()
        progress.snapshot = self._snapshot
        progress.snapshot_offset = 0
        progress.ticks_since_ack = 0
        self._send_chunk(peer, progress)

    def _send_chunk(self, peer: int, progress: _Progress) -> None:
        snapshot = progress.snapshot
        assert snapshot is not None
        offset = progress.snapshot_offset
        data = snapshot.data[offset: offset + self.config.snapshot_chunk_bytes]
        self._send(SnapshotChunk(source=self.id, target=peer, term=self.term, snapshot_index=snapshot.index,
                                 snapshot_term=snapshot.term, offset=offset, data=data,
                                 done=offset + len(data) >= len(snapshot.data)))

    def _on_append_response(self, m: AppendResponse) -> None:
        progress = self._progress.get(m.source)
        if self.role is not Role.LEADER or progress is None:
            return
        progress.recent_active = True
        if m.success:
            progress.ticks_since_ack = 0
            if m.match_index > progress.match:
                progress.match = m.match_index
            while progress.inflight and progress.inflight[0] <= progress.match:
                progress.inflight.popleft()
            if progress.state is _State.PROBE:
                progress.state = _State.REPLICATE
                progress.next = progress.match + 1
                progress.probe_sent = False
                progress.inflight.clear()
            elif progress.state is _State.REPLICATE:
                progress.next = max(progress.next, progress.match + 1)
            if self._maybe_commit():
                self._broadcast_pending = True
            while self._send_append(m.source):
                pass
            if m.source == self._transfer_to:
                self._maybe_send_timeout_now()
            return
        if m.rejected_index == 0 and m.conflict_index == 0:
            return  # a newer term's answer, handled by the term check
        if progress.state is _State.REPLICATE and m.rejected_index <= progress.match:
            return  # stale
        if progress.state is _State.PROBE and m.rejected_index != progress.next - 1:
            return  # stale
        if progress.state is _State.SNAPSHOT:
            return
        progress.ticks_since_ack = 0
        next_index = m.conflict_index
        if m.conflict_term is not None:
            index = min(m.rejected_index, self._log.last_index)
            floor = max(progress.match, self._log.snapshot_index)
            while index > floor:
                term = self._log.term_at(index)
                if term is None or term < m.conflict_term:
                    break
                if term == m.conflict_term:
                    next_index = index + 1
                    break
                index -= 1
        next_index = max(min(next_index, m.rejected_index), progress.match + 1, 1)
        progress.probe_from(next_index)
        self._send_append(m.source)

    def _on_heartbeat_response(self, m: HeartbeatResponse) -> None:
        progress = self._progress.get(m.source)
        if self.role is not Role.LEADER or progress is None:
            return
        progress.recent_active = True
        if progress.state is _State.PROBE and progress.match < self._log.last_index:
            progress.probe_sent = False  # the probe may have been lost: send it again
            self._send_append(m.source)

    def _on_snapshot_response(self, m: SnapshotResponse) -> None:
        progress = self._progress.get(m.source)
        if self.role is not Role.LEADER or progress is None:
            return
        progress.recent_active = True
        snapshot = progress.snapshot
        if m.done:
            if m.match_index > progress.match:
                progress.match = m.match_index
            if progress.state is _State.SNAPSHOT and snapshot is not None and m.snapshot_index == snapshot.index:
                progress.probe_from(progress.match + 1)
                if self._maybe_commit():
                    self._broadcast_pending = True
                self._send_append(m.source)
            return
        if progress.state is not _State.SNAPSHOT or snapshot is None or m.snapshot_index != snapshot.index:
            return
        progress.ticks_since_ack = 0
        if self._snapshot is not None and self._snapshot.index > snapshot.index:
            progress.snapshot = self._snapshot  # a newer snapshot exists: send that one instead
            progress.snapshot_offset = 0
        else:
            progress.snapshot_offset = m.next_offset
        self._send_chunk(m.source, progress)

    def _maybe_commit(self) -> bool:
        index = self._quorum_index()
        if index > self.commit_index and self._log.term_at(index) == self.term:
            self.commit_index = index
            return True
        return False

    # -------------------------------------------------------------------------------------- sending

    def _send(self, message: RaftMessage) -> None:
        (self._early if isinstance(message, _EARLY) else self._late).append(message)
