"""Plugin discovery: the pluggy manager, built-in plugins and the exporter factory registry."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from ._api import ExporterArgument, ExporterFactory

ENTRY_POINT_GROUP = "zeebe_trio.exporters"
DISABLE_AUTOLOAD_ENV = "ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD"

DEFAULT_PLUGINS = ("zeebe_trio.exporters._builtin",)
"""Built-in exporters, registered through the same hooks as third-party plugins."""


class PluginError(Exception):
    """A plugin could not be loaded or registered something inconsistent."""


def _autoload_disabled(environ: Mapping[str, str]) -> bool:
    return environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


def get_plugin_manager(
    *, autoload: bool | None = None, environ: Mapping[str, str] | None = None, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the built-in plugins, ``plugins`` (modules or objects with
    hook implementations, e.g. from tests or an embedding application) and, unless disabled, the plugins
    installed under the ``zeebe_trio.exporters`` entry point group.

    ``autoload=None`` follows ``ZEEBE_TRIO_DISABLE_PLUGIN_AUTOLOAD=1``. Raises ``PluginError`` naming
    the plugin when one fails to import or implements a hook that does not exist.
    """
    environ = os.environ if environ is None else environ
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    for plugin in plugins:
        manager.register(plugin)
    if autoload is None:
        autoload = not _autoload_disabled(environ)
    if autoload:
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as error:
            raise PluginError(
                f"loading plugins from entry point group '{ENTRY_POINT_GROUP}' failed: {error!r};"
                f" uninstall or fix the plugin, or set {DISABLE_AUTOLOAD_ENV}=1 to skip autoloading"
            ) from error
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"{error}; check the hook name against zeebe_trio.exporters.hookspecs") from error
    return manager


def exporter_factories(manager: pluggy.PluginManager | None = None) -> dict[str, ExporterFactory]:
    """Every registered exporter factory by name. Raises ``PluginError`` on duplicate names."""
    manager = manager or get_plugin_manager()
    factories: dict[str, ExporterFactory] = {}
    owners: dict[str, str] = {}
    for impl in manager.hook.zeebe_trio_register_exporters.get_hookimpls():
        for factory in _registered(impl):
            if not isinstance(factory, ExporterFactory):
                raise PluginError(
                    f"plugin '{impl.plugin_name}' returned {factory!r} from zeebe_trio_register_exporters;"
                    " return a list of zeebe_trio.exporters.ExporterFactory"
                )
            if factory.name in factories:
                raise PluginError(
                    f"exporter name '{factory.name}' is registered by both plugin '{owners[factory.name]}'"
                    f" and plugin '{impl.plugin_name}'; uninstall one of them"
                )
            factories[factory.name] = factory
            owners[factory.name] = impl.plugin_name
    return factories


def _registered(impl: pluggy.HookImpl) -> list[Any]:
    result: Any = impl.function()
    return list(result) if result else []


@dataclass(frozen=True, slots=True)
class InstalledExporter:
    """One row of ``zeebe-trio exporters``."""

    name: str
    description: str
    plugin: str
    distribution: str | None
    """``project==version`` for entry-point plugins, ``None`` for built-ins."""
    arguments: Mapping[str, ExporterArgument] | None = None
    """The arguments the exporter declares (``None``: it declares none and takes any)."""


def list_installed_exporters(manager: pluggy.PluginManager | None = None) -> list[InstalledExporter]:
    """Installed exporters sorted by name (what ``zeebe-trio exporters`` prints)."""
    manager = manager or get_plugin_manager()
    distributions = {
        manager.get_name(plugin): f"{dist.project_name}=={dist.version}"
        for plugin, dist in manager.list_plugin_distinfo()
    }
    rows = []
    for impl in manager.hook.zeebe_trio_register_exporters.get_hookimpls():
        for factory in _registered(impl):
            rows.append(
                InstalledExporter(
                    name=factory.name,
                    description=factory.description,
                    plugin=impl.plugin_name,
                    distribution=distributions.get(impl.plugin_name),
                    arguments=factory.arguments,
                )
            )
    return sorted(rows, key=lambda row: row.name)


def format_installed_exporters(rows: list[InstalledExporter]) -> str:
    """Human-readable table for ``zeebe-trio exporters``."""
    if not rows:
        return "no exporters installed"
    lines = []
    for row in rows:
        origin = row.distribution or "built-in"
        lines.append(f"{row.name:<12} {origin:<28} {row.description}")
        for name, argument in (row.arguments or {}).items():
            default = "required" if argument.required else f"default {argument.default!r}"
            lines.append(f"    args.{name:<18} {argument.type.__name__}, {default}"
                         + (f": {argument.help}" if argument.help else ""))
    return "\n".join(lines)
