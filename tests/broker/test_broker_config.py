"""Broker configuration: defaults, TOML file, environment variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeebe_trio.broker import BrokerConfig, ConfigError


def test_defaults_are_the_embedded_single_node_broker() -> None:
    config = BrokerConfig.load(None, environ={})
    assert (config.gateway_port, config.partitions, config.embedded_gateway, config.data_dir) == (
        26500, 1, True, Path("data"))


def test_the_cluster_settings_default_to_one_broker_and_read_contact_points() -> None:
    config = BrokerConfig.load(None, environ={"ZEEBE_TRIO_INITIAL_CONTACT_POINTS": "broker-1:26602, broker-2"})
    assert (config.cluster_size, config.replication_factor, config.internal_port) == (1, 1, 26502)
    assert (config.election_timeout, config.heartbeat_interval) == (2.5, 0.25)  # Zeebe's defaults
    assert config.contact_points() == [("broker-1", 26602), ("broker-2", 26502)]
    assert "cluster_secret" not in repr(BrokerConfig(cluster_secret="a" * 20))


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text('[broker]\ndata_dir = "/var/zt"\ngateway_port = 26600\nsnapshot_period = 60\n'
                    '[exporters.analytics]\ntype = "duckdb"\nargs = { path = "/tmp/a.duckdb" }\n')
    config = BrokerConfig.load(path, environ={"ZEEBE_TRIO_GATEWAY_PORT": "26700",
                                              "ZEEBE_TRIO_EMBEDDED_GATEWAY": "false"})
    assert config.data_dir == Path("/var/zt") and config.snapshot_period == 60.0
    assert config.gateway_port == 26700 and config.embedded_gateway is False
    assert config.exporter_settings() == {"analytics": {"type": "duckdb", "args": {"path": "/tmp/a.duckdb"}}}


@pytest.mark.parametrize(("text", "environ", "words"), [
    ("[broker]\ngateway_prot = 1\n", {}, "unknown setting 'gateway_prot'"),
    ("", {"ZEEBE_TRIO_GATEWAY_PORT": "many"}, "ZEEBE_TRIO_GATEWAY_PORT"),
    ("[broker]\ngateway_port = 70000\n", {}, "not a TCP port"),
    ("[broker\n", {}, "cannot read config file"),
    ("", {"ZEEBE_TRIO_PARTITIONS": "0"}, "partitions: 0 is not a partition count"),
    ("[broker]\ndue_date_check_interval = 0\n", {}, "due_date_check_interval must be a positive"),
    ("", {"ZEEBE_TRIO_NODE_ID": "3"}, r"node_id must be between 0 and cluster_size - 1 \(0\), got 3"),
    ("[broker]\nreplication_factor = 2\n", {}, r"replication_factor must be between 1 and cluster_size \(1\)"),
    ("", {"ZEEBE_TRIO_INITIAL_CONTACT_POINTS": "broker-1:26502, broker-2:http"},
     "initial_contact_points: address 'broker-2:http': port 'http' is not a number"),
    ("", {"ZEEBE_TRIO_INTERNAL_PORT": "-1"}, "internal_port: -1 is not a TCP port"),
    ("", {"ZEEBE_TRIO_CLUSTER_SECRET": "short"}, "cluster_secret: use at least 16 characters"),
    ("[broker]\ncluster_size = 3\ncommand_api_enabled = false\n", {},
     "command_api_enabled: a broker of a cluster needs its command API"),
    ("[broker]\nheartbeat_interval = 2.0\n", {}, r"heartbeat_interval \(2.0 s\) must be at most half of election_timeout"),
])
def test_bad_settings_are_errors_that_name_the_setting(tmp_path: Path, text: str, environ: dict, words: str) -> None:  # type: ignore[type-arg]
    path = tmp_path / "broker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        BrokerConfig.load(path, environ=environ)


def test_without_an_exporters_section_the_installed_duckdb_exporter_is_enabled(tmp_path: Path) -> None:
    config = BrokerConfig.load(None, environ={"ZEEBE_TRIO_DATA_DIR": str(tmp_path)})
    assert config.exporter_settings()["duckdb"]["args"]["path"] == str(tmp_path / "analytics.duckdb")


@pytest.mark.parametrize(("variable", "suggestion"), [
    ("ZEEBE_TRIO_GATEWAY_PROT", "ZEEBE_TRIO_GATEWAY_PORT"),
    ("ZEEBE_TRIO_DATADIR", "ZEEBE_TRIO_DATA_DIR"),
    ("ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOADING", "ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD"),
])
def test_an_unknown_zeebe_trio_variable_is_an_error_naming_it_and_the_closest_setting(
        variable: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as error:
        BrokerConfig.load(None, environ={variable: "26600"})
    assert f"environment variable {variable} is not a setting (did you mean {suggestion}?)" in str(error.value)


def test_variables_read_elsewhere_and_exporter_variables_are_not_broker_settings() -> None:
    assert BrokerConfig.load(None, environ={"ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD": "1",
                                            "OTHER_ZEEBE_TRIO_GATEWAY_PROT": "1"}).gateway_port == 26500
    config = BrokerConfig.load(None, environ={"ZEEBE_TRIO_EXPORTERS_DUCKDB_ARGS_BATCHSIZE": "10"})
    assert config.gateway_port == 26500 and "duckdb" in config.exporter_settings()


def test_an_unknown_setting_in_the_file_suggests_the_closest_one(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text("[broker]\nsnapshot_perod = 60\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'snapshot_perod' \(did you mean 'snapshot_period'\?\)"):
        BrokerConfig.load(path, environ={})


def test_an_unknown_section_in_the_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text('[broker]\ngateway_port = 1\n[exporter.analytics]\ntype = "duckdb"\n')
    with pytest.raises(ConfigError, match=r"unknown section \[exporter\] \(did you mean 'exporters'\?\)"):
        BrokerConfig.load(path, environ={})


def test_a_file_without_a_broker_section_may_configure_exporters(tmp_path: Path) -> None:
    path = tmp_path / "broker.toml"
    path.write_text('gateway_port = 26600\n[exporters.debug]\ntype = "log"\n')
    config = BrokerConfig.load(path, environ={})
    assert config.gateway_port == 26600 and config.exporter_settings() == {"debug": {"type": "log"}}


@pytest.mark.parametrize(("environ", "words"), [
    ({"ZEEBE_TRIO_EMBEDDED_GATEWAY": "flase"}, "setting 'embedded_gateway' expects true or false, got 'flase'"),
    ({"ZEEBE_TRIO_GATEWAY_PORT": "26500.5"}, "setting 'gateway_port' expects an integer"),
])
def test_values_of_the_wrong_kind_are_errors(environ: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        BrokerConfig.load(None, environ=environ)


DUCKDB = '[exporters.analytics]\ntype = "duckdb"\n'


@pytest.mark.parametrize(("text", "environ", "words"), [
    ('[exporters.analytics]\nargs = { path = "a.duckdb" }\n', {}, "exporter 'analytics': no 'type'"),
    ('[exporters.analytics]\ntype = "duckbd"\n', {},
     r"exporter 'analytics': type 'duckbd' is not installed \(did you mean 'duckdb'\?\); installed: .*duckdb"),
    (DUCKDB + "args = 5\n", {}, "exporter 'analytics': args must be a table"),
    ("exporters = 5\n", {}, "exporters must be sections"),
    (DUCKDB + 'args = { path = "a.duckdb", batchSise = 5 }\n', {},
     r"exporter 'analytics' \(type 'duckdb'\) has no argument 'batchSise' \(did you mean 'batchSize'\?\)"),
    (DUCKDB + 'args = { path = "a.duckdb", batchSize = "many" }\n', {},
     r"exporter 'analytics' \(type 'duckdb'\): args.batchSize must be an integer, got 'many'"),
    (DUCKDB + 'args = { path = "a.duckdb", batchSize = 0 }\n', {}, r"args\.batchSize must be at least 1"),
    (DUCKDB, {}, r"args\.path is required"),
    (DUCKDB + 'args = { path = "a.duckdb" }\n', {"ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCH_SISE": "5"},
     r"environment variable ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCH_SISE: exporter 'analytics' \(type 'duckdb'\)"
     r" has no argument 'batchSise' \(did you mean 'batchSize'\?\)"),
    (DUCKDB + 'args = { path = "a.duckdb" }\n', {"ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_FLUSHDELAY": "soon"},
     r"ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_FLUSHDELAY: .*args.flushDelay must be a number, got 'soon'"),
    (DUCKDB + 'args = { path = "a.duckdb" }\n', {"ZEEBE_TRIO_EXPORTERS_ANALYTICS_BATCHSIZE": "5"},
     "environment variable ZEEBE_TRIO_EXPORTERS_ANALYTICS_BATCHSIZE: not an exporter setting"),
    (DUCKDB + 'args = { path = "a.duckdb" }\n', {"ZEEBE_TRIO_EXPORTERS_ANALYTIC_ARGS_BATCHSIZE": "5"},
     r"exporter 'analytic': no 'type'.*did you mean exporter 'analytics'"),
    ('[exporters.debug]\ntype = "log"\nargs = { level = "LOUD" }\n', {}, "args.level 'LOUD' is not a logging level"),
])
def test_a_bad_exporter_section_is_a_config_error_at_load(tmp_path: Path, text: str, environ: dict[str, str],
                                                          words: str) -> None:
    path = tmp_path / "broker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        BrokerConfig.load(path, environ=environ)


@pytest.mark.parametrize("variable", ["ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCHSIZE",
                                      "ZEEBE_TRIO_EXPORTERS_ANALYTICS_ARGS_BATCH_SIZE"])
def test_both_spellings_of_an_exporter_argument_variable_set_the_declared_argument(
        tmp_path: Path, variable: str) -> None:
    from zeebe_trio.exporters import exporter_factories, load_exporter_settings

    path = tmp_path / "broker.toml"
    path.write_text(DUCKDB + 'args = { path = "a.duckdb", batchSize = 10 }\n')
    environ = {variable: "500"}
    config = BrokerConfig.load(path, environ=environ)
    [settings] = load_exporter_settings(config.exporter_settings(), environ, exporter_factories())
    assert settings.args == {"path": "a.duckdb", "batchSize": 500}


def test_a_misspelt_variable_stops_the_real_broker_with_one_line_and_exit_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(tmp_path / "data"), "ZEEBE_TRIO_GATEWAY_PORT": "0",
           "ZEEBE_TRIO_COMMAND_API_PORT": "0", "ZEEBE_TRIO_HOST": "127.0.0.1",
           "ZEEBE_TRIO_COMMAND_API_HOST": "127.0.0.1", "ZEEBE_TRIO_GATEWAY_PROT": "26600"}
    result = subprocess.run([sys.executable, "-m", "zeebe_trio.cli", "broker"], env=env, text=True,
                            capture_output=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "zeebe-trio broker: environment variable ZEEBE_TRIO_GATEWAY_PROT is not a setting"
        " (did you mean ZEEBE_TRIO_GATEWAY_PORT?); fix its name or unset it (the settings are in the README's"
        " Configuration section)"]
    assert "ready" not in result.stdout and not (tmp_path / "data").exists()
