"""Helpers the command modules share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._errors import CliError, UsageError


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or the exception itself."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def raise_as_cli_error(error: BaseException, *kinds: type[BaseException]) -> None:
    """Re-raise the first leaf of ``error`` that is one of ``kinds`` as a one-line ``CliError``."""
    for leaf in leaves(error):
        if isinstance(leaf, kinds):
            raise CliError(str(leaf)) from error


def load_config(path: Path | None) -> Any:
    """The broker configuration (file, then ``ZEEBE_TRIO_*`` variables), or a usage error naming the
    setting that is wrong."""
    from zeebe_trio.broker import BrokerConfig, ConfigError

    try:
        return BrokerConfig.load(path)
    except ConfigError as error:
        raise UsageError(str(error)) from None
