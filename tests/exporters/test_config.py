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


def _factories():
    from zeebe_trio.exporters import Exporter, ExporterArgument, ExporterFactory

    class Sink(Exporter):
        async def export(self, record):
            pass

    return {
        "sink": ExporterFactory("sink", Sink, arguments={
            "path": ExporterArgument(str, None, "where", required=True),
            "batchSize": ExporterArgument(int, 100),
            "flushDelay": ExporterArgument(float, 1.0),
            "compress": ExporterArgument(bool, False),
            "tags": ExporterArgument(list, []),
        }),
        "undeclared": ExporterFactory("undeclared", Sink, default_args={"batchSize": 1}),
    }


def test_declared_arguments_give_defaults_and_cannot_be_declared_twice():
    from zeebe_trio.exporters import ExporterArgument, ExporterFactory

    assert _factories()["sink"].default_args == {"path": None, "batchSize": 100, "flushDelay": 1.0,
                                                 "compress": False, "tags": []}
    with pytest.raises(ValueError, match="not also in default_args"):
        ExporterFactory("x", object, default_args={"a": 1}, arguments={"a": ExporterArgument(int, 1)})


def test_environment_arguments_are_parsed_as_their_declared_type():
    [settings] = load_exporter_settings({"out": {"type": "sink", "args": {"batch_size": 7}}}, {
        "ZEEBE_TRIO_EXPORTERS_OUT_ARGS_PATH": "2024",
        "ZEEBE_TRIO_EXPORTERS_OUT_ARGS_FLUSHDELAY": "2",
        "ZEEBE_TRIO_EXPORTERS_OUT_ARGS_COMPRESS": "yes",
        "ZEEBE_TRIO_EXPORTERS_OUT_ARGS_TAGS": '["a"]',
    }, _factories())
    assert settings.args == {"batchSize": 7, "path": "2024", "flushDelay": 2.0, "compress": True, "tags": ["a"]}


@pytest.mark.parametrize(("args", "environ", "message"), [
    ({"path": "p", "batchSise": 1}, {},
     r"exporter 'out' \(type 'sink'\) has no argument 'batchSise' \(did you mean 'batchSize'\?\);"
     r" its arguments are path, batchSize, flushDelay, compress, tags"),
    ({"path": "p"}, {"ZEEBE_TRIO_EXPORTERS_OUT_ARGS_FLUSH_DELAI": "1"},
     r"environment variable ZEEBE_TRIO_EXPORTERS_OUT_ARGS_FLUSH_DELAI: exporter 'out' \(type 'sink'\) has no"
     r" argument 'flushDelai' \(did you mean 'flushDelay'\?\)"),
    ({"path": "p", "whatever": 1}, {}, r"has no argument 'whatever'; its arguments are"),
    ({"path": 5}, {}, r"exporter 'out' \(type 'sink'\): args.path must be a string, got 5"),
    ({"path": "p", "batchSize": 2.5}, {}, r"args.batchSize must be an integer, got 2.5"),
    ({"path": "p", "batchSize": True}, {}, r"args.batchSize must be an integer, got True"),
    ({"path": "p"}, {"ZEEBE_TRIO_EXPORTERS_OUT_ARGS_COMPRESS": "maybe"},
     r"ZEEBE_TRIO_EXPORTERS_OUT_ARGS_COMPRESS: .*args.compress must be true or false, got 'maybe'"),
    ({"path": "p", "tags": "a,b"}, {}, r"args.tags must be a list"),
    ({}, {}, r"exporter 'out' \(type 'sink'\): args.path is required \(where\)"),
])
def test_unknown_and_mistyped_arguments_are_errors_naming_the_exporter_and_the_argument(args, environ, message):
    with pytest.raises(ExporterConfigurationError, match=message):
        load_exporter_settings({"out": {"type": "sink", "args": args}}, environ, _factories())


def test_arguments_of_exporters_that_declare_none_are_passed_through():
    [settings] = load_exporter_settings({"out": {"type": "undeclared", "args": {"anything": 1}}},
                                        {"ZEEBE_TRIO_EXPORTERS_OUT_ARGS_BATCH_SIZE": "5"}, _factories())
    assert settings.args == {"anything": 1, "batchSize": 5}


def test_an_unknown_exporter_variable_is_an_error_naming_it():
    with pytest.raises(ExporterConfigurationError,
                       match="environment variable ZEEBE_TRIO_EXPORTERS_OUT_TYP: not an exporter setting"):
        load_exporter_settings({"out": {"type": "sink"}}, {"ZEEBE_TRIO_EXPORTERS_OUT_TYP": "sink"})


def test_the_broker_check_refuses_unknown_types_and_warns_about_unchecked_arguments(caplog):
    from zeebe_trio.exporters import check_exporter_settings

    factories = _factories()
    with pytest.raises(ExporterConfigurationError,
                       match=r"exporter 'out': type 'sinc' is not installed \(did you mean 'sink'\?\);"
                             r" installed: sink, undeclared"):
        check_exporter_settings([ExporterSettings("out", "sinc")], factories)
    check_exporter_settings([ExporterSettings("off", "sinc", enabled=False)], factories)  # disabled: not built
    check_exporter_settings([ExporterSettings("out", "undeclared", {"anything": 1})], factories)
    assert "exporter 'out' (type 'undeclared') declares no arguments; its args anything are passed through" \
        in caplog.text


def test_skip_record_after_failures_is_a_whole_number_from_the_file_or_the_environment():
    settings = by_id(load_exporter_settings(
        {"analytics": {"type": "duckdb", "skipRecordAfterFailures": 3}, "audit": {"type": "jsonl"},
         "strict": {"type": "jsonl"}},
        {"ZEEBE_TRIO_EXPORTERS_STRICT_SKIPRECORDAFTERFAILURES": "0"},
    ))
    assert settings["analytics"].skip_record_after_failures == 3
    assert settings["audit"].skip_record_after_failures == 10  # the default
    assert settings["strict"].skip_record_after_failures == 0  # never skip
    for bad in (-1, "ten", 2.5, True):
        with pytest.raises(ExporterConfigurationError, match="skipRecordAfterFailures must be a whole number"):
            load_exporter_settings({"a": {"type": "jsonl", "skipRecordAfterFailures": bad}})
