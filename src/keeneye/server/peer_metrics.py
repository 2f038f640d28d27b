"""``/metrics`` gauges of the estimated performance, the multivariate drift and the segments
of the latest window (registered in :mod:`keeneye.server.result_metrics`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from keeneye.profile.report import Report

#: name → (help, extra labels).
PEER_GAUGES: Mapping[str, tuple[str, list[str]]] = {
    "keeneye_estimated_performance": (
        "Performance estimated without labels (CBPE for classifiers, DLE for regressors).",
        ["metric", "method"],
    ),
    "keeneye_estimated_performance_lower": (
        "Lower end of the estimate's sampling-error band.",
        ["metric", "method"],
    ),
    "keeneye_estimated_performance_upper": (
        "Upper end of the estimate's sampling-error band.",
        ["metric", "method"],
    ),
    "keeneye_estimated_performance_limit": (
        "The alert limit of the estimate: the baseline's range for a window of this size.",
        ["metric", "method"],
    ),
    "keeneye_estimated_performance_error": (
        "Estimate minus the realized value over the window's labelled rows.",
        ["metric", "method"],
    ),
    "keeneye_multivariate_drift_statistic": (
        "Multivariate drift statistic: mean PCA reconstruction error, or the domain "
        "classifier's cross-validated AUC.",
        ["method"],
    ),
    "keeneye_multivariate_drift_threshold": (
        "Where the statistic alerts: the upper end of the reconstruction error's band, or 0.5.",
        ["method"],
    ),
    "keeneye_multivariate_drift_pvalue": ("p-value of the multivariate drift test.", ["method"]),
    "keeneye_multivariate_drifted": ("1 when the multivariate test flagged drift.", ["method"]),
    "keeneye_segment_share": (
        "Share of the window's predictions in the segment.",
        ["segment_column", "segment"],
    ),
    "keeneye_segment_drifted_features": (
        "Features of the segment that drifted against the same segment of the baseline.",
        ["segment_column", "segment"],
    ),
    "keeneye_segment_performance": (
        "Performance (accuracy or MAE) over the segment's labelled predictions.",
        ["segment_column", "segment", "metric"],
    ),
    "keeneye_online_detections": (
        "Changes an online detector signalled in the window's stream (errors, score, feature).",
        ["stream", "method"],
    ),
    "keeneye_segment_performance_drop": (
        "1 when the segment's performance fell below the baseline's for that segment.",
        ["segment_column", "segment"],
    ),
}

Add = Callable[[str, list[str], "float | bool | None"], None]


def export_peers(report: Report, add: Add) -> None:
    """Add the report's estimated-performance and multivariate gauges through ``add``."""
    estimated = report.estimated
    if estimated is not None and estimated.method is not None:
        for metric, m in sorted(estimated.metrics.items()):
            labels = [metric, estimated.method]
            add("keeneye_estimated_performance", labels, m.value)
            add("keeneye_estimated_performance_lower", labels, m.lower)
            add("keeneye_estimated_performance_upper", labels, m.upper)
            limit = m.baseline_low if m.baseline_low is not None else m.baseline_high
            add("keeneye_estimated_performance_limit", labels, limit)
            add("keeneye_estimated_performance_error", labels, m.error)
    multivariate = report.multivariate
    if multivariate is not None:
        for test in multivariate.tests:
            labels = [test.method]
            add("keeneye_multivariate_drift_statistic", labels, test.statistic)
            threshold = test.upper if test.method == "pca_reconstruction" else test.expected
            add("keeneye_multivariate_drift_threshold", labels, threshold)
            add("keeneye_multivariate_drift_pvalue", labels, test.p_value)
            if test.drifted is not None:
                add("keeneye_multivariate_drifted", labels, test.drifted)
    segments = report.segments
    if segments is not None:
        for column in segments.columns:
            for s in column.segments:
                labels = [column.column, s.value]
                add("keeneye_segment_share", labels, s.share)
                if s.problem is None:
                    add("keeneye_segment_drifted_features", labels, len(s.drifted))
                if s.metric is not None and s.labels:
                    add("keeneye_segment_performance", [*labels, s.metric], s.performance)
                    add("keeneye_segment_performance_drop", labels, s.performance_drop)

    online = report.online
    if online is not None:
        for r in online.results:
            if r.problem is None:
                add("keeneye_online_detections", [r.stream, r.method], len(r.detections))


__all__ = ["PEER_GAUGES", "export_peers"]
