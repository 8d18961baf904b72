"""Exporter settings from the broker configuration file and environment variables.

File shape (the ``exporters`` tables of the broker's TOML configuration, one per exporter id)::

    [exporters.analytics]
    type = "duckdb"             # factory name; "className" is accepted as a Zeebe-style alias
    enabled = true              # optional, default true; false removes the exporter entirely
    recordTypes = ["EVENT"]     # optional filter, narrows the exporter's own filter
    valueTypes = ["PROCESS_INSTANCE", "JOB"]
    skipRecordAfterFailures = 10  # optional: give up on a record after 10 failed attempts; 0 = never
    args = { path = "/var/lib/zeebe-trio/export.duckdb", batchSize = 1000 }

Environment variables override and extend the file (``<ID>`` is the exporter id in upper case)::

    ZEEBE_TRIO_EXPORTERS_<ID>_TYPE=duckdb             (or _CLASSNAME)
    ZEEBE_TRIO_EXPORTERS_<ID>_ENABLED=false
    ZEEBE_TRIO_EXPORTERS_<ID>_RECORDTYPES=EVENT,COMMAND_REJECTION
    ZEEBE_TRIO_EXPORTERS_<ID>_VALUETYPES=JOB,INCIDENT
    ZEEBE_TRIO_EXPORTERS_<ID>_SKIPRECORDAFTERFAILURES=0
    ZEEBE_TRIO_EXPORTERS_<ID>_ARGS_<NAME>=value       (BATCHSIZE or BATCH_SIZE -> batchSize)

Any other ``ZEEBE_TRIO_EXPORTERS_*`` variable is an error. Argument names match the exporter's
declared arguments (``ExporterFactory.arguments``) case-insensitively, ignoring ``_`` and ``-``;
an unknown argument is an error naming the closest declared one, and a value is parsed as (or must
have) the declared type. For exporters that declare no arguments, environment values are parsed as
JSON when they parse (``1000``, ``2.5``, ``true``, ``{"a": 1}``) and kept as strings otherwise, and
the arguments are passed through unchecked.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import RecordType, ValueType

from ._api import (
    ACCEPT_ALL,
    ExporterArgument,
    ExporterConfigurationError,
    ExporterContext,
    ExporterFactory,
    RecordFilter,
)

logger = logging.getLogger("zeebe_trio.exporters")

ENV_PREFIX = "ZEEBE_TRIO_EXPORTERS_"
_ENV_FIELDS = {"_CLASSNAME": "className", "_TYPE": "type", "_ENABLED": "enabled", "_RECORDTYPES": "recordTypes",
               "_VALUETYPES": "valueTypes", "_SKIPRECORDAFTERFAILURES": "skipRecordAfterFailures"}
_SECTION_KEYS = ("type", "className", "enabled", "args", "recordTypes", "valueTypes", "skipRecordAfterFailures")

DEFAULT_SKIP_RECORD_AFTER_FAILURES = 10
"""Failed attempts in a row after which the director gives up on a record (see ``_director``)."""
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "a table"}


@dataclass(frozen=True, slots=True)
class ExporterSettings:
    """One configured exporter."""

    id: str
    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    record_filter: RecordFilter = ACCEPT_ALL
    skip_record_after_failures: int = DEFAULT_SKIP_RECORD_AFTER_FAILURES
    """Failed attempts in a row after which a record is skipped (logged and counted); 0 = never."""


@dataclass(frozen=True, slots=True)
class _FromEnvironment:
    """An argument value still as the text of its environment variable (parsed once its type is known)."""

    variable: str
    text: str


def _normalized(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, compared case-insensitively and ignoring ``_`` and ``-``."""
    by_normalized = {_normalized(candidate): candidate for candidate in candidates}
    matches = difflib.get_close_matches(_normalized(name), list(by_normalized), n=1, cutoff=0.6)
    return by_normalized[matches[0]] if matches else None


def _camel(env_key: str) -> str:
    first, *rest = env_key.lower().split("_")
    return first + "".join(part.capitalize() for part in rest)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _excerpt(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_bool(exporter_id: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ExporterConfigurationError(
        f"exporter '{exporter_id}': enabled must be true or false, got {_excerpt(value)}"
    )


def _attempts(exporter_id: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if type(value) is int and value >= 0:
        return value
    raise ExporterConfigurationError(
        f"exporter '{exporter_id}': skipRecordAfterFailures must be a whole number of attempts (0 = never"
        f" skip a record), got {_excerpt(value)}"
    )


def _enum_set(exporter_id: str, setting: str, enum: type[Any], value: Any) -> frozenset[Any]:
    names = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise ExporterConfigurationError(
            f"exporter '{exporter_id}': {setting} must be a list of names, got {_excerpt(value)}"
        )
    members = set()
    for name in names:
        try:
            members.add(enum[str(name).upper()])
        except KeyError:
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': {setting} has unknown name {_excerpt(name)};"
                f" use one of {', '.join(enum.__members__)}"
            ) from None
    return frozenset(members)


def _environment_sections(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``ZEEBE_TRIO_EXPORTERS_*`` variables as raw sections keyed by lower-case exporter id."""
    sections: dict[str, dict[str, Any]] = {}
    for name, text in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):]
        exporter, _, key = rest.partition("_ARGS_")
        if exporter and key:
            sections.setdefault(exporter.lower(), {}).setdefault("args", {})[_camel(key)] = _FromEnvironment(name, text)
            continue
        for suffix, setting in _ENV_FIELDS.items():
            if rest.endswith(suffix) and len(rest) > len(suffix):
                sections.setdefault(rest[: -len(suffix)].lower(), {})[setting] = text
                break
        else:
            raise ExporterConfigurationError(
                f"environment variable {name}: not an exporter setting; exporter variables are"
                f" {ENV_PREFIX}<ID>_TYPE, _ENABLED, _RECORDTYPES, _VALUETYPES, _SKIPRECORDAFTERFAILURES or _ARGS_<NAME>"
            )
    return sections


def _type_name(kind: type) -> str:
    return _TYPE_NAMES.get(kind, kind.__name__)


def _typed(kind: type, value: Any) -> Any:
    """``value`` as ``kind``; raises ValueError when it is not one (environment text is parsed)."""
    if isinstance(value, _FromEnvironment):
        text = value.text
        if kind is str:
            return text
        if kind is bool:
            if text.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
                return text.strip().lower() in ("true", "1", "yes", "on")
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        value = json.loads(text)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is dict and isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, bool) and kind is not bool:
        raise ValueError(value)
    if not isinstance(value, kind):
        raise ValueError(value)
    return value


def _declared_args(settings_id: str, factory: ExporterFactory, arguments: Mapping[str, ExporterArgument],
                   args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` checked against the declared ``arguments``: declared spelling, declared type."""
    spelling = {_normalized(name): name for name in arguments}
    exporter = f"exporter '{settings_id}' (type '{factory.name}')"
    checked: dict[str, Any] = {}
    for key, value in args.items():
        origin = f"environment variable {value.variable}: " if isinstance(value, _FromEnvironment) else ""
        name = spelling.get(_normalized(key))
        if name is None:
            closest = _closest(key, arguments)
            raise ExporterConfigurationError(
                f"{origin}{exporter} has no argument '{key}'" + (f" (did you mean '{closest}'?)" if closest else "")
                + f"; its arguments are {', '.join(arguments) or 'none'}"
            )
        kind = arguments[name].type
        try:
            checked[name] = _typed(kind, value)
        except ValueError:
            shown = value.text if isinstance(value, _FromEnvironment) else value
            raise ExporterConfigurationError(
                f"{origin}{exporter}: args.{name} must be {_type_name(kind)}, got {_excerpt(shown)}"
            ) from None
    for name, argument in arguments.items():
        if argument.required and checked.get(name) is None:
            raise ExporterConfigurationError(
                f"{exporter}: args.{name} is required ({argument.help or 'no default'}); set"
                f" exporters.{settings_id}.args.{name} or {ENV_PREFIX}{settings_id.upper().replace('-', '_')}"
                f"_ARGS_{name.upper()}"
            )
    return checked


def _passed_through(args: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _json_or_text(value.text) if isinstance(value, _FromEnvironment) else value
            for key, value in args.items()}


def load_exporter_settings(
    config: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None = None,
    factories: Mapping[str, ExporterFactory] | None = None,
) -> list[ExporterSettings]:
    """Enabled and disabled exporters from the ``exporters`` config section plus the environment.

    With ``factories``, the arguments of every exporter whose factory declares them are checked and
    typed (see the module docstring). Raises ``ExporterConfigurationError`` for malformed sections and
    unknown or mistyped arguments (the broker should refuse to start). Unknown exporter *types* are not
    checked here (``check_exporter_settings`` does, for the broker): the director reports them in
    health, because the plugin may simply not be installed.
    """
    if config is not None and not isinstance(config, Mapping):
        raise ExporterConfigurationError(
            f"exporters: expected a table of exporters ([exporters.<id>] sections), got {_excerpt(config)}"
        )
    merged: dict[str, dict[str, Any]] = {}
    for exporter_id, section in (config or {}).items():
        if not isinstance(section, Mapping):
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': expected a section with 'type' and 'args', got {_excerpt(section)}"
            )
        args = section.get("args") or {}
        if not isinstance(args, Mapping):
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': args must be a table (args = {{ name = value, ... }}),"
                f" got {_excerpt(args)}"
            )
        merged[str(exporter_id)] = {**section, "args": dict(args)}
    configured = list(merged)
    by_normalized = {_normalized(exporter_id): exporter_id for exporter_id in merged}
    from_environment_only = set()
    for env_id, env_section in _environment_sections(environ or {}).items():
        exporter_id = by_normalized.get(_normalized(env_id), env_id)
        if exporter_id not in merged:
            from_environment_only.add(exporter_id)
        target = merged.setdefault(exporter_id, {"args": {}})
        if ("type" in env_section or "className" in env_section) and "type" in target:
            target.pop("type")
            target.pop("className", None)
        target["args"].update(env_section.pop("args", {}))
        target.update(env_section)
    settings = []
    for exporter_id, section in merged.items():
        unknown = sorted(set(section) - set(_SECTION_KEYS))
        if unknown:
            closest = _closest(unknown[0], _SECTION_KEYS)
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': unknown settings {unknown}"
                + (f" (did you mean '{closest}'?)" if closest else "")
                + "; expected type, enabled, args, recordTypes, valueTypes, skipRecordAfterFailures"
            )
        exporter_type = section.get("type", section.get("className"))
        if not exporter_type or not isinstance(exporter_type, str):
            closest = _closest(exporter_id, configured) if exporter_id in from_environment_only else None
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': no 'type'; set exporters.{exporter_id}.type"
                f" (or {ENV_PREFIX}{exporter_id.upper()}_TYPE) to an installed exporter"
                " (see `zeebe-trio exporters`)"
                + (f"; or did you mean exporter '{closest}' ({ENV_PREFIX}{closest.upper()}_...)?" if closest else "")
            )
        factory = (factories or {}).get(exporter_type)
        if factory is not None and factory.arguments is not None:
            args = _declared_args(exporter_id, factory, factory.arguments, section["args"])
        else:
            args = _passed_through(section["args"])
        record_types = section.get("recordTypes")
        value_types = section.get("valueTypes")
        settings.append(
            ExporterSettings(
                id=exporter_id,
                type=exporter_type,
                args=args,
                enabled=_as_bool(exporter_id, section.get("enabled", True)),
                skip_record_after_failures=_attempts(
                    exporter_id, section.get("skipRecordAfterFailures", DEFAULT_SKIP_RECORD_AFTER_FAILURES)),
                record_filter=RecordFilter(
                    _enum_set(exporter_id, "recordTypes", RecordType, record_types) if record_types is not None else None,
                    _enum_set(exporter_id, "valueTypes", ValueType, value_types) if value_types is not None else None,
                ),
            )
        )
    return settings


def check_exporter_settings(settings: Iterable[ExporterSettings], factories: Mapping[str, ExporterFactory],
                            partition_ids: Iterable[int] = (1,)) -> None:
    """What the broker checks before it starts: every enabled exporter's type is installed and its
    ``configure`` accepts its arguments on every partition (``configure`` does no I/O, by contract).

    Raises ``ExporterConfigurationError`` naming the exporter and the fix. Logs a warning for arguments
    given to an exporter that declares none (they are passed through unchecked).
    """
    partition_ids = list(partition_ids)
    for item in settings:
        if not item.enabled:
            continue
        factory = factories.get(item.type)
        if factory is None:
            closest = _closest(item.type, factories)
            raise ExporterConfigurationError(
                f"exporter '{item.id}': type '{item.type}' is not installed"
                + (f" (did you mean '{closest}'?)" if closest else "")
                + f"; installed: {', '.join(sorted(factories)) or 'none'} (see `zeebe-trio exporters`)"
            )
        if factory.arguments is None and item.args:
            logger.warning("exporter '%s' (type '%s') declares no arguments; its args %s are passed through"
                           " unchecked", item.id, item.type, ", ".join(sorted(item.args)))
        for partition_id in partition_ids:
            context = ExporterContext(exporter_id=item.id, partition_id=partition_id,
                                      args=merge_args(factory.default_args, item.args),
                                      logger=logging.getLogger(f"zeebe_trio.exporters.{item.id}"))
            try:
                factory.create().configure(context)
            except ExporterConfigurationError:
                raise
            except Exception as error:
                raise ExporterConfigurationError(
                    f"exporter '{item.id}' (type '{item.type}'): configure failed: {type(error).__name__}: {error}"
                ) from error


def merge_args(default_args: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` over ``default_args``; a key matching a default key loosely takes the default's spelling."""
    spelling = {_normalized(key): key for key in default_args}
    merged = dict(default_args)
    for key, value in args.items():
        merged[spelling.get(_normalized(key), key)] = value
    return merged
