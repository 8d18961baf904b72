"""Plugin discovery: built-ins and entry points through the same hook, autoload switch, hook checks."""

from __future__ import annotations

import logging
import types

import pytest
import trio

from zeebe_trio.exporters import (
    DISABLE_AUTOLOAD_ENV,
    ExporterFactory,
    PluginError,
    create_exporter_director,
    exporter_factories,
    format_installed_exporters,
    get_plugin_manager,
    hookimpl,
    list_installed_exporters,
)
from zeebe_trio.exporters.testing import InMemoryCommittedLog, InMemoryPositionStore, realistic_records


def plugin(**hooks) -> types.ModuleType:
    module = types.ModuleType("test_plugin")
    for name, function in hooks.items():
        setattr(module, name, hookimpl(function))
    return module


def test_installed_entry_point_plugins_and_built_ins_are_listed():
    rows = {row.name: row for row in list_installed_exporters(get_plugin_manager(environ={}))}
    assert rows["log"].distribution is None and rows["log"].plugin == "zeebe_trio.exporters._builtin"
    assert rows["jsonl"].distribution == "zeebe-trio-jsonl-example==0.1.0" and rows["jsonl"].plugin == "jsonl"
    assert rows["duckdb"].distribution == "zeebe-trio-duckdb==0.1.0"
    text = format_installed_exporters(list(rows.values()))
    assert "jsonl" in text and "built-in" in text
    assert "    args.batchSize          int, default 1000: records per transaction" in text.splitlines()


def test_the_example_exporter_is_found_through_its_entry_point():
    from zeebe_trio_jsonl import JsonLinesExporter

    factory = exporter_factories(get_plugin_manager(environ={}))["jsonl"]
    assert isinstance(factory.create(), JsonLinesExporter)


def test_autoloading_can_be_turned_off_by_environment():
    manager = get_plugin_manager(environ={DISABLE_AUTOLOAD_ENV: "1"})
    assert sorted(exporter_factories(manager)) == ["log"]


def test_a_misspelt_hook_is_an_error_naming_it():
    typo = plugin(zeebe_trio_register_exporter=lambda: [])
    with pytest.raises(PluginError, match="zeebe_trio_register_exporter"):
        get_plugin_manager(environ={DISABLE_AUTOLOAD_ENV: "1"}, plugins=[typo])


def test_duplicate_exporter_names_are_an_error_naming_both_plugins():
    clash = plugin(zeebe_trio_register_exporters=lambda: [ExporterFactory("log", object)])
    manager = get_plugin_manager(environ={DISABLE_AUTOLOAD_ENV: "1"}, plugins=[clash])
    with pytest.raises(PluginError, match="'log' is registered by both plugin 'zeebe_trio.exporters._builtin'"):
        exporter_factories(manager)


def test_a_hook_returning_something_else_is_an_error():
    wrong = plugin(zeebe_trio_register_exporters=lambda: ["duckdb"])
    manager = get_plugin_manager(environ={DISABLE_AUTOLOAD_ENV: "1"}, plugins=[wrong])
    with pytest.raises(PluginError, match="return a list of zeebe_trio.exporters.ExporterFactory"):
        exporter_factories(manager)


def test_a_broken_entry_point_is_reported_with_the_way_out(monkeypatch):
    import importlib.metadata

    class BrokenEntryPoint:
        name = "broken"
        group = "zeebe_trio.exporters"
        value = "no_such_module_xyz"

        def load(self):
            raise ImportError("No module named 'no_such_module_xyz'")

    class Distribution:
        entry_points = [BrokenEntryPoint()]
        metadata = {"name": "broken-plugin"}

    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [Distribution()])
    with pytest.raises(PluginError, match=f"set {DISABLE_AUTOLOAD_ENV}=1"):
        get_plugin_manager(environ={})


async def test_the_built_in_log_exporter_runs_from_configuration(caplog):
    caplog.set_level(logging.INFO, logger="zeebe_trio.exporters.log")
    records = list(realistic_records(1))
    store = InMemoryPositionStore()
    director = create_exporter_director(
        partition_id=1, exporters_config={"debug": {"type": "log", "args": {"level": "INFO"},
                                                    "valueTypes": ["PROCESS"]}},
        reader=InMemoryCommittedLog(records), position_store=store,
        factories=exporter_factories(get_plugin_manager(environ={DISABLE_AUTOLOAD_ENV: "1"})),
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(director.run)
        await store.wait_position("debug", records[-1].position)
        nursery.cancel_scope.cancel()
    lines = [r.getMessage() for r in caplog.records if r.name == "zeebe_trio.exporters.log"]
    assert len(lines) == 1 and '"valueType": "PROCESS"' in lines[0]
