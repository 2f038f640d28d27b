"""The replay: three simulated weeks through the real SDK, the real collector and the real
analysis, on a hand-driven clock.

One process holds everything, as ``keeneye server`` does: the collector app on a uvicorn thread
bound to 127.0.0.1, its DuckDB store, and the analysis runners. The model side talks to it only
over HTTP, through :class:`keeneye.Monitor`. After each simulated hour the clock moves on, the
labels due by then are sent, and the analysis computes what completed; the alerts active then go
to the notifier (the console timeline plus any configured apprise URLs).
"""

from __future__ import annotations

import heapq
import io
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from prometheus_client import CollectorRegistry

from keeneye.analysis.runner import AnalysisRunner, RunReport
from keeneye.clock import ManualClock
from keeneye.config import Settings, load_settings
from keeneye.demo.scenario import (
    DAY,
    HOUR,
    MODEL,
    Generator,
    Scenario,
    TrainedVersion,
    World,
    default_scenario,
    train_versions,
)
from keeneye.demo.timeline import DemoResult, Detection, Sent, judge
from keeneye.errors import InputError, KeeneyeError
from keeneye.notify import CallbackChannel, Message, Notifier
from keeneye.sdk import Monitor
from keeneye.store import open_store

#: Called after each simulated hour with (hours done, hours total, simulated time).
Progress = Callable[[int, int, datetime], None]


@dataclass(frozen=True)
class DemoOptions:
    """How to run the demo."""

    #: A new DuckDB file, or the URL of an empty store (``postgresql://…``) to fill.
    store: Path | str
    host: str = "127.0.0.1"
    port: int = 0
    days: int = 21
    seed: int = 0
    config: Path | None = None
    progress: Progress | None = None
    #: Only daily windows, analysed once per simulated day (a faster replay). By default the
    #: demo uses the server's windows (``analysis.windows``: hourly and daily) and analyses
    #: every simulated hour, as ``keeneye server`` does.
    daily_only: bool = False


def demo_settings(
    base: Settings, store: Path | str, public_url: str, *, daily_only: bool = False
) -> Settings:
    """The settings the demo runs with: the user's (notification URLs and windows included)
    plus the analysis and alert thresholds that suit its traffic — each choice explained in
    ``docs/demo.md``. The alert rules keep their defaults except where noted."""
    analysis = base.analysis.model_copy(
        update={
            # The server's windows (hourly and daily unless keeneye.yaml says otherwise), or
            # daily only for a faster replay.
            "windows": ["daily"] if daily_only else list(base.analysis.windows),
            "enabled": False,  # the replay drives the runners itself, hour by simulated hour
            "grace_seconds": 60.0,
            # Labels land 54–78 h late and are analysed at the next run, when their window
            # started up to 4 days ago: windows this recent re-open and count as current.
            "recheck_days": 6.0,
            "tasks": {**base.analysis.tasks, MODEL: "classification"},
            "positive_class": {**base.analysis.positive_class, MODEL: "1"},
        }
    )
    alerts = base.alerts.model_copy(
        update={
            "drift_features": ["*"],  # any single drifted feature alerts
            "performance_min": {**base.alerts.performance_min, "accuracy": 0.8},
        }
    )
    server = base.server.model_copy(
        update={"store": str(store), "public_url": base.server.public_url or public_url}
    )
    # Simulated time: the analysis runs every simulated hour (or day), so an alert that stays
    # active is repeated every other day, not at every run.
    notify = base.notify.model_copy(update={"cooldown_seconds": 2 * 86_400.0})
    return base.model_copy(
        update={"server": server, "analysis": analysis, "alerts": alerts, "notify": notify}
    )


@dataclass
class _Collector:
    """What the replay saw: alerts (first report per key and window), sent messages,
    results computed per version."""

    detections: dict[tuple[str, str, str], Detection] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    versions_seen: dict[tuple[str, str], datetime] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_report(self, report: RunReport, now: datetime) -> None:
        for alert in report.alerts:
            key = (alert.key, alert.window_start.isoformat(), alert.window_end.isoformat())
            if key not in self.detections:
                self.detections[key] = Detection(alert=alert, reported_at=now)
        for result in report.computed:
            if result.kind == "summary":
                self.versions_seen.setdefault(
                    (result.version, result.window_start.isoformat()), now
                )

    def on_message(self, message: Message) -> None:
        with self.lock:
            self.sent.append(Sent(message=message, at=message.at or message.alert.window_end))


class _Server:
    """The collector app on a uvicorn thread, bound before the app is built (port 0 works)."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise InputError(
                f"cannot listen on {host}:{port}: {exc.strerror}; try --port 0"
            ) from exc
        self.sock.listen(128)
        bound = self.sock.getsockname()
        shown = f"[{bound[0]}]" if family == socket.AF_INET6 else bound[0]
        self.url = f"http://{shown}:{bound[1]}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any) -> None:
        import uvicorn

        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:  # bounded readiness polling of a real server
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise KeeneyeError("the demo's collector did not start within 30 s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.sock.close()


def run_demo(
    options: DemoOptions, *, keep_serving: Callable[[DemoResult], None] | None = None
) -> DemoResult:
    """Train, register, replay, analyse; return what was planned and what keeneye found.

    ``keep_serving``, when given, is called with the result after the replay while the
    collector still runs (the CLI prints it and waits for Ctrl-C); the server stops when it
    returns.
    """
    location = str(options.store)
    if "://" not in location and Path(location).exists():
        raise InputError(
            f"store file {str(options.store)!r} already exists; the demo writes a fresh store: "
            "remove it or pass another --store"
        )
    began = time.monotonic()
    base = load_settings(options.config)
    windows = ["daily"] if options.daily_only else list(base.analysis.windows)
    # Analyse when the shortest window completes: every simulated hour with hourly windows.
    hourly = "hourly" in windows
    scenario = default_scenario(days=options.days, hourly=hourly)
    world = World.load(jitter=scenario.jitter)
    trained = train_versions(world, seed=options.seed)
    generator = Generator(
        scenario, world, {v: t.model for v, t in trained.items()}, seed=options.seed
    )
    clock = ManualClock(scenario.start)
    server = _Server(options.host, options.port)
    settings = demo_settings(base, options.store, server.url, daily_only=options.daily_only)
    store = open_store(location, clock=clock.now)
    seen = _Collector()
    monitors: dict[str, Monitor] = {}
    try:
        from keeneye.server.app import create_app

        app = create_app(settings, store, clock=clock.now)
        notifier: Notifier = app.state.notifier
        notifier.channels.append(CallbackChannel(seen.on_message, name="demo timeline"))
        server.start(app)
        stats = AnalysisRunner(store, settings, clock, jobs=("stats",))
        drift = AnalysisRunner(store, settings, clock, jobs=("drift",))
        registry = CollectorRegistry()

        def monitor(version: str) -> Monitor:
            if version not in monitors:
                monitors[version] = Monitor(
                    MODEL,
                    version,
                    url=server.url,
                    registry=registry,
                    clock=lambda: clock.now().timestamp(),
                    batch_size=2000,
                    flush_interval=0.5,
                    queue_size=50_000,
                    max_retries=None,
                )
                monitors[version].register_version(
                    live=True,
                    training_data=f"sklearn:load_breast_cancer+jitter seed={options.seed}",
                    tags={"demo": "true"},
                )
                _upload_baseline(server.url, trained[version])
            return monitors[version]

        events = labels = 0
        pending: list[tuple[datetime, str, int]] = []
        hours = scenario.days * 24
        grace = timedelta(seconds=settings.analysis.grace_seconds + 1)
        for h in range(hours):
            hour_start = scenario.start + h * HOUR
            if clock.now() < hour_start:
                clock.set(hour_start)
            mon = monitor(generator.version_at(hour_start))
            batch = generator.hour(hour_start)
            for ts, inputs, prediction, label, label_time in zip(
                batch.timestamps,
                batch.inputs,
                batch.predictions,
                batch.labels,
                batch.label_times,
                strict=True,
            ):
                event_id = mon.log(inputs, prediction, timestamp=ts)
                heapq.heappush(pending, (label_time, event_id, label))
            events += len(batch.timestamps)
            day_done = (hour_start + HOUR - scenario.start) % DAY == timedelta(0)
            if day_done or hourly:
                # A window is over (the hour, or the day): it completes after the
                # grace period; the labels that landed by then are sent; the analysis runs and
                # the notifier hears which alerts are active now.
                now = hour_start + HOUR + grace
                clock.set(now)
                while pending and pending[0][0] <= now:
                    label_time, event_id, label = heapq.heappop(pending)
                    monitors["1"].log_label(event_id, label, timestamp=label_time)
                    labels += 1
                for m in monitors.values():
                    m.flush(timeout=120)
                seen.add_report(stats.run_once(models=[MODEL]), now)
                seen.add_report(drift.run_once(models=[MODEL]), now)
                notifier.process(stats.active_alerts(MODEL), now, stats.readings(MODEL))
            if options.progress is not None:
                options.progress(h + 1, hours, hour_start + HOUR)
        notifier.flush(timeout=60)
        dropped = sum(sum(m.stats().get("dropped", {}).values()) for m in monitors.values())
        result = judge(
            scenario,
            seen.detections.values(),
            seen.sent,
            seen.versions_seen,
            url=server.url,
            store=str(options.store),
            events=events,
            labels=labels,
            dropped=int(dropped),
            seconds=time.monotonic() - began,
            delivery=notifier.stats(),
        )
        if keep_serving is not None:
            keep_serving(result)
        return result
    finally:
        for m in monitors.values():
            m.close(timeout=10)
        server.stop()
        store.close()


def _upload_baseline(url: str, trained: TrainedVersion) -> None:
    """Register a version's training data through the collector's baseline API (Parquet)."""
    buffer = io.BytesIO()
    pq.write_table(pa.table(trained.baseline), buffer)
    response = httpx.put(
        f"{url}/v1/models/{MODEL}/versions/{trained.version}/baseline",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
        timeout=60,
    )
    if response.status_code != 201:
        raise KeeneyeError(
            f"the collector refused the baseline of version {trained.version}: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )


__all__ = ["DemoOptions", "Scenario", "demo_settings", "run_demo"]
