"""Running the analysis on a schedule: one run at a time, then the active alerts go to the
notifier. Used in-process by ``keeneye server`` and by ``keeneye worker``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from keeneye.analysis.history import record_history
from keeneye.analysis.runner import AnalysisRunner, Progress, RunReport
from keeneye.notify.alert import Alert

log = logging.getLogger("keeneye.analysis")

#: Receives the alerts active after a run and the clock time (e.g. ``Notifier.process``).
#: Receives the alerts active after a run, the run's time and what the rules measure now (by
#: alert key; see :attr:`RunReport.readings`).
AlertSink = Callable[[Sequence[Alert], datetime, Mapping[str, float]], object]


class AnalysisService:
    """Calls :meth:`AnalysisRunner.run_once` every ``interval`` seconds on a background thread
    (and on demand through :meth:`run_now`), never two runs at once, and hands the active
    alerts to ``sink``. A failing run is logged and retried at the next tick.
    """

    def __init__(
        self, runner: AnalysisRunner, interval: float, sink: AlertSink | None = None
    ) -> None:
        self.runner = runner
        self.interval = interval
        self.sink = sink
        self.last_report: RunReport | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_now(self) -> RunReport:
        """One run, now; the active alerts go to the sink. Raises what the run raises."""
        return self.run()

    def run(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        backfill: bool = False,
        models: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> RunReport:
        """One run over the given range (a backfill of any past range); the conditions found
        in every computed window go to the store's alert history, and the alerts active now
        (not those of past windows) to the sink. Raises what the run raises."""
        with self._lock:
            report = self.runner.run_once(
                since=since, until=until, backfill=backfill, models=models, progress=progress
            )
            self.last_report = report
            try:
                record_history(self.runner.store, report)
            except Exception:  # the history is best effort: it must not stop notifications
                log.exception("could not record the alert history of a run")
            if self.sink is not None:
                self.sink(list(report.active), report.ran_at, report.readings)
            return report

    def start(self) -> None:
        """Start the background loop (the first run happens right away)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="keeneye-analysis", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop and wait for a run in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_now()
                self.last_error = None
            except Exception as exc:  # keep the server alive; the next tick tries again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("analysis run failed")
            # Waiting on the event (not sleeping) lets stop() end the loop at once.
            self._stop.wait(self.interval)
