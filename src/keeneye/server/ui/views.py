"""Page contexts: what each template gets, assembled from the store's stored results.

Each builder takes the store, the settings and the parsed :class:`TimeRange` and returns a plain
dict for its template; figures are plotly specs already serialised to JSON.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis.count_windows import COUNT
from keeneye.analysis.drift import alert_budget
from keeneye.analysis.windows import WINDOW_NAMES, window_length
from keeneye.baseline.fitted import load_reference
from keeneye.baseline.resolve import choose_baseline
from keeneye.config import Settings
from keeneye.errors import NotFoundError
from keeneye.kinds import numeric, numeric_family
from keeneye.profile.reference import PREDICTION_COLUMN, Reference
from keeneye.profile.report import (
    FeatureStats,
    LatencyStats,
    ModalSection,
    SummarySection,
    SummaryStats,
    corrected,
)
from keeneye.profile.stored import report_of
from keeneye.report.charts import baseline_grid, category_shares, merge_grid
from keeneye.report.charts import histogram as shared_bins
from keeneye.server.ui import charts, data, peer_views
from keeneye.server.ui.timerange import TimeRange
from keeneye.stats import summarize
from keeneye.stats.budget import DAY, WindowBudget, expected_false_alerts_per_month
from keeneye.stats.results import FeatureDrift
from keeneye.store.base import EventStore
from keeneye.store.records import ModelSummary, StoredResult, VersionChange
from keeneye.tables import type_family

PREDICTION_ROW = "prediction"
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "r2")


class PageNotFound(Exception):
    """An unknown model or feature (→ a 404 page naming it)."""


@dataclass(frozen=True)
class Chart:
    """A figure placed on a page: the element id and its JSON spec."""

    id: str
    spec: str


def chart(chart_id: str, figure: charts.Figure) -> Chart:
    return Chart(chart_id, charts.to_json(figure))


def _summary(store: EventStore, model: str) -> ModelSummary:
    try:
        return store.model_summary(model)
    except NotFoundError:
        known = ", ".join(m.model for m in store.list_models()) or "none yet"
        raise PageNotFound(
            f"no model named {model!r} is known to this server (known: {known})"
        ) from None


def _check_version(summary: ModelSummary, tr: TimeRange) -> None:
    if tr.version is not None and tr.version not in summary.versions:
        from keeneye.server.ui.timerange import QueryError

        raise QueryError(
            f"version: {tr.version!r} is not a version of {summary.model}; use one of "
            f"{', '.join(summary.versions) or '(none)'} or leave it out for all versions"
        )


def _column_label(r: StoredResult, many_versions: bool, window: str) -> str:
    fmt = "%m-%d %H:%M" if window in ("hourly", COUNT) else "%Y-%m-%d"
    label = r.window_start.strftime(fmt)
    return f"{label} v{r.version}" if many_versions else label


def _data_note(summary: ModelSummary, tr: TimeRange) -> dict[str, Any] | None:
    """When the range holds none of the model's events, a link to a range that does."""
    first, last = summary.first_event, summary.last_event
    if first is None or last is None:
        return {"text": "no predictions have been logged for this model yet", "query": None}
    if last >= tr.start and first < tr.end:
        return None
    end = last + timedelta(minutes=1)
    start = max(first, end - tr.length)
    query = tr.query(range=None, start=start.isoformat(), end=end.isoformat())
    return {"text": f"no predictions in this range; the latest was at {last:%Y-%m-%d %H:%M} UTC",
            "query": query}  # fmt: skip


# -- fleet --------------------------------------------------------------------------------------
def fleet(store: EventStore, settings: Settings, tr: TimeRange) -> dict[str, Any]:
    """Every model: health, live version, traffic sparkline, open alerts."""
    episodes = data.model_alerts(store)
    rows: list[dict[str, Any]] = []
    for summary in store.list_models():
        open_alerts = [e for e in episodes if e.model == summary.model and e.open]
        series = data.traffic(store, summary.model, tr.start, tr.end, tr.bucket_seconds)
        rows.append(
            {
                "summary": summary,
                "health": data.health(open_alerts),
                "open_alerts": open_alerts,
                "events_in_range": data.events_between(store, summary.model, tr.start, tr.end),
                "spark": chart(f"spark-{len(rows)}", charts.sparkline(series.x, series.y)),
            }
        )
    rows.sort(key=lambda r: (-data.HEALTH_ORDER[str(r["health"])], str(r["summary"].model)))
    return {"rows": rows, "tr": tr}


# -- model --------------------------------------------------------------------------------------
def model_page(store: EventStore, settings: Settings, model: str, tr: TimeRange) -> dict[str, Any]:
    """The model page: everything drawn from stored reports, the stored fitted reference, the
    alert history and one bucketed event count (no raw event is read)."""
    history = store.version_history(model)
    summary = _facts(store, model, history)
    _check_version(summary, tr)
    chosen = reference_for(store, settings, summary, tr)
    drift_results = data.results(store, model, "drift", tr)
    summaries = data.results(store, model, "summary", tr)
    performance = data.results(store, model, "performance", tr)
    heatmap, drift_rows = _drift(drift_results, tr, _no_drift_reason(chosen, summaries))
    episodes = [e for e in data.model_alerts(store, model) if data.in_range(e, tr)]
    estimates = peer_views.estimate_rows(data.results(store, model, "estimated", tr))
    multivariate = peer_views.multivariate_rows(data.results(store, model, "multivariate", tr))
    live = tr.version or summary.live_version
    segments = peer_views.segment_rows(data.results(store, model, "segments", tr))
    traffic, events_in_range = _traffic(store, model, history, tr)
    labels_in_range = sum(
        p.labels for r in performance if (p := report_of(r).performance) is not None
    )
    return {
        "segments": segments,
        "online": peer_views.online_rows(data.results(store, model, "online", tr)),
        "segment_drivers": peer_views.drivers(segments),
        "estimates": estimates,
        "multivariate": multivariate,
        "peer_charts": [
            chart("estimate-chart", peer_views.estimate_chart(estimates, live)),
            chart("multivariate-chart", peer_views.multivariate_chart(multivariate, live)),
        ],
        "summary": summary,
        "tr": tr,
        "note": None if events_in_range else _data_note(_summary(store, model), tr),
        "events_in_range": events_in_range,
        "labels_in_range": labels_in_range,
        "charts": [
            chart("traffic-chart", traffic),
            chart("latency-chart", _latency(summaries, tr)),
            chart("prediction-chart", _prediction(summaries, chosen)),
            chart("drift-heatmap", heatmap),
            chart("performance-chart", _performance(performance)),
        ],
        "drift_rows": drift_rows,
        "drifted": [r["feature"] for r in drift_rows if r["drifted_windows"]],
        "modal": _modal(drift_results),
        "budget": _budget(drift_results, settings, tr),
        "quality_rows": _quality(summaries, settings),
        "versions": _versions(store, summary, history),
        "alerts": episodes,
        "open_alerts": [e for e in episodes if e.open],
        "health": data.health([e for e in episodes if e.open]),
        "windows": len({(r.window_start, r.window_end) for r in summaries}),
    }


def _budget(
    results: Sequence[StoredResult], settings: Settings, tr: TimeRange
) -> dict[str, Any] | None:
    """The expected false drift alerts per month at the range's window size: from the alert
    budget the latest drift report in the range was decided with (as stored), else from the
    settings; ``alerting`` says whether drift of this window size raises alerts."""
    stored = next(
        (b for r in reversed(results) if (d := report_of(r).drift) and (b := d.alert_budget)),
        None,
    )
    if stored is None:
        if tr.window not in WINDOW_NAMES:
            return None
        stored = WindowBudget.of(
            alert_budget(settings.analysis), window_length(tr.window), settings.analysis.alpha
        )
    length = window_length(tr.window) if tr.window in WINDOW_NAMES else DAY
    return {
        "window": tr.window,
        "alerting": tr.window in settings.alerts.drift_windows,
        "alert_windows": ", ".join(settings.alerts.drift_windows),
        "window_level": stored.window_level,
        "expected_per_month": stored.expected_false_alerts_per_month,
        "false_alerts": stored.false_alerts,
        "period_days": stored.period_days,
        "fixed_per_month": expected_false_alerts_per_month(length, stored.window_level),
    }


def _facts(store: EventStore, model: str, history: Sequence[VersionChange]) -> ModelSummary:
    """The model's versions and live version, without the counts of
    :meth:`~keeneye.store.base.Registry.model_summary` (which joins every label to its
    prediction); the page counts its range instead. A model whose live version was never set
    gets the full summary (its live version is that of the latest event)."""
    versions = tuple(v.version for v in store.versions(model))
    if not versions or not history:
        return _summary(store, model)
    return ModelSummary(
        model=model,
        versions=versions,
        live_version=history[-1].version,
        events=0,
        labels=0,
        first_event=None,
        last_event=None,
        label_coverage=None,
        median_label_delay_seconds=None,
    )


def _traffic(
    store: EventStore, model: str, history: Sequence[VersionChange], tr: TimeRange
) -> tuple[charts.Figure, int]:
    """Traffic of the range with the same span a day and a week earlier (from one count), and
    the events in the range."""
    now, day, week = data.traffic_overlays(
        store,
        model,
        tr.start,
        tr.end,
        tr.bucket_seconds,
        (timedelta(0), timedelta(days=1), timedelta(days=7)),
        version=tr.version,
    )
    changes = [(c.live_since, c.version) for c in history if tr.start <= c.live_since < tr.end]
    return charts.traffic(now.x, now.y, day.y, week.y, changes), sum(now.y)


def _by_version(results: Sequence[StoredResult]) -> dict[str, list[StoredResult]]:
    groups: dict[str, list[StoredResult]] = {}
    for r in results:
        groups.setdefault(r.version, []).append(r)
    return groups


def _summary_of(r: StoredResult) -> SummarySection | None:
    return report_of(r).summary


#: The empty state of charts drawn from analysed windows, when none has completed.
NO_WINDOW_YET = (
    "no {window} window has completed in this range yet: a window is analysed once it has "
    "ended (plus analysis.grace_seconds)"
)


def _no_window(tr: TimeRange) -> str:
    return NO_WINDOW_YET.format(window=tr.window or "analysis")


def _latency(summaries: Sequence[StoredResult], tr: TimeRange) -> charts.Figure:
    latencies: dict[tuple[str, datetime], LatencyStats] = {}
    for r in summaries:
        section = _summary_of(r)
        if section is not None and section.latency is not None:
            latencies[(r.version, r.window_start)] = section.latency
    if not summaries:
        return charts.empty("Latency", _no_window(tr))
    if not latencies:
        return charts.empty(
            "Latency",
            "the events of this range carry no latency_seconds: Monitor.watch and serve-model "
            "measure it; pass latency_seconds= to Monitor.log",
        )
    series: dict[str, list[float | None]] = {}
    versions = sorted({v for v, _ in latencies})
    x = sorted({t for _, t in latencies})
    for version in versions:
        for q in ("p50", "p90", "p99"):
            name = f"{q} v{version}" if len(versions) > 1 else q
            values: list[float | None] = []
            for t in x:
                stats = latencies.get((version, t))
                value = getattr(stats, f"{q}_seconds") if stats is not None else None
                values.append(None if value is None else 1000 * value)
            series[name] = values
    return charts.lines("Latency per window", x, series, y_title="milliseconds")


def reference_for(
    store: EventStore, settings: Settings, summary: ModelSummary, tr: TimeRange
) -> tuple[str | None, Reference | None]:
    """The baseline version the drift job compares the selected version with (the one
    reference choice, :func:`keeneye.baseline.resolve.choose_baseline`) and its stored fitted
    reference; the live version's when no version is selected."""
    version = tr.version or summary.live_version
    if version is None:
        return None, None
    choice = choose_baseline(store, summary.model, version, settings.analysis)
    if choice is None or choice.version is None:
        return version, None
    return choice.version, load_reference(store, summary.model, choice.version)


def _prediction(
    summaries: Sequence[StoredResult], chosen: tuple[str | None, Reference | None]
) -> charts.Figure:
    """The range's predictions against the baseline's, added up from the windows' stored
    summaries (bin counts of numeric predictions, class shares of categorical ones) and the
    stored fitted reference: no raw event is read."""
    title = "Predictions: selected range against the baseline"
    reference_version, reference = chosen
    stats = [p for r in summaries if (s := _summary_of(r)) and (p := s.prediction) is not None]
    if not any(p.summary is not None and p.summary.count for p in stats):
        return charts.empty(title, "no predictions in this range")
    fitted = reference.prediction if reference is not None else None
    ref_summary = fitted.summaries.get(PREDICTION_COLUMN) if fitted is not None else None
    if fitted is None or ref_summary is None:
        return charts.empty(
            title, f"version {reference_version}'s baseline has no 'prediction' column"
        )
    ref_name = f"baseline (v{reference_version})"
    if numeric(ref_summary.kind):
        parts = [p.histogram for p in stats if p.histogram is not None]
        grid = baseline_grid(ref_summary)
        hist = None
        if grid is not None:
            hist = merge_grid(parts, fitted.sorted_values(PREDICTION_COLUMN), *grid)
        if hist is None:
            return charts.empty(
                title,
                "the stored reports of this range hold no prediction histogram on this "
                "baseline's bins (analysed by an older keeneye or against another baseline): "
                "run `keeneye analyze --since` over the range to draw it",
            )
        ref_total, cur_total = max(sum(hist.reference), 1), max(sum(hist.current), 1)
        return charts.histogram(
            title,
            hist.edges,
            [c / ref_total for c in hist.reference],
            [c / cur_total for c in hist.current],
            reference_name=ref_name,
        )
    ref_counts = Counter({str(k): int(v) for k, v in ref_summary.categories.items()})
    cur_counts: Counter[str] = Counter()
    for p in stats:
        if p.summary is not None:
            present = p.summary.count - p.summary.missing  # top shares are of these
            for value, share in p.summary.top:
                cur_counts[str(value)] += round(float(share) * present)
    shares = category_shares(ref_counts, cur_counts)
    if shares is None:
        return charts.empty(title, "no values to draw")
    return charts.category_bars(
        title, shares.categories, shares.reference, shares.current, reference_name=ref_name
    )


def distribution(
    title: str,
    reference: Reference,
    feature: str,
    current: pa.ChunkedArray,
    reference_version: str | None,
) -> charts.Figure:
    """Overlaid shares of a column in the baseline (from its stored fitted reference: the raw
    baseline is not read) and in the selected range."""
    ref_name = f"baseline (v{reference_version})"
    ref_summary = reference.summaries.get(feature)
    if ref_summary is None:
        return charts.empty(title, f"the baseline's {feature} column has no summary to draw")
    # The kinds table says which kinds are drawn as numbers and which column types are numbers.
    if numeric(ref_summary.kind) and numeric_family(type_family(current.type)):
        ref = reference.sorted_values(feature)
        cur_values = current.cast(pa.float64()).to_numpy(zero_copy_only=False)
        cur = np.sort(np.asarray(cur_values, float))
        cur = cur[np.isfinite(cur)]
        cur_summary = summarize(cur, "numeric")
        hist = shared_bins(ref, cur, ref_summary, cur_summary, is_sorted=True)
        if hist is None:
            return charts.empty(title, "no finite values to draw")
        ref_total, cur_total = max(sum(hist.reference), 1), max(sum(hist.current), 1)
        return charts.histogram(
            title,
            hist.edges,
            [c / ref_total for c in hist.reference],
            [c / cur_total for c in hist.current],
            reference_name=ref_name,
        )
    ref_counts = Counter({str(k): int(v) for k, v in ref_summary.categories.items()})
    strings = current.cast(pa.string()) if not pa.types.is_null(current.type) else current
    counted = pc.value_counts(strings).to_pylist() if len(strings) else []
    cur_counts = Counter(
        {str(c["values"]): int(c["counts"]) for c in counted if c["values"] is not None}
    )
    shares = category_shares(ref_counts, cur_counts)
    if shares is None:
        return charts.empty(title, "no values to draw")
    return charts.category_bars(
        title, shares.categories, shares.reference, shares.current, reference_name=ref_name
    )


def _modal(results: list[StoredResult]) -> ModalSection:
    """The text vocabularies and embedding tests of the newest window that has them."""
    for r in reversed(results):
        section = report_of(r).drift
        if section is not None and section.modal is not None:
            return section.modal
    return ModalSection()


def _drift_entries(r: StoredResult) -> list[FeatureDrift]:
    """The drift rows of one stored result; the prediction's is named :data:`PREDICTION_ROW`."""
    section = report_of(r).drift
    if section is None:
        return []
    rows = list(section.features)
    if section.prediction is not None:
        rows.append(replace(section.prediction, feature=PREDICTION_ROW))
    return rows


def _no_drift_reason(
    chosen: tuple[str | None, Reference | None], summaries: Sequence[StoredResult]
) -> str:
    """Why the drift chart of a range is empty, as far as the store tells."""
    version, reference = chosen
    if version is None:
        return "no version of this model has sent events yet"
    if reference is None:
        return (
            f"no baseline is registered for version {version} (nor the live version): "
            f"register one with keeneye baseline register MODEL {version} DATA"
        )
    if not summaries:
        return (
            f"version {version}'s baseline is registered; no window has completed in this "
            "range yet (a window is analysed once it has ended, plus analysis.grace_seconds)"
        )
    return (
        f"version {version}'s baseline is registered; the windows of this range were analysed "
        "before it was, and drift appears from the next analysed window"
    )


def _drift(
    results: Sequence[StoredResult], tr: TimeRange, empty_reason: str
) -> tuple[charts.Figure, list[dict[str, Any]]]:
    title = "Drift"
    if not results:
        return charts.empty(title, f"no drift results: {empty_reason}"), []
    many = len({r.version for r in results}) > 1
    columns = [_column_label(r, many, tr.window) for r in results]
    cells: dict[str, list[FeatureDrift | None]] = {}
    for j, r in enumerate(results):
        for entry in _drift_entries(r):
            row = cells.setdefault(entry.feature, [None] * len(results))
            row[j] = entry
    rows: list[dict[str, Any]] = []
    for feature, row in cells.items():
        tested = [e for e in row if e is not None and _finite(e.effect_size) is not None]
        # The corrected verdict: the one alerts and /metrics use.
        drifted = [e for e in row if e is not None and corrected(e)]
        latest = next((e for e in reversed(row) if e is not None), None)
        rows.append(
            {
                "feature": feature,
                "is_prediction": feature == PREDICTION_ROW,
                "tested_windows": len(tested),
                "drifted_windows": len(drifted),
                "max_effect": max((_finite(e.effect_size) or 0.0 for e in tested), default=None),
                "method": latest.method if latest else None,
                "effect_method": latest.effect_method if latest else None,
                "threshold": _finite(latest.threshold) if latest else None,
                "last_p_value": _finite(latest.p_value) if latest else None,
                "last_drifted": bool(latest and corrected(latest)),
            }
        )
    rows.sort(key=lambda r: (-r["drifted_windows"], -(r["max_effect"] or 0.0), r["feature"]))
    features: list[str] = [str(r["feature"]) for r in rows]
    effect = [[_finite(e.effect_size) if e else None for e in cells[f]] for f in features]
    marks = [[bool(e and corrected(e)) for e in cells[f]] for f in features]
    hover = [[_hover(f, columns[j], e) for j, e in enumerate(cells[f])] for f in features]
    highlighted = [str(r["feature"]) for r in rows if r["drifted_windows"]]
    return charts.drift_heatmap(columns, features, effect, marks, hover, highlighted), rows


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _hover(feature: str, column: str, e: FeatureDrift | None) -> str:
    if e is None:
        return f"{charts.text(feature)} · {column}: not in this window"
    effect = _finite(e.effect_size)
    if effect is None:
        return f"{charts.text(feature)} · {column}: not tested ({charts.text(e.reason)})"
    p = _finite(e.p_value)
    p_text = f"{p:.3g}" if p is not None else "–"
    return (
        f"{charts.text(feature)} · {column}<br>{e.effect_method} = "
        f"{effect:.3f} (threshold {_finite(e.threshold)})<br>{e.method} "
        f"p = {p_text}<br>{'DRIFTED' if corrected(e) else 'no drift'}"
    )


def _quality(summaries: Sequence[StoredResult], settings: Settings) -> list[dict[str, Any]]:
    """Per feature over the range: worst missing share against the baseline's, worst share
    out of the baseline's range, new categories, invalid values, the latest issues."""
    alerts = settings.alerts
    rows: dict[str, dict[str, Any]] = {}
    for r in summaries:  # oldest window first: the last one seen is the latest
        section = _summary_of(r)
        if section is None:
            continue
        for feature, f in section.features.items():
            row = rows.setdefault(
                feature,
                {"feature": feature, "kind": f.kind, "max_missing": 0.0,
                 "baseline_missing": None, "max_out_of_range": 0.0, "new_categories": set(),
                 "invalid": 0, "issues": [], "latest_missing": None, "windows": 0},
            )  # fmt: skip
            row["windows"] += 1
            missing = f.missing_ratio
            if missing is not None:
                row["max_missing"] = max(row["max_missing"], float(missing))
                row["latest_missing"] = float(missing)
            if f.baseline_missing_ratio is not None:
                row["baseline_missing"] = float(f.baseline_missing_ratio)
            if f.out_of_range_ratio is not None:
                row["max_out_of_range"] = max(row["max_out_of_range"], f.out_of_range_ratio)
            row["new_categories"].update(f.new_categories.keys())
            row["invalid"] += f.invalid_count
            row["issues"] = list(f.issues)
    out = []
    for row in rows.values():
        base = row["baseline_missing"] or 0.0
        row["problem"] = bool(
            row["max_missing"] - base >= alerts.missing_increase
            or row["max_out_of_range"] >= alerts.out_of_range
            or row["new_categories"]
            or row["invalid"]
        )
        row["new_categories"] = sorted(row["new_categories"])
        out.append(row)
    out.sort(key=lambda r: (not r["problem"], r["feature"]))
    return out


def _performance(results: Sequence[StoredResult]) -> charts.Figure:
    title = "Performance per window, with label coverage"
    sections = {
        (r.version, r.window_start): p
        for r in results
        if (p := report_of(r).performance) is not None
    }
    if not any(p.metrics for p in sections.values()):
        return charts.empty(title, "no labelled predictions in this range yet")
    labelled_versions = {v for (v, _), p in sections.items() if p.metrics}
    x = sorted({r.window_start for r in results})
    series: dict[str, list[float | None]] = {}
    coverage: dict[str, list[float | None]] = {}
    for version in sorted({v for v, _ in sections}):
        suffix = f" v{version}" if len(labelled_versions) > 1 else ""
        mine = {t: p for (v, t), p in sections.items() if v == version}
        task = next((p.task for p in mine.values() if p.task), None)
        names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
        for metric in names:
            values = [mine[t].metrics.get(metric) if t in mine else None for t in x]
            if any(v is not None for v in values):
                series[metric + suffix] = values
        coverage["label coverage" + suffix] = [
            mine[t].label_coverage if t in mine else None for t in x
        ]
    return charts.lines(title, x, series, y2=coverage, y2_title="label coverage")


def _versions(
    store: EventStore, summary: ModelSummary, history: Sequence[VersionChange] | None = None
) -> list[dict[str, Any]]:
    meta = {v.version: v for v in store.versions(summary.model)}
    if history is None:
        history = store.version_history(summary.model)
    rows = []
    for i, change in enumerate(history):
        until = history[i + 1].live_since if i + 1 < len(history) else None
        rows.append({"change": change, "until": until, "meta": meta.get(change.version)})
    return rows[::-1]


# -- feature ------------------------------------------------------------------------------------
def feature_page(
    store: EventStore, settings: Settings, model: str, feature: str, tr: TimeRange
) -> dict[str, Any]:
    summary = _summary(store, model)
    _check_version(summary, tr)
    reference_version, reference = reference_for(store, settings, summary, tr)
    known = set(store.feature_types(model)) | set(reference.row_names if reference else [])
    known -= {"prediction", "label", "target"}
    if feature not in known:
        names = ", ".join(sorted(known)) or "none yet"
        raise PageNotFound(f"model {model!r} has no feature named {feature!r} (features: {names})")
    title = f"{feature}: selected range against the baseline"
    window = store.read_window(model, tr.start, tr.end, version=tr.version, features=[feature])
    if window.features.num_rows == 0:
        hist = charts.empty(title, "no predictions in this range")
    elif reference is None or feature not in reference.summaries:
        hist = charts.empty(title, f"version {reference_version} has no baseline for {feature}")
    else:
        hist = distribution(
            title, reference, feature, window.features.column(feature), reference_version
        )
    summaries = data.results(store, model, "summary", tr)
    drift_results = data.results(store, model, "drift", tr)
    tests = _tests(drift_results, feature)
    return {
        "summary": summary,
        "feature": feature,
        "tr": tr,
        "note": _data_note(summary, tr),
        "events_in_range": window.features.num_rows,
        "charts": [
            chart("histogram-chart", hist),
            chart("stats-chart", _stats_over_time(summaries, feature)),
            chart("tests-chart", _tests_chart(tests)),
        ],
        "tests": tests[::-1],
        "quality": _feature_quality(summaries, feature)[::-1],
    }


def _feature_stats(
    summaries: Sequence[StoredResult], feature: str
) -> list[tuple[StoredResult, FeatureStats]]:
    out = []
    for r in summaries:
        section = _summary_of(r)
        if section is not None and feature in section.features:
            out.append((r, section.features[feature]))
    return out


def _stats_over_time(summaries: Sequence[StoredResult], feature: str) -> charts.Figure:
    title = "Summary statistics per window"
    rows = _feature_stats(summaries, feature)
    if not rows:
        return charts.empty(title, "no summaries in this range")
    x = [r.window_start for r, _ in rows]
    stats = [f.summary or SummaryStats() for _, f in rows]
    numeric = any(s.quantiles for s in stats)
    series: dict[str, list[float | None]] = {}
    if numeric:
        series["p05"] = [s.quantile(0.05) for s in stats]
        series["median"] = [s.quantile(0.5) for s in stats]
        series["mean"] = [s.mean for s in stats]
        series["p95"] = [s.quantile(0.95) for s in stats]
    else:
        series["distinct values"] = [float(s.distinct) for s in stats]
    missing = {"missing share": [f.missing_ratio for _, f in rows]}
    return charts.lines(title, x, series, y2=missing, y2_title="missing share")


def _tests(results: Sequence[StoredResult], feature: str) -> list[dict[str, Any]]:
    out = []
    for r in results:
        section = report_of(r).drift
        if section is None:
            continue
        for e in section.features:
            if e.feature == feature:
                out.append(
                    {"window_start": r.window_start, "window_end": r.window_end,
                     "version": r.version, "method": e.method, "effect_method": e.effect_method,
                     "effect_size": _finite(e.effect_size), "threshold": _finite(e.threshold),
                     "p_value": _finite(e.p_value), "drifted": corrected(e),
                     "decided_by": e.decided_by, "reason": e.reason,
                     "statistic": _finite(e.statistic)}
                )  # fmt: skip
    return out


def _tests_chart(tests: Sequence[dict[str, Any]]) -> charts.Figure:
    tested = [t for t in tests if t.get("effect_size") is not None]
    if not tested:
        return charts.empty("Drift test per window", "no drift tests in this range")
    return charts.drift_tests(
        [t["window_start"] for t in tested],
        [t["effect_size"] for t in tested],
        [t.get("threshold") for t in tested],
        [t.get("p_value") for t in tested],
        [bool(t.get("drifted")) for t in tested],
        str(tested[-1].get("effect_method") or "effect"),
    )


def _feature_quality(summaries: Sequence[StoredResult], feature: str) -> list[dict[str, Any]]:
    out = []
    for r, f in _feature_stats(summaries, feature):
        s = f.summary or SummaryStats()
        out.append(
            {"window_start": r.window_start, "version": r.version, "count": s.count,
             "mean": s.mean, "std": s.std, "min": s.min, "max": s.max,
             "missing_ratio": f.missing_ratio, "out_of_range_ratio": f.out_of_range_ratio,
             "issues": list(f.issues)}
        )  # fmt: skip
    return out
