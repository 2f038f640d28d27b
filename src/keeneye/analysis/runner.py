"""The analysis runner: finds the windows that are complete and not computed yet (or that late
events or labels re-opened), runs the statistics and drift jobs on them, saves the results and
evaluates the alert rules. Written against the ``EventStore`` protocol only, so the same code
runs inside ``keeneye server`` and as ``keeneye worker stats|drift`` processes.

Bookkeeping lives in the store, not in memory: every computed window carries a fingerprint of
what it held (events, labels, newest label time) in a per-model *marker* result (kind
``traffic`` for the statistics job, ``drift_window`` for the drift job, version ``*``). Any
window whose current fingerprint differs is computed again, however old it is: a label that
arrives months after its prediction re-opens that window at the next run (there is no
horizon). The current fingerprints of the whole history come from one aggregate query (no
event row leaves the store); the stored markers are loaded once per runner and then kept up to
date in memory, so a run recomputes only the windows whose counts changed — its cost grows
with what arrived, not with the history.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis import rules
from keeneye.analysis.batching import WindowReader, column_micros, earlier_counts, micros
from keeneye.analysis.count_windows import COUNT, cut_windows
from keeneye.analysis.drift import drift_section, window_alpha
from keeneye.analysis.expected import (
    ExpectedCache,
    PreparedBaseline,
    expected_ranges,
    labelled_baseline,
    prepare_baseline,
)
from keeneye.analysis.fitted import SHARED_FITTED, BaselineModels
from keeneye.analysis.outliers import OutlierModels, outliers_section
from keeneye.analysis.reference import Reference, ReferenceCache, build_reference
from keeneye.analysis.scores import score_names, with_scores
from keeneye.analysis.statistics import (
    performance_section,
    rows_of_version,
    summary_section,
)
from keeneye.analysis.traffic import comparisons_for, traffic_section
from keeneye.analysis.windows import (
    Fingerprint,
    Window,
    complete_windows,
    windows_for,
)
from keeneye.analysis.windows import (
    needs_computing as window_needs_computing,
)
from keeneye.baseline.fitted import load_reference
from keeneye.baseline.register import baseline_info, table_digest
from keeneye.baseline.resolve import ReferenceChoice, choose_baseline
from keeneye.clock import Clock
from keeneye.config import Settings
from keeneye.errors import NotFoundError
from keeneye.notify.alert import Alert
from keeneye.privacy.dp import privatize
from keeneye.profile.report import (
    ExpectedRange,
    OutliersSection,
    PerformanceSection,
    ReferenceUsed,
    Report,
)
from keeneye.profile.stored import latest_results
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult, WindowData

log = logging.getLogger("keeneye.analysis")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Before any event: the start of the count that checks a known first event.
_DAWN = datetime(1, 1, 2, tzinfo=timezone.utc)

#: The version recorded on model-level results (traffic, window markers).
ALL_VERSIONS = "*"
#: The result kinds each job writes; the first one is the job's window marker.
JOB_KINDS: dict[str, tuple[str, ...]] = {
    "stats": ("traffic", "summary", "performance", "estimated", "segments", "online"),
    "drift": ("drift_window", "drift", "multivariate"),
}

Progress = Callable[[int, int, str], None]
#: Results are committed in groups of about this many.
_SAVE_EVERY = 200
#: The default cache of fitted references, shared by the runners of a process.
_SHARED_REFERENCES = ReferenceCache()
#: Expected performance ranges (and the prepared baselines they come from) by baseline
#: digest, shared by the runners of a process and kept across runs (see _with_expected).
_SHARED_EXPECTED = ExpectedCache()
#: Fitted outlier rules, shared the same way (``analysis.outliers``).
_SHARED_OUTLIERS = OutlierModels()


@dataclass(frozen=True)
class RunReport:
    """What one ``run_once`` did.

    ``windows`` counts window computations (a window computed by both jobs counts twice).
    ``alerts`` are the conditions found in the windows computed by this run (for a timeline);
    ``active`` are the conditions of the latest complete windows — the complete set of alerts
    active now, which is what a notifier needs to send "resolved" messages.
    """

    computed: tuple[StoredResult, ...]
    alerts: tuple[Alert, ...]
    active: tuple[Alert, ...]
    windows: int
    ran_at: datetime
    #: What the rules measure in the latest complete windows, alerting or not, by alert key
    #: (:func:`keeneye.analysis.rules.readings`): the value now of a resolved alert.
    readings: Mapping[str, float] = field(default_factory=dict)


class AnalysisRunner:
    """Compute every complete, not-yet-computed (or re-opened) window of every model.

    >>> from keeneye.clock import ManualClock
    >>> from keeneye.config import Settings
    >>> from keeneye.store.duckdb import DuckDBStore
    >>> clock = ManualClock(datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> runner = AnalysisRunner(DuckDBStore(":memory:"), Settings(), clock)
    >>> runner.run_once().windows
    0
    """

    def __init__(
        self,
        store: EventStore,
        settings: Settings,
        clock: Clock,
        *,
        jobs: Sequence[str] = ("stats", "drift"),
        cache: ReferenceCache | None = None,
    ) -> None:
        unknown = [j for j in jobs if j not in JOB_KINDS]
        if unknown:
            raise ValueError(f"unknown analysis job {unknown[0]!r}; choose from stats, drift")
        self.store = store
        self.settings = settings
        self.clock = clock
        self.jobs = tuple(jobs)
        # Fitted references are keyed by the baseline's content digest, so every runner of the
        # process (the stats and the drift runner, workers) shares one cache by default.
        self.cache = cache if cache is not None else _SHARED_REFERENCES
        # Estimators and multivariate models fitted on baselines (keeneye.analysis.fitted).
        self.fitted = BaselineModels(store, settings.analysis, SHARED_FITTED)
        self.last_run: datetime | None = None
        # Per-run memo of store look-ups that do not change during a run (baseline choice,
        # first event of a model); cleared at the start and end of every run.
        self._memo: dict[tuple[Any, ...], Any] = {}
        # The last window version's features with its score columns (see _with_scores).
        self._scored: dict[tuple[Any, ...], pa.Table] = {}
        # Per-run batched reads: window rows and invalid counts by model, and the event counts
        # of the earlier windows that traffic compares with, by (model, size, start).
        self._readers: dict[str, WindowReader] = {}
        self._earlier: dict[tuple[str, str, datetime], int] = {}
        # First event per model, checked against the store at every run (see _earliest).
        self._firsts: dict[str, datetime] = {}
        # The stored fingerprint of every window each job's markers were seen for (or written
        # by this runner), by model and job: results are never deleted, so a window once
        # marked stays marked; a marker another process rewrote only costs a recomputation.
        self._marked: dict[tuple[str, str], dict[tuple[str, float], Fingerprint | None]] = {}
        # The count windows of each model cut so far (results are never deleted, so a cut
        # stays; see keeneye.analysis.count_windows).
        self._counted: dict[str, list[Window]] = {}

    def _choice(self, model: str, version: str) -> ReferenceChoice | None:
        key = ("choice", model, version)
        if key not in self._memo:
            self._memo[key] = choose_baseline(self.store, model, version, self.settings.analysis)
        return self._memo[key]

    def _first_event(self, model: str) -> datetime | None:
        key = ("first", model)
        if key not in self._memo:
            self._memo[key] = self._earliest(model)
        return self._memo[key]

    def _earliest(self, model: str) -> datetime | None:
        """The time of the model's first event. A model summary joins every label (tens of
        milliseconds on a large store), so a first event found earlier is kept and only
        checked: events are never deleted, so it stays the first unless an older one arrived,
        which a count over the time before it (a few pruned row groups) tells."""
        known = self._firsts.get(model)
        if known is not None and self.store.count_events(model, _DAWN, known).num_rows == 0:
            return known
        first = self.store.model_summary(model).first_event
        if first is None:
            return None
        self._firsts[model] = found = _utc(first)
        return found

    # -- the loop body ----------------------------------------------------------------------
    def run_once(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        backfill: bool = False,
        models: Iterable[str] | None = None,
        progress: Progress | None = None,
    ) -> RunReport:
        """Compute what is due at the clock's time and return what it found.

        ``since``/``until`` bound the windows considered (default: ``analysis.backfill_days``
        back from now, up to now); ``backfill`` reaches back to the model's first event.
        """
        now = self.clock.now()
        self._memo.clear()
        until = min(until, now) if until is not None else now
        names = [m.model for m in self.store.list_models()] if models is None else list(models)
        due = [(m, w, job) for m in names for (w, job) in self._due(m, now, until, since, backfill)]
        # Both jobs of one window share one read of its rows.
        grouped: dict[tuple[str, Window], list[str]] = {}
        for model, window, job in due:
            grouped.setdefault((model, window), []).append(job)
        self._prepare_batches(grouped)
        computed: list[StoredResult] = []
        found: list[Alert] = []
        pending: list[StoredResult] = []
        for i, ((model, window), jobs) in enumerate(grouped.items()):
            if progress is not None:
                progress(i, len(grouped), f"{model} {window.label()}")
            results = self._compute(model, window, jobs)
            reader = self._readers.get(model)
            if reader is not None:
                reader.done(window)
            pending.extend(results)
            computed.extend(results)
            self._remember(model, results)
            found.extend(rules.evaluate(results, self.settings.alerts))
            # Saving in groups: one commit per window costs more than the window's statistics,
            # and a crash loses at most one group (recomputed on the next run).
            if len(pending) >= _SAVE_EVERY:
                self.store.save_results(pending)
                pending = []
        self.store.save_results(pending)
        self._memo.clear()
        self._readers.clear()
        self._earlier.clear()
        if progress is not None:
            progress(len(grouped), len(grouped), "done")
        # The alerts active now, whatever range was analysed (a backfill of a past range
        # must not page anyone about last spring).
        active: list[Alert] = []
        values: dict[str, float] = {}
        for model in names:
            latest = self._latest(model, now)
            active.extend(rules.evaluate(latest, self.settings.alerts))
            values.update(rules.readings(latest, self.settings.alerts))
        self.last_run = now
        return RunReport(tuple(computed), tuple(found), tuple(active), len(due), now, values)

    def _prepare_batches(self, grouped: Mapping[tuple[str, Window], Sequence[str]]) -> None:
        """Plan the run's reads: window rows span by span, and one count query per window size
        for the earlier windows that traffic compares with."""
        self._readers.clear()
        self._earlier.clear()
        by_model: dict[str, list[tuple[Window, Sequence[str]]]] = {}
        for (model, window), jobs in grouped.items():
            by_model.setdefault(model, []).append((window, jobs))
        for model, planned in by_model.items():
            stats = [w for w, jobs in planned if "stats" in jobs]
            self._readers[model] = WindowReader(
                self.store, model, [w for w, _ in planned], with_invalid=stats
            )
            if not stats:
                continue
            first = self._first_event(model) or min(w.start for w in stats)
            history_start = first.replace(minute=0, second=0, microsecond=0)
            earlier = [
                w.shifted(days=-days)
                for w in stats
                for _, days in comparisons_for(w)
                if w.shifted(days=-days).start >= history_start
            ]
            for (name, start), count in earlier_counts(self.store, model, earlier).items():
                self._earlier[(model, name, start)] = count

    # -- what is due ------------------------------------------------------------------------
    def _due(
        self,
        model: str,
        now: datetime,
        until: datetime,
        since: datetime | None,
        backfill: bool,
    ) -> list[tuple[Window, str]]:
        try:
            first = self._first_event(model)
        except NotFoundError:
            return []
        if first is None:
            return []
        analysis = self.settings.analysis
        start = first if backfill else max(first, now - timedelta(days=analysis.backfill_days))
        if since is not None:
            start = max(_utc(since), first)
        grace = timedelta(seconds=analysis.grace_seconds)
        sizes: dict[str, list[Window]] = {}
        model_windows = windows_for(analysis, model)
        for name in model_windows:
            windows = [w for w in complete_windows(name, start, now, grace=grace) if w.end <= until]
            if windows:
                sizes[name] = windows
        counted, fresh = self._count_windows(model, first, min(until, now - grace))
        if counted:
            sizes[COUNT] = [w for w in counted if w.end > start]
            model_windows = [*model_windows, COUNT]
        if not any(sizes.values()):
            return []
        # One aggregate query gives the current fingerprints of every window of every size;
        # the stored ones are read from the store only for windows this runner has not seen.
        current = self._fingerprints(model, {n: w for n, w in sizes.items() if n != COUNT})
        stored = [w for w in sizes.get(COUNT, []) if w not in fresh]
        current.update(self._count_fingerprints(model, stored))
        due: list[tuple[Window, str]] = []
        for job in self.jobs:
            marked = self._marked.setdefault((model, job), {})
            unseen = [
                w.start
                for name, windows in sizes.items()
                for w in windows
                if (name, _key(w.start)) not in marked
            ]
            if unseen:
                for r in self.store.load_results(
                    model, kind=JOB_KINDS[job][0], version=ALL_VERSIONS, start=min(unseen)
                ):
                    if r.payload.get("window") in sizes:
                        key = (str(r.payload.get("window")), _key(r.window_start))
                        marked[key] = Fingerprint.from_dict(r.payload.get("fingerprint"))
            for size in model_windows:
                for window in sizes.get(size, []):
                    key = (size, _key(window.start))
                    changed = key in marked and (
                        key in current and needs_computing(current[key], marked[key], job)
                    )
                    if key not in marked or changed:
                        due.append((window, job))
        due.sort(key=lambda item: (item[0].end, item[0].start, item[1]))
        return due

    def _count_windows(
        self, model: str, first: datetime, until: datetime
    ) -> tuple[list[Window], set[Window]]:
        """The model's count windows (``analysis.count_windows``) that end by ``until``: those
        cut before (loaded from the store once per runner) and, second, those cut now from the
        events after the last one."""
        size = self.settings.analysis.count_windows.get(model)
        if size is None:
            return [], set()
        known = self._counted.get(model)
        if known is None:
            known = sorted(
                Window(_utc(r.window_start), _utc(r.window_end), COUNT)
                for r in self.store.load_results(model, kind="traffic", version=ALL_VERSIONS)
                if r.payload.get("window") == COUNT
            )
            self._counted[model] = known
        cursor = known[-1].end if known else first
        fresh = list(cut_windows(self.store, model, size, cursor, until)) if cursor < until else []
        known.extend(fresh)
        return list(known), set(fresh)

    def _count_fingerprints(
        self, model: str, windows: Sequence[Window]
    ) -> dict[tuple[str, float], Fingerprint]:
        """Current fingerprints of count windows cut in earlier runs (one count per window:
        their lengths share no bucket size)."""
        out: dict[tuple[str, float], Fingerprint] = {}
        for window in windows:
            key = (COUNT, _key(window.start))
            seconds = max(1, math.ceil(window.length.total_seconds()))
            counts = self.store.count_labelled(
                model, window.start, window.end, bucket_seconds=seconds
            )
            events = int(sum(counts.column("events").to_pylist()))
            labels = int(sum(counts.column("labels").to_pylist()))
            newest = None
            lasts = [v for v in pc.cast(counts.column("last_label_at"), pa.int64()).to_pylist()]
            lasts = [v for v in lasts if v is not None]
            if labels and lasts:
                newest = (_EPOCH + timedelta(microseconds=max(lasts))).isoformat()
            out[key] = Fingerprint(events, labels, newest)
        return out

    def _remember(self, model: str, results: Sequence[StoredResult]) -> None:
        """Keep the fingerprints of the markers just computed (saved with this run)."""
        for job, kinds in JOB_KINDS.items():
            marked = self._marked.get((model, job))
            if marked is None:
                continue
            for r in results:
                if r.kind == kinds[0] and r.version == ALL_VERSIONS:
                    key = (str(r.payload.get("window")), _key(r.window_start))
                    marked[key] = Fingerprint.from_dict(r.payload.get("fingerprint"))

    def _fingerprints(
        self, model: str, sizes: Mapping[str, list[Window]]
    ) -> dict[tuple[str, float], Fingerprint]:
        """Current fingerprints of the (consecutive) windows of every size, from one aggregate
        query (no event rows read): buckets of the sizes' common divisor tile every window."""
        spans = {name: ws for name, ws in sizes.items() if ws}
        if not spans:
            return {}
        start = min(ws[0].start for ws in spans.values())
        end = max(ws[-1].end for ws in spans.values())
        # (calendar months differ in length: every window's length counts)
        step = math.gcd(*{int(w.length.total_seconds()) for ws in spans.values() for w in ws})
        counts = self.store.count_labelled(model, start, end, bucket_seconds=step)
        buckets = list(
            zip(
                column_micros(counts.column("bucket_start")).tolist(),
                counts.column("events").to_pylist(),
                counts.column("labels").to_pylist(),
                pc.cast(counts.column("last_label_at"), pa.int64()).to_pylist(),
                strict=True,
            )
        )
        out: dict[tuple[str, float], Fingerprint] = {}
        for name, windows in spans.items():
            starts = [micros(w.start) for w in windows]
            last_end = micros(windows[-1].end)
            events_in = [0] * len(windows)
            labels_in = [0] * len(windows)
            newest_in: list[int | None] = [None] * len(windows)
            for bucket, events, labels, last in buckets:
                if not starts[0] <= bucket < last_end:
                    continue
                index = bisect_right(starts, bucket) - 1
                events_in[index] += events
                labels_in[index] += labels
                known = newest_in[index]
                if labels and last is not None and (known is None or last > known):
                    newest_in[index] = last
            for i, window in enumerate(windows):
                # Integer microseconds: the newest label time prints exactly as fingerprint_of.
                newest = None
                last_us = newest_in[i]
                if labels_in[i] and last_us is not None:
                    newest = (_EPOCH + timedelta(microseconds=last_us)).isoformat()
                out[(name, _key(window.start))] = Fingerprint(events_in[i], labels_in[i], newest)
        return out

    # -- computing one window ---------------------------------------------------------------
    def _compute(self, model: str, window: Window, jobs: Sequence[str]) -> list[StoredResult]:
        reader = self._readers.get(model) or WindowReader(self.store, model, [])
        self._readers[model] = reader
        data = reader.read(window)
        fingerprint = fingerprint_of(data)
        computed_at = self.clock.now()

        dp = self.settings.privacy.dp
        # the sections that publish counts share the window's ε (keeneye.privacy.dp)
        sections = 2 + int(self.settings.analysis.outliers.enabled)

        def result(version: str, kind: str, payload: dict[str, Any] | Report) -> StoredResult:
            if isinstance(payload, Report):
                payload = privatize(
                    payload,
                    dp,
                    sections=sections,
                    stream=f"{model}/{version}/{kind}",
                    start=window.start,
                )
                body = replace(payload, window=window.name, fingerprint=fingerprint).to_payload()
            else:
                body = {"window": window.name, "fingerprint": fingerprint.to_dict(), **payload}
            return StoredResult(model, version, kind, window.start, window.end, computed_at, body)

        versions = sorted(pc.unique(data.events.column("version")).to_pylist())
        out: list[StoredResult] = []
        if "stats" in jobs:
            out.append(result(ALL_VERSIONS, "traffic", self._traffic(model, window, data)))
            for version in versions:
                features, events = rows_of_version(data.features, data.events, version)
                invalid = self._readers[model].invalid(window, version)
                reference = self._reference(model, version, window)
                features = self._with_scores(model, window, version, features, events, reference)
                summary = summary_section(features, events, invalid, reference)
                out.append(result(version, "summary", Report(summary=summary)))
                performance = performance_section(
                    events,
                    task=self.settings.analysis.tasks.get(model, "auto"),
                    positive_class=self.settings.analysis.positive_class.get(model),
                )
                performance = self._with_expected(model, version, window, performance, reference)
                out.append(result(version, "performance", Report(performance=performance)))
                choice = self._choice(model, version)
                level = window_alpha(self.settings.analysis, window.length)
                estimated = self.fitted.estimated(model, choice, reference, features, events, level)
                if estimated is not None:
                    out.append(result(version, "estimated", Report(estimated=estimated)))
                segments = self.fitted.segments(model, choice, reference, features, events, level)
                if segments is not None:
                    out.append(result(version, "segments", Report(segments=segments)))
                online = self.fitted.online(model, choice, reference, features, events)
                if online is not None:
                    out.append(result(version, "online", Report(online=online)))
        if "drift" in jobs:
            references: dict[str, Any] = {}
            for version in versions:
                features, events = rows_of_version(data.features, data.events, version)
                reference = self._reference(model, version, window)
                features = self._with_scores(model, window, version, features, events, reference)
                choice = self._choice(model, version)
                references[version] = None if choice is None else choice.reason
                if reference is None:
                    continue
                methods = self.fitted.multivariate_methods(model, choice)
                drift = drift_section(
                    features,
                    events,
                    reference,
                    self.settings.analysis,
                    length=window.length,
                    reserve=self.fitted.reserve(model, choice, reference),
                )
                level = window_alpha(self.settings.analysis, window.length)
                multivariate = self.fitted.multivariate(
                    model, choice, reference, features, level, methods
                )
                if multivariate is not None:
                    out.append(result(version, "multivariate", Report(multivariate=multivariate)))
                if drift is not None:
                    used = ReferenceUsed(
                        kind=choice.kind if choice else None,
                        version=choice.version if choice else None,
                        reason=choice.reason if choice else None,
                    )
                    drift = replace(drift, reference=used)
                    outliers = self._outliers(model, version, window, features, reference)
                    out.append(result(version, "drift", Report(drift=drift, outliers=outliers)))
            out.append(result(ALL_VERSIONS, "drift_window", {"references": references}))
        return out

    def _with_scores(
        self,
        model: str,
        window: Window,
        version: str,
        features: pa.Table,
        events: pa.Table,
        reference: Reference | None,
    ) -> pa.Table:
        """The window's score columns (from the logged probabilities) that the baseline has;
        both jobs of a window share one parse of the probabilities."""
        if reference is None:
            return features
        names = score_names(reference.kinds)
        if not names:
            return features
        key = (model, window.name, window.start, version, tuple(names), events.num_rows)
        cached = self._scored.get(key)
        if cached is not None:
            return cached
        table = with_scores(
            features, events, names, self.settings.analysis.positive_class.get(model)
        )
        self._scored = {key: table}  # only the window being computed
        return table

    def _outliers(
        self,
        model: str,
        version: str,
        window: Window,
        features: pa.Table,
        reference: Reference,
    ) -> OutliersSection | None:
        """The window's outlier section when ``analysis.outliers.enabled`` (baseline
        references only: a rolling reference has no fitted rule)."""
        analysis = self.settings.analysis
        choice = self._choice(model, version)
        if not analysis.outliers.enabled or choice is None or choice.version is None:
            return None
        if choice.kind == "rolling":
            return None
        # keyed by the baseline's digest (a re-registered baseline is fitted again) and the
        # settings that shape the rule
        options = analysis.outliers
        key = (model, choice.version, f"{reference.digest}:{options.quantile}:{options.rare_share}")
        version_of_baseline = choice.version
        fitted = _SHARED_OUTLIERS.get_or_fit(
            key,
            lambda: self.store.load_baseline(model, version_of_baseline),
            reference,
            options,
        )
        if fitted is None:
            return None
        return outliers_section(fitted, features, analysis, window.length)

    def _with_expected(
        self,
        model: str,
        version: str,
        window: Window,
        section: PerformanceSection,
        reference: Reference | None,
    ) -> PerformanceSection:
        """The metrics' expected ranges from the baseline's labels, for this many labels (one
        computation per baseline and label count, rounded to two significant digits).

        Ranges of a baseline whose digest is known are kept across runs: late labels re-open
        a large window at every run, and its label count mostly rounds to the same two
        digits (the ranges of a 1M-row baseline cost seconds)."""
        if section.labels < self.settings.alerts.min_labels:
            return section
        choice = self._choice(model, version)
        if choice is None or choice.version is None:
            return section
        n = int(float(f"{section.labels:.2g}"))
        digest = reference.digest if reference is not None else None
        level = window_alpha(self.settings.analysis, window.length)
        task = self.settings.analysis.tasks.get(model, "auto")
        positive = self.settings.analysis.positive_class.get(model)
        shape = (task, positive)
        key = ("expected", model, choice.version, digest, n, level, *shape)
        if digest is None:  # no digest to know the baseline by: kept for this run only
            if key not in self._memo:
                base_key = ("labelled", model, choice.version, *shape)
                if base_key not in self._memo:
                    self._memo[base_key] = self._prepared(model, choice.version, shape)
                prepared = self._memo[base_key]
                self._memo[key] = {} if prepared is None else expected_ranges(prepared, n, level)
            expected = self._memo[key]
        else:
            version_of_baseline = choice.version

            def compute() -> dict[str, ExpectedRange]:
                prepared = _SHARED_EXPECTED.baseline(
                    ("labelled", model, version_of_baseline, digest, *shape),
                    lambda: self._prepared(model, version_of_baseline, shape),
                )
                return {} if prepared is None else expected_ranges(prepared, n, level)

            expected = _SHARED_EXPECTED.ranges(key, compute)
        return replace(section, expected=expected) if expected else section

    def _prepared(
        self, model: str, version: str, shape: tuple[str, str | None]
    ) -> PreparedBaseline | None:
        """The baseline's labelled rows prepared for expected ranges (``None`` without)."""
        table = self.store.load_baseline(model, version)
        events = None if table is None else labelled_baseline(table)
        if events is None:
            return None
        return prepare_baseline(events, task=shape[0], positive_class=shape[1])

    def _traffic(self, model: str, window: Window, data: WindowData) -> Report:
        counted_versions = pc.value_counts(data.events.column("version"))  # first seen first
        by_version: dict[str, int] = dict(
            zip(
                counted_versions.field("values").to_pylist(),
                counted_versions.field("counts").to_pylist(),
                strict=True,
            )
        )
        first = self._first_event(model) or window.start
        history_start = first.replace(minute=0, second=0, microsecond=0)
        references: dict[str, int | None] = {}
        for name, days in comparisons_for(window):
            earlier = window.shifted(days=-days)
            if earlier.start < history_start:
                references[name] = None  # before the model's history: no reference, not a drop
                continue
            counted = self._earlier.get((model, earlier.name, earlier.start))
            if counted is None:
                counts = self.store.count_events(model, earlier.start, earlier.end)
                counted = int(pc.sum(counts.column("events")).as_py() or 0)
            references[name] = counted
        weekend = frozenset(self.settings.analysis.weekend_days)
        return Report(
            traffic=traffic_section(window, data.events.num_rows, by_version, references, weekend)
        )

    def _reference(self, model: str, version: str, window: Window) -> Reference | None:
        """The prepared reference of a version (cached per baseline digest), or the same window
        a week earlier for models with a rolling reference."""
        choice = self._choice(model, version)
        if choice is None:
            return None
        if choice.kind == "rolling":
            earlier = window.shifted(days=-7)
            past = self.store.read_window(model, earlier.start, earlier.end, version=version)
            if past.features.num_rows == 0:
                return None
            table = past.features.append_column("prediction", past.events.column("prediction"))
            return build_reference(table)
        if choice.version is None:
            return None
        memo_key = ("info", model, choice.version)
        if memo_key not in self._memo:
            self._memo[memo_key] = baseline_info(self.store, model, choice.version)
        info = self._memo[memo_key]
        table = None
        if info:
            digest = str(info["digest"])
        else:
            # A baseline saved straight through the store has no registration record: its
            # digest is computed from the table (once per run), so it is cached all the same.
            digest_key = ("digest", model, choice.version)
            if digest_key not in self._memo:
                table = self.store.load_baseline(model, choice.version)
                self._memo[digest_key] = None if table is None else table_digest(table)
            digest = self._memo[digest_key]
            if digest is None:
                return None
        key = (model, choice.version, digest)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        reference = load_reference(self.store, model, choice.version, digest)
        if reference is None:
            return None
        self.cache.put(key, reference)
        return reference

    # -- the alerts active now --------------------------------------------------------------
    def active_alerts(self, model: str, until: datetime | None = None) -> list[Alert]:
        """Alerts of the latest complete window of each size (performance: the latest window
        with enough labels), i.e. the conditions that hold now."""
        return rules.evaluate(self._latest(model, until or self.clock.now()), self.settings.alerts)

    def readings(self, model: str, until: datetime | None = None) -> dict[str, float]:
        """What the rules measure in the latest complete windows, by alert key (the value now
        that a "resolved" notification shows)."""
        latest = self._latest(model, until or self.clock.now())
        return rules.readings(latest, self.settings.alerts)

    def _latest(self, model: str, now: datetime) -> list[StoredResult]:
        analysis = self.settings.analysis
        return latest_results(
            self.store,
            model,
            windows_for(analysis, model),
            now,
            grace=timedelta(seconds=analysis.grace_seconds),
            recheck_days=analysis.recheck_days,
            min_labels=self.settings.alerts.min_labels,
        )


def fingerprint_of(data: WindowData) -> Fingerprint:
    """The fingerprint of the rows a window was computed from."""
    events = data.events
    label = events.column("label")
    labels = len(label) - label.null_count
    newest = None
    if labels:
        # the label times of the labelled rows only (no copy of the window's other columns)
        times = pc.filter(events.column("label_timestamp"), pc.is_valid(label))
        value = pc.max(times).as_py()
        newest = _utc(value).isoformat() if value is not None else None
    return Fingerprint(events.num_rows, labels, newest)


def needs_computing(current: Fingerprint, stored: Fingerprint | None, job: str) -> bool:
    """Labels re-open a window for the statistics job only (drift does not read labels)."""
    if stored is None or job == "stats":
        return window_needs_computing(current, stored)
    return current.events != stored.events


def _key(when: datetime) -> float:
    return _utc(when).timestamp()


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


__all__ = ["ALL_VERSIONS", "AnalysisRunner", "RunReport", "fingerprint_of"]
