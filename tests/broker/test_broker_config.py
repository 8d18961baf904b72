"""Broker configuration: defaults, TOML file, environment variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeebe_trio.broker import BrokerConfig, ConfigError


def test_defaults_are_the_embedded_single_node_broker() -> None:
    config = BrokerConfig.load(None, environ={})
    assert (config.gateway_port, config.partitions, config.embedded_gateway, config.data_dir) == (
        26500, 1, True, Path("data"))


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
    ("", {"ZEEBE_TRIO_PARTITIONS": "2"}, "only 1 partition"),
])
def test_bad_settings_are_errors_that_name_the_setting(tmp_path: Path, text: str, environ: dict, words: str) -> None:  # type: ignore[type-arg]
    path = tmp_path / "broker.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        BrokerConfig.load(path, environ=environ)


def test_without_an_exporters_section_the_installed_duckdb_exporter_is_enabled(tmp_path: Path) -> None:
    config = BrokerConfig.load(None, environ={"ZEEBE_TRIO_DATA_DIR": str(tmp_path)})
    assert config.exporter_settings()["duckdb"]["args"]["path"] == str(tmp_path / "analytics.duckdb")
