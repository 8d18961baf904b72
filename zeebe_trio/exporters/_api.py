"""The exporter API: what an exporter implements and what the director gives it.

Shaped like Zeebe's ``io.camunda.zeebe.exporter.api``: an exporter is *configured* (its arguments,
partition id and a record filter), *opened* with a controller, receives records in log order through
``export``, acknowledges progress with ``controller.update_last_exported_position`` and is *closed*.

Threading contract: ``configure`` is synchronous and must not block (validate arguments only, no I/O).
``open``, ``export``, ``close`` and scheduled tasks are ``async`` and are awaited by the exporter
director on the Trio thread, one at a time per exporter (never concurrently). An exporter that does
blocking I/O (files, DuckDB) runs it with ``trio.to_thread.run_sync(..., limiter=CapacityLimiter(1))``
so the partition's event loop never stalls.

Records passed to ``export`` are shared between exporters: treat them as read-only.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from zeebe_trio.protocol import Record, RecordType, ValueType


class ExporterQueryError(Exception):
    """A query an exporter was asked to answer failed; the message says why."""


class ExporterQueryAnswer(NamedTuple):
    """An exporter's answer to a read-only query, and which exporter gave it."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    """More rows matched than were asked for."""
    exporter_id: str


class ExporterConfigurationError(Exception):
    """Raised by ``Exporter.configure`` (or the configuration loader) when settings are unusable.

    The message should name the exporter, the setting and the fix.
    """


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records an exporter receives; ``None`` means "all" for that dimension."""

    record_types: frozenset[RecordType] | None = None
    value_types: frozenset[ValueType] | None = None

    @classmethod
    def of(
        cls,
        record_types: Iterable[RecordType] | None = None,
        value_types: Iterable[ValueType] | None = None,
    ) -> RecordFilter:
        return cls(
            frozenset(record_types) if record_types is not None else None,
            frozenset(value_types) if value_types is not None else None,
        )

    def accepts(self, record: Record) -> bool:
        return (self.record_types is None or record.record_type in self.record_types) and (
            self.value_types is None or record.value_type in self.value_types
        )

    def intersect(self, other: RecordFilter) -> RecordFilter:
        """The filter accepting what both accept (exporter's own filter narrowed by configuration)."""

        def both(a: frozenset[Any] | None, b: frozenset[Any] | None) -> frozenset[Any] | None:
            if a is None:
                return b
            if b is None:
                return a
            return a & b

        return RecordFilter(both(self.record_types, other.record_types), both(self.value_types, other.value_types))


ACCEPT_ALL = RecordFilter()


@dataclass(slots=True)
class ExporterContext:
    """What ``Exporter.configure`` sees: its id, partition, arguments, a logger and the record filter."""

    exporter_id: str
    partition_id: int
    args: Mapping[str, Any]
    """The exporter's ``args`` section merged over its factory's ``default_args``."""
    logger: logging.Logger
    record_filter: RecordFilter = field(default=ACCEPT_ALL)

    def set_filter(self, record_filter: RecordFilter) -> None:
        """Receive only records this filter accepts (the configured filter may narrow it further)."""
        self.record_filter = record_filter


class ScheduledTask(Protocol):
    """Handle of a task scheduled with ``ExporterController.schedule_delayed_task``."""

    def cancel(self) -> None:
        """Prevent the task from running if it has not started yet; no effect afterwards."""

    @property
    def done(self) -> bool:
        """True once the task ran to completion or was cancelled."""


class ExporterController(Protocol):
    """What an opened exporter can ask of the director."""

    @property
    def last_exported_position(self) -> int:
        """The last acknowledged position (``-1`` if none): records after it will be (re)delivered."""

    def update_last_exported_position(self, position: int) -> None:
        """Acknowledge every record up to ``position`` as durably exported.

        Acknowledge only what is committed in the exporter's sink: after a restart the director
        resumes right after the last acknowledged position. Lower positions than the current one
        are ignored.
        """

    def schedule_delayed_task(self, delay: float, task: Callable[[], Awaitable[None]]) -> ScheduledTask:
        """Run ``await task()`` once, ``delay`` seconds from now (e.g. to flush a partial batch).

        The task runs serialized with ``export`` calls. If it raises, the director logs it, marks the
        exporter failing and retries it with backoff. Pending tasks are cancelled before ``close``.
        """


class Exporter(abc.ABC):
    """Base class of exporters. Subclasses implement ``export``; the rest is optional."""

    def configure(self, context: ExporterContext) -> None:  # noqa: B027 - optional hook
        """Validate ``context.args`` and optionally ``context.set_filter``. No I/O here.

        Raise ``ExporterConfigurationError`` (naming the setting and the fix) for unusable settings;
        the director then reports the exporter as misconfigured and does not retry.
        """

    async def open(self, controller: ExporterController) -> None:  # noqa: B027 - optional hook
        """Acquire resources (files, connections). Raising here is retried with backoff."""

    @abc.abstractmethod
    async def export(self, record: Record) -> None:
        """Handle the next record (in log order). Raising makes the director retry this same record."""

    async def export_batch(self, records: Sequence[Record]) -> None:
        """Handle several records at once (in log order, all accepted by the filter). Override it when
        per-record calls would cap throughput: the director then hands over whole read batches.
        Raising makes the director retry the whole batch, so skip records already handled."""
        for record in records:
            await self.export(record)

    async def query(self, sql: str, max_rows: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
        """Answer a read-only query over what this exporter holds: (columns, rows, truncated).
        Optional: exporters that are not queryable keep this default. Raise ``ExporterQueryError``
        for a query that fails (its message reaches the user)."""
        raise ExporterQueryError("this exporter does not answer queries")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources. Unacknowledged records will be delivered again after a restart."""


@dataclass(frozen=True, slots=True)
class ExporterArgument:
    """One argument an exporter takes (``args.<name>`` in its configuration section).

    ``type`` is ``str``, ``int``, ``float``, ``bool``, ``list`` or ``dict``: a value of another type is
    a configuration error naming the exporter and the argument, and an environment variable's text is
    parsed as this type (``ARGS_PATH=2024`` stays the string ``"2024"``). An ``int`` is accepted for a
    ``float``. A ``required`` argument has no default and must be set.
    """

    type: type
    default: Any = None
    help: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        if self.type not in (str, int, float, bool, list, dict):
            raise TypeError(f"ExporterArgument type must be str, int, float, bool, list or dict, not {self.type!r}")


@dataclass(frozen=True, slots=True)
class ExporterFactory:
    """How a plugin announces an exporter: a name (used as ``type`` in configuration) and a constructor.

    ``create`` is called once per partition; each call must return a fresh exporter.

    ``arguments`` declares the arguments the exporter takes (name -> ``ExporterArgument``): the broker
    then refuses to start with an unknown argument (naming the closest declared one) or a value of the
    wrong type, and ``default_args`` is derived from it. Factories that declare nothing (``None``) get
    their ``args`` passed through unchecked, merged over ``default_args``.
    """

    name: str
    create: Callable[[], Exporter]
    description: str = ""
    default_args: Mapping[str, Any] = field(default_factory=dict)
    arguments: Mapping[str, ExporterArgument] | None = None

    def __post_init__(self) -> None:
        if self.arguments is None:
            return
        if self.default_args:
            raise ValueError(f"exporter factory '{self.name}': declare defaults in arguments, not also in default_args")
        object.__setattr__(self, "default_args", {name: argument.default for name, argument in self.arguments.items()})


class CommittedRecordReader(Protocol):
    """The director's view of one partition's log: committed records only (implemented by the broker)."""

    async def read_after(self, position: int, max_records: int) -> list[Record]:
        """Wait until at least one committed record with a position above ``position`` exists; return
        up to ``max_records`` of them in log order (first one the lowest position above ``position``)."""
        ...


class ExporterPositionStore(Protocol):
    """Per-partition exporter positions (implemented by the broker, stored with the state snapshot)."""

    def get(self, exporter_id: str) -> int:
        """The last acknowledged position of ``exporter_id``, ``-1`` if it never exported."""
        ...

    def set(self, exporter_id: str, position: int) -> None:
        """Record ``position`` for ``exporter_id``; durable with the next state snapshot."""
        ...
