"""Exporter settings from the config file section and ZEEBE_TRIO_EXPORTERS_* variables."""

from __future__ import annotations

import pytest

from zeebe_trio.exporters import (
    ExporterConfigurationError,
    ExporterSettings,
    RecordFilter,
    load_exporter_settings,
    merge_args,
)
from zeebe_trio.protocol import RecordType, ValueType


def by_id(settings: list[ExporterSettings]) -> dict[str, ExporterSettings]:
    return {item.id: item for item in settings}


def test_file_sections_become_settings():
    settings = load_exporter_settings({
        "analytics": {"type": "duckdb", "args": {"path": "/data/e.duckdb"}, "recordTypes": ["EVENT"],
                      "valueTypes": ["job", "INCIDENT"]},
        "zeebe-style": {"className": "log", "enabled": False},
    })
    assert settings == [
        ExporterSettings("analytics", "duckdb", {"path": "/data/e.duckdb"}, True,
                         RecordFilter.of([RecordType.EVENT], [ValueType.JOB, ValueType.INCIDENT])),
        ExporterSettings("zeebe-style", "log", {}, False),
    ]


def test_environment_variables_add_and_override():
    settings = by_id(load_exporter_settings(
        {"analytics": {"type": "duckdb", "args": {"path": "/data/e.duckdb", "batchSize": 10}}},
        {
            "ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCH_SIZE": "5000",
            "ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_FLUSH_DELAY": "2.5",
            "ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_PATH": "/other/e.duckdb",
            "ZEEBE_TRIO_EXPORTERS_ANALYTICS_VALUETYPES": "JOB,INCIDENT",
            "ZEEBE_TRIO_EXPORTERS_AUDIT_TRAIL_TYPE": "jsonl",
            "ZEEBE_TRIO_EXPORTERS_AUDIT_TRAIL_ENABLED": "false",
            "ZEEBE_TRIO_EXPORTERS_AUDIT_TRAIL_ARGS_OPTIONS": '{"a": [1, 2]}',
            "ZEEBE_TRIO_OTHER": "ignored",
        },
    ))
    assert settings["analytics"].args == {"path": "/other/e.duckdb", "batchSize": 5000, "flushDelay": 2.5}
    assert settings["analytics"].record_filter == RecordFilter.of(None, [ValueType.JOB, ValueType.INCIDENT])
    assert settings["audit_trail"] == ExporterSettings("audit_trail", "jsonl", {"options": {"a": [1, 2]}}, False)


def test_environment_ids_match_file_ids_ignoring_case_and_dashes():
    settings = load_exporter_settings({"my-export": {"type": "log"}},
                                      {"ZEEBE_TRIO_EXPORTERS_MY_EXPORT_ARGS_LEVEL": "INFO",
                                       "ZEEBE_TRIO_EXPORTERS_MY_EXPORT_CLASSNAME": "jsonl"})
    assert settings == [ExporterSettings("my-export", "jsonl", {"level": "INFO"})]


def test_args_keys_take_the_spelling_of_the_defaults():
    assert merge_args({"batchSize": 1000, "path": None}, {"BATCHSIZE": 5, "batch_size": 6, "other": 1}) == {
        "batchSize": 6, "path": None, "other": 1}


@pytest.mark.parametrize(("config", "message"), [
    ({"a": {"args": {}}}, r"exporter 'a': no 'type'; set exporters.a.type \(or ZEEBE_TRIO_EXPORTERS_A_TYPE\)"),
    ({"a": "duckdb"}, "exporter 'a': expected a section"),
    ({"a": {"type": "log", "arg": {}}}, r"exporter 'a': unknown settings \['arg'\]"),
    ({"a": {"type": "log", "valueTypes": ["JOBS"]}}, "valueTypes has unknown name 'JOBS'"),
    ({"a": {"type": "log", "enabled": "maybe"}}, "enabled must be true or false"),
])
def test_malformed_sections_are_errors_naming_the_exporter(config, message):
    with pytest.raises(ExporterConfigurationError, match=message):
        load_exporter_settings(config)


def test_no_configuration_means_no_exporters():
    assert load_exporter_settings(None, {}) == []
