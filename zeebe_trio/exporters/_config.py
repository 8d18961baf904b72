"""Exporter settings from the broker configuration file and environment variables.

File shape (the ``exporters`` section of the broker configuration, one entry per exporter id)::

    exporters:
      analytics:
        type: duckdb            # factory name; "className" is accepted as a Zeebe-style alias
        enabled: true           # optional, default true; false removes the exporter entirely
        recordTypes: [EVENT]    # optional filter, narrows the exporter's own filter
        valueTypes: [PROCESS_INSTANCE, JOB]
        args: {path: /var/lib/zeebe-trio/export.duckdb, batchSize: 1000}

Environment variables override and extend the file (``<ID>`` is the exporter id in upper case)::

    ZEEBE_TRIO_EXPORTERS_<ID>_TYPE=duckdb             (or _CLASSNAME)
    ZEEBE_TRIO_EXPORTERS_<ID>_ENABLED=false
    ZEEBE_TRIO_EXPORTERS_<ID>_RECORDTYPES=EVENT,COMMAND_REJECTION
    ZEEBE_TRIO_EXPORTERS_<ID>_VALUETYPES=JOB,INCIDENT
    ZEEBE_TRIO_EXPORTERS_<ID>_ARGS_<KEY>=value        (BATCH_SIZE -> batchSize)

Argument values from the environment are parsed as JSON when they parse (``1000``, ``2.5``,
``true``, ``{"a": 1}``) and kept as strings otherwise. Argument keys match the exporter's default
arguments case-insensitively, ignoring ``_`` and ``-``, so ``ARGS_BATCHSIZE`` also sets ``batchSize``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeebe_trio.protocol import RecordType, ValueType

from ._api import ACCEPT_ALL, ExporterConfigurationError, RecordFilter

ENV_PREFIX = "ZEEBE_TRIO_EXPORTERS_"
_ENV_FIELDS = ("_CLASSNAME", "_TYPE", "_ENABLED", "_RECORDTYPES", "_VALUETYPES")


@dataclass(frozen=True, slots=True)
class ExporterSettings:
    """One configured exporter."""

    id: str
    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    record_filter: RecordFilter = ACCEPT_ALL


def _normalized(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _camel(env_key: str) -> str:
    first, *rest = env_key.lower().split("_")
    return first + "".join(part.capitalize() for part in rest)


def _env_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_bool(exporter_id: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ExporterConfigurationError(
        f"exporter '{exporter_id}': enabled must be true or false, got {value!r}"
    )


def _enum_set(exporter_id: str, setting: str, enum: type[Any], value: Any) -> frozenset[Any]:
    names = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise ExporterConfigurationError(
            f"exporter '{exporter_id}': {setting} must be a list of names, got {value!r}"
        )
    members = set()
    for name in names:
        try:
            members.add(enum[str(name).upper()])
        except KeyError:
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': {setting} has unknown name {name!r};"
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
        if "_ARGS_" in rest:
            exporter, _, key = rest.partition("_ARGS_")
            sections.setdefault(exporter.lower(), {}).setdefault("args", {})[_camel(key)] = _env_value(text)
            continue
        for suffix in _ENV_FIELDS:
            if rest.endswith(suffix) and len(rest) > len(suffix):
                exporter = rest[: -len(suffix)].lower()
                key = {"_CLASSNAME": "className", "_RECORDTYPES": "recordTypes", "_VALUETYPES": "valueTypes"}.get(
                    suffix, suffix[1:].lower()
                )
                sections.setdefault(exporter, {})[key] = text
                break
    return sections


def load_exporter_settings(
    config: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> list[ExporterSettings]:
    """Enabled and disabled exporters from the ``exporters`` config section plus the environment.

    Raises ``ExporterConfigurationError`` for malformed sections (the broker should refuse to start).
    Unknown exporter types are *not* checked here: the director reports them in health, because the
    plugin may simply not be installed.
    """
    merged: dict[str, dict[str, Any]] = {}
    for exporter_id, section in (config or {}).items():
        if not isinstance(section, Mapping):
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': expected a section with 'type' and 'args', got {section!r}"
            )
        merged[str(exporter_id)] = {**section, "args": dict(section.get("args") or {})}
    by_normalized = {_normalized(exporter_id): exporter_id for exporter_id in merged}
    for env_id, env_section in _environment_sections(environ or {}).items():
        exporter_id = by_normalized.get(_normalized(env_id), env_id)
        target = merged.setdefault(exporter_id, {"args": {}})
        if ("type" in env_section or "className" in env_section) and "type" in target:
            target.pop("type")
            target.pop("className", None)
        target["args"].update(env_section.pop("args", {}))
        target.update(env_section)
    settings = []
    for exporter_id, section in merged.items():
        unknown = set(section) - {"type", "className", "enabled", "args", "recordTypes", "valueTypes"}
        if unknown:
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': unknown settings {sorted(unknown)};"
                " expected type, enabled, args, recordTypes, valueTypes"
            )
        exporter_type = section.get("type", section.get("className"))
        if not exporter_type or not isinstance(exporter_type, str):
            raise ExporterConfigurationError(
                f"exporter '{exporter_id}': no 'type'; set exporters.{exporter_id}.type"
                f" (or ZEEBE_TRIO_EXPORTERS_{exporter_id.upper()}_TYPE) to an installed exporter"
                " (see `zeebe-trio exporters`)"
            )
        if not isinstance(section["args"], Mapping):
            raise ExporterConfigurationError(f"exporter '{exporter_id}': args must be a mapping")
        record_types = section.get("recordTypes")
        value_types = section.get("valueTypes")
        settings.append(
            ExporterSettings(
                id=exporter_id,
                type=exporter_type,
                args=dict(section["args"]),
                enabled=_as_bool(exporter_id, section.get("enabled", True)),
                record_filter=RecordFilter(
                    _enum_set(exporter_id, "recordTypes", RecordType, record_types) if record_types is not None else None,
                    _enum_set(exporter_id, "valueTypes", ValueType, value_types) if value_types is not None else None,
                ),
            )
        )
    return settings


def merge_args(default_args: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` over ``default_args``; a key matching a default key loosely takes the default's spelling."""
    spelling = {_normalized(key): key for key in default_args}
    merged = dict(default_args)
    for key, value in args.items():
        merged[spelling.get(_normalized(key), key)] = value
    return merged


