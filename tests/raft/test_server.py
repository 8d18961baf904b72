"""RaftServer, the Trio driver: three servers over the in-memory network, in virtual time (MockClock)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio
import trio.testing

from zeebe_trio.raft import (
    InMemoryNetwork,
    MemoryRaftLog,
    NotLeaderError,
    ProposalLostError,
    RaftBackpressureError,
    RaftConfig,
    RaftServer,
    RaftSnapshot,
    Role,
    RoleChange,
    SegmentedRaftLog,
)

CONFIG = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, tick_seconds=0.05, snapshot_chunk_bytes=8)
MEMBERS = [0, 1, 2]


class Replica:
    """A server that can be killed (cancelled, its unsynced writes lost) and started again on its log."""

    def __init__(self, node_id: int, network: InMemoryNetwork, log: MemoryRaftLog | SegmentedRaftLog) -> None:
        self.id = node_id
        self.network = network
        self.log = log
        self.scope: trio.CancelScope | None = None
        self.server: RaftServer | None = None
        self.snapshot: RaftSnapshot | None = None
        self.installed: list[RaftSnapshot] = []

    async def start(self, nursery: trio.Nursery) -> RaftServer:
        async def on_snapshot(snapshot: RaftSnapshot) -> None:
            self.installed.append(snapshot)
            self.snapshot = snapshot

        self.network.reconnect(self.id)
        server = RaftServer(self.id, MEMBERS, self.log, self.network.endpoint(self.id), CONFIG,
                            rng=random.Random(self.id), snapshot=self.snapshot if self.log.snapshot_index else None,
                            on_snapshot=on_snapshot)
        scope = trio.CancelScope()

        async def run(task_status: trio.TaskStatus[None]) -> None:
            with scope:
                await server.run(task_status=task_status)

        await nursery.start(run)
        self.scope, self.server = scope, server
        return server

    def kill(self) -> None:
        assert self.scope is not None
        self.scope.cancel()
        self.network.disconnect(self.id)
        if isinstance(self.log, MemoryRaftLog):
            self.log.crash(lose_unsynced=True)
        self.server = None


async def wait_for_leader(replicas: list[Replica], *, above_term: int = 0) -> RaftServer:
    while True:
        for replica in replicas:
            server = replica.server
            if server is not None and server.role.role is Role.LEADER and server.role.term > above_term:
                return server
        await trio.sleep(CONFIG.tick_seconds)


async def test_three_servers_elect_a_leader_commit_and_fail_over_without_losing_committed_data(
        autojump_clock: trio.testing.MockClock) -> None:
    network = InMemoryNetwork()
    replicas = [Replica(i, network, MemoryRaftLog()) for i in MEMBERS]
    async with trio.open_nursery() as nursery:
        for replica in replicas:
            await replica.start(nursery)
        with trio.fail_after(5):
            leader = await wait_for_leader(replicas)
        elected_at = trio.current_time()
        assert elected_at < 2.0  # election timeout 0.5-1 s, plus a pre-vote and a vote round
        follower = next(r.server for r in replicas if r.server is not leader)
        assert follower is not None
        with pytest.raises(NotLeaderError, match=f"the leader is node {leader.id}"):
            await follower.propose(b"x")
        indexes = [await leader.propose(b"order-%d" % n) for n in range(5)]
        assert indexes == list(range(indexes[0], indexes[0] + 5))
        with trio.fail_after(1):
            await leader.wait_committed(indexes[-1])
            for replica in replicas:
                assert replica.server is not None
                await replica.server.wait_committed(indexes[-1])
        old_term = leader.role.term
        old_replica = next(r for r in replicas if r.server is leader)
        old_replica.kill()
        with trio.fail_after(5):
            new_leader = await wait_for_leader([r for r in replicas if r is not old_replica], above_term=old_term)
        assert trio.current_time() - elected_at < 5
        assert [e.data for e in new_leader.entries(indexes[0], indexes[-1])] == [b"order-%d" % n for n in range(5)]
        later = await new_leader.propose(b"after-failover")
        with trio.fail_after(1):
            await new_leader.wait_committed(later)
        # The old leader comes back as a follower and catches up.
        back = await old_replica.start(nursery)
        with trio.fail_after(2):
            await back.wait_committed(later)
        assert back.role.role is Role.FOLLOWER and back.role.leader_id == new_leader.id
        assert back.entries(later, later)[0].data == b"after-failover"
        nursery.cancel_scope.cancel()


async def test_role_changes_report_role_term_and_leader_to_a_watcher(autojump_clock: trio.testing.MockClock) -> None:
    network = InMemoryNetwork()
    replicas = [Replica(i, network, MemoryRaftLog()) for i in MEMBERS]
    async with trio.open_nursery() as nursery:
        for replica in replicas:
            await replica.start(nursery)
        server = replicas[0].server
        assert server is not None
        seen: list[RoleChange] = []
        with trio.move_on_after(3):
            async for change in server.role_changes():
                seen.append(change)
        assert seen[0] == RoleChange(Role.FOLLOWER, 0, None)
        assert seen[-1].term >= 1 and seen[-1].leader_id is not None
        nursery.cancel_scope.cancel()


async def test_a_full_proposal_queue_answers_backpressure_at_once(autojump_clock: trio.testing.MockClock) -> None:
    config = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, max_pending_proposals=2)
    network = InMemoryNetwork()
    server = RaftServer(0, [0], MemoryRaftLog(), network.endpoint(0), config, rng=random.Random(0))
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        await server.wait_role_change(RoleChange(Role.FOLLOWER, 0, None))
        while server.role.role is not Role.LEADER:
            await server.wait_role_change(server.role)
        results: list[object] = []

        async def propose(n: int) -> None:
            try:
                results.append(await server.propose(b"%d" % n))
            except RaftBackpressureError as error:
                results.append(error)

        async with trio.open_nursery() as proposers:
            for n in range(5):
                proposers.start_soon(propose, n)
        assert sum(isinstance(r, RaftBackpressureError) for r in results) == 3
        assert sorted(r for r in results if isinstance(r, int)) == [2, 3]
        nursery.cancel_scope.cancel()


async def test_a_follower_that_missed_compacted_entries_installs_the_leaders_snapshot(
        autojump_clock: trio.testing.MockClock) -> None:
    network = InMemoryNetwork()
    replicas = [Replica(i, network, MemoryRaftLog()) for i in MEMBERS]
    async with trio.open_nursery() as nursery:
        for replica in replicas:
            await replica.start(nursery)
        leader = await wait_for_leader(replicas)
        behind = next(r for r in replicas if r.server is not leader)
        network.disconnect(behind.id)
        last = 0
        for n in range(10):
            last = await leader.propose(b"e%d" % n)
        await leader.wait_committed(last)
        term = leader.node.term_at(last)
        assert term is not None
        snapshot = RaftSnapshot(last, term, b"state after 10 entries")
        leader.snapshot_taken(snapshot)
        after = await leader.propose(b"after")
        await leader.wait_committed(after)
        network.reconnect(behind.id)
        assert behind.server is not None
        with trio.fail_after(3):
            await behind.server.wait_committed(after)
        assert behind.installed == [snapshot]
        assert behind.server.entries(after, after)[0].data == b"after"
        nursery.cancel_scope.cancel()


async def test_servers_on_segmented_logs_keep_term_vote_and_entries_across_a_restart(
        tmp_path: Path, mock_clock: trio.testing.MockClock) -> None:
    # Real fsyncs run in worker threads: jump the clock only after 20 ms of real idleness, not during one.
    mock_clock.autojump_threshold = 0.02
    network = InMemoryNetwork()
    replicas = [Replica(i, network, SegmentedRaftLog.open(tmp_path / f"node-{i}")) for i in MEMBERS]
    async with trio.open_nursery() as nursery:
        for replica in replicas:
            await replica.start(nursery)
        leader = await wait_for_leader(replicas)
        index = await leader.propose(b"kept")
        for replica in replicas:
            assert replica.server is not None
            await replica.server.wait_committed(index)
        term = leader.role.term
        for replica in replicas:
            replica.kill()
            replica.log.close()
        nursery.cancel_scope.cancel()
    for i in MEMBERS:
        log = SegmentedRaftLog.open(tmp_path / f"node-{i}")
        assert log.hard_state.term == term
        assert log.entries(index, index)[0].data == b"kept"
        log.close()


async def test_a_proposal_overwritten_by_a_later_leader_is_reported_lost(autojump_clock: trio.testing.MockClock) -> None:
    network = InMemoryNetwork()
    replicas = [Replica(i, network, MemoryRaftLog()) for i in MEMBERS]
    async with trio.open_nursery() as nursery:
        for replica in replicas:
            await replica.start(nursery)
        old = await wait_for_leader(replicas)
        term = old.role.term
        others = [r for r in replicas if r.server is not old]
        network.partition([old.id], [r.id for r in others])
        index = await old.propose(b"never committed")
        new = await wait_for_leader(others, above_term=term)
        replaced = 0
        while replaced < index:
            replaced = await new.propose(b"the new leader's")
        await new.wait_committed(replaced)
        network.heal()
        with trio.fail_after(3), pytest.raises(ProposalLostError, match=f"index {index} in term {term}"):
            await old.wait_committed(index, term=term)
        await new.wait_committed(index, term=new.role.term)
        nursery.cancel_scope.cancel()
