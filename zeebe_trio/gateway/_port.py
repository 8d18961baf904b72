"""The gateway's view of the cluster: the broker port.

The gateway never imports the engine. Everything it needs from brokers goes through ``BrokerPort``, a
Trio-side interface: the embedded broker implements it in-process; a standalone gateway implements it
over the network. Record values are plain dicts with Zeebe's field names (see ``zeebe_trio.protocol``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zeebe_trio.protocol import Intent, PartitionHealth, PartitionRole, Record, ValueType


@dataclass(frozen=True, slots=True)
class BrokerCommand:
    """A command the gateway asks a partition to write to its log and process."""

    value_type: ValueType
    intent: Intent
    value: dict[str, Any]
    key: int = -1


class BrokerError(Exception):
    """The broker could not take the command. ``code`` is one of the class constants."""

    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"  # over the partition's in-flight limit: retry later
    PARTITION_UNAVAILABLE = "PARTITION_UNAVAILABLE"  # no leader / shutting down
    TIMEOUT = "TIMEOUT"  # no response within the request timeout
    INTERNAL = "INTERNAL"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"  # e.g. payload over the maximum size
    # sent to a follower (Zeebe's PARTITION_LEADER_MISMATCH): not written, so the gateway sends it to the
    # leader (``leader_id`` when the follower knows it)
    PARTITION_LEADER_MISMATCH = "PARTITION_LEADER_MISMATCH"

    def __init__(self, code: str, message: str, *, leader_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.leader_id = leader_id
        """With PARTITION_LEADER_MISMATCH: the broker the replica knows as the leader (None: none known)."""


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    partition_id: int
    role: PartitionRole
    health: PartitionHealth
    term: int = 0  # the Raft term of the role (0 for an unreplicated partition)


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    node_id: int
    host: str
    port: int
    version: str
    partitions: tuple[PartitionInfo, ...]


@dataclass(frozen=True, slots=True)
class ClusterTopology:
    brokers: tuple[BrokerInfo, ...]
    cluster_size: int
    partitions_count: int
    replication_factor: int
    gateway_version: str


@dataclass(frozen=True, slots=True)
class JobStreamSpec:
    """What a worker's ``StreamActivatedJobs`` call asks for."""

    job_type: str
    worker: str
    timeout_ms: int
    fetch_variables: tuple[str, ...] = ()
    tenant_ids: tuple[str, ...] = field(default=("<default>",))


class JobStreamSink(Protocol):
    """Where the broker pushes jobs it activated for a stream (called in the Trio thread)."""

    def push(self, job_key: int, job: dict[str, Any]) -> bool:
        """Hand over one activated job without blocking; False if the stream cannot take it now
        (closed, or its buffer is full): the broker then makes the job activatable again."""
        ...


class JobsAvailableListeners:
    """The jobs-available listeners of a ``BrokerPort`` implementation (the broker, a remote port)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[str], None]] = []

    def add(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Add ``listener``; returns the function that removes it again."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def notify(self, job_type: str) -> None:
        """Tell every listener; one that raises is logged and does not stop the others."""
        for listener in list(self._listeners):
            try:
                listener(job_type)
            except Exception:
                logging.getLogger(__name__).exception("a jobs-available listener failed")


class BrokerPort(Protocol):
    """What a gateway needs from the cluster. All methods are called from Trio."""

    @property
    def partition_ids(self) -> Sequence[int]: ...

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        """Write ``command`` to the partition's log, wait until it was processed and the result is
        durable, and return the response record: an event, or a rejection (``record.is_rejection``).
        For ``PROCESS_INSTANCE_CREATION.CREATE_WITH_AWAITING_RESULT`` the response is the
        ``PROCESS_INSTANCE_RESULT.COMPLETED`` event, sent when the instance completes.
        Raises ``BrokerError`` (never returns None)."""
        ...

    def topology(self) -> ClusterTopology: ...

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """``listener(job_type)`` is called whenever jobs of that type may have become activatable
        (created, timed out, failed with retries left, back-off elapsed, yielded...). Returns a
        function that removes the listener."""
        ...

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        """The gateway has ActivateJobs requests for ``job_type``: jobs-available notifications for it
        are wanted. A broker behind a network connection notifies only gateways that watch a type,
        so idle gateways cost it nothing per job. Returns the function that stops watching; watches
        of one type may overlap."""
        ...

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        """Register a job stream on every partition; returns ``close(undelivered=())`` which closes
        it. ``undelivered`` lists the keys of pushed jobs that never reached the client: the broker
        makes them activatable again at once."""
        ...
