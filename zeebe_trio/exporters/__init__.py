"""Exporters: the exporter API, plugin hooks (pluggy), configuration and the exporter director.

Exporters and plugins may import this package and ``zeebe_trio.protocol``, nothing else of zeebe_trio.
"""

from ._api import (
    ACCEPT_ALL,
    CommittedRecordReader,
    Exporter,
    ExporterArgument,
    ExporterConfigurationError,
    ExporterContext,
    ExporterController,
    ExporterFactory,
    ExporterPositionStore,
    ExporterQueryAnswer,
    ExporterQueryError,
    RecordFilter,
    ScheduledTask,
)
from ._config import (
    DEFAULT_SKIP_RECORD_AFTER_FAILURES,
    ENV_PREFIX,
    ExporterSettings,
    check_exporter_settings,
    load_exporter_settings,
    merge_args,
)
from ._director import (
    UNBOUNDED_POSITION,
    ExporterDirector,
    ExporterHealth,
    ExporterStatus,
    RetryPolicy,
    create_exporter_director,
)
from ._plugins import (
    DEFAULT_PLUGINS,
    DISABLE_AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    InstalledExporter,
    PluginError,
    exporter_factories,
    format_installed_exporters,
    get_plugin_manager,
    list_installed_exporters,
)
from .hookspecs import hookimpl, hookspec

__all__ = [
    "ACCEPT_ALL", "DEFAULT_SKIP_RECORD_AFTER_FAILURES", "CommittedRecordReader", "DEFAULT_PLUGINS", "DISABLE_AUTOLOAD_ENV", "ENTRY_POINT_GROUP",
    "ENV_PREFIX", "Exporter", "ExporterArgument", "ExporterConfigurationError", "ExporterContext", "ExporterController",
    "ExporterDirector", "ExporterFactory", "ExporterHealth", "ExporterPositionStore", "ExporterQueryAnswer", "ExporterQueryError", "ExporterSettings",
    "ExporterStatus", "InstalledExporter", "PluginError", "RecordFilter", "RetryPolicy", "ScheduledTask",
    "UNBOUNDED_POSITION", "check_exporter_settings", "create_exporter_director", "exporter_factories", "format_installed_exporters",
    "get_plugin_manager", "hookimpl", "hookspec", "list_installed_exporters", "load_exporter_settings",
    "merge_args",
]
