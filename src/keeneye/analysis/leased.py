"""An analysis runner that shares its job with other processes through leases.

Several ``keeneye worker drift`` (or ``stats``) processes on one store each plan the windows
that are due, then claim each window before computing it. The claim is a lease in the store
(:class:`keeneye.store.base.Leases`): held by one worker at a time, given up once the window's
results are committed, and lapsing after ``lease_seconds`` when its holder dies, so another
worker takes the window over. After claiming, a worker checks the window's marker again: a
window another worker finished meanwhile (same fingerprint) is not computed twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keeneye.analysis.reference import ReferenceCache
from keeneye.analysis.runner import ALL_VERSIONS, JOB_KINDS, AnalysisRunner, fingerprint_of
from keeneye.analysis.windows import Fingerprint, Window
from keeneye.clock import Clock
from keeneye.config import Settings
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult


def default_owner(service: str) -> str:
    """A name unique to this process: ``service@host:pid:random``."""
    return f"{service}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class LeaseCounts:
    """What this runner did with the windows it planned (cumulative)."""

    computed: int = 0
    skipped_claimed: int = 0
    skipped_done: int = 0


class LeasedRunner(AnalysisRunner):
    """:class:`AnalysisRunner` that claims every window before computing it.

    Parameters
    ----------
    owner:
        This process's name in the lease table (default: host, PID and a random tag).
    lease_seconds:
        How long a claim lasts; a killed worker's windows are taken over after this.
    """

    def __init__(
        self,
        store: EventStore,
        settings: Settings,
        clock: Clock,
        *,
        jobs: Sequence[str] = ("stats", "drift"),
        cache: ReferenceCache | None = None,
        owner: str | None = None,
        lease_seconds: float = 60.0,
    ) -> None:
        super().__init__(store, settings, clock, jobs=jobs, cache=cache)
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, got {lease_seconds}")
        self.owner = owner or default_owner("worker-" + "+".join(self.jobs))
        self.lease_seconds = lease_seconds
        self.counts = LeaseCounts()

    @staticmethod
    def lease_key(job: str, model: str, window: Window) -> str:
        """The lease of one job on one window of one model."""
        return f"{job}/{model}/{window.name}/{window.start.isoformat()}"

    def _compute(self, model: str, window: Window, jobs: Sequence[str]) -> list[StoredResult]:
        keys = {job: self.lease_key(job, model, window) for job in jobs}
        mine = [job for job in jobs if self.store.claim(keys[job], self.owner, self.lease_seconds)]
        self.counts.skipped_claimed += len(jobs) - len(mine)
        if not mine:
            return []
        try:
            data = self._readers[model].read(window) if model in self._readers else None
            current = None if data is None else fingerprint_of(data)
            todo = [job for job in mine if not self._done(model, window, job, current)]
            self.counts.skipped_done += len(mine) - len(todo)
            if not todo:
                return []
            results = super()._compute(model, window, todo)
            # Committed before the claim goes: whoever claims next sees the marker.
            self.store.save_results(results)
            self.counts.computed += len(todo)
            return results
        finally:
            for job in mine:
                self.store.release(keys[job], self.owner)

    def _done(self, model: str, window: Window, job: str, current: Fingerprint | None) -> bool:
        """Whether the job's marker for this window holds the current fingerprint."""
        if current is None:
            return False
        for marker in self.store.load_results(
            model,
            kind=JOB_KINDS[job][0],
            version=ALL_VERSIONS,
            windows=[(window.start, window.end)],
        ):
            payload: Any = marker.payload
            if payload.get("window") == window.name:
                return bool(Fingerprint.from_dict(payload.get("fingerprint")) == current)
        return False
