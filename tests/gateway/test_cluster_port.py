"""ClusterBrokerPort: a gateway in front of several brokers sends each command to its partition's
leader, follows a leader change, waits for an election, and serves job streams and notifications of
every broker. Brokers are scripted fakes here; time is virtual (MockClock)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import trio
import trio.testing

from zeebe_trio.gateway import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    ClusterBrokerPort,
    ClusterTopology,
    JobStreamSink,
    JobStreamSpec,
    PartitionInfo,
)
from zeebe_trio.protocol import (
    PartitionHealth,
    PartitionRole,
    ProcessInstanceCreationIntent,
    Record,
    RecordType,
    ValueType,
    encode_key,
)

CREATE = BrokerCommand(ValueType.PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent.CREATE, {"bpmnProcessId": "p"})
L, F = PartitionRole.LEADER, PartitionRole.FOLLOWER


class ScriptedBroker:
    """One broker: the roles it reports for its partitions, and what it answers a command with."""

    def __init__(self, node_id: int, roles: dict[int, tuple[PartitionRole, int]], *, partitions: int = 3) -> None:
        self.node_id = node_id
        self.roles = roles  # partition -> (role, term)
        self.partitions = partitions
        self.reachable = True
        self.executed: list[int] = []
        self.failure: BrokerError | None = None
        self.listeners: list[Callable[[str], None]] = []
        self.watched: list[str] = []
        self.streams: list[JobStreamSpec] = []
        self.undelivered: list[Sequence[int]] = []

    @property
    def partition_ids(self) -> Sequence[int]:
        return list(range(1, self.partitions + 1))

    def topology(self) -> ClusterTopology:
        if not self.reachable:
            return ClusterTopology((), 0, 0, 0, "8.8.0")
        info = BrokerInfo(self.node_id, f"broker-{self.node_id}", 26501, "8.8.0", tuple(
            PartitionInfo(p, role, PartitionHealth.HEALTHY, term) for p, (role, term) in sorted(self.roles.items())))
        return ClusterTopology((info,), 3, self.partitions, 3, "8.8.0")

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        await trio.lowlevel.checkpoint()
        if self.failure is not None:
            raise self.failure
        role, _ = self.roles.get(partition_id, (PartitionRole.INACTIVE, 0))
        if role is not PartitionRole.LEADER:
            raise BrokerError(BrokerError.PARTITION_LEADER_MISMATCH,
                              f"node {self.node_id} is not the leader of partition {partition_id}")
        self.executed.append(partition_id)
        return Record(record_type=RecordType.EVENT, value_type=command.value_type,
                      intent=ProcessInstanceCreationIntent.CREATED, value={"node": self.node_id},
                      key=encode_key(partition_id, 1))

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        self.watched.append(job_type)
        return lambda: self.watched.remove(job_type)

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        self.streams.append(spec)

        def close(undelivered: Sequence[int] = ()) -> None:
            self.undelivered.append(list(undelivered))

        return close


def cluster() -> tuple[list[ScriptedBroker], ClusterBrokerPort]:
    # Zeebe's placement for 3 brokers, 3 partitions, replication 3: partition p's primary is node p - 1
    brokers = [ScriptedBroker(0, {1: (L, 1), 2: (F, 1), 3: (F, 1)}),
               ScriptedBroker(1, {1: (F, 1), 2: (L, 1), 3: (F, 1)}),
               ScriptedBroker(2, {1: (F, 1), 2: (F, 1), 3: (L, 1)})]
    return brokers, ClusterBrokerPort({b.node_id: b for b in brokers}, gateway_version="8.8.0", retry_delay=0.1,
                                      leader_wait=5.0)


async def test_each_command_goes_to_the_broker_that_leads_its_partition() -> None:
    brokers, port = cluster()
    for partition in (1, 2, 3, 2):
        record = await port.execute(partition, CREATE)
        assert record.value == {"node": partition - 1}
    assert [b.executed for b in brokers] == [[1], [2, 2], [3]]
    assert port.partition_ids == [1, 2, 3]


async def test_of_two_brokers_that_say_they_lead_the_one_in_the_higher_term_is_believed() -> None:
    brokers, port = cluster()
    brokers[1].roles[1] = (L, 2)  # node 0 was cut off and has not stepped down yet
    assert port.leader_of(1) == 1
    assert (await port.execute(1, CREATE)).value == {"node": 1}


async def test_a_broker_that_refuses_sends_the_command_on_to_the_next_that_says_it_leads(
        autojump_clock: trio.testing.MockClock) -> None:
    brokers, port = cluster()
    # node 1 says it leads partition 1 in term 3, but has just lost it; node 0 still says it leads in term 1
    brokers[1].roles[1] = (L, 3)
    brokers[1].failure = BrokerError(BrokerError.PARTITION_LEADER_MISMATCH, "not the leader any more")
    started = trio.current_time()
    assert (await port.execute(1, CREATE)).value == {"node": 0}
    assert trio.current_time() == started  # no pause: another broker claimed the partition
    assert port.retries == 1


async def test_without_a_leader_the_command_waits_for_an_election(autojump_clock: trio.testing.MockClock) -> None:
    brokers, port = cluster()
    brokers[0].roles[1] = (F, 2)

    async def elect_later() -> None:
        await trio.sleep(1.5)
        brokers[1].roles[1] = (L, 2)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(elect_later)
        started = trio.current_time()
        record = await port.execute(1, CREATE, timeout=10.0)
    assert record.value == {"node": 1}
    assert 1.5 <= trio.current_time() - started <= 1.6


async def test_with_no_leader_until_the_timeout_the_answer_is_unavailable_naming_the_partition(
        autojump_clock: trio.testing.MockClock) -> None:
    brokers, port = cluster()
    brokers[1].roles[2] = (F, 2)
    started = trio.current_time()
    with pytest.raises(BrokerError) as caught:
        await port.execute(2, CREATE, timeout=3.0)
    assert caught.value.code == BrokerError.PARTITION_UNAVAILABLE
    assert caught.value.message == "partition 2 has no leader that accepts commands; retry shortly"
    assert 2.9 <= trio.current_time() - started <= 3.0


async def test_a_failure_that_may_have_written_the_command_is_not_retried() -> None:
    brokers, port = cluster()
    brokers[0].failure = BrokerError(BrokerError.TIMEOUT, "no response within 10 s")
    brokers[1].roles[1] = (L, 1)  # another candidate exists, but the command may be on the log already
    with pytest.raises(BrokerError) as caught:
        await port.execute(1, CREATE)
    assert caught.value.code == BrokerError.TIMEOUT
    assert port.retries == 0 and brokers[1].executed == []


async def test_a_refusal_naming_the_leader_is_followed_before_the_topology_knows(
        autojump_clock: trio.testing.MockClock) -> None:
    brokers, port = cluster()
    brokers[0].failure = BrokerError(BrokerError.PARTITION_LEADER_MISMATCH, "node 0 is not the leader of partition 1",
                                     leader_id=2)
    brokers[2].roles[1] = (F, 1)  # its own report is not in yet, but it leads now:
    brokers[2].failure = None

    async def leads_now(partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        brokers[2].roles[1] = (L, 2)
        return await ScriptedBroker.execute(brokers[2], partition_id, command, timeout=timeout)

    brokers[2].execute = leads_now  # type: ignore[method-assign]
    started = trio.current_time()
    assert (await port.execute(1, CREATE)).value == {"node": 2}
    assert trio.current_time() == started and port.retries == 1


async def test_unavailable_is_passed_on_since_a_leader_that_stepped_down_may_have_committed_it() -> None:
    brokers, port = cluster()
    brokers[0].failure = BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                                     "node 0 stopped leading partition 1; the command may have been committed")
    brokers[1].roles[1] = (L, 2)
    brokers[0].roles[1] = (L, 3)
    with pytest.raises(BrokerError) as caught:
        await port.execute(1, CREATE)
    assert caught.value.code == BrokerError.PARTITION_UNAVAILABLE
    assert port.retries == 0 and brokers[1].executed == []


def test_job_streams_and_watches_reach_every_broker_and_undelivered_jobs_go_to_their_leader() -> None:
    brokers, port = cluster()
    spec = JobStreamSpec("payment", "worker", 1000)
    sink: Any = object()
    close = port.open_job_stream(spec, sink)
    assert [b.streams for b in brokers] == [[spec]] * 3
    stop = port.watch_job_type("payment")
    assert [b.watched for b in brokers] == [["payment"]] * 3
    stop()
    assert [b.watched for b in brokers] == [[]] * 3
    close(undelivered=[encode_key(2, 7), encode_key(3, 8), encode_key(2, 9)])
    assert [b.undelivered for b in brokers] == [[[]], [[encode_key(2, 7), encode_key(2, 9)]], [[encode_key(3, 8)]]]


def test_jobs_available_on_any_broker_wake_the_gateway() -> None:
    brokers, port = cluster()
    heard: list[str] = []
    port.add_jobs_available_listener(heard.append)
    brokers[2].listeners[0]("payment")
    brokers[0].listeners[0]("refund")
    assert heard == ["payment", "refund"]


def test_the_topology_lists_every_broker_that_answers_with_its_own_partitions() -> None:
    brokers, port = cluster()
    brokers[1].reachable = False
    topology = port.topology()
    assert [b.node_id for b in topology.brokers] == [0, 2]
    assert [(p.partition_id, p.role, p.term) for p in topology.brokers[1].partitions] == [(1, F, 1), (2, F, 1), (3, L, 1)]
    assert (topology.cluster_size, topology.partitions_count, topology.replication_factor) == (3, 3, 3)
    assert port.leader_of(2) is None  # its leader does not answer
