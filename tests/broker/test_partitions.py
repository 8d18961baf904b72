"""Several partitions in one broker: the partition count is fixed per data directory, commands between
partitions go through the receiver's log and are lost (counted, logged) while it is not running, and a
distribution lost that way arrives once the redistribution sends it again."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from zeebe_trio.broker import Broker, BrokerConfig, EngineClock, StartupError
from zeebe_trio.broker._broker import check_partition_count
from zeebe_trio.broker._partition_sender import BrokerPartitionSender
from zeebe_trio.engine import REDISTRIBUTION_INTERVAL_MS
from zeebe_trio.gateway._port import BrokerCommand
from zeebe_trio.protocol import (
    CommandDistributionIntent,
    DeploymentIntent,
    Record,
    RecordType,
    SignalIntent,
    ValueType,
)
from zeebe_trio.stream import UnknownPartitionError
from zeebe_trio.testing import one_task_bpmn


def _config(tmp_path: Path, partitions: int) -> BrokerConfig:
    return BrokerConfig(data_dir=tmp_path, partitions=partitions, embedded_gateway=False, command_api_enabled=False,
                        exporters={})


def test_a_data_directory_keeps_the_partition_count_it_was_created_with(tmp_path: Path) -> None:
    check_partition_count(_config(tmp_path, 3))
    check_partition_count(_config(tmp_path, 3))
    with pytest.raises(StartupError, match=r"created with 3 partition\(s\), but partitions is 2.*ZEEBE_TRIO_PARTITIONS"):
        check_partition_count(_config(tmp_path, 2))


def test_a_data_directory_from_before_the_partition_file_holds_one_partition(tmp_path: Path) -> None:
    (tmp_path / "partition-1").mkdir()
    with pytest.raises(StartupError, match=r"created with 1 partition\(s\), but partitions is 3"):
        check_partition_count(_config(tmp_path, 3))
    check_partition_count(_config(tmp_path, 1))
    assert (tmp_path / "partitions.json").read_text().strip() == '{"partitions": 1}'


async def test_a_command_for_a_partition_that_is_not_running_is_lost_and_one_for_no_partition_is_an_error() -> None:
    sender = BrokerPartitionSender({}, 3, max_command_bytes=1 << 20)
    command = Record(record_type=RecordType.COMMAND, value_type=ValueType.SIGNAL, intent=SignalIntent.BROADCAST,
                     key=-1, value={"signalName": "a"})
    await sender.send(2, command)
    assert sender.statistics() == {"partition_commands_sent": 0, "partition_commands_lost": 1}
    with pytest.raises(UnknownPartitionError, match="partitions are 1..3"):
        await sender.send(4, command)


def _has(broker: Broker, partition_id: int, value_type: ValueType, intent: object, key: int) -> bool:
    records = broker.partitions[partition_id].log_stream.read_after(0, 100_000)
    return any(r.value_type is value_type and r.intent == intent and r.key == key for r in records)


async def test_a_deployment_lost_on_its_way_to_a_partition_arrives_with_the_redistribution(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    config = BrokerConfig(data_dir=tmp_path, partitions=2, embedded_gateway=False, command_api_enabled=False,
                          exporters={}, fsync_in_thread=False)
    async with trio.open_nursery() as nursery:
        broker: Broker = await nursery.start(Broker(config, clock=EngineClock()).run)
        partition_2 = broker.partitions[2]
        partition_2.healthy = False  # down, as far as the sender can tell
        deployed = await broker.execute(1, BrokerCommand(ValueType.DEPLOYMENT, DeploymentIntent.CREATE, {
            "resources": [{"resourceName": "one.bpmn", "resource": one_task_bpmn("one")}]}))
        await trio.sleep(1)
        assert broker.partition_sender is not None and broker.partition_sender.lost == 1
        assert not _has(broker, 2, ValueType.DEPLOYMENT, DeploymentIntent.CREATED, deployed.key)
        partition_2.healthy = True
        await trio.sleep(3 * REDISTRIBUTION_INTERVAL_MS / 1000)
        assert _has(broker, 2, ValueType.DEPLOYMENT, DeploymentIntent.CREATED, deployed.key)
        assert _has(broker, 1, ValueType.COMMAND_DISTRIBUTION, CommandDistributionIntent.FINISHED, deployed.key)
        nursery.cancel_scope.cancel()


def _cluster_config(tmp_path: Path, **settings: int) -> BrokerConfig:
    shape = {"node_id": 1, "cluster_size": 3, "replication_factor": 3, "partitions": 3, **settings}
    return BrokerConfig(data_dir=tmp_path, embedded_gateway=False, exporters={}, **shape)  # type: ignore[arg-type]


def test_a_data_directory_keeps_the_node_and_cluster_layout_it_was_created_for(tmp_path: Path) -> None:
    check_partition_count(_cluster_config(tmp_path))
    check_partition_count(_cluster_config(tmp_path))
    with pytest.raises(StartupError, match="created by node_id 1, cluster_size 3, replication_factor 3, but the"
                                           " settings make this node_id 2, cluster_size 3, replication_factor 3"):
        check_partition_count(_cluster_config(tmp_path, node_id=2))
    with pytest.raises(StartupError, match="but the settings make this a single broker"):
        check_partition_count(_config(tmp_path, 3))


def test_a_single_brokers_data_directory_cannot_become_a_cluster_members(tmp_path: Path) -> None:
    (tmp_path / "partition-1").mkdir()
    with pytest.raises(StartupError, match="created by a single broker, but the settings make this node_id 1"):
        check_partition_count(_cluster_config(tmp_path, partitions=1))
