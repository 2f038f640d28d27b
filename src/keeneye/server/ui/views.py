"""Page contexts: what each template gets, assembled from the store's stored results.

Each builder takes the store, the settings and the parsed :class:`TimeRange` and returns a plain
dict for its template; figures are plotly specs already serialised to JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from keeneye.config import Settings
from keeneye.errors import NotFoundError
from keeneye.report.charts import category_shares
from keeneye.report.charts import histogram as shared_bins
from keeneye.server.ui import charts, data
from keeneye.server.ui.timerange import TimeRange
from keeneye.stats import summarize
from keeneye.store.base import EventStore
from keeneye.store.records import ModelSummary, StoredResult

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
    fmt = "%m-%d %H:%M" if window == "hourly" else "%Y-%m-%d"
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
    summary = _summary(store, model)
    _check_version(summary, tr)
    drift_results = data.results(store, model, "drift", tr)
    summaries = data.results(store, model, "summary", tr)
    performance = data.results(store, model, "performance", tr)
    heatmap, drift_rows = _drift(drift_results, tr)
    episodes = [e for e in data.model_alerts(store, model) if data.in_range(e, tr)]
    return {
        "summary": summary,
        "tr": tr,
        "note": _data_note(summary, tr),
        "charts": [
            chart("traffic-chart", _traffic(store, summary, tr)),
            chart("latency-chart", _latency(summaries)),
            chart("prediction-chart", _prediction(store, summary, tr)),
            chart("drift-heatmap", heatmap),
            chart("performance-chart", _performance(performance)),
        ],
        "drift_rows": drift_rows,
        "drifted": [r["feature"] for r in drift_rows if r["drifted_windows"]],
        "quality_rows": _quality(summaries, settings),
        "versions": _versions(store, summary),
        "alerts": episodes,
        "open_alerts": [e for e in episodes if e.open],
        "health": data.health([e for e in episodes if e.open]),
        "windows": len({(r.window_start, r.window_end) for r in summaries}),
    }


def _traffic(store: EventStore, summary: ModelSummary, tr: TimeRange) -> charts.Figure:
    args = (store, summary.model, tr.start, tr.end, tr.bucket_seconds)
    now = data.traffic(*args, version=tr.version)
    day = data.traffic(*args, version=tr.version, shift=timedelta(days=1))
    week = data.traffic(*args, version=tr.version, shift=timedelta(days=7))
    changes = [
        (c.live_since, c.version)
        for c in store.version_history(summary.model)
        if tr.start <= c.live_since < tr.end
    ]
    return charts.traffic(now.x, now.y, day.y, week.y, changes)


def _by_version(results: Sequence[StoredResult]) -> dict[str, list[StoredResult]]:
    groups: dict[str, list[StoredResult]] = {}
    for r in results:
        groups.setdefault(r.version, []).append(r)
    return groups


def _latency(summaries: Sequence[StoredResult]) -> charts.Figure:
    timed = [r for r in summaries if r.payload.get("latency")]
    if not timed:
        return charts.empty("Latency", "no latency was reported in this range")
    series: dict[str, list[float | None]] = {}
    groups = _by_version(timed)
    x = sorted({r.window_start for r in timed})
    for version, rs in groups.items():
        by_start = {r.window_start: r.payload["latency"] for r in rs}
        for q in ("p50", "p90", "p99"):
            name = f"{q} v{version}" if len(groups) > 1 else q
            series[name] = [
                1000 * by_start[t][f"{q}_seconds"] if t in by_start else None for t in x
            ]
    return charts.lines("Latency per window", x, series, y_title="milliseconds")


def _prediction(store: EventStore, summary: ModelSummary, tr: TimeRange) -> charts.Figure:
    title = "Predictions: selected range against the baseline"
    reference_version = tr.version or summary.live_version
    baseline = store.load_baseline(summary.model, reference_version) if reference_version else None
    window = store.read_window(summary.model, tr.start, tr.end, version=tr.version, features=[])
    current = window.events.column("prediction")
    if window.events.num_rows == 0:
        return charts.empty(title, "no predictions in this range")
    if baseline is None or PREDICTION_ROW not in baseline.column_names:
        return charts.empty(
            title, f"version {reference_version}'s baseline has no 'prediction' column"
        )
    return distribution(title, baseline.column(PREDICTION_ROW), current, reference_version)


def distribution(
    title: str, reference: pa.ChunkedArray, current: pa.ChunkedArray, reference_version: str | None
) -> charts.Figure:
    """Overlaid shares of a column in the baseline and in the selected range."""
    ref_name = f"baseline (v{reference_version})"
    numeric = pa.types.is_floating(current.type) or pa.types.is_integer(current.type)
    ref_numeric = pa.types.is_floating(reference.type) or pa.types.is_integer(reference.type)
    if numeric and ref_numeric:
        ref = np.asarray(reference.cast(pa.float64()).to_numpy(zero_copy_only=False), float)
        cur = np.asarray(current.cast(pa.float64()).to_numpy(zero_copy_only=False), float)
        hist = shared_bins(ref, cur, summarize(ref, "numeric"), summarize(cur, "numeric"))
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
    ref_counts = Counter(str(v) for v in reference.to_pylist() if v is not None)
    cur_counts = Counter(str(v) for v in current.to_pylist() if v is not None)
    shares = category_shares(ref_counts, cur_counts)
    if shares is None:
        return charts.empty(title, "no values to draw")
    return charts.category_bars(
        title, shares.categories, shares.reference, shares.current, reference_name=ref_name
    )


def _drift_entries(r: StoredResult) -> list[dict[str, Any]]:
    entries = [dict(f) for f in r.payload.get("features", [])]
    prediction = r.payload.get("prediction")
    if isinstance(prediction, dict) and prediction:
        entries.append({**prediction, "feature": PREDICTION_ROW})
    return entries


def _drift(
    results: Sequence[StoredResult], tr: TimeRange
) -> tuple[charts.Figure, list[dict[str, Any]]]:
    title = "Drift"
    if not results:
        return charts.empty(title, "no drift results in this range (is a baseline registered?)"), []
    many = len({r.version for r in results}) > 1
    columns = [_column_label(r, many, tr.window) for r in results]
    cells: dict[str, list[dict[str, Any] | None]] = {}
    for j, r in enumerate(results):
        for entry in _drift_entries(r):
            row = cells.setdefault(str(entry["feature"]), [None] * len(results))
            row[j] = entry
    rows: list[dict[str, Any]] = []
    for feature, row in cells.items():
        tested = [e for e in row if e is not None and e.get("effect_size") is not None]
        drifted = [e for e in row if e is not None and e.get("drifted")]
        latest = next((e for e in reversed(row) if e is not None), None) or {}
        rows.append(
            {
                "feature": feature,
                "is_prediction": feature == PREDICTION_ROW,
                "tested_windows": len(tested),
                "drifted_windows": len(drifted),
                "max_effect": max((float(e["effect_size"]) for e in tested), default=None),
                "method": latest.get("method"),
                "effect_method": latest.get("effect_method"),
                "threshold": latest.get("threshold"),
                "last_p_value": latest.get("p_value"),
                "last_drifted": bool(latest.get("drifted")),
            }
        )
    rows.sort(key=lambda r: (-r["drifted_windows"], -(r["max_effect"] or 0.0), r["feature"]))
    features: list[str] = [str(r["feature"]) for r in rows]
    effect = [[_num(e, "effect_size") for e in cells[f]] for f in features]
    marks = [[bool(e and e.get("drifted")) for e in cells[f]] for f in features]
    hover = [[_hover(f, columns[j], e) for j, e in enumerate(cells[f])] for f in features]
    highlighted = [str(r["feature"]) for r in rows if r["drifted_windows"]]
    return charts.drift_heatmap(columns, features, effect, marks, hover, highlighted), rows


def _num(entry: dict[str, Any] | None, key: str) -> float | None:
    if not entry or entry.get(key) is None:
        return None
    return float(entry[key])


def _hover(feature: str, column: str, e: dict[str, Any] | None) -> str:
    if e is None:
        return f"{charts.text(feature)} · {column}: not in this window"
    if e.get("effect_size") is None:
        return f"{charts.text(feature)} · {column}: not tested ({charts.text(e.get('reason'))})"
    p = e.get("p_value")
    p_text = f"{p:.3g}" if isinstance(p, (int, float)) else "–"
    return (
        f"{charts.text(feature)} · {column}<br>{e.get('effect_method')} = "
        f"{float(e['effect_size']):.3f} (threshold {e.get('threshold')})<br>{e.get('method')} "
        f"p = {p_text}<br>{'DRIFTED' if e.get('drifted') else 'no drift'}"
    )


def _quality(summaries: Sequence[StoredResult], settings: Settings) -> list[dict[str, Any]]:
    """Per feature over the range: worst missing share against the baseline's, worst share
    out of the baseline's range, new categories, invalid values, the latest issues."""
    alerts = settings.alerts
    rows: dict[str, dict[str, Any]] = {}
    for r in summaries:  # oldest window first: the last one seen is the latest
        for feature, f in r.payload.get("features", {}).items():
            row = rows.setdefault(
                feature,
                {"feature": feature, "kind": f.get("kind"), "max_missing": 0.0,
                 "baseline_missing": None, "max_out_of_range": 0.0, "new_categories": set(),
                 "invalid": 0, "issues": [], "latest_missing": None, "windows": 0},
            )  # fmt: skip
            row["windows"] += 1
            missing = f.get("missing_ratio")
            if missing is not None:
                row["max_missing"] = max(row["max_missing"], float(missing))
                row["latest_missing"] = float(missing)
            if f.get("baseline_missing_ratio") is not None:
                row["baseline_missing"] = float(f["baseline_missing_ratio"])
            if f.get("out_of_range_ratio") is not None:
                row["max_out_of_range"] = max(row["max_out_of_range"], f["out_of_range_ratio"])
            row["new_categories"].update((f.get("new_categories") or {}).keys())
            row["invalid"] += sum(int(n) for n in (f.get("invalid") or {}).values())
            row["issues"] = list((f.get("quality") or {}).get("issues") or [])
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
    labelled = [r for r in results if (r.payload.get("performance") or {}).get("metrics")]
    if not labelled:
        return charts.empty(title, "no labelled predictions in this range yet")
    groups = _by_version(labelled)
    x = sorted({r.window_start for r in results})
    series: dict[str, list[float | None]] = {}
    coverage: dict[str, list[float | None]] = {}
    for version, rs in _by_version(results).items():
        suffix = f" v{version}" if len(groups) > 1 else ""
        by_start = {r.window_start: r.payload for r in rs}
        task = next((p.get("task") for p in by_start.values() if p.get("task")), None)
        names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
        for metric in names:
            values = [
                ((by_start.get(t) or {}).get("performance") or {}).get("metrics", {}).get(metric)
                for t in x
            ]
            if any(v is not None for v in values):
                series[metric + suffix] = values
        coverage["label coverage" + suffix] = [
            (by_start.get(t) or {}).get("label_coverage") for t in x
        ]
    return charts.lines(title, x, series, y2=coverage, y2_title="label coverage")


def _versions(store: EventStore, summary: ModelSummary) -> list[dict[str, Any]]:
    meta = {v.version: v for v in store.versions(summary.model)}
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
    reference_version = tr.version or summary.live_version
    baseline = store.load_baseline(model, reference_version) if reference_version else None
    known = set(store.feature_types(model)) | set(baseline.column_names if baseline else [])
    known -= {"prediction", "label", "target"}
    if feature not in known:
        names = ", ".join(sorted(known)) or "none yet"
        raise PageNotFound(f"model {model!r} has no feature named {feature!r} (features: {names})")
    title = f"{feature}: selected range against the baseline"
    window = store.read_window(model, tr.start, tr.end, version=tr.version, features=[feature])
    if window.features.num_rows == 0:
        hist = charts.empty(title, "no predictions in this range")
    elif baseline is None or feature not in baseline.column_names:
        hist = charts.empty(title, f"version {reference_version} has no baseline for {feature}")
    else:
        hist = distribution(
            title, baseline.column(feature), window.features.column(feature), reference_version
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


def _stats_over_time(summaries: Sequence[StoredResult], feature: str) -> charts.Figure:
    title = "Summary statistics per window"
    rows = [
        (r, r.payload["features"][feature])
        for r in summaries
        if feature in r.payload.get("features", {})
    ]
    if not rows:
        return charts.empty(title, "no summaries in this range")
    x = [r.window_start for r, _ in rows]
    numeric = any((f.get("summary") or {}).get("quantiles") for _, f in rows)
    series: dict[str, list[float | None]] = {}
    if numeric:
        for name, pick in (
            ("p05", lambda s: (s.get("quantiles") or {}).get("0.05")),
            ("median", lambda s: (s.get("quantiles") or {}).get("0.5")),
            ("mean", lambda s: s.get("mean")),
            ("p95", lambda s: (s.get("quantiles") or {}).get("0.95")),
        ):
            series[name] = [pick(f.get("summary") or {}) for _, f in rows]
    else:
        series["distinct values"] = [(f.get("summary") or {}).get("distinct") for _, f in rows]
    missing = {"missing share": [f.get("missing_ratio") for _, f in rows]}
    return charts.lines(title, x, series, y2=missing, y2_title="missing share")


def _tests(results: Sequence[StoredResult], feature: str) -> list[dict[str, Any]]:
    out = []
    for r in results:
        for e in r.payload.get("features", []):
            if e.get("feature") == feature:
                out.append({"window_start": r.window_start, "window_end": r.window_end,
                            "version": r.version, **e})  # fmt: skip
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
    for r in summaries:
        f = r.payload.get("features", {}).get(feature)
        if f is None:
            continue
        s = f.get("summary") or {}
        out.append(
            {"window_start": r.window_start, "version": r.version, "count": s.get("count"),
             "mean": s.get("mean"), "std": s.get("std"), "min": s.get("min"),
             "max": s.get("max"), "missing_ratio": f.get("missing_ratio"),
             "out_of_range_ratio": f.get("out_of_range_ratio"),
             "issues": (f.get("quality") or {}).get("issues") or []}
        )  # fmt: skip
    return out
