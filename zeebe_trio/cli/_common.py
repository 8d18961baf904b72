"""Helpers the command modules share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._errors import UsageError


def load_config(path: Path | None) -> Any:
    """The broker configuration (file, then ``ZEEBE_TRIO_*`` variables), or a usage error naming the
    setting that is wrong."""
    from zeebe_trio.broker import BrokerConfig, ConfigError

    try:
        return BrokerConfig.load(path)
    except ConfigError as error:
        raise UsageError(str(error)) from None
