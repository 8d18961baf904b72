"""The zeebe_trio plugin hooks (pluggy). Call them with keyword arguments only.

Hooks discover and build exporters; they are never called per record. Plugins implement them with
``@hookimpl`` from this module and are found through the ``zeebe_trio.exporters`` entry point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ._api import ExporterFactory

PROJECT_NAME = "zeebe_trio"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def zeebe_trio_register_exporters() -> list[ExporterFactory]:  # type: ignore[empty-body]
    """Called once whenever the plugin manager is built (broker start, ``zeebe-trio exporters``).

    Return the exporter factories this plugin provides. Each factory's ``name`` is what the broker
    configuration names as an exporter's ``type``; names must be unique across all plugins.
    """
