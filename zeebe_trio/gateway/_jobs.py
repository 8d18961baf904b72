"""Getting jobs to workers: ``ActivateJobs`` with long polling, and ``StreamActivatedJobs``.

ActivateJobs follows Zeebe's ``RoundRobinActivateJobsHandler`` + ``LongPollingActivateJobsHandler``:
one ``JOB_BATCH.ACTIVATE`` per partition, starting at a rotating partition, asking each for what is
still missing; every non-empty batch is written as its own response message. When no partition had
a job the request waits (long polling) until a jobs-available notification for its type arrives,
then tries again; it completes empty when its request timeout runs out first. A notification that
arrives while a round is in flight makes the request retry at once instead of sleeping through it
(Zeebe's "notified in between" flag): each job type has a notification counter, and a request only
sleeps when the counter has not moved since its round began.

A notification wakes one waiting request, not all of them (5,000 waiting polls woken by one new job
would send 5,000 ACTIVATE commands for one job and get RESOURCE_EXHAUSTED for most). Waiting
requests queue per job type, oldest first; a notification hands a baton to the oldest. The holder
runs its round, and passes the baton to the next waiter only when there may be more jobs: it filled
its ``maxJobsToActivate``, or another notification arrived meanwhile. One that leaves for any reason
(timeout, cancellation, an error) while holding the baton passes it on, so it is never lost. At most
one woken round per job type runs at a time; new requests still make their own first round.

The gateway tells its broker which job types it has requests for (``BrokerPort.watch_job_type``),
so a broker sends jobs-available notifications only to gateways that wait for that type.

StreamActivatedJobs hands the broker a ``JobStreamBuffer``: a bounded memory channel whose ``push``
never blocks and answers False when the client is not keeping up, so the broker can make the job
activatable for someone else.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from grpclib import GRPCError
from grpclib.const import Status

from zeebe_trio.protocol import JobBatchIntent, ValueType, excerpt

from . import _errors, _mappers
from ._generated import gateway_protocol as pb
from ._port import BrokerCommand, BrokerPort, JobStreamSpec
from ._routing import Router

log = logging.getLogger("zeebe_trio.gateway.jobs")

Emit = Callable[[Any], Awaitable[None]]

DEFAULT_LONG_POLLING_TIMEOUT = 10.0  # seconds; Zeebe's gateway default for requestTimeout == 0
DEFAULT_STREAM_BUFFER = 32  # jobs a stream holds for a slow client before push() says no

_RETRYABLE_ELSEWHERE = frozenset({Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED})


def _validate_job_request(job_type: str, timeout_ms: int) -> None:
    # Worded like the broker's JobBatchActivateProcessor rejections, which Zeebe clients know.
    if not job_type.strip():
        raise _errors.invalid_argument(
            "Expected to activate job batch with 'type' to be present, but it was blank"
        )
    if timeout_ms < 1:
        raise _errors.invalid_argument(
            f"Expected to activate job batch with 'timeout' to be greater than zero, but it was '{timeout_ms}'"
        )


class _JobTypeState:
    __slots__ = ("notifications", "waiters", "requests", "baton_held", "unwatch")

    def __init__(self, unwatch: Callable[[], None]) -> None:
        self.notifications = 0
        self.waiters: deque[trio.Event] = deque()  # oldest first
        self.requests = 0
        self.baton_held = False
        self.unwatch = unwatch

    def wake_next(self) -> None:
        """Hand the baton to the oldest waiting request, or put it down when none waits."""
        if self.waiters:
            self.baton_held = True
            self.waiters.popleft().set()
        else:
            self.baton_held = False


class JobActivator:
    """Serves ActivateJobs requests; ``notify_jobs_available`` is the broker's jobs-available listener."""

    def __init__(
        self, router: Router, *, default_long_polling_timeout: float = DEFAULT_LONG_POLLING_TIMEOUT
    ) -> None:
        self._router = router
        self._default_long_polling_timeout = default_long_polling_timeout
        self._states: dict[str, _JobTypeState] = {}  # only job types with requests in flight
        self._waiting = 0

    def notify_jobs_available(self, job_type: str) -> None:
        """Called by the broker (in the Trio thread) when jobs of ``job_type`` may be activatable."""
        state = self._states.get(job_type)
        if state is None:
            return
        state.notifications += 1
        if not state.baton_held:
            state.wake_next()

    def statistics(self) -> dict[str, int]:
        return {
            "requests_in_flight": sum(state.requests for state in self._states.values()),
            "requests_waiting": self._waiting,
        }

    async def activate(self, request: pb.ActivateJobsRequest, emit: Emit) -> None:
        _validate_job_request(request.type, request.timeout)
        if request.max_jobs_to_activate < 1:
            raise _errors.invalid_argument(
                "Expected to activate job batch with 'maxJobsToActivate' to be greater than zero, "
                f"but it was '{request.max_jobs_to_activate}'"
            )
        value = {
            "type": request.type,
            "worker": request.worker,
            "timeout": request.timeout,
            "maxJobsToActivate": request.max_jobs_to_activate,
            "variables": list(request.fetch_variable),
            "tenantIds": _mappers.ensure_tenants("ActivateJobs", request.tenant_ids),
        }
        if request.request_timeout < 0:
            long_polling: float | None = None
        elif request.request_timeout == 0:
            long_polling = self._default_long_polling_timeout
        else:
            long_polling = request.request_timeout / 1000
        deadline = trio.current_time() + (long_polling or 0.0)

        state = self._states.get(request.type)
        if state is None:
            state = self._states[request.type] = _JobTypeState(self._router.watch_job_type(request.type))
        state.requests += 1
        holding = False  # this request holds its job type's baton
        try:
            while True:
                notifications_before = state.notifications
                activated = await self._activate_round(value, emit)
                if holding:
                    holding = False
                    if activated >= request.max_jobs_to_activate or state.notifications != notifications_before:
                        state.wake_next()  # there may be more jobs: the next waiter asks too
                    else:
                        state.baton_held = False  # this round took what there was
                if activated > 0 or long_polling is None:
                    return
                if state.notifications != notifications_before:
                    continue  # jobs became available while we were asking: ask again right away
                woken = trio.Event()
                state.waiters.append(woken)
                self._waiting += 1
                try:
                    with trio.move_on_at(deadline):
                        await woken.wait()
                finally:
                    self._waiting -= 1
                    if woken.is_set():
                        holding = True
                    else:
                        state.waiters.remove(woken)
                if trio.current_time() >= deadline:
                    return  # long-polling timeout: complete without jobs
        finally:
            if holding:
                state.wake_next()
            state.requests -= 1
            if state.requests == 0:
                del self._states[request.type]
                state.unwatch()

    async def _activate_round(self, value: dict[str, Any], emit: Emit) -> int:
        """One pass over all partitions; returns how many jobs were activated (and emitted)."""
        wanted = value["maxJobsToActivate"]
        activated = 0
        exhausted = False
        failures: list[GRPCError] = []
        partitions = self._router.round_robin_order()
        for partition_id in partitions:
            command = BrokerCommand(
                ValueType.JOB_BATCH,
                JobBatchIntent.ACTIVATE,
                {**value, "maxJobsToActivate": wanted - activated},
            )
            try:
                record = await self._router.execute(partition_id, command)
            except GRPCError as error:
                if error.status is Status.RESOURCE_EXHAUSTED:
                    exhausted = True
                    continue
                if error.status in _RETRYABLE_ELSEWHERE:
                    log.debug(
                        "activating %r jobs on partition %d failed: %s", value["type"], partition_id, error
                    )
                    failures.append(error)
                    continue
                raise
            jobs = _mappers.activated_jobs(record.value)
            if jobs:
                await emit(pb.ActivateJobsResponse(jobs=jobs))
                activated += len(jobs)
                if activated >= wanted:
                    break
        if activated == 0:
            if exhausted:
                raise _errors.status_error(
                    Status.RESOURCE_EXHAUSTED,
                    f"Expected to activate jobs of type {excerpt(value['type'])}, but no jobs available and at least "
                    "one broker returned 'RESOURCE_EXHAUSTED'. Please try again later.",
                )
            if failures and len(failures) == len(partitions):
                raise failures[-1]
        return activated


class JobStreamBuffer:
    """The ``JobStreamSink`` of one StreamActivatedJobs call: bounded, never blocks the broker."""

    def __init__(self, capacity: int = DEFAULT_STREAM_BUFFER) -> None:
        self._send, self._receive = trio.open_memory_channel[tuple[int, dict[str, Any]]](capacity)

    def push(self, job_key: int, job: dict[str, Any]) -> bool:
        try:
            self._send.send_nowait((job_key, job))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    def close(self) -> list[int]:
        """Refuse further pushes; returns the keys of jobs still buffered (never delivered)."""
        self._send.close()
        undelivered = []
        while True:
            try:
                job_key, _job = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            undelivered.append(job_key)
        self._receive.close()
        return undelivered

    def statistics(self) -> trio.MemoryChannelStatistics:
        return self._send.statistics()

    def __aiter__(self) -> trio.MemoryReceiveChannel[tuple[int, dict[str, Any]]]:
        return self._receive


async def stream_jobs(
    port: BrokerPort,
    request: pb.StreamActivatedJobsRequest,
    emit: Emit,
    *,
    capacity: int = DEFAULT_STREAM_BUFFER,
) -> None:
    """Serve one StreamActivatedJobs call until the client goes away (we are cancelled then)."""
    _validate_job_request(request.type, request.timeout)
    spec = JobStreamSpec(
        job_type=request.type,
        worker=request.worker,
        timeout_ms=request.timeout,
        fetch_variables=tuple(request.fetch_variable),
        tenant_ids=tuple(_mappers.ensure_tenants("StreamActivatedJobs", request.tenant_ids)),
    )
    buffer = JobStreamBuffer(capacity)
    close_stream = port.open_job_stream(spec, buffer)
    in_flight: int | None = None
    try:
        async for job_key, job in buffer:
            in_flight = job_key
            await emit(_mappers.activated_job(job_key, job))
            in_flight = None
    finally:
        # Jobs the client never got go back to being activatable at once, not at their timeout.
        # A job whose write was interrupted may or may not have arrived: yield it too (completing a
        # yielded job still works, so at-least-once delivery is kept).
        undelivered = buffer.close()
        if in_flight is not None:
            undelivered.insert(0, in_flight)
        close_stream(undelivered)
