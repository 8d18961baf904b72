"""``ClusterBrokerPort``: one ``BrokerPort`` over the brokers of a cluster, as Zeebe's gateway sees them.

It holds a port per broker (the broker itself for an embedded gateway, a ``RemoteBrokerPort`` to each
other broker's command API) and routes by the topology the brokers report. Each broker is believed
about its own partitions only: the leader of partition p is the broker that says it leads p, in the
highest term when two say so (the old leader of a partitioned-away minority may not know yet).

- ``execute`` sends a command to its partition's leader. When that broker answers that it is not the
  leader (PARTITION_LEADER_MISMATCH), the command was not written, so it is sent on: to the leader the
  refusal names, else to the one the topology names next, every ``retry_delay`` until the request's
  timeout (``leader_wait`` without one). With no leader known in that time the answer is
  PARTITION_UNAVAILABLE ("partition 2 has no leader ..."), which clients retry. Any other failure is
  passed on as it is, PARTITION_UNAVAILABLE included (a leader that stepped down with the command in
  flight answers that, and the command may be committed), as are a lost connection and a timeout:
  sending such a command again could do it twice.
- Job streams are opened on every broker, jobs-available notifications come from all of them, and
  watching a job type watches it everywhere, because any broker may lead a partition with jobs.
- ``topology`` lists every broker that answers, each with its own partitions; a broker that still says
  it leads a partition in an older term than another's leader (it has not heard of the election yet)
  is shown as a follower, which it is about to be.
- Brokers may be added while the port runs (``add_broker``: an embedded gateway learns the others from
  the membership gossip); the job streams and job-type watches open then are opened on the new one too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import trio

from zeebe_trio.protocol import PartitionRole, Record, partition_of

from ._port import (
    BrokerCommand,
    BrokerError,
    BrokerInfo,
    BrokerPort,
    ClusterTopology,
    JobsAvailableListeners,
    JobStreamSink,
    JobStreamSpec,
)

__all__ = ["ClusterBrokerPort"]

_RETRYABLE = frozenset({BrokerError.PARTITION_LEADER_MISMATCH})


class ClusterBrokerPort:
    def __init__(self, brokers: Mapping[int, BrokerPort], *, gateway_version: str = "",
                 retry_delay: float = 0.1, leader_wait: float = 10.0) -> None:
        self._brokers = dict(brokers)
        self.gateway_version = gateway_version
        self.retry_delay = retry_delay
        self.leader_wait = leader_wait
        self._listeners = JobsAvailableListeners()
        self._removers = {node_id: port.add_jobs_available_listener(self._listeners.notify)
                          for node_id, port in self._brokers.items()}
        self.retries = 0
        # open job streams and watches, to open on brokers added later: id -> (spec, sink, closers by node)
        self._handles = itertools.count(1)  # ids of the open job streams and watches
        self._streams: dict[int, tuple[JobStreamSpec, JobStreamSink, dict[int, Callable[..., None]]]] = {}
        self._watches: dict[int, tuple[str, dict[int, Callable[[], None]]]] = {}

    def add_broker(self, node_id: int, port: BrokerPort) -> None:
        """Route to ``port`` for ``node_id`` from now on, with every open job stream and watch on it; a
        port this one had for ``node_id`` (the broker moved to another address) is let go first."""
        if node_id in self._brokers:
            self._remove_broker(node_id)
        self._brokers[node_id] = port
        self._removers[node_id] = port.add_jobs_available_listener(self._listeners.notify)
        for spec, sink, closers in self._streams.values():
            closers[node_id] = port.open_job_stream(spec, sink)
        for job_type, stops in self._watches.values():
            stops[node_id] = port.watch_job_type(job_type)

    def _remove_broker(self, node_id: int) -> None:
        del self._brokers[node_id]
        self._removers.pop(node_id)()
        for _spec, _sink, closers in self._streams.values():
            closers.pop(node_id)()
        for _job_type, stops in self._watches.values():
            stops.pop(node_id)()

    # -- the topology ---------------------------------------------------------------------------------

    def _own_info(self, node_id: int, port: BrokerPort) -> BrokerInfo | None:
        return next((b for b in port.topology().brokers if b.node_id == node_id), None)

    def leader_of(self, partition_id: int, *, besides: frozenset[int] = frozenset()) -> int | None:
        """The node id of the broker that leads ``partition_id`` in the highest term (None: no leader),
        not counting the brokers in ``besides``."""
        best: tuple[int, int] | None = None  # (term, node id)
        for node_id, port in self._brokers.items():
            if node_id in besides:
                continue
            info = self._own_info(node_id, port)
            if info is None:
                continue
            for partition in info.partitions:
                if partition.partition_id == partition_id and partition.role is PartitionRole.LEADER:
                    if best is None or partition.term > best[0]:
                        best = (partition.term, node_id)
        return None if best is None else best[1]

    @property
    def partition_ids(self) -> Sequence[int]:
        count = max((port.topology().partitions_count for port in self._brokers.values()), default=0)
        return list(range(1, count + 1))

    def topology(self) -> ClusterTopology:
        brokers = [info for node_id, port in sorted(self._brokers.items())
                   if (info := self._own_info(node_id, port)) is not None]
        newest: dict[int, int] = {}  # partition id -> the highest term a leader of it claims
        for info in brokers:
            for partition in info.partitions:
                if partition.role is PartitionRole.LEADER:
                    newest[partition.partition_id] = max(newest.get(partition.partition_id, 0), partition.term)
        brokers = [replace(info, partitions=tuple(
            replace(p, role=PartitionRole.FOLLOWER)
            if p.role is PartitionRole.LEADER and p.term < newest[p.partition_id] else p
            for p in info.partitions)) for info in brokers]
        views = [port.topology() for port in self._brokers.values()]
        return ClusterTopology(
            tuple(brokers),
            max((v.cluster_size for v in views), default=len(self._brokers)) or len(self._brokers),
            max((v.partitions_count for v in views), default=0),
            max((v.replication_factor for v in views), default=0),
            self.gateway_version or next((v.gateway_version for v in views if v.gateway_version), ""))

    # -- commands -------------------------------------------------------------------------------------

    async def execute(self, partition_id: int, command: BrokerCommand, *, timeout: float | None = None) -> Record:
        wait = timeout if timeout is not None else self.leader_wait
        deadline = trio.current_time() + wait
        refused: set[int] = set()  # brokers that said no since the last pause
        last_error: BrokerError | None = None
        hint: int | None = None  # the leader a refusal named
        while True:
            leader = hint if hint is not None and hint not in refused else self.leader_of(
                partition_id, besides=frozenset(refused))
            hint = None
            if leader is not None and leader in self._brokers:
                remaining = None if timeout is None else max(deadline - trio.current_time(), 0.0)
                try:
                    return await self._brokers[leader].execute(partition_id, command, timeout=remaining)
                except BrokerError as error:
                    if error.code not in _RETRYABLE:
                        raise
                    last_error = error
                    refused.add(leader)
                    hint = error.leader_id
                    self.retries += 1
                    continue  # the named leader, or another broker that says it leads: at once
            if trio.current_time() + self.retry_delay > deadline:
                reason = f" ({last_error.message})" if last_error is not None else ""
                raise BrokerError(BrokerError.PARTITION_UNAVAILABLE,
                                  f"partition {partition_id} has no leader that accepts commands{reason}; retry shortly")
            refused.clear()  # ask the topology again after a pause: it may have learned of a new leader
            await trio.sleep(self.retry_delay)

    # -- jobs -----------------------------------------------------------------------------------------

    def add_jobs_available_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        return self._listeners.add(listener)

    def watch_job_type(self, job_type: str) -> Callable[[], None]:
        stops = {node_id: port.watch_job_type(job_type) for node_id, port in self._brokers.items()}
        watch_id = next(self._handles)
        self._watches[watch_id] = (job_type, stops)

        def stop() -> None:
            if self._watches.pop(watch_id, None) is None:
                return
            for each in stops.values():
                each()

        return stop

    def open_job_stream(self, spec: JobStreamSpec, sink: JobStreamSink) -> Callable[..., None]:
        closers = {node_id: port.open_job_stream(spec, sink) for node_id, port in self._brokers.items()}
        stream_id = next(self._handles)
        self._streams[stream_id] = (spec, sink, closers)

        def close(undelivered: Sequence[int] = ()) -> None:
            if self._streams.pop(stream_id, None) is None:
                return
            # an undelivered job goes back to the leader of its partition; with none known, its
            # activation times out there as any lost job's does
            keys: dict[int, list[int]] = {}
            for job_key in undelivered:
                leader = self.leader_of(partition_of(job_key))
                if leader is not None:
                    keys.setdefault(leader, []).append(job_key)
            for node_id, each in closers.items():
                each(undelivered=keys.get(node_id, ()))

        return close

    def close(self) -> None:
        for remove in self._removers.values():
            remove()
        self._removers.clear()
