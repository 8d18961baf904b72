"""Exporters inside a real broker: a misconfigured one shows in Topology and holds compaction back."""

from __future__ import annotations

from pathlib import Path

from zeebe_trio.protocol import PartitionHealth
from zeebe_trio.testing import one_task_bpmn, open_broker


async def test_a_misconfigured_exporter_makes_the_partition_unhealthy_and_holds_the_log(tmp_path: Path) -> None:
    exporters = {"broken": {"type": "no-such-exporter"}}
    async with open_broker(tmp_path, exporters=exporters, log_segment_size=4096) as broker:
        for i in range(40):
            await broker.deploy(f"p{i}.bpmn", one_task_bpmn(f"p{i}"))
        [partition_info] = broker.broker.topology().brokers[0].partitions
        assert partition_info.health is PartitionHealth.UNHEALTHY
        [health] = broker.partition.exporters.health()
        assert health.status.name == "MISCONFIGURED" and "no-such-exporter" in (health.last_error or "")
        segments_before = len(broker.partition.log.segment_paths)
        await broker.partition.take_snapshot()
        # The snapshot alone would allow compaction, but the broken exporter has exported nothing.
        assert len(broker.partition.log.segment_paths) == segments_before > 1
        assert broker.partition.log.first_index == 1


async def test_with_a_healthy_exporter_the_log_is_compacted_behind_snapshot_and_exporter(tmp_path: Path) -> None:
    exporters = {"lines": {"type": "jsonl", "args": {"path": str(tmp_path / "records-{partitionId}.jsonl"), "flushDelay": 0.01}}}
    async with open_broker(tmp_path / "data", exporters=exporters, log_segment_size=4096) as broker:
        for i in range(40):
            await broker.deploy(f"p{i}.bpmn", one_task_bpmn(f"p{i}"))
        partition = broker.partition
        await partition.exporters.wait_exported(partition.log_stream.last_position)
        assert broker.broker.topology().brokers[0].partitions[0].health is PartitionHealth.HEALTHY
        await partition.take_snapshot()
        assert partition.log.first_index > 1  # old segments are gone
        await broker.deploy("after.bpmn", one_task_bpmn("after"))
    async with open_broker(tmp_path / "data", exporters=exporters, log_segment_size=4096) as broker:
        deployed = await broker.deploy("after.bpmn", one_task_bpmn("after"))
    assert deployed.value["processesMetadata"][0]["isDuplicate"]  # state survived compaction and restart


async def test_the_statistics_log_line_reports_positions_and_exporter_lag(
        tmp_path: Path, autojump_clock, caplog) -> None:  # type: ignore[no-untyped-def]
    import json
    import logging

    import trio

    exporters = {"lines": {"type": "jsonl", "args": {"path": str(tmp_path / "r.jsonl"), "flushDelay": 3600,
                                                     "batchSize": 10_000}}}
    caplog.set_level(logging.INFO, logger="zeebe_trio.broker._partition")
    async with open_broker(tmp_path / "data", exporters=exporters, stats_log_interval=1.0,
                           fsync_in_thread=False) as broker:
        await broker.deploy("p.bpmn", one_task_bpmn("p"))
        await trio.sleep(1.5)
        last = broker.partition.log_stream.last_position
    [line] = [r.getMessage() for r in caplog.records if "statistics:" in r.getMessage()][:1]
    stats = json.loads(line.split("statistics: ", 1)[1])
    assert stats["last_position"] == last and stats["committed"] == last
    assert stats["exporterLag"] == {"lines": last + 1}  # nothing acknowledged yet: position -1
