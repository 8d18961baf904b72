"""Broker configuration: defaults, a TOML file, then ``ZEEBE_TRIO_*`` environment variables.

Precedence: environment > file > defaults. Every setting has an environment variable named after it:
``ZEEBE_TRIO_DATA_DIR``, ``ZEEBE_TRIO_GATEWAY_PORT``, ``ZEEBE_TRIO_SNAPSHOT_PERIOD`` ... Exporters
have ``ZEEBE_TRIO_EXPORTERS_<ID>_...`` (zeebe_trio.exporters). Any other ``ZEEBE_TRIO_*`` variable
that is not in ``OTHER_VARIABLES`` is an error naming the closest setting, as an unknown setting in
the file is: a misspelt variable must not leave the broker on its defaults.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeebe_trio.cluster import parse_address, validate_cluster_shape
from zeebe_trio.exporters import DISABLE_AUTOLOAD_ENV
from zeebe_trio.exporters import ENV_PREFIX as EXPORTERS_ENV_PREFIX

DEFAULT_INTERNAL_PORT = 26502


class ConfigError(ValueError):
    """A setting is missing, unknown or has a value of the wrong kind; the message names it."""


ENV_PREFIX = "ZEEBE_TRIO_"
OTHER_VARIABLES = frozenset({
    DISABLE_AUTOLOAD_ENV,  # read by zeebe_trio.exporters' plugin manager
})
"""``ZEEBE_TRIO_*`` variables that are not broker settings but are read elsewhere."""

MAX_PARTITIONS = 64
"""The most partitions one broker runs (keys could tell 8,191 apart; each partition is a log, a state
store and a processing loop of its own)."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _did_you_mean(name: str, candidates: list[str], render: Callable[[str], str] = "'{}'".format) -> str:
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {render(matches[0])}?)" if matches else ""


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
    # Loopback by default: the command API takes engine-facing commands, so other hosts get in only
    # with command_api_secret set (and this set to an interface they can reach).
    command_api_host: str = "127.0.0.1"
    command_api_port: int = 26501
    # Shared secret that gateways on other hosts prove they hold (HMAC challenge; never sent). Empty:
    # only loopback peers are served. Set it on the broker and as ZEEBE_TRIO_COMMAND_API_SECRET for
    # `zeebe-trio gateway`.
    command_api_secret: str = field(default="", repr=False)
    command_api_max_connections: int = 256
    command_api_max_buffered_bytes: int = 64 * 1024 * 1024  # partial frames of all connections together
    command_api_frame_timeout: float = 30.0  # seconds from a frame's first byte to its last
    # TLS on the command API when both are set (PEM files); gateways then connect with --broker-ca.
    # The shared secret still decides who may talk to the broker: TLS keeps the traffic private.
    command_api_tls_certificate: str = ""
    command_api_tls_private_key: str = ""
    # TLS on the embedded gateway's gRPC port when both are set (Zeebe's gateway security
    # certificateChainPath / privateKeyPath): the PEM certificate chain and its private key.
    gateway_tls_certificate: str = ""
    gateway_tls_private_key: str = ""
    # Bearer tokens (JWTs from an identity provider) on every gRPC call but health checks.
    gateway_auth_enabled: bool = False
    gateway_auth_issuer: str = ""  # the tokens' 'iss'
    gateway_auth_audience: str = ""  # what their 'aud' must hold
    gateway_auth_jwks: str = ""  # the provider's signing keys: a JWKS file, or its http(s) URL
    advertised_host: str = "localhost"
    snapshot_period: float = 300.0  # seconds between periodic snapshots (Zeebe: 5 minutes)
    max_inflight_requests: int = 2000  # per partition; more is answered with RESOURCE_EXHAUSTED
    # Element instances and in-flight sequence flows one flow scope may hold; a token that would pass it
    # raises an incident (a process that multiplies its tokens without end stops there).
    max_element_instances_per_scope: int = 10_000
    max_message_size: int = 4 * 1024 * 1024  # bytes, as Zeebe's default gateway/broker limit
    due_date_check_interval: float = 1.0  # seconds between scans for timed-out jobs / expired messages
    stats_log_interval: float = 0.0  # seconds between "partition statistics" log lines; 0 = off
    log_segment_size: int = 128 * 1024 * 1024
    # Disk watermark (Zeebe: zeebe.broker.data.disk.*): below disk_free_space_processing free bytes on
    # the data directory's file system, client commands are refused with RESOURCE_EXHAUSTED and
    # processing pauses until the space is back, checked every disk_monitoring_interval seconds.
    disk_monitoring_enabled: bool = True
    disk_monitoring_interval: float = 1.0
    disk_free_space_processing: int = 2 * 1024 * 1024 * 1024
    # A command whose processing killed the broker this many times is rejected on the next start.
    crash_guard_attempts: int = 3
    # fsync and snapshot copies in a worker thread (production). Tests under trio's MockClock turn it
    # off so that virtual time never jumps while the run loop waits for a thread.
    fsync_in_thread: bool = True
    # The cluster: brokers node_id 0..cluster_size-1, each partition replicated on replication_factor of
    # them (round-robin, as Zeebe places them), talking on internal_host:internal_port. A broker needs the
    # internal addresses of some others (host:port, comma-separated) and learns the rest.
    cluster_size: int = 1
    replication_factor: int = 1
    initial_contact_points: str = ""
    internal_host: str = "0.0.0.0"
    internal_port: int = 26502
    cluster_name: str = "zeebe-cluster"
    # Shared secret every broker of the cluster proves it holds; empty: brokers accept loopback peers only.
    cluster_secret: str = field(default="", repr=False)
    # Raft timing (Zeebe: zeebe.broker.cluster.electionTimeout / heartbeatInterval): a follower that hears
    # no leader for a random time between election_timeout and twice that starts an election.
    election_timeout: float = 2.5
    heartbeat_interval: float = 0.25
    # Exporter settings by exporter id (see zeebe_trio.exporters); None means the embedded default:
    # the DuckDB analytics exporter into <data_dir>/analytics.duckdb when that plugin is installed.
    exporters: dict[str, Any] | None = None

    @property
    def max_raft_entry_bytes(self) -> int:
        """A Raft entry holds one command's batch: room for the largest command and what it produces beside
        it, and always for the rejection of a command whose records are too many (it repeats the command)."""
        return self.max_message_size + 1024 * 1024

    @classmethod
    def load(cls, path: Path | None = None, environ: dict[str, str] | None = None) -> BrokerConfig:
        """Defaults, then the TOML file at ``path``, then ``ZEEBE_TRIO_*`` variables from ``environ``
        (default ``os.environ``). Raises ``ConfigError`` naming the setting or variable, and the fix,
        before anything is opened or bound: exporter sections and arguments are checked here too."""
        config = cls()
        if path is not None:
            try:
                data = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise ConfigError(f"cannot read config file '{path}': {error}") from None
            if "broker" in data:
                section = data["broker"]
                for name in data:
                    if name not in ("broker", "exporters"):
                        raise ConfigError(f"'{path}': unknown section [{name}]"
                                          f"{_did_you_mean(name, ['broker', 'exporters'])}"
                                          " (sections: [broker], [exporters.<id>])")
                if not isinstance(section, dict):
                    raise ConfigError(f"'{path}': broker must be a section ([broker]), got {section!r:.60}")
            else:
                section = {name: value for name, value in data.items() if name != "exporters"}
            for name, value in section.items():
                config._set(name.replace("-", "_"), value, f"'{path}'")
            if "exporters" in data:
                if not isinstance(data["exporters"], dict):
                    raise ConfigError(f"'{path}': exporters must be sections [exporters.<id>], got"
                                      f" {data['exporters']!r:.60}")
                config.exporters = dict(data["exporters"])
        env = os.environ if environ is None else environ
        settings = [f.name for f in dataclasses.fields(cls) if f.name != "exporters"]
        for key in sorted(env):
            if not key.startswith(ENV_PREFIX) or key in OTHER_VARIABLES or key.startswith(EXPORTERS_ENV_PREFIX):
                continue
            name = key[len(ENV_PREFIX):].lower()
            if name not in settings:
                known = settings + [other[len(ENV_PREFIX):].lower() for other in sorted(OTHER_VARIABLES)]
                raise ConfigError(f"environment variable {key} is not a setting"
                                  f"{_did_you_mean(name, known, lambda match: ENV_PREFIX + match.upper())}; fix its name or"
                                  " unset it (the settings are in the README's Configuration section)")
            config._set(name, env[key], f"environment variable {key}")
        config._validate()
        config._check_exporters(env)
        return config

    def _set(self, name: str, raw: Any, origin: str) -> None:
        fields = {f.name: f for f in dataclasses.fields(self) if f.name != "exporters"}
        if name not in fields:
            raise ConfigError(f"{origin}: unknown setting '{name}'{_did_you_mean(name, sorted(fields))};"
                              f" known: {', '.join(sorted(fields))}")
        current = getattr(self, name)
        try:
            if isinstance(current, bool):
                value: Any = raw if isinstance(raw, bool) else _boolean(raw)
            elif isinstance(raw, bool) or isinstance(raw, dict | list):
                raise TypeError(raw)
            elif isinstance(current, int):
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError(raw)
                value = int(raw)
            elif isinstance(current, float):
                value = float(raw)
            elif isinstance(current, Path):
                value = Path(raw)
            else:
                value = str(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: setting '{name}' expects {_KIND.get(type(current), 'a ' + type(current).__name__)},"
                              f" got {raw!r:.60}") from None
        setattr(self, name, value)

    def _check_exporters(self, environ: Mapping[str, str]) -> None:
        """The exporter sections and ``ZEEBE_TRIO_EXPORTERS_*`` variables, checked against the installed
        exporters (type installed, arguments declared and of the declared type, ``configure`` accepts
        them), so that a bad exporter section stops the broker before it binds any port."""
        from zeebe_trio.exporters import (
            ExporterConfigurationError,
            PluginError,
            check_exporter_settings,
            exporter_factories,
            get_plugin_manager,
            load_exporter_settings,
        )

        try:
            factories = exporter_factories(get_plugin_manager(environ=environ))
            settings = load_exporter_settings(self.exporter_settings(factories), environ, factories)
            check_exporter_settings(settings, factories, range(1, self.partitions + 1))
        except (ExporterConfigurationError, PluginError) as error:
            raise ConfigError(str(error)) from None

    def exporter_settings(self, factories: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``exporters`` sections; without any, the DuckDB exporter when it is installed."""
        if self.exporters is not None:
            return self.exporters
        if factories is None:
            from zeebe_trio.exporters import exporter_factories

            factories = exporter_factories()
        if "duckdb" in factories:
            return {"duckdb": {"type": "duckdb", "args": {"path": str(Path(self.data_dir) / "analytics.duckdb")}}}
        return {}

    def _validate(self) -> None:
        if not 1 <= self.partitions <= MAX_PARTITIONS:
            raise ConfigError(f"partitions: {self.partitions} is not a partition count; use 1 to {MAX_PARTITIONS}"
                              " (ZEEBE_TRIO_PARTITIONS)")
        if not 0 <= self.gateway_port < 65536:
            raise ConfigError(f"gateway_port: {self.gateway_port} is not a TCP port")
        if not 0 <= self.command_api_port < 65536:
            raise ConfigError(f"command_api_port: {self.command_api_port} is not a TCP port")
        if self.max_inflight_requests < 1:
            raise ConfigError("max_inflight_requests must be at least 1")
        if self.max_element_instances_per_scope < 2:
            raise ConfigError("max_element_instances_per_scope must be at least 2")
        if self.due_date_check_interval <= 0:
            raise ConfigError("due_date_check_interval must be a positive number of seconds")
        if self.disk_monitoring_interval <= 0:
            raise ConfigError("disk_monitoring_interval must be a positive number of seconds")
        if self.disk_free_space_processing < 0:
            raise ConfigError("disk_free_space_processing must be a number of bytes, 0 or more")
        if self.crash_guard_attempts < 1:
            raise ConfigError("crash_guard_attempts must be at least 1")
        if self.command_api_secret and len(self.command_api_secret) < 16:
            raise ConfigError("command_api_secret: use at least 16 characters (e.g. the output of"
                              " `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
        if self.command_api_max_connections < 1:
            raise ConfigError("command_api_max_connections must be at least 1")
        if self.command_api_max_buffered_bytes < self.max_message_size:
            raise ConfigError(f"command_api_max_buffered_bytes must be at least max_message_size"
                              f" ({self.max_message_size}), or no gateway could send its largest command")
        if self.command_api_frame_timeout <= 0:
            raise ConfigError("command_api_frame_timeout must be a positive number of seconds")
        self._check_cluster()
        self._check_security()

    def contact_points(self) -> list[tuple[str, int]]:
        """``initial_contact_points`` as (host, port) pairs (the internal port when one gives none)."""
        return [parse_address(text, DEFAULT_INTERNAL_PORT) for text in self.initial_contact_points.split(",")
                if text.strip()]

    def _check_cluster(self) -> None:
        try:
            validate_cluster_shape(self.node_id, self.cluster_size, self.partitions, self.replication_factor)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        if not 0 <= self.internal_port < 65536:
            raise ConfigError(f"internal_port: {self.internal_port} is not a TCP port")
        for text in self.initial_contact_points.split(","):
            if text.strip():
                try:
                    parse_address(text, DEFAULT_INTERNAL_PORT)
                except ValueError as error:
                    raise ConfigError(f"initial_contact_points: {error} (write host:port, comma-separated)") from None
        if self.cluster_secret and len(self.cluster_secret) < 16:
            raise ConfigError("cluster_secret: use at least 16 characters (e.g. the output of"
                              " `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
        if self.heartbeat_interval <= 0 or self.election_timeout <= 0:
            raise ConfigError("election_timeout and heartbeat_interval must be positive numbers of seconds")
        if self.heartbeat_interval * 2 > self.election_timeout:
            raise ConfigError(f"heartbeat_interval ({self.heartbeat_interval} s) must be at most half of"
                              f" election_timeout ({self.election_timeout} s), or followers time out between"
                              " heartbeats")
        if self.cluster_size > 1:
            if not self.command_api_enabled:
                raise ConfigError("command_api_enabled: a broker of a cluster needs its command API, which the"
                                  " other brokers' gateways send its partitions' commands to")
            if self.command_api_tls_certificate:
                raise ConfigError("command_api_tls_certificate: TLS on the command API is not supported in a"
                                  " cluster yet (the brokers' gateways could not verify each other); leave it"
                                  " unset and keep the internal ports on a private network")

    def _check_security(self) -> None:
        """TLS files exist and hold what they should; authentication has what it needs. Checked here
        so that the broker exits with one line before it binds anything."""
        from zeebe_trio.gateway._auth import check_auth_settings
        from zeebe_trio.gateway._tls import TlsSettingsError, server_context, tls_pair

        try:
            for prefix in ("gateway_tls", "command_api_tls"):
                pair = tls_pair(getattr(self, f"{prefix}_certificate"), getattr(self, f"{prefix}_private_key"),
                                certificate_setting=f"{prefix}_certificate", key_setting=f"{prefix}_private_key")
                if pair is not None:
                    server_context(*pair, certificate_setting=f"{prefix}_certificate",
                                   key_setting=f"{prefix}_private_key")
        except TlsSettingsError as error:
            raise ConfigError(str(error)) from None
        if self.gateway_auth_enabled:
            try:
                check_auth_settings(issuer=self.gateway_auth_issuer, audience=self.gateway_auth_audience,
                                    jwks=self.gateway_auth_jwks,
                                    names={what: f"gateway_auth_{what}" for what in ("issuer", "audience", "jwks")})
            except ValueError as error:
                raise ConfigError(f"{error} (gateway_auth_enabled is true)") from None


_KIND = {bool: "true or false", int: "an integer", float: "a number", str: "a string", Path: "a path"}


def _boolean(raw: Any) -> bool:
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(raw)
