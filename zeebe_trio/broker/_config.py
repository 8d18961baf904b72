"""Broker configuration: defaults, a TOML file, then ``ZEEBE_TRIO_*`` environment variables.

Precedence: environment > file > defaults. Every setting has an environment variable named after it:
``ZEEBE_TRIO_DATA_DIR``, ``ZEEBE_TRIO_GATEWAY_PORT``, ``ZEEBE_TRIO_SNAPSHOT_PERIOD`` ...
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing, unknown or has a value of the wrong kind; the message names it."""


@dataclass
class BrokerConfig:
    data_dir: Path = Path("data")
    node_id: int = 0
    partitions: int = 1
    host: str = "0.0.0.0"
    gateway_port: int = 26500
    embedded_gateway: bool = True
    # The command API: where standalone gateways (zeebe-trio gateway) reach this broker. Port 0 picks one.
    command_api_enabled: bool = True
    command_api_host: str = "0.0.0.0"
    command_api_port: int = 26501
    advertised_host: str = "localhost"
    snapshot_period: float = 300.0  # seconds between periodic snapshots (Zeebe: 5 minutes)
    max_inflight_requests: int = 2000  # per partition; more is answered with RESOURCE_EXHAUSTED
    max_message_size: int = 4 * 1024 * 1024  # bytes, as Zeebe's default gateway/broker limit
    due_date_check_interval: float = 1.0  # seconds between scans for timed-out jobs / expired messages
    stats_log_interval: float = 0.0  # seconds between "partition statistics" log lines; 0 = off
    log_segment_size: int = 128 * 1024 * 1024
    # fsync in a worker thread (production). Tests under trio's MockClock turn it off so that virtual
    # time never jumps while the run loop waits for a thread.
    fsync_in_thread: bool = True
    # Exporter settings by exporter id (see zeebe_trio.exporters); None means the embedded default:
    # the DuckDB analytics exporter into <data_dir>/analytics.duckdb when that plugin is installed.
    exporters: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path | None = None, environ: dict[str, str] | None = None) -> BrokerConfig:
        config = cls()
        if path is not None:
            try:
                data = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise ConfigError(f"cannot read config file '{path}': {error}") from None
            section = data.get("broker", data)
            for name, value in section.items():
                config._set(name.replace("-", "_"), value, f"'{path}'")
            if "exporters" in data:
                config.exporters = dict(data["exporters"])
        env = os.environ if environ is None else environ
        for field_ in dataclasses.fields(cls):
            if field_.name == "exporters":
                continue
            key = f"ZEEBE_TRIO_{field_.name.upper()}"
            if key in env:
                config._set(field_.name, env[key], f"environment variable {key}")
        config._validate()
        return config

    def _set(self, name: str, raw: Any, origin: str) -> None:
        fields = {f.name: f for f in dataclasses.fields(self)}
        if name not in fields or name == "exporters":
            raise ConfigError(f"{origin}: unknown setting '{name}' (known: {', '.join(sorted(fields))})")
        current = getattr(self, name)
        try:
            if isinstance(current, bool):
                value: Any = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int):
                value = int(raw)
            elif isinstance(current, float):
                value = float(raw)
            elif isinstance(current, Path):
                value = Path(raw)
            else:
                value = str(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: setting '{name}' expects a {type(current).__name__}, got {raw!r}") from None
        setattr(self, name, value)

    def exporter_settings(self) -> dict[str, Any]:
        if self.exporters is not None:
            return self.exporters
        from zeebe_trio.exporters import exporter_factories

        if "duckdb" in exporter_factories():
            return {"duckdb": {"type": "duckdb", "args": {"path": str(Path(self.data_dir) / "analytics.duckdb")}}}
        return {}

    def _validate(self) -> None:
        if self.partitions != 1:
            raise ConfigError("partitions: only 1 partition is supported so far (deployment distribution to"
                              " several partitions is not built yet)")
        if not 0 <= self.gateway_port < 65536:
            raise ConfigError(f"gateway_port: {self.gateway_port} is not a TCP port")
        if not 0 <= self.command_api_port < 65536:
            raise ConfigError(f"command_api_port: {self.command_api_port} is not a TCP port")
        if self.max_inflight_requests < 1:
            raise ConfigError("max_inflight_requests must be at least 1")
