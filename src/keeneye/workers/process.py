"""One worker process: a :class:`~keeneye.analysis.leased.LeasedRunner` on a loop, its own
``/metrics`` (runs, windows, failures, lag behind the newest complete window) and a heartbeat
in the store so that ``keeneye status`` lists the services that are alive."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from keeneye.analysis.leased import LeasedRunner
from keeneye.analysis.runner import ALL_VERSIONS, JOB_KINDS
from keeneye.analysis.service import AlertSink
from keeneye.analysis.windows import complete_windows

log = logging.getLogger("keeneye.workers")


class WorkerMetrics:
    """The worker's Prometheus metrics, on a registry of its own."""

    def __init__(self, job: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        labels = {"job_kind": job}
        self.runs = Counter(
            "keeneye_worker_runs",
            "Analysis runs finished.",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)
        self.failures = Counter(
            "keeneye_worker_failures",
            "Analysis runs that failed.",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)
        self.windows = Counter(
            "keeneye_worker_windows",
            "Window jobs this worker computed.",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)
        self.skipped = Counter(
            "keeneye_worker_windows_skipped",
            "Planned window jobs left to another worker (claimed or already done).",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)
        self.lag = Gauge(
            "keeneye_worker_lag_seconds",
            "Seconds from the end of the newest computed window to the end of the newest "
            "complete one (0: up to date).",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)
        self.last_run = Gauge(
            "keeneye_worker_last_run_timestamp_seconds",
            "When the last run finished.",
            labelnames=["job_kind"],
            registry=self.registry,
        ).labels(**labels)

    def serve(self, host: str, port: int) -> int:
        """Expose ``/metrics`` on ``host:port`` (0: a free port); returns the bound port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)


class WorkerProcess:
    """Runs ``runner`` every ``interval`` seconds until :meth:`stop`, beating a heartbeat."""

    def __init__(self, runner: LeasedRunner, interval: float, metrics: WorkerMetrics) -> None:
        self.runner = runner
        self.interval = interval
        self.metrics = metrics
        self.job = "+".join(runner.jobs)
        self.service = f"worker-{self.job}"
        self._stop = threading.Event()
        self._reported = (0, 0)
        self.runs = 0
        self.failures = 0
        #: Receives the active alerts after each run (the stats worker's notifier).
        self.sink: AlertSink | None = None

    def run_once(self) -> None:
        """One run, then metrics and heartbeat (a failure is counted, logged, not raised)."""
        try:
            report = self.runner.run_once()
            if self.sink is not None:
                self.sink(list(report.active), report.ran_at, report.readings)
        except Exception:
            self.failures += 1
            self.metrics.failures.inc()
            log.exception("%s: analysis run failed", self.service)
        else:
            self.runs += 1
            self.metrics.runs.inc()
        counts = self.runner.counts
        computed, skipped = counts.computed, counts.skipped_claimed + counts.skipped_done
        self.metrics.windows.inc(computed - self._reported[0])
        self.metrics.skipped.inc(skipped - self._reported[1])
        self._reported = (computed, skipped)
        now = self.runner.clock.now()
        self.metrics.last_run.set(now.timestamp())
        try:
            self.metrics.lag.set(self.lag_seconds(now))
            self.runner.store.heartbeat(
                self.service,
                self.runner.owner,
                {
                    "runs": self.runs,
                    "failures": self.failures,
                    "windows": computed,
                    "lag_seconds": self.metrics.lag._value.get(),
                },
            )
        except Exception:
            log.exception("%s: heartbeat failed", self.service)

    def lag_seconds(self, now: datetime) -> float:
        """From the newest window this job computed to the newest complete window."""
        analysis = self.runner.settings.analysis
        grace = timedelta(seconds=analysis.grace_seconds)
        worst = 0.0
        for summary in self.runner.store.list_models():
            if summary.last_event is None:
                continue
            for job in self.runner.jobs:
                marked = self.runner.store.load_results(
                    summary.model,
                    kind=JOB_KINDS[job][0],
                    version=ALL_VERSIONS,
                    start=now - timedelta(days=analysis.recheck_days + 1),
                )
                newest_marked = max((m.window_end for m in marked), default=None)
                for size in analysis.windows:
                    complete = list(
                        complete_windows(size, now - timedelta(days=2), now, grace=grace)
                    )
                    if not complete:
                        continue
                    done = newest_marked or summary.first_event or complete[-1].end
                    worst = max(worst, (complete[-1].end - done).total_seconds())
        return max(worst, 0.0)

    def run_forever(self) -> None:
        """Run until :meth:`stop` (or SIGTERM, when called from the main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
