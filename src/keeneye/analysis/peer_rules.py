"""Alert rules on the estimated performance and the multivariate drift of a window (see
:mod:`keeneye.analysis.rules`, which registers them)."""

from __future__ import annotations

from keeneye.analysis.window_alert import window_alert as _alert
from keeneye.config import AlertSettings
from keeneye.notify.alert import Alert
from keeneye.profile.report import Report
from keeneye.store.records import StoredResult


def estimated_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """An estimated metric beyond its limit: ``performance_min``/``performance_max`` when set
    by hand for that metric, else the baseline's range for a window of this many rows."""
    section = report.estimated
    if section is None or section.rows < settings.min_events:
        return []
    out: list[Alert] = []
    for metric, m in sorted(section.metrics.items()):
        if m.value is None:
            continue
        # metric names as str: the estimated section names its metrics by the same words
        by_hand_min: dict[str, float] = {str(k): v for k, v in settings.performance_min.items()}
        by_hand_max: dict[str, float] = {str(k): v for k, v in settings.performance_max.items()}
        low = by_hand_min.get(metric, m.baseline_low)
        high = by_hand_max.get(metric, m.baseline_high)
        if low is not None and m.value < low:
            limit, word = low, "under"
        elif high is not None and m.value > high:
            limit, word = high, "over"
        else:
            continue
        out.append(
            _alert(
                result,
                report,
                "estimated_performance",
                metric,
                f"estimated {metric} ({section.method}) is {m.value:.3f}, {word} {limit:.3f} "
                f"for {section.rows} predictions, before labels (baseline mean "
                f"{m.baseline_mean if m.baseline_mean is not None else float('nan'):.3f})",
                value=m.value,
                threshold=limit,
                method=section.method,
                band=[m.lower, m.upper],
                labels=section.labels,
            )
        )
    return out


def multivariate_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """A multivariate drift test flagged the window (at its share of the alert budget)."""
    section = report.multivariate
    if section is None or section.events < settings.min_events:
        return []
    if report.window not in settings.drift_windows:
        return []
    out: list[Alert] = []
    for test in section.tests:
        if not test.drifted or test.statistic is None:
            continue
        what = "mean reconstruction error" if test.method == "pca_reconstruction" else "AUC"
        out.append(
            _alert(
                result,
                report,
                "multivariate_drift",
                test.method,
                f"multivariate drift: {what} {test.statistic:.3f} vs {test.expected or 0.0:.3f} "
                f"without drift (p={test.p_value or 0.0:.2g} < {test.alpha or 0.0:.2g})",
                value=test.statistic,
                threshold=test.upper if test.method == "pca_reconstruction" else test.expected,
                p_value=test.p_value,
                alpha=test.alpha,
            )
        )
    return out


def segment_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """A segment drifted against the same segment of the baseline (drift windows only), or its
    performance fell below the baseline's for that segment (once ``min_labels`` labels)."""
    section = report.segments
    if section is None:
        return []
    out: list[Alert] = []
    for column in section.columns:
        for s in column.segments:
            subject = f"{column.column}={s.value}"
            if (
                s.drifted
                and s.rows >= settings.min_events
                and report.window in settings.drift_windows
            ):
                out.append(
                    _alert(
                        result,
                        report,
                        "segment_drift",
                        subject,
                        f"segment {subject} ({s.rows} predictions) drifted: "
                        f"{', '.join(s.drifted[:5])}",
                        value=float(len(s.drifted)),
                        threshold=s.level,
                        drifted=list(s.drifted),
                    )
                )
            if s.performance_drop and s.labels >= settings.min_labels:
                out.append(
                    _alert(
                        result,
                        report,
                        "segment_performance",
                        subject,
                        f"{s.metric} of segment {subject} is {s.performance or 0.0:.3f} against "
                        f"{s.baseline_performance or 0.0:.3f} in the baseline ({s.labels} labels,"
                        f" z={s.performance_z or 0.0:.2f})",
                        value=s.performance,
                        threshold=s.baseline_performance,
                        z=s.performance_z,
                    )
                )
    return out


def online_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """An online detector signalled a change in a stream of the window (drift windows only)."""
    section = report.online
    if section is None or report.window not in settings.drift_windows:
        return []
    return [
        _alert(
            result,
            report,
            "online_change",
            f"{r.stream}:{r.method}",
            f"{r.method} detected a change in the {r.stream} stream after "
            f"{r.detections[0] + 1} of {r.n} values"
            + (f" (at {r.detected_at[0]})" if r.detected_at else ""),
            value=float(len(r.detections)),
            threshold=None,
            detected_at=list(r.detected_at[:10]),
        )
        for r in section.detected
    ]


__all__ = ["estimated_rule", "multivariate_rule", "online_rule", "segment_rule"]
