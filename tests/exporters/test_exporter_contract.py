"""The contract every exporter honours, run against each bundled implementation.

Batch size 10 and flush delay 2 s are passed to every implementation; the hand-driven controller
plays the director (clock, scheduled tasks, acknowledgements).
"""

from __future__ import annotations

import pytest

from zeebe_trio.exporters import ExporterConfigurationError
from zeebe_trio.exporters.testing import ExporterHarness, RecordBuilder
from zeebe_trio.protocol import Record


def records(count: int) -> list[Record]:
    builder = RecordBuilder()
    definition = builder.deploy_process("order")
    while len(builder.records) < count:
        builder.process_instance("order", definition, variables={"orderId": len(builder.records)})
    return builder.records[:count]


async def opened(exporter_under_test, tmp_path, position: int = -1) -> ExporterHarness:
    harness = ExporterHarness(exporter_under_test.create(), exporter_under_test.args(tmp_path), position=position)
    harness.configure()
    await harness.open()
    return harness


async def test_configure_without_required_args_names_the_setting(exporter_under_test):
    harness = ExporterHarness(exporter_under_test.create(), {}, exporter_id="broken")
    with pytest.raises(ExporterConfigurationError, match=r"exporter 'broken': args\.path"):
        harness.configure()


async def test_nothing_is_acknowledged_before_it_is_written(exporter_under_test, tmp_path):
    harness = await opened(exporter_under_test, tmp_path)
    await harness.export(records(9))
    assert harness.controller.acknowledged == []
    assert exporter_under_test.written_positions(tmp_path) == []
    await harness.close()


async def test_a_full_batch_is_written_and_acknowledged(exporter_under_test, tmp_path):
    harness = await opened(exporter_under_test, tmp_path)
    await harness.export(records(25))
    assert harness.controller.acknowledged == [10, 20]
    assert exporter_under_test.written_positions(tmp_path)[:20] == list(range(1, 21))
    await harness.close()


async def test_a_partial_batch_is_flushed_by_a_scheduled_task_after_the_delay(exporter_under_test, tmp_path):
    harness = await opened(exporter_under_test, tmp_path)
    await harness.export(records(3))
    await harness.controller.advance(1.9)
    assert harness.controller.acknowledged == []
    await harness.controller.advance(0.1)
    assert harness.controller.acknowledged == [3]
    assert exporter_under_test.written_positions(tmp_path) == [1, 2, 3]
    assert harness.controller.pending == []
    await harness.close()


async def test_close_writes_what_is_pending(exporter_under_test, tmp_path):
    harness = await opened(exporter_under_test, tmp_path)
    await harness.export(records(13))
    await harness.close()
    assert harness.controller.position == 13
    assert exporter_under_test.written_positions(tmp_path) == list(range(1, 14))


async def test_a_retried_export_of_the_same_record_is_written_once(exporter_under_test, tmp_path):
    harness = await opened(exporter_under_test, tmp_path)
    batch = records(4)
    await harness.export(batch)
    await harness.export(batch[-1:])  # the director retries a record whose export raised
    await harness.close()
    assert exporter_under_test.written_positions(tmp_path) == [1, 2, 3, 4]


async def test_re_exporting_after_a_crash_writes_no_duplicates(exporter_under_test, tmp_path):
    batch = records(30)
    first = await opened(exporter_under_test, tmp_path)
    await first.export(batch[:25])
    assert first.controller.position == 20
    # crash: nothing closed, and the broker only stored position 10 before dying
    second = await opened(exporter_under_test, tmp_path, position=10)
    assert second.controller.position >= 10
    await second.export(batch[10:])
    await second.close()
    assert exporter_under_test.written_positions(tmp_path) == list(range(1, 31))
    assert second.controller.position == 30
    assert second.controller.acknowledged == sorted(second.controller.acknowledged)
