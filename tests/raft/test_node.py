"""RaftNode, stepped by hand: elections with pre-vote, check-quorum, log repair, snapshots, commit rules."""

from __future__ import annotations

import random

import pytest

from zeebe_trio.raft import (
    AppendRequest,
    AppendResponse,
    HardState,
    Heartbeat,
    MemoryRaftLog,
    NotLeaderError,
    RaftBackpressureError,
    RaftConfig,
    RaftEntry,
    RaftMessage,
    RaftNode,
    RaftSnapshot,
    Ready,
    Role,
    SnapshotChunk,
    VoteRequest,
    write_ready,
)

CONFIG = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, max_entries_per_message=4,
                    snapshot_chunk_bytes=16)


class Cluster:
    """Nodes driven exactly as the driver does; messages delivered in order; `isolated` nodes reach nobody."""

    def __init__(self, size: int = 3, config: RaftConfig = CONFIG, seed: int = 1,
                 stores: dict[int, MemoryRaftLog] | None = None) -> None:
        self.ids = list(range(size))
        self.config = config
        self.stores = stores or {i: MemoryRaftLog() for i in self.ids}
        self.nodes = {i: RaftNode(i, self.ids, self.stores[i], config, rng=random.Random(seed * 100 + i))
                      for i in self.ids}
        self.inflight: list[RaftMessage] = []
        self.isolated: set[int] = set()
        self.readies: list[tuple[int, Ready]] = []
        self.delivered: list[RaftMessage] = []
        for i in self.ids:
            self.drain(i)

    def drain(self, i: int) -> None:
        node, store = self.nodes[i], self.stores[i]
        while (ready := node.ready()) is not None:
            self.readies.append((i, ready))
            write_ready(store, ready)
            self.inflight.extend(ready.messages)
            store.sync()
            self.inflight.extend(ready.persisted_messages)
            node.on_persisted(store.durable_index)
            if ready.compact is not None:
                store.compact(*ready.compact)

    def deliver_all(self) -> None:
        for _ in range(100_000):
            if not self.inflight:
                return
            message = self.inflight.pop(0)
            if message.source in self.isolated or message.target in self.isolated:
                continue
            self.delivered.append(message)
            self.nodes[message.target].step(message)
            self.drain(message.target)
        raise AssertionError("the nodes never stop sending")

    def tick(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            for i in self.ids:
                self.nodes[i].tick()
                self.drain(i)
            self.deliver_all()

    def leader(self) -> int | None:
        leaders = [i for i in self.ids if self.nodes[i].role is Role.LEADER and i not in self.isolated]
        return max(leaders, key=lambda i: self.nodes[i].term) if leaders else None

    def elect(self, max_ticks: int = 200) -> int:
        for _ in range(max_ticks):
            leader = self.leader()
            if leader is not None and all(self.nodes[i].commit_index >= self.nodes[leader].commit_index
                                          for i in self.ids if i not in self.isolated):
                return leader
            self.tick()
        raise AssertionError(f"no leader within {max_ticks} ticks")

    def propose(self, leader: int, data: bytes) -> int:
        index = self.nodes[leader].propose(data)
        self.drain(leader)
        self.deliver_all()
        return index

    def log(self, i: int) -> list[tuple[int, bytes]]:
        node = self.nodes[i]
        return [(e.term, e.data) for e in node.entries(node.snapshot_index + 1, node.last_index)]


def test_a_three_node_cluster_elects_one_leader_by_pre_vote_then_vote_and_commits_its_no_op() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    kinds = [type(m).__name__ for m in cluster.delivered]
    assert kinds.index("PreVoteRequest") < kinds.index("VoteRequest") < kinds.index("AppendRequest")
    assert [n.role for n in cluster.nodes.values()].count(Role.LEADER) == 1
    node = cluster.nodes[leader]
    assert node.term == 1
    assert cluster.log(leader) == [(1, b"")]  # the no-op of its term
    assert all(n.commit_index == 1 for n in cluster.nodes.values())
    assert all(s.hard_state.term == 1 for s in cluster.stores.values())


def test_proposals_commit_on_every_node_and_only_the_leader_accepts_them() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    follower = next(i for i in cluster.ids if i != leader)
    with pytest.raises(NotLeaderError, match=f"the leader is node {leader}"):
        cluster.nodes[follower].propose(b"x")
    index = cluster.propose(leader, b"hello")
    cluster.tick(2)
    assert all(n.commit_index == index for n in cluster.nodes.values())
    assert all(cluster.log(i)[-1] == (1, b"hello") for i in cluster.ids)


def test_a_partitioned_node_does_not_inflate_its_term_and_cannot_depose_the_leader_when_it_returns() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    lonely = next(i for i in cluster.ids if i != leader)
    cluster.isolated = {lonely}
    cluster.tick(100)
    assert cluster.nodes[lonely].term == 1  # many pre-votes, no real election
    cluster.isolated = set()
    cluster.tick(20)
    assert cluster.leader() == leader
    assert cluster.nodes[leader].term == 1
    assert cluster.nodes[lonely].leader_id == leader


def test_without_pre_vote_a_partitioned_node_inflates_its_term_and_deposes_the_leader() -> None:
    cluster = Cluster(config=RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, pre_vote=False))
    leader = cluster.elect()
    lonely = next(i for i in cluster.ids if i != leader)
    cluster.isolated = {lonely}
    cluster.tick(100)
    assert cluster.nodes[lonely].term > 3
    cluster.isolated = set()
    cluster.tick(CONFIG.heartbeat_ticks)
    assert cluster.nodes[leader].term > 3  # the healthy leader was deposed by the returning node's term


def test_a_leader_that_hears_from_no_quorum_for_an_election_timeout_steps_down() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    cluster.isolated = {leader}
    for _ in range(2 * CONFIG.election_timeout_ticks):
        cluster.tick()
        if cluster.nodes[leader].role is Role.FOLLOWER:
            break
    assert cluster.nodes[leader].role is Role.FOLLOWER
    assert cluster.nodes[leader].term == 1  # stepping down changes no term
    new_leader = cluster.elect()
    assert new_leader != leader and cluster.nodes[new_leader].term >= 2


def test_a_returning_leader_truncates_its_uncommitted_suffix_and_takes_the_new_leaders_entries() -> None:
    cluster = Cluster()
    old = cluster.elect()
    committed = cluster.propose(old, b"committed")
    cluster.tick(2)
    cluster.isolated = {old}
    for data in (b"lost-1", b"lost-2", b"lost-3"):
        cluster.nodes[old].propose(data)
        cluster.drain(old)
    cluster.deliver_all()
    new = cluster.elect()
    assert new != old
    for data in (b"new-1", b"new-2"):
        cluster.propose(new, data)
    cluster.isolated = set()
    cluster.tick(30)
    truncations = [r.truncate_after for i, r in cluster.readies if i == old and r.truncate_after is not None]
    assert truncations == [committed]
    expected = cluster.log(new)
    assert all(cluster.log(i) == expected for i in cluster.ids)
    assert b"lost-1" not in [data for _, data in expected] and (1, b"committed") in expected


def test_a_rejection_carries_a_conflict_hint_so_the_leader_backs_up_a_whole_term_at_once() -> None:
    # Nodes 0 and 1 hold entries 2..22 of term 2; node 2 holds a stale suffix 2..21 of term 1.
    stores = {i: MemoryRaftLog() for i in range(3)}
    for i, store in stores.items():
        term = 1 if i == 2 else 2
        store.append([RaftEntry(1, 1, b"")] + [RaftEntry(n, term, b"%d-%d" % (term, n))
                                               for n in range(2, 22 if i == 2 else 23)])
        store.save_hard_state(HardState(term, None))
        store.sync()
    cluster = Cluster(stores=stores)
    leader = cluster.elect()
    assert leader != 2
    rejections = [m for m in cluster.delivered if isinstance(m, AppendResponse) and m.source == 2 and not m.success]
    # one for the shorter log, one for the whole stale term: not one per stale entry
    assert [(m.rejected_index, m.conflict_index, m.conflict_term) for m in rejections] == [(22, 22, None),
                                                                                       (21, 1, 1)]
    assert cluster.log(2) == cluster.log(leader)


def test_an_entry_commits_only_once_a_quorum_has_fsynced_it_counting_the_leaders_durable_index() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    cluster.tick(2)
    node, store = cluster.nodes[leader], cluster.stores[leader]
    a = next(i for i in cluster.ids if i != leader)
    index = node.propose(b"x")
    ready = node.ready()
    assert ready is not None and [e.data for e in ready.entries] == [b"x"]
    write_ready(store, ready)  # written, not yet fsync'd on the leader
    to_a = [m for m in ready.messages if m.target == a]
    assert to_a and all(isinstance(m, AppendRequest) for m in to_a)
    for message in to_a:
        cluster.nodes[a].step(message)
    cluster.inflight = []
    cluster.drain(a)
    acks = [m for m in cluster.inflight if m.target == leader]
    assert acks and isinstance(acks[0], AppendResponse) and acks[0].match_index == index
    for ack in acks:
        node.step(ack)
    assert node.commit_index < index  # one durable copy (a's) is no quorum
    store.sync()
    node.on_persisted(store.durable_index)
    assert node.commit_index == index


def test_a_follower_acknowledges_entries_only_after_its_fsync() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    cluster.tick(2)
    follower = next(i for i in cluster.ids if i != leader)
    cluster.nodes[leader].propose(b"x")
    ready = cluster.nodes[leader].ready()
    assert ready is not None
    append = next(m for m in ready.messages if m.target == follower)
    cluster.nodes[follower].step(append)
    answer = cluster.nodes[follower].ready()
    assert answer is not None and answer.entries
    assert not answer.messages and [type(m) for m in answer.persisted_messages] == [AppendResponse]


def test_a_vote_is_sent_only_after_the_term_and_vote_are_persisted() -> None:
    node = RaftNode(0, [0, 1, 2], MemoryRaftLog(), CONFIG, rng=random.Random(0))
    node.step(VoteRequest(source=1, target=0, term=5, last_index=0, last_term=0))
    ready = node.ready()
    assert ready is not None and ready.hard_state is not None
    assert (ready.hard_state.term, ready.hard_state.voted_for) == (5, 1)
    assert not ready.messages and len(ready.persisted_messages) == 1


def test_a_new_leader_commits_an_earlier_terms_entry_only_beneath_an_entry_of_its_own_term() -> None:
    config = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, max_entries_per_message=1)
    cluster = Cluster(config=config)
    first = cluster.elect()
    cluster.tick(2)
    second, third = (i for i in cluster.ids if i != first)
    # The entry reaches `second` only, and its acknowledgement is lost: it is not committed in term 1.
    index = cluster.nodes[first].propose(b"old-term")
    cluster.drain(first)
    cluster.inflight = [m for m in cluster.inflight if m.target == second]
    cluster.nodes[second].step(cluster.inflight.pop())
    cluster.drain(second)
    cluster.inflight = []
    cluster.isolated = {first}
    held: list[RaftMessage] = []  # third gets no appends until `second` has won
    for _ in range(200):
        if cluster.nodes[second].role is Role.LEADER:
            break
        for i in (second, third):
            cluster.nodes[i].tick()
            cluster.drain(i)
        while cluster.inflight:
            message = cluster.inflight.pop(0)
            if isinstance(message, (AppendRequest, Heartbeat)):
                held.append(message)
            elif first not in (message.source, message.target):
                cluster.nodes[message.target].step(message)
                cluster.drain(message.target)
    cluster.inflight = [m for m in held if m.source == second and m.target == third]
    leader = cluster.nodes[second]
    assert leader.role is Role.LEADER and leader.term >= 2 and leader.term_at(index) == 1
    # Walk the replication to `third` one message at a time: the old entry first, then the no-op.
    seen_commit_before_noop = None
    for _ in range(50):
        if not cluster.inflight:
            leader.tick()
            cluster.drain(second)
            continue
        message = cluster.inflight.pop(0)
        cluster.nodes[message.target].step(message)
        cluster.drain(message.target)
        if leader.match_index(third) == index and seen_commit_before_noop is None:
            seen_commit_before_noop = leader.commit_index
        if leader.match_index(third) == index + 1:
            break
    assert seen_commit_before_noop is not None and seen_commit_before_noop < index
    assert leader.commit_index == index + 1


def test_a_follower_behind_the_compacted_log_receives_the_snapshot_in_bounded_chunks() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    behind = next(i for i in cluster.ids if i != leader)
    cluster.isolated = {behind}
    for n in range(10):
        cluster.propose(leader, b"entry-%d" % n)
    node = cluster.nodes[leader]
    state = b"state-up-to-%d" % node.commit_index + b"." * 40
    snapshot = RaftSnapshot(node.commit_index, node.term, state)
    node.snapshot_taken(snapshot)
    cluster.drain(leader)
    assert cluster.stores[leader].first_index == snapshot.index + 1
    cluster.propose(leader, b"after-snapshot")
    cluster.isolated = set()
    cluster.delivered.clear()
    cluster.tick(20)
    chunks = [m for m in cluster.delivered if isinstance(m, SnapshotChunk)]
    assert len(chunks) == -(-len(state) // CONFIG.snapshot_chunk_bytes)
    assert all(len(c.data) <= CONFIG.snapshot_chunk_bytes for c in chunks) and chunks[-1].done
    installs = [r.install_snapshot for i, r in cluster.readies if i == behind and r.install_snapshot]
    assert installs == [snapshot]
    assert cluster.stores[behind].snapshot_index == snapshot.index
    assert cluster.log(behind) == cluster.log(leader) and cluster.log(behind)[-1][1] == b"after-snapshot"
    assert cluster.nodes[behind].commit_index == node.commit_index


def test_a_leader_refuses_proposals_beyond_its_uncommitted_limit() -> None:
    cluster = Cluster(config=RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, max_uncommitted_entries=3))
    leader = cluster.elect()
    cluster.isolated = {i for i in cluster.ids if i != leader}
    node = cluster.nodes[leader]
    for n in range(3):
        node.propose(b"%d" % n)
    with pytest.raises(RaftBackpressureError, match="max_uncommitted_entries = 3"):
        node.propose(b"one too many")


def test_a_restarted_node_keeps_its_durable_term_vote_and_entries_and_forgets_the_rest() -> None:
    cluster = Cluster()
    leader = cluster.elect()
    cluster.propose(leader, b"durable")
    store = cluster.stores[leader]
    store.append([type(store.entries(1, 1)[0])(store.last_index + 1, 1, b"unsynced")])
    store.crash(lose_unsynced=True)
    node = RaftNode(leader, cluster.ids, store, CONFIG, rng=random.Random(9))
    assert node.term == 1 and node.voted_for == leader and node.role is Role.FOLLOWER
    assert [e.data for e in node.entries(1, node.last_index)] == [b"", b"durable"]


def test_a_node_restarted_after_compaction_needs_its_snapshot() -> None:
    store = MemoryRaftLog()
    store.install_snapshot(5, 2)
    with pytest.raises(ValueError, match="snapshot at index 5"):
        RaftNode(0, [0, 1, 2], store, CONFIG, rng=random.Random(0))
