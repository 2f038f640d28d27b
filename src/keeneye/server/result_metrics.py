"""Prometheus gauges over the analysis results of the latest complete windows.

A custom collector: every scrape reads the newest results from the store, so the gauges always
show what the store holds (also when separate ``keeneye worker`` processes compute them) and a
model that disappears stops being exported. Every gauge carries ``model``, ``version`` and
``window`` (``hourly``/``daily``); ``docs/analysis.md`` has the table of names.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from keeneye.analysis.rules import bias_z
from keeneye.analysis.windows import windows_for
from keeneye.clock import Clock
from keeneye.config import Settings
from keeneye.profile.report import corrected
from keeneye.profile.stored import latest_results, report_of
from keeneye.server.peer_metrics import PEER_GAUGES, export_peers
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult

log = logging.getLogger("keeneye.server")

_BASE = ["model", "version", "window"]
#: name → (help, extra labels); the exported result gauges.
GAUGES: Mapping[str, tuple[str, list[str]]] = {
    "keeneye_feature_drift_score": (
        "Drift score of a feature (effect size, or the test statistic) vs the reference.",
        ["feature", "method"],
    ),
    "keeneye_feature_drift_pvalue": (
        "p-value of the feature's drift test (absent for distances).",
        ["feature", "method"],
    ),
    "keeneye_feature_drifted": (
        "1 when the feature drifted (after the multiple-testing correction), else 0.",
        ["feature", "method"],
    ),
    "keeneye_dataset_drift_share": ("Share of tested features that drifted.", []),
    "keeneye_text_oov_ratio": (
        "Share of a text feature's tokens outside the baseline's vocabulary.",
        ["feature"],
    ),
    "keeneye_text_token_share": (
        "Share of a text feature's tokens that are one of the baseline's top tokens.",
        ["feature", "token"],
    ),
    "keeneye_embedding_mmd2": ("MMD² of an embedding against the baseline's.", ["feature"]),
    "keeneye_embedding_auc": (
        "Cross-validated AUC of a classifier telling the window's vectors from the baseline's.",
        ["feature"],
    ),
    "keeneye_embedding_cosine_distance": (
        "Cosine distance between the mean vectors of the window and the baseline.",
        ["feature"],
    ),
    "keeneye_feature_missing_ratio": ("Share of events where the feature is missing.", ["feature"]),
    "keeneye_feature_baseline_missing_ratio": (
        "Share of the baseline's rows where the feature is missing.",
        ["feature"],
    ),
    "keeneye_feature_out_of_range_ratio": (
        "Share of a numeric feature's values outside the baseline's [min, max].",
        ["feature"],
    ),
    "keeneye_traffic_change_ratio": (
        "Predictions in the window / the same window a day or week earlier, minus 1.",
        ["compared_to"],
    ),
    "keeneye_model_performance": (
        "Performance metric over the labelled events of the latest window with labels.",
        ["metric"],
    ),
    "keeneye_prediction_bias": (
        "Predicted minus observed (positive-class share, or mean for regression).",
        [],
    ),
    "keeneye_prediction_bias_normalized": (
        "The bias the alert rule compares: the share gap (classification), or the mean error "
        "in label standard deviations (regression).",
        [],
    ),
    "keeneye_label_coverage_ratio": (
        "Share of the window's events with a label (latest window with labels).",
        [],
    ),
    "keeneye_window_events": ("Predictions in the window the results describe.", []),
    "keeneye_window_labels": (
        "Labelled predictions in the window of the performance results.",
        [],
    ),
    "keeneye_prediction_bias_z": (
        "Standard errors between the prediction bias and 0 (the bias rule's significance).",
        [],
    ),
    "keeneye_outlier_share": (
        "Share of the window's events that are outliers against the baseline.",
        [],
    ),
    "keeneye_outlier_expected_share": (
        "The baseline's own outlier rate (what clean traffic shows).",
        [],
    ),
    "keeneye_outlier_share_alert": (
        "1 when the outlier share is improbably high (binomial test at the alert budget's "
        "level), else 0.",
        [],
    ),
    "keeneye_probe_burst_clients": (
        "Clients flagged for bursts of outliers or near-duplicate probes in the window.",
        [],
    ),
    **PEER_GAUGES,
}
LAST_RUN = "keeneye_analysis_last_run_timestamp_seconds"


class ResultCollector(Collector):
    """Exports the latest complete window's results of every model as gauges.

    ``last_run`` returns the time of the last analysis run in this process (or ``None``).
    """

    def __init__(
        self,
        store: EventStore,
        settings: Settings,
        clock: Clock,
        last_run: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._last_run = last_run

    def describe(self) -> list[Metric]:
        # Describing without reading the store keeps registration cheap and side-effect free.
        return [*new_families().values(), GaugeMetricFamily(LAST_RUN, _LAST_RUN_HELP)]

    def collect(self) -> Iterator[Metric]:
        families = new_families()
        try:
            for model in self.store.list_models():
                for result in self.latest_results(model.model):
                    _export(result, families)
        except Exception:  # a scrape must never fail because one read failed
            log.exception("reading analysis results for /metrics failed")
        yield from families.values()
        last = self._last_run() if self._last_run is not None else None
        if last is not None:
            gauge = GaugeMetricFamily(LAST_RUN, _LAST_RUN_HELP)
            gauge.add_metric([], last.timestamp())
            yield gauge

    def latest_results(self, model: str) -> list[StoredResult]:
        """The results of the latest complete window of each size; performance from the latest
        window with enough labels — the same selection the runner's active alerts use."""
        analysis = self.settings.analysis
        return latest_results(
            self.store,
            model,
            windows_for(analysis, model),
            self.clock.now(),
            grace=timedelta(seconds=analysis.grace_seconds),
            recheck_days=analysis.recheck_days,
            min_labels=self.settings.alerts.min_labels,
        )


_LAST_RUN_HELP = "Clock time (epoch seconds) of the last analysis run in this process."


def new_families() -> dict[str, GaugeMetricFamily]:
    """Empty gauge families, one per documented result gauge."""
    return {
        name: GaugeMetricFamily(name, help_text, labels=[*_BASE, *extra])
        for name, (help_text, extra) in GAUGES.items()
    }


def _export(result: StoredResult, families: dict[str, GaugeMetricFamily]) -> None:
    report = report_of(result)
    base = [result.model, result.version, report.window or ""]

    def add(name: str, extra: list[str], value: float | bool | None) -> None:
        if value is None:
            return
        number = float(value)
        if math.isfinite(number):
            families[name].add_metric([*base, *extra], number)

    if report.drift is not None:
        for info in report.drift.rows():
            labels = [info.feature, info.method]
            score = info.effect_size if info.effect_size is not None else info.statistic
            add("keeneye_feature_drift_score", labels, score)
            add("keeneye_feature_drift_pvalue", labels, info.p_value)
            # The corrected verdict, as keeneye's own feature-drift alert uses: with many features
            # tested per window the uncorrected one flags some feature by chance most days.
            if info.tested:
                add("keeneye_feature_drifted", labels, corrected(info))
        add("keeneye_dataset_drift_share", [], report.drift.drift_share)
        modal = report.drift.modal
        for text in modal.texts if modal is not None else ():
            add("keeneye_text_oov_ratio", [text.feature], text.oov_current)
            for share in text.top_tokens:
                add("keeneye_text_token_share", [text.feature, share.token], share.current)
        for vectors in modal.embeddings if modal is not None else ():
            add("keeneye_embedding_mmd2", [vectors.feature], vectors.mmd2)
            add("keeneye_embedding_auc", [vectors.feature], vectors.auc)
            add("keeneye_embedding_cosine_distance", [vectors.feature], vectors.cosine_distance)
    if report.outliers is not None:
        add("keeneye_outlier_share", [], report.outliers.share)
        add("keeneye_outlier_expected_share", [], report.outliers.expected_share)
        add("keeneye_outlier_share_alert", [], report.outliers.alert)
        add("keeneye_probe_burst_clients", [], len(report.outliers.bursts))
    if report.summary is not None:
        add("keeneye_window_events", [], report.summary.events)
        for feature, stats in sorted(report.summary.features.items()):
            add("keeneye_feature_missing_ratio", [feature], stats.missing_ratio)
            add("keeneye_feature_out_of_range_ratio", [feature], stats.out_of_range_ratio)
            add("keeneye_feature_baseline_missing_ratio", [feature], stats.baseline_missing_ratio)
    if report.traffic is not None:
        for compared_to, comparison in sorted(report.traffic.compared.items()):
            add("keeneye_traffic_change_ratio", [compared_to], comparison.change_ratio)
    if report.performance is not None:
        section = report.performance
        for metric, value in sorted(section.metrics.items()):
            add("keeneye_model_performance", [metric], value)
        if section.bias is not None:
            add("keeneye_prediction_bias", [], section.bias.value)
            add("keeneye_prediction_bias_normalized", [], section.bias.normalized)
        add("keeneye_label_coverage_ratio", [], section.label_coverage)
        add("keeneye_window_labels", [], section.labels)
        add("keeneye_prediction_bias_z", [], bias_z(section))
    export_peers(report, add)
