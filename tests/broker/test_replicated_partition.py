"""Three replicas of one partition on Raft over the in-memory network, with real engines and stores, in
virtual time: the leader processes, followers replay the same state, and leadership fails over without
losing an acknowledged command."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from zeebe_trio.broker import BrokerConfig, EngineClock, ReplicatedPartition
from zeebe_trio.broker._replicated import EXPORTER_POSITIONS_INTERVAL
from zeebe_trio.engine import EngineState, JobStreams
from zeebe_trio.gateway._port import BrokerCommand, BrokerError
from zeebe_trio.protocol import (
    DeploymentIntent,
    JobBatchIntent,
    JobIntent,
    ProcessInstanceCreationIntent,
    Record,
    RecordType,
    RejectionType,
    ValueType,
)
from zeebe_trio.raft import InMemoryNetwork, RaftConfig, Role
from zeebe_trio.stream import StreamProcessorMode
from zeebe_trio.testing import one_task_bpmn

RAFT = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, tick_seconds=0.05)
MEMBERS = [0, 1, 2]
EPOCH_MS = 1_767_225_600_000


class Replica:
    """One replica in its own data directory; `kill` cancels its scope, `start` opens it again."""

    def __init__(self, node_id: int, root: Path, network: InMemoryNetwork, *, raft_config: RaftConfig = RAFT,
                 peers: list[Replica] | None = None, **settings: Any) -> None:
        self.id = node_id
        self.network = network
        self.raft_config = raft_config
        self.peers = peers  # with a list: exporter positions go to the replicas in it, as brokers send them
        settings.setdefault("exporters", {})
        self.config = BrokerConfig(data_dir=root / f"node-{node_id}", fsync_in_thread=False,
                                   embedded_gateway=False, command_api_enabled=False, **settings)
        self.partition: ReplicatedPartition | None = None
        self.scope: trio.CancelScope | None = None
        self.starts = 0

    async def start(self, nursery: trio.Nursery) -> ReplicatedPartition:
        self.network.reconnect(self.id)
        self.starts += 1
        partition = ReplicatedPartition(1, self.config, EngineClock(EPOCH_MS), JobStreams(), lambda job_type: None,
                                        lambda stream_id, job_key, job: False, node_id=self.id, members=MEMBERS,
                                        transport=self.network.endpoint(self.id), raft_config=self.raft_config,
                                        rng=random.Random(self.id * 100 + self.starts),
                                        distribute_exporter_positions=self._distribute if self.peers is not None else None)
        scope = trio.CancelScope()

        async def run(task_status: trio.TaskStatus[None]) -> None:
            with scope:
                await partition.run(task_status=task_status)

        await nursery.start(run)
        self.partition, self.scope = partition, scope
        return partition

    def _distribute(self, partition_id: int, positions: dict[str, int]) -> None:
        for peer in self.peers or ():
            if peer is not self and peer.partition is not None and self.network.connected(self.id, peer.id):
                peer.partition.receive_exporter_positions(positions)

    def kill(self) -> None:
        assert self.scope is not None
        self.scope.cancel()
        self.network.disconnect(self.id)
        self.partition = None


async def wait_for_leader(replicas: list[Replica], *, above_term: int = 0) -> ReplicatedPartition:
    with trio.fail_after(10):
        while True:
            for replica in replicas:
                partition = replica.partition
                if partition is not None and partition.is_leader and partition.raft.role.term > above_term:
                    return partition
            await trio.sleep(RAFT.tick_seconds)


def dump(partition: ReplicatedPartition) -> dict[str, Any]:
    state = EngineState(partition.store, partition.partition_id)
    with partition.store.read() as txn:
        state.bind(txn)
        return state.dump()


async def wait_replayed(partition: ReplicatedPartition, position: int) -> None:
    """Until the replica's processor has applied every record up to `position` (its state is that far)."""
    with trio.fail_after(10):
        while True:
            processor = partition.processor
            if processor is not None and processor.mode is StreamProcessorMode.REPLAY \
                    and processor.phase.value == "replay" and partition.log_stream.committed.value >= position:
                await trio.sleep(RAFT.tick_seconds)  # a replay pass runs after each commit step
                if partition.log_stream.committed.value >= position:
                    return
            await trio.sleep(RAFT.tick_seconds)


async def deploy(partition: ReplicatedPartition) -> Record:
    return await partition.execute(BrokerCommand(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {
        "resources": [{"resourceName": "one.bpmn", "resource": one_task_bpmn("one", "work")}]}), 10)


async def create_instance(partition: ReplicatedPartition) -> Record:
    return await partition.execute(BrokerCommand(
        ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
        {"bpmnProcessId": "one", "version": -1, "variables": {}}), 10)


async def activate(partition: ReplicatedPartition, max_jobs: int = 10) -> list[int]:
    record = await partition.execute(BrokerCommand(ValueType.JOB_BATCH, JobBatchIntent.ACTIVATE, {
        "type": "work", "worker": "w", "timeout": 600_000, "maxJobsToActivate": max_jobs, "variables": [],
        "tenantIds": ["<default>"]}), 10)
    return list(record.value["jobKeys"])


async def complete(partition: ReplicatedPartition, job_key: int) -> Record:
    return await partition.execute(BrokerCommand(ValueType.JOB, JobIntent.COMPLETE, {"variables": {}}, key=job_key), 10)


def records(partition: ReplicatedPartition) -> list[Record]:
    return partition.log_stream.read_after(0, 1_000_000)


def assert_positions_and_keys_unique(partition: ReplicatedPartition) -> None:
    logged = records(partition)
    positions = [r.position for r in logged]
    assert positions == sorted(set(positions))
    created = [r.key for r in logged if r.record_type is RecordType.EVENT and r.value_type is ValueType.PROCESS_INSTANCE
               and r.intent.name == "ELEMENT_ACTIVATING"]
    assert len(created) == len(set(created))


async def _cluster(tmp_path: Path, nursery: trio.Nursery, *, seed: int = 7, distribute_positions: bool = False,
                   **settings: Any) -> tuple[InMemoryNetwork, list[Replica]]:
    network = InMemoryNetwork(rng=random.Random(seed))
    peers: list[Replica] | None = [] if distribute_positions else None
    replicas = [Replica(i, tmp_path, network, peers=peers, **settings) for i in MEMBERS]
    if peers is not None:
        peers.extend(replicas)
    for replica in replicas:
        await replica.start(nursery)
    return network, replicas


async def test_a_command_whose_records_overflow_a_raft_entry_is_rejected_and_the_partition_goes_on(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    small_entries = RaftConfig(election_timeout_ticks=10, heartbeat_ticks=2, tick_seconds=0.05,
                               max_entry_bytes=64 * 1024)
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery, raft_config=small_entries)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        # the variables appear twice in the batch (VARIABLE CREATED and the creation record): over 64 KiB
        rejected = await leader.execute(BrokerCommand(
            ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE,
            {"bpmnProcessId": "one", "version": -1, "variables": {"big": "x" * 40_000}}), 10)
        assert rejected.record_type is RecordType.COMMAND_REJECTION
        assert rejected.rejection_type is RejectionType.EXCEEDED_BATCH_RECORD_SIZE
        assert "more than a batch may hold" in rejected.rejection_reason
        created = await create_instance(leader)  # the partition goes on
        assert created.intent is ProcessInstanceCreationIntent.CREATED
        nursery.cancel_scope.cancel()


async def test_the_leader_processes_and_the_followers_replay_the_same_state(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery)
        leader = await wait_for_leader(replicas)
        followers = [r.partition for r in replicas if r.partition is not leader]
        deployed = await deploy(leader)
        assert deployed.intent is DeploymentIntent.CREATED
        instances = [await create_instance(leader) for _ in range(3)]
        jobs = await activate(leader)
        assert len(jobs) == 3
        for job in jobs:
            await complete(leader, job)
        # A command is answered only once committed: a quorum holds every record it wrote.
        committed = leader.log_stream.committed.value
        assert committed == leader.log_stream.last_position
        for follower in followers:
            assert follower is not None
            await wait_replayed(follower, committed)
        await trio.sleep(1)  # let the leader's processor settle (nothing is pending)
        expected = dump(leader)
        assert any(expected.values())
        for follower in followers:
            assert follower is not None
            assert dump(follower) == expected
            assert [r.position for r in records(follower)] == [r.position for r in records(leader)]
        assert len({i.key for i in instances}) == 3
        nursery.cancel_scope.cancel()


async def test_a_follower_refuses_commands_naming_the_leader(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery)
        leader = await wait_for_leader(replicas)
        await trio.sleep(1)  # followers have heard from the leader
        follower = next(r.partition for r in replicas if r.partition is not leader)
        assert follower is not None
        with pytest.raises(BrokerError) as refused:
            await deploy(follower)
        assert refused.value.code == BrokerError.PARTITION_LEADER_MISMATCH
        assert refused.value.leader_id == leader.node_id
        assert f"the leader is node {leader.node_id}" in refused.value.message
        nursery.cancel_scope.cancel()


async def test_killing_the_leader_elects_one_that_has_every_acknowledged_command_and_goes_on(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        acknowledged = [await create_instance(leader) for _ in range(3)]
        term = leader.raft.role.term
        old = next(r for r in replicas if r.partition is leader)
        old.kill()
        new_leader = await wait_for_leader([r for r in replicas if r is not old], above_term=term)
        logged = records(new_leader)
        for created in acknowledged:
            assert any(r.key == created.key and r.value_type is ValueType.PROCESS_INSTANCE_CREATION
                       and r.intent is ProcessInstanceCreationIntent.CREATED for r in logged)
        # It goes on processing: the instances' jobs are there to activate and complete.
        more = await create_instance(new_leader)
        assert more.key not in {a.key for a in acknowledged}
        jobs = await activate(new_leader)
        assert len(jobs) == 4
        for job in jobs:
            await complete(new_leader, job)
        assert_positions_and_keys_unique(new_leader)
        # The old leader comes back from its data directory as a follower and catches up.
        back = await old.start(nursery)
        await wait_replayed(back, new_leader.log_stream.committed.value)
        await trio.sleep(1)
        assert back.raft.role.role is Role.FOLLOWER
        assert dump(back) == dump(new_leader)
        nursery.cancel_scope.cancel()


async def test_a_restarted_follower_catches_up_from_its_data_directory(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        await create_instance(leader)
        follower = next(r for r in replicas if r.partition is not leader)
        follower.kill()
        for _ in range(3):
            await create_instance(leader)  # committed by the other two
        restarted = await follower.start(nursery)
        for _ in range(2):
            await create_instance(leader)
        await wait_replayed(restarted, leader.log_stream.committed.value)
        await trio.sleep(1)
        assert dump(restarted) == dump(leader)
        nursery.cancel_scope.cancel()


async def test_a_partitioned_leader_steps_down_and_rejoins_as_a_follower_with_the_majoritys_log(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        network, replicas = await _cluster(tmp_path, nursery)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        before = await create_instance(leader)
        term = leader.raft.role.term
        others = [r for r in replicas if r.partition is not leader]
        network.partition([leader.node_id], [r.id for r in others])
        # A command on the isolated leader is never acknowledged: no quorum commits it.
        with pytest.raises(BrokerError) as lost:
            await create_instance(leader)
        assert lost.value.code == BrokerError.PARTITION_UNAVAILABLE
        assert f"node {leader.node_id} stopped leading it (term {term}) before the command was answered" \
            in lost.value.message
        assert leader.raft.role.role is not Role.LEADER  # check-quorum: it stepped down
        new_leader = await wait_for_leader(others, above_term=term)
        after = await create_instance(new_leader)
        network.heal()
        await wait_replayed(leader, new_leader.log_stream.committed.value)
        await trio.sleep(1)
        assert leader.raft.role.role is Role.FOLLOWER and leader.raft.role.leader_id == new_leader.node_id
        assert dump(leader) == dump(new_leader)
        keys = {r.key for r in records(leader) if r.value_type is ValueType.PROCESS_INSTANCE_CREATION
                and r.intent is ProcessInstanceCreationIntent.CREATED}
        assert {before.key, after.key} <= keys and len(keys) == 2
        assert_positions_and_keys_unique(leader)
        nursery.cancel_scope.cancel()


async def test_every_replica_snapshots_its_state_and_a_restart_replays_from_the_snapshot(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery, snapshot_period=0.5)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        for _ in range(3):
            await create_instance(leader)
        await trio.sleep(2)
        for replica in replicas:
            assert replica.partition is not None and replica.partition.snapshots.list()
        follower = next(r for r in replicas if r.partition is not leader)
        assert follower.partition is not None
        compacted = follower.partition.raft_log.snapshot_index
        assert compacted > 0  # its Raft log continues after a snapshot: the restart hands Raft the state snapshot
        follower.kill()
        await create_instance(leader)
        restarted = await follower.start(nursery)
        assert restarted.raft_log.snapshot_index >= compacted
        await wait_replayed(restarted, leader.log_stream.committed.value)
        await trio.sleep(1)
        assert dump(restarted) == dump(leader)
        # Restored from its snapshot: it applied only the events logged after it, not the whole log.
        events = sum(1 for r in records(leader) if r.record_type is RecordType.EVENT)
        assert 0 < restarted.processor.replayed_events < events
        nursery.cancel_scope.cancel()


async def test_a_follower_behind_the_compacted_log_receives_the_leaders_snapshot_and_catches_up(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _network, replicas = await _cluster(tmp_path, nursery, snapshot_period=0.5)
        leader = await wait_for_leader(replicas)
        await deploy(leader)
        follower = next(r for r in replicas if r.partition is not leader)
        follower.kill()
        behind = follower_last_index = leader.raft.commit_index
        for _ in range(4):  # snapshots and compaction move past what the follower holds
            await create_instance(leader)
            await trio.sleep(1)
        assert leader.raft_log.snapshot_index > follower_last_index
        restarted = await follower.start(nursery)
        more = await create_instance(leader)
        await wait_replayed(restarted, leader.log_stream.committed.value)
        await trio.sleep(1)
        assert restarted.installed_snapshots == 1
        assert restarted.raft_log.snapshot_index > behind
        assert restarted.raft_log.position_floor > 0  # where the compacted entries' positions ended
        assert dump(restarted) == dump(leader)
        assert any(r.key == more.key for r in records(restarted))
        # The restarted follower can lead: it has every acknowledged command and goes on.
        term = leader.raft.role.term
        old = next(r for r in replicas if r.partition is leader)
        old.kill()
        new_leader = await wait_for_leader([r for r in replicas if r is not old], above_term=term)
        jobs = await activate(new_leader)
        assert len(jobs) == 5
        nursery.cancel_scope.cancel()


async def _exporting_replicas_with_instances(
        tmp_path: Path, nursery: trio.Nursery, *, distribute: bool,
) -> tuple[list[Replica], ReplicatedPartition, list[ReplicatedPartition]]:
    """Three replicas exporting to the log exporter, snapshotting every 0.5 s, after a deployment and four
    instances a second apart; (replicas, leader, followers)."""
    _network, replicas = await _cluster(tmp_path, nursery, snapshot_period=0.5, distribute_positions=distribute,
                                        exporters={"log": {"type": "log"}})
    leader = await wait_for_leader(replicas)
    await deploy(leader)
    for _ in range(4):
        await create_instance(leader)
        await trio.sleep(1)
    followers = [r.partition for r in replicas if r.partition is not None and r.partition is not leader]
    return replicas, leader, followers


async def test_followers_compact_behind_the_exporter_positions_the_leader_sends_and_a_new_leader_goes_on_there(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        replicas, leader, followers = await _exporting_replicas_with_instances(tmp_path, nursery, distribute=True)
        await trio.sleep(EXPORTER_POSITIONS_INTERVAL * 2)
        exported = leader.exporters.positions()["log"]
        assert exported > 0
        for follower in followers:
            assert follower.exporter_positions_heard == {"log": exported}
            assert follower.raft_log.snapshot_index > 0  # compacted behind the snapshot and the exporter
        term = leader.raft.role.term
        old = next(r for r in replicas if r.partition is leader)
        old.kill()
        new_leader = await wait_for_leader([r for r in replicas if r is not old], above_term=term)
        await trio.sleep(1)
        # its exporter went on from the old leader's position: nothing before it is exported again
        assert new_leader.exporters.positions()["log"] >= exported
        assert min(new_leader.exporter_positions_heard.values()) == exported  # type: ignore[union-attr]
        nursery.cancel_scope.cancel()


async def test_without_exporter_positions_from_the_leader_a_follower_with_exporters_keeps_its_log(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    async with trio.open_nursery() as nursery:
        _replicas, leader, followers = await _exporting_replicas_with_instances(tmp_path, nursery, distribute=False)
        assert leader.raft_log.snapshot_index > 0
        for follower in followers:
            assert follower.snapshots.list() and follower.exporter_positions_heard is None
            assert follower.raft_log.snapshot_index == 0  # the leader's exporters may still need any of it
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_under_load_with_leaders_killed_and_restarted_no_acknowledged_command_is_lost(
        tmp_path: Path, autojump_clock: trio.testing.MockClock, seed: int) -> None:
    async with trio.open_nursery() as nursery:
        network, replicas = await _cluster(tmp_path, nursery, seed=seed, snapshot_period=0.7)
        await deploy(await wait_for_leader(replicas))
        # Messages take time (and a few are lost), so commands are in flight when a leader dies.
        network.delay = (0.002, 0.03)
        network.drop_rate = 0.01
        await nursery.start(network.run)
        acknowledged: list[int] = []
        refused: list[str] = []

        async def client() -> None:
            while True:
                leader = next((r.partition for r in replicas if r.partition is not None and r.partition.is_leader),
                              None)
                if leader is None:
                    await trio.sleep(RAFT.tick_seconds)
                    continue
                try:
                    acknowledged.append((await create_instance(leader)).key)
                except BrokerError as error:
                    refused.append(error.code)
                await trio.sleep(0.1)  # a command takes no virtual time: pace the load

        async with trio.open_nursery() as clients:
            for _ in range(3):
                clients.start_soon(client)
            for _ in range(3):
                await trio.sleep(1.5)
                victim = next(r for r in replicas if r.partition is not None and r.partition.is_leader)
                term = victim.partition.raft.role.term if victim.partition else 0
                victim.kill()
                await wait_for_leader([r for r in replicas if r is not victim], above_term=term)
                await trio.sleep(0.5)
                await victim.start(nursery)
            await trio.sleep(1.5)
            clients.cancel_scope.cancel()
        # Commands ran before, between and after the fail-overs; those in flight on a leader that died or
        # stepped down were answered PARTITION_UNAVAILABLE (with seeds 7 and 23), which a client retries.
        assert len(acknowledged) > 50
        assert set(refused) <= {BrokerError.PARTITION_UNAVAILABLE, BrokerError.PARTITION_LEADER_MISMATCH}
        network.drop_rate = 0.0
        leader = await wait_for_leader(replicas)
        for replica in replicas:
            assert replica.partition is not None
            await wait_replayed(replica.partition, leader.log_stream.committed.value) \
                if replica.partition is not leader else None
        await trio.sleep(1)
        created = [r.key for r in records(leader) if r.value_type is ValueType.PROCESS_INSTANCE_CREATION
                   and r.intent is ProcessInstanceCreationIntent.CREATED]
        assert len(created) == len(set(created))
        assert set(acknowledged) <= set(created)
        assert_positions_and_keys_unique(leader)
        expected = dump(leader)
        for replica in replicas:
            assert replica.partition is not None and dump(replica.partition) == expected
        nursery.cancel_scope.cancel()
