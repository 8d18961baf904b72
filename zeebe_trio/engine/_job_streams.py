"""Which job streams are open: the broker fills it in, job behaviour reads it when a job becomes activatable."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JobStream", "JobStreams"]


@dataclass(frozen=True, slots=True)
class JobStream:
    """A worker's open job stream, as the engine sees it when it may push a job."""

    stream_id: int
    worker: str
    timeout_ms: int
    fetch_variables: tuple[str, ...]


class JobStreams:
    """Which job streams are open (filled in by the broker; the engine only reads it).

    Whether a stream exists influences processing, but the outcome (a JOB_BATCH ACTIVATED event) is
    on the log, so replay stays deterministic.
    """

    def stream_for(self, job_type: str) -> JobStream | None:
        return None
